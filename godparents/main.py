"""The front door and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.security import public

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Response:
    if current_user.role is Role.COORDINATOR:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("sponsors.home"))


@bp.get("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 when it does not; nothing else is said."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
