"""Pairing, ending and handing over godparenthoods (coordinators)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("sponsorships", __name__, url_prefix="/coordinator/sponsorships")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
