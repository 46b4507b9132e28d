"""The print kit's one blueprint: the godparents' pages (views.py, under /sponsor/letters/)
and the coordinators' (admin.py, under /coordinator/letters/)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

bp = Blueprint("letters", __name__)


def init_app(app: Flask) -> None:
    # Importing the view modules attaches their routes to ``bp``.
    from godparents.letters import admin, views  # noqa: F401

    app.register_blueprint(bp)


def pdf_response(content: bytes, filename: str) -> Response:
    """A PDF to save or print; never cached (it holds addresses), named without a name."""
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
