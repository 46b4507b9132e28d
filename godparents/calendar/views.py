"""The calendar feed URL: secret, per user, answered without a login."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort

from godparents.calendar import services
from godparents.security import public
from godparents.types import utcnow

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/<token>.ics")
@public
def feed(token: str) -> Response:
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    response = Response(services.feed(user, utcnow()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="godparents.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
