"""A godparent's personal data: export all of it, or erase it (GDPR articles 15, 17 and 20).

Plain functions; the caller commits. Erasure keeps the godparent's actions, which still
count in the campaign's figures, but nothing that names or reaches the person.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from godparents.actions.models import Action
from godparents.audit.models import AuditEvent
from godparents.audit.services import record
from godparents.auth.models import User
from godparents.extensions import db
from godparents.reminders.models import OutboxContent, OutboxMessage
from godparents.salutations import FormOfAddress
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus

# Never exported: a copy of these would let someone log in or read the calendar feed.
SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "totp_secret",
        "calendar_token_hash",
        "legacy_totp_secret",
        "passkey_challenge_hash",
    }
)
ERASED_NAME = "Erased godparent #%(id)d"
ERASED_CHANGES = {"erased": True}
ERASED_TEXT = "[erased]"


class ErasureError(ValueError):
    """The erasure was not confirmed; ``field`` is the form field the message belongs to."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(obj: Any, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(obj, column.key))
        for column in obj.__mapper__.column_attrs
        if column.key not in leave_out
    }


def _user(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        **_columns(user, SECRET_COLUMNS),
        "has_password": user.has_password,
        "has_two_factor": user.totp_secret is not None,
        "has_calendar_feed": user.calendar_token_hash is not None,
    }


def _audit_filter(sponsor: Sponsor) -> Any:
    about_sponsor = and_(AuditEvent.object_type == "Sponsor", AuditEvent.object_id == sponsor.id)
    if sponsor.user_id is None:
        return about_sponsor
    about_user = and_(AuditEvent.object_type == "User", AuditEvent.object_id == sponsor.user_id)
    return or_(about_sponsor, about_user, AuditEvent.actor_id == sponsor.user_id)


def _emails_filter(sponsor: Sponsor) -> Any:
    addresses = {a.lower() for a in (sponsor.email, sponsor.user and sponsor.user.email) if a}
    clauses: list[ColumnElement[bool]] = (
        [func.lower(OutboxMessage.recipient_email).in_(addresses)] if addresses else []
    )
    if sponsor.user_id is not None:
        clauses.append(OutboxMessage.recipient_user_id == sponsor.user_id)
    return or_(*clauses) if clauses else False


def export(sponsor: Sponsor, now: datetime) -> dict[str, Any]:
    """Everything the app holds about one godparent, as plain JSON values, secrets left out."""
    delegations = db.session.scalars(
        select(Delegation)
        .where(Delegation.sponsor_id == sponsor.id)
        .options(joinedload(Delegation.user))
        .order_by(Delegation.created_at)
    ).all()
    pairings = db.session.scalars(
        select(Sponsorship)
        .where(Sponsorship.sponsor_id == sponsor.id)
        .options(joinedload(Sponsorship.prisoner))
        .order_by(Sponsorship.id)
    ).all()
    actions = db.session.scalars(
        select(Action)
        .join(Action.sponsorship)
        .where(Sponsorship.sponsor_id == sponsor.id)
        .options(joinedload(Action.logged_by))
        .order_by(Action.occurred_on, Action.id)
    ).all()
    events = db.session.scalars(
        select(AuditEvent).where(_audit_filter(sponsor)).order_by(AuditEvent.id)
    ).all()
    emails = db.session.scalars(
        select(OutboxMessage)
        .where(_emails_filter(sponsor))
        .order_by(OutboxMessage.id)
        .options(selectinload(OutboxMessage.content))
    ).all()
    return {
        "exported_at": now.isoformat(),
        "sponsor": _columns(sponsor),
        "user": _user(sponsor.user),
        "delegates": [
            {
                "user_id": d.user_id,
                "email": d.user.email,
                "is_active": d.user.is_active,
                "has_password": d.user.has_password,
                "since": _plain(d.created_at),
            }
            for d in delegations
        ],
        "pairings": [{**_columns(p), "prisoner_name": p.prisoner.name_latin} for p in pairings],
        "actions": [
            {**_columns(a), "logged_by": a.logged_by.email if a.logged_by else None}
            for a in actions
        ],
        "audit_events": [_columns(e) for e in events],
        "emails": [
            {**_columns(m, frozenset({"claimed_by"})), "body_text": m.body_text} for m in emails
        ],
    }


def check_confirmation(sponsor: Sponsor, typed: str) -> None:
    """The coordinator must type the full name: erasing cannot be undone."""

    def normal(text: str) -> str:
        return " ".join(text.split()).casefold()

    if normal(typed) != normal(sponsor.full_name):
        raise ErasureError(_("This is not the godparent's name as shown above."), "confirm_name")


def _works_elsewhere(user_id: int, sponsor_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Delegation)
            .where(Delegation.user_id == user_id, Delegation.sponsor_id != sponsor_id)
        )
    )


def _scrub(condition: Any) -> None:
    """Replace what the audit log says (old and new values, address) with a marker."""
    db.session.execute(
        update(AuditEvent).where(condition).values(changes=ERASED_CHANGES, ip=None),
        execution_options={"synchronize_session": False},
    )


def _known_traces(sponsor: Sponsor) -> set[str]:
    """The godparent's names and addresses, as they are and as they were: the audit log
    keeps the old values, and an old email may have used an old name."""
    traces = {sponsor.full_name, sponsor.email, sponsor.user and sponsor.user.email}
    about_sponsor = and_(AuditEvent.object_type == "Sponsor", AuditEvent.object_id == sponsor.id)
    for changes in db.session.scalars(select(AuditEvent.changes).where(about_sponsor)):
        for key in ("full_name", "email"):
            value = (changes or {}).get(key)
            traces.update(value if isinstance(value, list) else [value])
    return {trace for trace in traces if isinstance(trace, str) and trace}


def _forget_emails(sponsor: Sponsor, user_ids: list[int]) -> None:
    """Delete the emails to the godparent and to the accounts that go with them; blank the
    others that name them (a coordinators' digest, say), keeping those as the ledger."""
    to_them = _emails_filter(sponsor)
    if user_ids:
        to_them = or_(to_them, OutboxMessage.recipient_user_id.in_(user_ids))
    db.session.execute(OutboxMessage.__table__.delete().where(to_them))
    traces = _known_traces(sponsor)
    if not traces:
        return
    in_subject = or_(
        *(OutboxMessage.email_subject.contains(trace, autoescape=True) for trace in traces)
    )
    in_body = or_(
        *(
            column.contains(trace, autoescape=True)
            for trace in traces
            for column in (OutboxContent.body_text, OutboxContent.body_html)
        )
    )
    naming = (
        select(OutboxMessage.id)
        .where(in_subject)
        .union(select(OutboxContent.message_id).where(in_body))
    )
    ids = list(db.session.scalars(naming))
    if ids:
        db.session.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.id.in_(ids))
            .values(email_subject=ERASED_TEXT)
        )
        db.session.execute(
            OutboxContent.__table__.update()
            .where(OutboxContent.message_id.in_(ids))
            .values(body_text=ERASED_TEXT, body_html=None, mime=None)
        )


def erase(sponsor: Sponsor, actor: User, today: date, now: datetime, ip: str | None = None) -> None:
    """Erase the godparent's personal data; their actions stay, anonymous, and still count.

    Ends their open pairings, deletes their account and the accounts of delegates who work
    for nobody else, deletes the emails to them and blanks those about them, and scrubs the
    audit log of everything that could name them (the tracking hook wrote old values there).
    """
    own_user_id = sponsor.user_id
    doomed = [sponsor.user] if sponsor.user is not None else []
    for delegation in list(sponsor.delegations):
        if not _works_elsewhere(delegation.user_id, sponsor.id):
            doomed.append(delegation.user)
        sponsor.delegations.remove(delegation)
    doomed_ids = [user.id for user in doomed]

    _forget_emails(sponsor, doomed_ids)
    if own_user_id is not None:
        # Before the account goes: deleting it clears actor_id, and with it the link.
        _scrub(AuditEvent.actor_id == own_user_id)

    for pairing in sponsor.sponsorships:
        if pairing.status is not SponsorshipStatus.ENDED:
            pairing.status = SponsorshipStatus.ENDED
            pairing.ended_on = max(today, pairing.started_on or today)
            pairing.end_reason = EndReason.OTHER
    sponsor.full_name = ERASED_NAME % {"id": sponsor.id}
    sponsor.title = sponsor.party = sponsor.email = sponsor.phone = None
    sponsor.academic_title, sponsor.form_of_address = None, FormOfAddress.NEUTRAL
    sponsor.postal_address = None
    sponsor.public_quote = sponsor.notes = None
    sponsor.has_public_consent = False
    sponsor.is_active = False
    sponsor.erased_at = now
    sponsor.user = None
    for user in doomed:
        db.session.delete(user)
    db.session.flush()

    about_users = (
        and_(AuditEvent.object_type == "User", AuditEvent.object_id.in_(doomed_ids))
        if doomed_ids
        else false()
    )
    _scrub(
        or_(
            and_(AuditEvent.object_type == "Sponsor", AuditEvent.object_id == sponsor.id),
            about_users,
        )
    )
    record(actor, "erase", sponsor, {"sponsor_id": sponsor.id}, ip=ip)
