"""Known devices: a browser that has logged in to an account before.

Per-account throttling must not let a stranger lock a coordinator out: anyone who knows
the address can send ten wrong passwords. So after every complete login the browser gets
a signed cookie naming the account and a random device id (OWASP's "device cookies"). A
login from a browser with such a cookie for the account typed is not held by the account's
lock; it has its own count instead, and waits longer after each failure (backoff). A
stranger, without the cookie, is still locked out after ten failures, and every failure
from the device counts against the account as well.

The cookie carries a fingerprint of the account's password hash and session generation:
a new password, "log out everywhere" or deactivation forget every device, and a leaked
``SECRET_KEY`` alone cannot make a cookie (the hash is in the database only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from godparents.auth.models import User

COOKIE = "godparents_device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="godparents.device")


def _fingerprint(user: User) -> str:
    state = f"{user.id}|{user.password_hash or ''}|{user.session_generation}"
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def known_device(user: User | None) -> str | None:
    """The id of this browser if it logged in to ``user``'s account before, else None."""
    value = request.cookies.get(COOKIE)
    if user is None or not value or len(value) > 500:
        return None
    max_age = current_app.config["LOGIN_DEVICE_DAYS"] * 86400
    try:
        payload: Any = _serializer().loads(value, max_age=max_age)
        user_id, device, fingerprint = int(payload["u"]), str(payload["d"]), str(payload["f"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user_id != user.id or not hmac.compare_digest(fingerprint, _fingerprint(user)):
        return None
    return device


def remember(response: Response, user: User) -> Response:
    """After a complete login: this browser is a known device of ``user`` from now on
    (keeping its id if it was one already)."""
    device = known_device(user) or secrets.token_urlsafe(16)
    value = _serializer().dumps({"u": user.id, "d": device, "f": _fingerprint(user)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400,
        path="/auth/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    return response
