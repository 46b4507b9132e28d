"""Accounts: authenticate, create, invite, reset. Plain functions; the caller commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_mail import Message
from sqlalchemy import select

from godparents import formats
from godparents.audit.services import record
from godparents.auth import sessions, tokens, twofactor
from godparents.auth.models import Role, User, normalise_email
from godparents.auth.passwords import hash_password, is_common, needs_rehash, verify_password
from godparents.extensions import db
from godparents.fields import EmailError, checked_email
from godparents.sponsors.models import Delegation, Sponsor


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field  # the form field the message belongs to
        # Every (field, message) found, the first being ``field`` and this message: a form
        # shows each at its field (``fields.add_errors``).
        self.problems = [(field, message), *(more or [])]


def raise_all(problems: list[tuple[str, str]]) -> None:
    """One AccountError with every problem found, if there is any."""
    if problems:
        (field, message), *more = problems
        raise AccountError(message, field, more)


def problems_of(check: Callable[[], object]) -> list[tuple[str, str]]:
    """The ``(field, message)`` pairs ``check()`` refuses with, or none."""
    try:
        check()
    except AccountError as error:
        return error.problems
    return []


class AccountExists(AccountError):
    """The address belongs to an account already: only those who may know it are told."""

    def __init__(self, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(_("An account with this email address already exists."), "email", more)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str, now: datetime, ip: str | None = None) -> User | None:
    """The user if the email and password match an active account, else None; the login
    is complete only after ``complete_login`` (and the second factor, if the user has one).

    Unknown address, wrong password, no password yet and deactivated account are alike to
    the caller and take alike long: the answer must not tell which addresses exist.
    """
    user = find_user(email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active or user.password_hash is None:
        record(None if user is None else user, "login_failed", user, ip=ip)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def complete_login(
    user: User, now: datetime, ip: str | None = None, second_factor: str | None = None
) -> None:
    """Both factors (or the only one) are right: the login counts from here."""
    user.last_login_at = now
    record(user, "login", user, {"second_factor": second_factor} if second_factor else None, ip=ip)


def create_user(email: str, role: Role, password: str | None = None) -> User:
    try:  # the forms check this too (fields.EmailAddress); the command line relies on it
        email = checked_email(email)
    except EmailError as error:
        raise AccountError(str(error), "email") from error
    if find_user(email) is not None:
        raise AccountExists
    user = User(email=email, role=role)
    if password is not None:
        check_password_policy(password, email)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def check_password_policy(password: str, email: str | None = None) -> None:
    """The one rule set for every password, wherever it is set (forms and command line):
    long enough, not absurdly long, not a well-known one, not the email address. No
    composition rules: they make passwords harder to remember, not to guess."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    maximum = current_app.config["PASSWORD_MAX_LENGTH"]
    if len(password) < minimum:
        raise AccountError(_("Use at least %(count)d characters.", count=minimum), "password")
    if len(password) > maximum:
        raise AccountError(_("Use at most %(count)d characters.", count=maximum), "password")
    if is_common(password):
        raise AccountError(
            _(
                "This password is on a list of passwords that attackers try "
                "first. Please choose another."
            ),
            "password",
        )
    local_part = normalise_email(email or "").partition("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        raise AccountError(_("Do not use your email address in the password."), "password")


def set_password(user: User, password: str) -> None:
    """Set a new password and end every session of this user (the caller starts a new one
    where the user is)."""
    check_password_policy(password, user.email)
    user.password_hash = hash_password(password)
    sessions.end_all(user)


@dataclass(frozen=True)
class Invitation:
    user: User
    token: str


def invite(
    email: str,
    role: Role,
    sponsor: Sponsor,
    inviter: User,
    now: datetime,
    ip: str | None = None,
) -> Invitation:
    """Invite a sponsor, or a delegate of ``sponsor``: an account without a password yet.

    Inviting again someone who has not yet set a password sends a fresh link (the first
    email may never have arrived); an account in use is never touched. Office staff who
    were removed from every team (their account switched off) can be invited back: they
    start afresh, as a new account would (the address may belong to someone else now):
    the old password, second factor, passkeys and calendar link are void.
    """
    problems, user, exists = _invitation_check(email, role, sponsor)
    if exists:
        raise AccountExists([problem for problem in problems if problem[0] != "email"])
    raise_all(problems)
    if user is not None and _returning_delegate(user, role):
        user.is_active = True
        user.password_hash = None
        twofactor.forget(user)
        sessions.end_all(user)
    if user is None:
        user = create_user(email, role)
    user.locale = sponsor.language if sponsor.language in ("en", "de") else "en"
    if role is Role.SPONSOR:
        sponsor.user = user
    elif not any(d.sponsor_id == sponsor.id for d in user.delegations):
        db.session.add(Delegation(sponsor=sponsor, user=user))
    db.session.flush()
    record(inviter, "invite", user, {"role": role.value, "sponsor_id": sponsor.id}, ip=ip)
    return Invitation(user, tokens.make_token(user, tokens.INVITATION, now))


def _returning_delegate(user: User, role: Role) -> bool:
    """Office staff removed from every team (account switched off), invited back."""
    return (
        role is Role.DELEGATE
        and user.role is Role.DELEGATE
        and not user.is_active
        and not user.delegations
    )


def _invitation_check(
    email: str | None, role: Role | None, sponsor: Sponsor | None
) -> tuple[list[tuple[str, str]], User | None, bool]:
    """Every ``(field, message)`` that stops the invitation, the account the address has
    (if any), and whether that account is one the invitation must not touch. A value the
    form refused itself is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if role is not None and role not in (Role.SPONSOR, Role.DELEGATE):
        problems.append(("role", _("Only godparents and their office staff are invited here.")))
    if sponsor is not None and not sponsor.is_active:
        # An inactive godparent and their team log in no more: an invitation must not
        # make (or wake) an account that would.
        problems.append(
            ("sponsor_id", _("This godparent is inactive. Make them active again first."))
        )
    user = find_user(email) if email else None
    exists = (
        user is not None
        and role is not None
        and not _returning_delegate(user, role)
        and (user.has_password or user.role is not role)
    )
    if exists:
        problems.append(("email", _("An account with this email address already exists.")))
    if (
        role is Role.SPONSOR
        and sponsor is not None
        and sponsor.user_id is not None
        and (user is None or sponsor.user_id != user.id)
    ):
        problems.append(("sponsor_id", _("This godparent already has an account.")))
    return problems, user, exists


def invitation_problems(
    email: str | None, role: Role | None, sponsor: Sponsor | None
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops the invitation, all at once (for the
    coordinators' form, which may name any account)."""
    return _invitation_check(email, role, sponsor)[0]


def read_invitation(token: str, now: datetime) -> User | None:
    user = tokens.read_token(
        token, tokens.INVITATION, now, current_app.config["INVITATION_MAX_AGE"]
    )
    return user if user is not None and not user.has_password and user.is_active else None


def accept_invitation(user: User, password: str, now: datetime, ip: str | None = None) -> None:
    set_password(user, password)
    user.last_login_at = now
    record(user, "accept_invitation", user, ip=ip)


def password_reset_token(email: str, now: datetime) -> tuple[User, str] | None:
    """A reset token for an active account that has a password; None says nothing more."""
    user = find_user(email)
    if user is None or not user.is_active or not user.has_password:
        return None
    return user, tokens.make_token(user, tokens.PASSWORD_RESET, now)


def read_password_reset(token: str, now: datetime) -> User | None:
    user = tokens.read_token(
        token, tokens.PASSWORD_RESET, now, current_app.config["PASSWORD_RESET_MAX_AGE"]
    )
    # Reset links are only ever issued for accounts with a password; an invited account
    # sets its first one through its invitation.
    return user if user is not None and user.is_active and user.has_password else None


def reset_password(user: User, password: str, ip: str | None = None) -> None:
    set_password(user, password)
    record(user, "reset_password", user, ip=ip)


def _email(user: User, subject: LazyString, template: str, **context: object) -> Message:
    with formats.in_language(user.locale):
        return Message(
            subject=str(subject),
            recipients=[user.email],
            body=render_template(f"auth/email/{template}.txt", user=user, **context),
        )


def invitation_email(invitation: Invitation) -> Message:
    link = _external_url("auth.accept_invitation", token=invitation.token)
    return _email(invitation.user, _l("Your invitation to godparents"), "invitation", link=link)


def password_reset_email(user: User, token: str) -> Message:
    link = _external_url("auth.reset_password", token=token)
    return _email(user, _l("Reset your godparents password"), "password_reset", link=link)


def _external_url(endpoint: str, **values: Any) -> str:
    """An absolute link built on the configured base URL, never on the request's Host."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)
