"""The coordinator's landing page."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from godparents.auth.models import Role
from godparents.dashboard import services
from godparents.security import roles_required

bp = Blueprint("dashboard", __name__, url_prefix="/coordinator")



def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    return render_template("dashboard/index.html", counts=services.counts())
