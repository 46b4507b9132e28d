"""The coordinators' register of godparents: list, search, create, edit, invite, deactivate."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from godparents.auth.models import Role
from godparents.security import roles_required

bp = Blueprint("sponsor_registry", __name__, url_prefix="/coordinator/sponsors")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    return render_template("sponsor_registry/index.html")
