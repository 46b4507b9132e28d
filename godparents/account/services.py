"""Changing one's own settings. Plain functions; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _

from godparents.audit.services import record
from godparents.auth.models import User
from godparents.auth.passwords import verify_password
from godparents.auth.services import AccountError, set_password
from godparents.reminders.models import Trigger


def update_profile(user: User, *, locale: str, timezone: str, wanted: set[str],
                   offered: set[str], birthday_card_days: int,
                   contact: dict[str, str | None] | None = None) -> None:
    """Save the settings; reminder kinds offered but not wanted become opt-outs."""
    user.locale, user.timezone, user.birthday_card_days = locale, timezone, birthday_card_days
    kept = {kind for kind in (user.reminder_opt_outs or []) if kind not in offered}
    opt_outs = sorted(kept | (offered - wanted))
    if opt_outs != sorted(user.reminder_opt_outs or []):
        user.reminder_opt_outs = opt_outs
    if contact and user.sponsor is not None:
        for key, value in contact.items():
            setattr(user.sponsor, key, value)


def wants(user: User, kind: Trigger) -> bool:
    return kind.value not in (user.reminder_opt_outs or [])


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise AccountError(_("This is not your current password."), "current_password")
    set_password(user, new)
    record(user, "change_password", user)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_token(user: User) -> str:
    """A fresh secret for the calendar feed; only its hash is kept, the old link stops."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_hash(token)
    record(user, "rotate_calendar_link", user)
    return token


def remove_calendar_token(user: User) -> None:
    user.calendar_token_hash = None
    record(user, "remove_calendar_link", user)
