"""Importing prisoners, step 3 of 3: writing what the plan lists; the caller commits once.

Bulk statements, not ORM objects: through the ORM and its audit hook, 15,000 rows took
about 25 s. So this writes what the hook would have: one audit event per created or
changed prisoner with the fields and their old and new values (a new address is part of the
prisoner's event), and keeps search_text and its vocabulary current itself. The few things
that are not bulk go through the ORM and its hooks: facilities made for new names, and
the pairings that a release ends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from godparents.audit.models import AuditEvent
from godparents.auth.models import User
from godparents.prisoners.csvio import ADDRESS_COLUMNS, ATTRIBUTES
from godparents.prisoners.facilities import FacilityIndex
from godparents.prisoners.import_plan import Change, ImportPlan, chunks
from godparents.prisoners.import_read import PrisonerRow
from godparents.prisoners.models import Prisoner, PrisonerAddress, PrisonerStatus
from godparents.prisoners.spellings import prisoner_search_words
from godparents.reminders import notices
from godparents.search import key_text, key_words, remember_words
from godparents.sponsors import home_cache
from godparents.sponsorships.models import Sponsorship
from godparents.sponsorships.services import OPEN_STATUSES, close_for_release
from godparents.types import utcnow

# What a new prisoner gets for a column the file leaves out (the model's defaults; a status
# is required, and "unknown" is the honest one).
_NEW_PRISONER: dict[str, Any] = {
    "name_be": None,
    "name_ru": None,
    "aliases": [],
    "gender": None,
    "birth_date": None,
    "birth_year": None,
    "status": PrisonerStatus.UNKNOWN,
    "detained_on": None,
    "released_on": None,
    "articles": [],
    "sentence": None,
    "expected_release_on": None,
    "can_receive_letters": None,  # not known until the coordinators say
    "source_url": None,
    "has_public_consent": False,
    "public_bio": None,
}
_NAMES = ("name_latin", "name_be", "name_ru", "aliases")
_UNAUDITED = frozenset({"search_text", "created_at", "updated_at"})  # as audit.tracking


def _stored(column: str, value: Any) -> dict[str, Any]:
    """The Prisoner attributes a column's value sets."""
    if column in ATTRIBUTES:
        return {ATTRIBUTES[column]: value}
    if column == "birth_date":
        full = isinstance(value, date)
        return {"birth_date": value if full else None, "birth_year": value.year if full else value}
    return {}  # facility and postal_address belong to the address


def _search_text(names: dict[str, Any]) -> str:
    """What the model's flush hook would store; bulk statements do not run that hook."""
    return key_text(
        prisoner_search_words(
            names["name_latin"], names["name_be"], names["name_ru"], names["aliases"]
        )
    )


def _audited(value: Any) -> Any:
    """A value as the audit log keeps it (JSON), the way ``audit.tracking`` writes it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class _Writes:
    """The statements' parameters for one chunk, and the audit events that go with them."""

    actor_id: int | None
    ip: str | None
    facilities: FacilityIndex
    now: datetime = field(default_factory=utcnow)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)  # of new search keys, for the vocabulary

    def address(self, prisoner_id: int, row: PrisonerRow, today: date) -> None:
        """A new entry, never an edit: the address history shows where the prisoner was.
        The facility is matched, or made; a postal address left out is the facility's."""
        name, postal = row.values.get("facility"), row.values.get("postal_address")
        facility = self.facilities.resolve(name, postal)
        self.addresses.append(
            {
                "prisoner_id": prisoner_id,
                "facility": name,
                "facility_id": facility.id if facility else None,
                "postal_address": postal,
                "valid_from": today,
                "created_at": self.now,
            }
        )

    def event(self, action: str, prisoner_id: int, changes: dict[str, Any]) -> None:
        self.events.append(
            {
                "actor_id": self.actor_id,
                "action": action,
                "object_type": "Prisoner",
                "object_id": prisoner_id,
                "changes": changes,
                "ip": self.ip,
                "created_at": self.now,
            }
        )

    def flush(self, session: Session) -> None:
        remember_words(session, self.words)
        if self.addresses:
            session.execute(
                insert(PrisonerAddress).execution_options(render_nulls=True), self.addresses
            )
        if self.events:
            session.execute(insert(AuditEvent), self.events)


def _new_prisoner(row: PrisonerRow, now: datetime) -> dict[str, Any]:
    values = {**_NEW_PRISONER, "external_id": row.external_id, "created_at": now, "updated_at": now}
    for column, value in row.values.items():
        values.update(_stored(column, value))
    values["search_text"] = _search_text(values)
    return values


def _create(session: Session, rows: list[PrisonerRow], today: date, writes: _Writes) -> None:
    """Insert new prisoners, their addresses and audit events: four statements per chunk.

    The new ids are read back by external_id rather than with RETURNING: in the order of the
    rows, SQLite would return them one INSERT per row.
    """
    values = [_new_prisoner(row, writes.now) for row in rows]
    session.execute(
        insert(Prisoner).execution_options(render_nulls=True),  # one executemany
        values,
    )
    ids = dict(
        session.execute(
            select(Prisoner.external_id, Prisoner.id).where(
                Prisoner.external_id.in_([row.external_id for row in rows])
            )
        ).all()
    )
    for row, stored in zip(rows, values, strict=True):
        writes.words.update(key_words(stored["search_text"]))
        prisoner_id = ids[row.external_id]
        changes = {
            key: _audited(value)
            for key, value in stored.items()
            if key not in _UNAUDITED and value not in (None, [], "")
        }
        if row.values.get("postal_address") or row.values.get("facility"):
            writes.address(prisoner_id, row, today)
            changes.update(
                facility=row.values.get("facility"), postal_address=row.values.get("postal_address")
            )
        writes.event("create", prisoner_id, changes)
    writes.flush(session)


def _update(session: Session, changes: list[Change], today: date, writes: _Writes) -> None:
    """Update changed prisoners by primary key, add their new addresses and audit events."""
    updates = []
    for change in changes:
        new: dict[str, Any] = {}
        for column in change.fields:
            new.update(_stored(column, change.row.values[column]))
        if change.ends_detention and "released_on" not in new and not change.current.released_on:
            new["released_on"] = today  # as the release screen records the day
        old = {attribute: getattr(change.current, attribute) for attribute in new}
        audited = {
            attribute: [_audited(old[attribute]), _audited(value)]
            for attribute, value in new.items()
            if old[attribute] != value
        }
        if change.identity:
            audited["identity_change"] = change.identity
        if new:
            if any(name in new for name in _NAMES):
                new["search_text"] = _search_text(
                    {name: new.get(name, getattr(change.current, name)) for name in _NAMES}
                )
                writes.words.update(key_words(new["search_text"]))
            # With the version read: an edit saved since makes this a StaleDataError, not a
            # silent overwrite (concurrency.py); the ORM moves the version on.
            updates.append(
                {
                    "id": change.prisoner_id,
                    "version": change.current.version,
                    **new,
                    "updated_at": writes.now,
                }
            )
        if change.new_address:
            writes.address(change.prisoner_id, change.row, today)
            audited.update(
                {
                    column: list(change.fields[column])
                    for column in ADDRESS_COLUMNS
                    if column in change.fields
                }
            )
        writes.event("update", change.prisoner_id, audited)
    if updates:
        # Grouped by the set of changed columns, one executemany per group.
        session.execute(update(Prisoner), updates)
    writes.flush(session)
    # Godparents hear of transfers, releases and sentences (reminders/notices.py).
    notices.record_import(session.connection(), changes, today)


def _end_pairings(session: Session, releases: list[Change], today: date) -> int:
    """End the active and proposed pairings of prisoners whose detention the import ends, as
    the release screen does (and through the ORM, so the audit hook records each)."""
    if not releases:
        return 0
    by_prisoner = {change.prisoner_id: change for change in releases}
    pairings = session.scalars(
        select(Sponsorship).where(
            Sponsorship.prisoner_id.in_(by_prisoner), Sponsorship.status.in_(OPEN_STATUSES)
        )
    )
    ended = 0
    for pairing in pairings:
        change = by_prisoner[pairing.prisoner_id]
        status = change.fields["status"][1]
        released_on = change.row.values.get("released_on") or change.current.released_on
        close_for_release(pairing, status, released_on or today, today)
        ended += 1
    session.flush()
    return ended


@dataclass
class ImportResult:
    created: int = 0
    changed: int = 0
    identity_changes: int = 0  # applied (confirmed)
    identity_changes_left: int = 0  # not confirmed: not written
    pairings_ended: int = 0
    facilities_created: int = 0


def apply_import(
    plan: ImportPlan,
    session: Session,
    today: date,
    actor: User | None = None,
    ip: str | None = None,
    accepted: Collection[str] = (),
    progress: Callable[[int], object] | None = None,
) -> ImportResult:
    """Create and update what ``plan`` lists, a thousand rows at a time; the caller commits.

    Identity changes are written only for the external ids in ``accepted``; the others are
    left as they are. A changed facility or postal address is added as a new address valid
    from ``today``; the old one stays in the history. A status that ends the detention ends
    the prisoner's pairings. Audit events are by ``actor`` from ``ip``. ``progress`` is
    called with the number of rows written after each chunk.
    """
    actor_id = actor.id if actor is not None else None
    facilities = FacilityIndex(session)
    confirmed = [
        change for change in plan.identity_changes if change.row.external_id in set(accepted)
    ]
    for created in chunks(plan.created):
        _create(session, created, today, _Writes(actor_id, ip, facilities))
        if progress:
            progress(len(created))
    for changed in chunks([*plan.changed, *confirmed]):
        _update(session, changed, today, _Writes(actor_id, ip, facilities))
        if progress:
            progress(len(changed))
    ended = _end_pairings(
        session,
        [
            change
            for change in (*plan.changed, *confirmed)
            if change.ends_detention and change.godparents
        ],
        today,
    )
    # The bulk writes bypass the ORM's hooks: their godparents' cached homes are out of date.
    home_cache.prisoners_changed(
        session, [change.prisoner_id for change in (*plan.changed, *confirmed)]
    )
    return ImportResult(
        len(plan.created),
        len(plan.changed),
        len(confirmed),
        len(plan.identity_changes) - len(confirmed),
        ended,
        len(facilities.created),
    )
