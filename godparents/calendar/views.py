"""The calendar feed URL: secret, per user, answered without a login."""

from __future__ import annotations

from flask import Response, abort

from godparents.calendar import bp, services
from godparents.security import public
from godparents.types import utcnow


@bp.get("/calendar/<token>.ics")
@public
def feed(token: str) -> Response:
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    response = Response(services.feed(user, utcnow()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="godparents.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
