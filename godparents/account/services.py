"""Changing one's own settings. Plain functions; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message

from godparents import formats
from godparents.audit.services import record
from godparents.auth import passkeys, sessions, throttling, twofactor
from godparents.auth.models import Passkey, User, normalise_email
from godparents.auth.passwords import verify_password
from godparents.auth.services import (
    AccountError,
    check_password_policy,
    find_user,
    problems_of,
    raise_all,
    set_password,
)
from godparents.reminders.models import Trigger
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.models import Sponsor


def update_profile(
    user: User,
    *,
    locale: str,
    timezone: str,
    wanted: set[str],
    offered: set[str],
    birthday_card_days: int,
    contact: dict[str, str | None] | None = None,
) -> None:
    """Save the settings; reminder kinds offered but not wanted become opt-outs."""
    user.locale, user.timezone, user.birthday_card_days = locale, timezone, birthday_card_days
    kept = {kind for kind in (user.reminder_opt_outs or []) if kind not in offered}
    opt_outs = sorted(kept | (offered - wanted))
    if opt_outs != sorted(user.reminder_opt_outs or []):
        user.reminder_opt_outs = opt_outs
    if contact and user.sponsor is not None:
        for key, value in contact.items():
            setattr(user.sponsor, key, value)


def set_address(
    user: User, *, form_of_address: str | None, academic_title: str | None, full_name: str | None
) -> None:
    """How emails address this user (godparents/salutations.py). A godparent's are on
    their godparent record, whose name the coordinators keep; anyone else gives a name."""
    form = FormOfAddress(form_of_address or FormOfAddress.NEUTRAL)
    title = AcademicTitle(academic_title) if academic_title else None
    person: User | Sponsor = user.sponsor if user.sponsor is not None else user
    if person.form_of_address != form:
        person.form_of_address = form
    if person.academic_title != title:
        person.academic_title = title
    if user.sponsor is None:
        name = " ".join((full_name or "").split()) or None
        if user.full_name != name:
            user.full_name = name


def wants(user: User, kind: Trigger) -> bool:
    return kind.value not in (user.reminder_opt_outs or [])


def check_current_password(user: User, current: str) -> None:
    """Changes to how one logs in need the password again: a session left open on a
    shared computer must not be enough to take the account over. Wrong guesses are
    throttled like logins: with a stolen session, the password cannot be found this way
    either."""
    try:
        with throttling.attempt(*throttling.password_check_counters(user)) as attempt:
            if not verify_password(user.password_hash, current):
                attempt.fail()
    except throttling.Throttled as throttled:
        throttling.record_throttled(
            "account", str(current_app.config[throttled.counter.setting]), actor=user
        )
        raise AccountError(
            _("Too many wrong passwords. Please wait a few minutes, then try again."),
            "current_password",
        ) from throttled
    if attempt.failed:
        raise AccountError(_("This is not your current password."), "current_password")


def password_change_problems(
    user: User, current: str | None, new: str | None
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops the change, all at once; a value the form
    refused itself is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if current is not None:
        problems += problems_of(lambda: check_current_password(user, current))
    if new is not None:
        problems += problems_of(lambda: check_password_policy(new, user.email))
    return problems


def change_password(user: User, current: str, new: str) -> None:
    """Every session of the user ends (the caller starts a new one for this device)."""
    raise_all(password_change_problems(user, current, new))
    set_password(user, new)
    record(user, "change_password", user)


def email_change_problems(
    user: User, current: str | None, new: str | None
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops the change, all at once; a value the form
    refused itself is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if current is not None:
        problems += problems_of(lambda: check_current_password(user, current))
    if new is not None:
        address = normalise_email(new)
        if address == user.email:
            problems.append(("email", _("This is already your login email.")))
        elif find_user(address) is not None:
            problems.append(("email", _("An account with this email address already exists.")))
    return problems


def change_email(user: User, current: str, new: str) -> str:
    """The new login address; every session ends. Returns the old address (to tell it)."""
    raise_all(email_change_problems(user, current, new))
    new = normalise_email(new)
    old = user.email
    user.email = new
    sessions.end_all(user)
    record(user, "change_email", user, {"email": [old, new]})
    return old


def two_factor_problems(
    user: User, current: str | None, secret: str, code: str | None, now: datetime
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops two factors being turned on, all at once; a
    value the form refused itself is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if current is not None:
        problems += problems_of(lambda: check_current_password(user, current))
    if code is not None and twofactor.matching_step(secret, code, now) is None:
        problems.append(("code", _wrong_code()))
    return problems


def _wrong_code() -> str:
    return _(
        "This code is not right. Check the time on your phone and type the code the app shows now."
    )


def enable_two_factors(
    user: User, current: str, secret: str, code: str, now: datetime
) -> list[str]:
    """Confirm the key with a code from the app; returns the recovery codes to show once.
    Every session ends (the caller starts a new one for this device)."""
    raise_all(two_factor_problems(user, current, secret, code, now))
    step = twofactor.matching_step(secret, code, now)
    if step is None:  # refused above; a code cannot match and then not
        raise AccountError(_wrong_code(), "code")
    codes = twofactor.enable(user, secret, step)
    sessions.end_all(user)
    record(user, "two_factor_enabled", user)
    return codes


def disable_two_factors(user: User, current: str) -> None:
    """Sponsors and delegates only; coordinators may only move to a new phone."""
    check_current_password(user, current)
    if user.is_coordinator:
        raise AccountError(_("Coordinators cannot turn two factors off."), "current_password")
    twofactor.turn_off(user, user, "two_factor_disabled")


def replace_two_factors(user: User, current: str) -> None:
    """Forget the old key (a new phone): set up again at once."""
    check_current_password(user, current)
    twofactor.turn_off(user, user, "two_factor_reset")


def new_recovery_codes(user: User, current: str) -> list[str]:
    check_current_password(user, current)
    codes = twofactor.new_recovery_codes(user)
    record(user, "recovery_codes_renewed", user)
    return codes


def remove_passkey(user: User, passkey: Passkey, current: str) -> None:
    """Removing a way to log in needs the password again, as turning factors off does."""
    check_current_password(user, current)
    passkeys.remove(passkey, user)


def sign_out_everywhere(user: User, actor: User) -> None:
    sessions.end_all(user)
    record(actor, "sign_out_everywhere", user)


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


def email_changed_notice(user: User, old_email: str) -> Message:
    """Told to the old address: if someone else changed it, the owner learns at once."""
    with formats.in_language(user.locale):
        return Message(
            subject=_("Your godparents login email was changed"),
            recipients=[old_email],
            body=render_template("auth/email/email_changed.txt", new_email=user.email),
        )


def reset_two_factors_of(user: User, actor: User, actor_password: str) -> None:
    """For someone who lost both phone and recovery codes; they enrol anew at next login."""
    check_current_password(actor, actor_password)
    twofactor.turn_off(user, actor, "two_factor_reset")


def set_coordinator_active(user: User, active: bool, actor: User) -> None:
    user.is_active = active
    if not active:
        sessions.end_all(user)
    record(actor, "activate" if active else "deactivate", user)
