"""Extensions, created unbound here and bound to the app in the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The typed declarative base: every model's columns are ``Mapped[...]``."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model maps a Table (none a join or a select), so its Core table is one:
        # ``Model.__table__.update()`` and friends check (SQLAlchemy says FromClause).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# Models subclass ``Model``. At run time it is ``db.Model``, the class Flask-SQLAlchemy
# builds from Base (same metadata and registry, plus its mixins: the legacy ``Model.query``,
# which this code does not use, and bind keys). A type checker cannot follow a class made at
# run time ("Name db.Model is not defined"), so it sees Base itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
# The login and invitation limits (auth/throttling.py); none applies unless a view asks.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
