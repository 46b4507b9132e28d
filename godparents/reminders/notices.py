"""Godparents hear what changed for their godchild: a transfer (the new address, the old one
struck through), a release or a deportation (and what happens next), a sentence, a trial or
hearing set.

Whichever way the change arrives, it becomes a ``ChangeNotice`` and one outbox message per
member of each team paired with the prisoner, in the same transaction as the change (a
transactional outbox): screens and merges through the ORM (the flush hook below), the CSV
import, which writes in bulk, through ``record_import``. The reminder job writes the
messages in each recipient's language and sends them as it sends reminders.

Idempotent twice over: a notice is unique over (prisoner, kind, what changed), so the same
change saved twice is told once; and its messages are unique in the outbox like every
reminder (date, rule, recipient, subject ``notice:<id>``). Each kind is a trigger that
people can switch off in their settings, except transfers: letters to the old address are
lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import JSON, Connection, ForeignKey, Index, String, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from godparents.auth.models import User
from godparents.extensions import Model, db
from godparents.labels import label
from godparents.prisoners.models import (
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerStatus,
)
from godparents.reminders.events import Event
from godparents.reminders.models import OutboxMessage, OutboxStatus, ReminderRule, Trigger
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from godparents.types import UTCDateTime, utcnow

TRANSFER, RELEASE, SENTENCE, HEARING = "transfer", "release", "sentence", "hearing"
TRIGGERS = {
    TRANSFER: Trigger.NOTICE_TRANSFER,
    RELEASE: Trigger.NOTICE_RELEASE,
    SENTENCE: Trigger.NOTICE_SENTENCE,
    HEARING: Trigger.NOTICE_HEARING,
}
ENDS_DETENTION = frozenset(
    {PrisonerStatus.RELEASED, PrisonerStatus.PARDONED, PrisonerStatus.DEPORTED}
)
COURT = frozenset({KeyDateKind.TRIAL, KeyDateKind.APPEAL, KeyDateKind.HEARING})
# The rule each kind is written with (made when first needed, as the migration seeds it).
RULES = {
    kind: {
        "name": f"News: {kind}",
        "trigger": trigger,
        "offset_days": 0,
        "template": f"notice_{kind}",
        "to_sponsor": True,
        "to_delegates": True,
        "to_coordinators": False,
    }
    for kind, trigger in TRIGGERS.items()
}


class ChangeNotice(Model):
    """Something that changed for a prisoner that their godparents are told."""

    __tablename__ = "change_notices"
    __table_args__ = (Index(None, "prisoner_id", "kind", "fingerprint", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # A hash of the kind and the details: the same change saved twice is one notice.
    fingerprint: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON())
    occurred_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ChangeNotice {self.id} {self.kind}>"


def _insert(connection: Connection, table: Any) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _rule_id(connection: Connection, kind: str) -> int | None:
    """The active rule notices of this kind are written with (made if there is none; None
    when coordinators switched it off)."""
    table = ReminderRule.__table__
    found = connection.execute(
        select(table.c.id, table.c.is_active)
        .where(table.c.trigger == TRIGGERS[kind], table.c.template == f"notice_{kind}")
        .order_by(table.c.id)
        .limit(1)
    ).first()
    if found is not None:
        return int(found.id) if found.is_active else None
    values = {**RULES[kind], "key_date_kinds": [], "is_active": True, "created_at": utcnow()}
    key = connection.execute(insert(table).values(values)).inserted_primary_key
    if key is None:  # an INSERT of one row always has one
        raise RuntimeError("the new reminder rule has no id")
    return int(key[0])


def _recipients(connection: Connection, prisoner_id: int, kind: str, today: date) -> list[Any]:
    """The active team members of the prisoner's current pairings (and of those the change
    just ended: a release ends them in the same save), who have not switched this off."""
    pairing = Sponsorship.__table__
    sponsor = Sponsor.__table__
    paired = (
        select(pairing.c.sponsor_id)
        .join(sponsor, sponsor.c.id == pairing.c.sponsor_id)
        .where(
            pairing.c.prisoner_id == prisoner_id,
            sponsor.c.is_active.is_(True),
            (pairing.c.status == SponsorshipStatus.ACTIVE)
            | ((pairing.c.status == SponsorshipStatus.ENDED) & (pairing.c.ended_on >= today)),
        )
    )
    users = User.__table__
    team = (
        select(sponsor.c.user_id)
        .where(sponsor.c.id.in_(paired))
        .union(
            select(Delegation.__table__.c.user_id).where(
                Delegation.__table__.c.sponsor_id.in_(paired)
            )
        )
    )
    rows = connection.execute(
        select(users.c.id, users.c.email, users.c.locale, users.c.reminder_opt_outs).where(
            users.c.id.in_(team), users.c.is_active.is_(True)
        )
    ).all()
    trigger = TRIGGERS[kind]
    return [
        row
        for row in rows
        if not trigger.can_be_stopped or trigger.value not in _opt_outs(row.reminder_opt_outs)
    ]


def _opt_outs(stored: Any) -> list[str]:
    if isinstance(stored, str):
        stored = json.loads(stored or "[]")
    return list(stored or [])


def record(
    connection: Connection, prisoner_id: int, kind: str, details: dict[str, Any], today: date
) -> int | None:
    """Tell the prisoner's godparents about a change; the notice's id (None when the same
    change was told before). Plain statements on ``connection``: it runs inside a flush."""
    fingerprint = hashlib.sha256(
        json.dumps([kind, details], sort_keys=True, default=str).encode()
    ).hexdigest()
    table = ChangeNotice.__table__
    inserted = connection.execute(
        _insert(connection, table)
        .values(
            prisoner_id=prisoner_id,
            kind=kind,
            fingerprint=fingerprint,
            details=details,
            occurred_on=today,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    ).first()
    if inserted is None:
        return None
    notice_id = int(inserted.id)
    rule_id = _rule_id(connection, kind)
    recipients = _recipients(connection, prisoner_id, kind, today) if rule_id else []
    if recipients:
        outbox = OutboxMessage.__table__
        connection.execute(
            _insert(connection, outbox).on_conflict_do_nothing(),
            [
                {
                    "rule_id": rule_id,
                    "recipient_user_id": row.id,
                    "recipient_email": row.email,
                    "subject_ref": f"notice:{notice_id}",
                    "occurs_on": today,
                    "locale": row.locale or "en",
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "email_subject": "",
                    "created_at": utcnow(),
                }
                for row in recipients
            ],
        )
    return notice_id


def _today() -> date:
    return campaign_today(current_app.config["TIMEZONE"])


def _address_text(connection: Connection, address_id: int | None) -> dict[str, Any] | None:
    """An address as the envelope shows it (facility, postal address), read afresh."""
    if address_id is None:
        return None
    address = connection.execute(
        select(PrisonerAddress.__table__).where(PrisonerAddress.__table__.c.id == address_id)
    ).first()
    if address is None:
        return None
    postal = address.postal_address
    if not postal and address.facility_id is not None:
        from godparents.prisoners.models import Facility

        postal = connection.scalar(
            select(Facility.__table__.c.postal_address).where(
                Facility.__table__.c.id == address.facility_id
            )
        )
    return {"facility": address.facility, "postal_address": postal}


def _previous_address(connection: Connection, prisoner_id: int, newer_than: int) -> int | None:
    table = PrisonerAddress.__table__
    return connection.scalar(
        select(table.c.id)
        .where(table.c.prisoner_id == prisoner_id, table.c.id != newer_than)
        .order_by(table.c.valid_from.desc(), table.c.id.desc())
        .limit(1)
    )


def transfer(connection: Connection, prisoner_id: int, new_id: int, today: date) -> None:
    """A new address: a transfer, unless it is the prisoner's first or not the newest (a
    merge brings older addresses along)."""
    if _previous_address(connection, prisoner_id, -1) != new_id:
        return
    old_id = _previous_address(connection, prisoner_id, new_id)
    old, new = _address_text(connection, old_id), _address_text(connection, new_id)
    if old is None or new is None or old == new:
        return
    record(connection, prisoner_id, TRANSFER, {"old": old, "new": new}, today)


def status_changed(
    connection: Connection,
    prisoner_id: int,
    old: PrisonerStatus | None,
    new: PrisonerStatus,
    sentence: str | None,
    today: date,
) -> None:
    if new in ENDS_DETENTION and old not in ENDS_DETENTION:
        record(connection, prisoner_id, RELEASE, {"status": new.value}, today)
    elif new is PrisonerStatus.SENTENCED and old is not PrisonerStatus.SENTENCED:
        record(connection, prisoner_id, SENTENCE, {"sentence": sentence or ""}, today)


def hearing(
    connection: Connection, prisoner_id: int, kind: KeyDateKind, on: date, today: date
) -> None:
    if kind in COURT and on >= today:
        record(connection, prisoner_id, HEARING, {"kind": kind.value, "on": on.isoformat()}, today)


@event.listens_for(Session, "before_flush")
def _status_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """A status about to change: its stored value, read before the UPDATE (an attribute
    expired by a commit keeps no history of its old value)."""
    changed = [
        obj
        for obj in session.dirty
        if isinstance(obj, Prisoner) and db.inspect(obj).attrs.status.history.added
    ]
    if not changed:
        return
    table = Prisoner.__table__
    stored = dict(
        session.connection()
        .execute(select(table.c.id, table.c.status).where(table.c.id.in_([p.id for p in changed])))
        .all()
    )
    pending = session.info.setdefault("notices_statuses", [])
    for prisoner in changed:
        old = stored.get(prisoner.id)
        if old is not None and PrisonerStatus(old) is not prisoner.status:
            pending.append((prisoner.id, PrisonerStatus(old), prisoner))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("notices_statuses", None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    """Changes saved through the ORM: the prisoner's screens, the address and transfer
    screens, the merge of two records."""
    found: list[tuple[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, PrisonerAddress):
            found.append((TRANSFER, obj))
        elif isinstance(obj, KeyDate) and obj.kind in COURT:
            found.append((HEARING, obj))
    for obj in session.dirty:
        # A merge moves the other record's addresses over: its newest may now be the one.
        if isinstance(obj, PrisonerAddress) and db.inspect(obj).attrs.prisoner_id.history.added:
            found.append((TRANSFER, obj))
    statuses = session.info.pop("notices_statuses", [])
    if not found and not statuses:
        return
    connection = session.connection()
    today = _today()
    for kind, obj in found:
        if kind == TRANSFER:
            transfer(connection, obj.prisoner_id, obj.id, today)
        else:
            hearing(connection, obj.prisoner_id, obj.kind, obj.occurs_on, today)
    for prisoner_id, old, prisoner in statuses:
        status_changed(connection, prisoner_id, old, prisoner.status, prisoner.sentence, today)


def record_import(connection: Connection, changes: Iterable[Any], today: date) -> None:
    """Changes the CSV import wrote in bulk (``import_apply``): its new addresses, statuses."""
    for change in changes:
        if "status" in change.fields:
            old, new = change.fields["status"]
            status_changed(
                connection,
                change.prisoner_id,
                PrisonerStatus(old) if old else None,
                PrisonerStatus(new),
                change.row.values.get("sentence") or change.current.sentence,
                today,
            )
        if change.new_address:
            newest = _previous_address(connection, change.prisoner_id, -1)
            if newest is not None:
                transfer(connection, change.prisoner_id, newest, today)


def rebuild(subject_ref: str, on: date) -> Event | None:
    """The event a notice's (or the weekly question's) outbox message is about (None: not
    one of those, or gone)."""
    kind, _colon, ident = subject_ref.partition(":")
    if kind == "letters" and ident.isdigit():  # the weekly question about letters' fate
        return Event(on, subject_ref, sponsor_id=int(ident))
    if kind != "notice" or not ident.isdigit():
        return None
    notice = db.session.get(ChangeNotice, int(ident))
    if notice is None:
        return None
    return Event(
        on,
        subject_ref,
        prisoner_id=notice.prisoner_id,
        kind=notice.kind,
        note=json.dumps(notice.details),
    )


def details(event: Event) -> dict[str, Any] | None:
    """What a notice's email tells, from its event."""
    if not event.subject_ref.startswith("notice:") or not event.note:
        return None
    return dict(json.loads(event.note))


def _isodate(value: str) -> date:
    return date.fromisoformat(value)


def _key_date_label(value: str) -> str:
    return label(KeyDateKind(value))


def init_app(app: Flask) -> None:
    """The filters the notices' templates read their details with."""
    app.add_template_filter(_isodate, "isodate")
    app.add_template_filter(_key_date_label, "key_date_label")
