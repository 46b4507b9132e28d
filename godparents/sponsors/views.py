"""The godparent's pages."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user

from godparents.auth.models import Role
from godparents.security import roles_required
from godparents.sponsors import services
from godparents.timeutil import campaign_today

bp = Blueprint("sponsors", __name__, url_prefix="/sponsor")



def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
@roles_required(Role.SPONSOR, Role.DELEGATE)
def home() -> str:
    today: date = campaign_today(current_app.config["TIMEZONE"])
    children = services.godchildren(current_user)
    return render_template("sponsors/home.html", children=children, today=today)
