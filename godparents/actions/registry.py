"""Every action across the campaign, for coordinators."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from godparents.auth.models import Role
from godparents.security import roles_required

bp = Blueprint("action_registry", __name__, url_prefix="/coordinator/actions")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    return render_template("action_registry/index.html")
