"""The coordinators' prisoner registry: one blueprint, filled by views.py and transfer.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("prisoners", __name__, url_prefix="/coordinator/prisoners")


def init_app(app: Flask) -> None:
    # Importing the view modules attaches their routes to ``bp``.
    from godparents.prisoners import (  # noqa: F401
        facility_views,
        merge_views,
        transfer,
        views,
    )

    app.register_blueprint(bp)
