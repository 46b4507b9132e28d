"""Signed, expiring, single-use links for invitations and password resets.

The token carries the user's id, when it was issued and a fingerprint of the user's
password hash and session generation. Setting a password changes the fingerprint, so a
token works once; a token older than its purpose's maximum age is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from godparents.auth.models import User
from godparents.extensions import db

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"  # noqa: S105  (a token purpose)  # nosec B105


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"godparents.{purpose}")


def _fingerprint(user: User) -> str:
    state = f"{user.password_hash or ''}|{user.session_generation}|{user.is_active}"
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def make_token(user: User, purpose: str, now: datetime) -> str:
    payload = {"u": user.id, "f": _fingerprint(user), "t": int(now.timestamp())}
    return _serializer(purpose).dumps(payload)


def read_token(token: str, purpose: str, now: datetime, max_age: timedelta) -> User | None:
    """The user the token is for, or None if it is forged, expired, used or for another purpose."""
    try:
        payload = _serializer(purpose).loads(token)
        user_id, fingerprint, issued = int(payload["u"]), str(payload["f"]), int(payload["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    age = now.timestamp() - issued
    if age < 0 or age > max_age.total_seconds():
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(fingerprint, _fingerprint(user)):
        return None
    return user
