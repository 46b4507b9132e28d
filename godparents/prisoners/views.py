"""The prisoner registry for coordinators: list, search, create, edit, addresses, photos."""

from __future__ import annotations

from flask import render_template

from godparents.auth.models import Role
from godparents.prisoners.blueprint import bp
from godparents.security import roles_required


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    return render_template("prisoners/index.html")
