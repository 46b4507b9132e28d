"""Importing prisoners, step 2 of 3: what the checked rows would do to the registry.

Rows are matched by ``external_id``. An unknown one is a new prisoner (flagged when the
registry may hold the same person under another id); a known one is unchanged, changed, or
an *identity change*: the row's names are no spelling of the stored ones, or its birth or
gender differ (``identity``). An identity change is not a correction: the godparents of one
person would follow another. It is listed apart and applied only when confirmed.

A change of status that ends the detention (released, pardoned, deported, died) of a
prisoner with godparents ends their pairings as the release screen does; the plan lists
whose. Nothing here writes (``import_apply`` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from godparents.prisoners.csvio import ADDRESS_COLUMNS, ATTRIBUTES, CHUNK, COLUMNS, cell
from godparents.prisoners.identity import (
    Candidate,
    birth_year_of,
    births_differ,
    duplicates_in_registry,
    genders_differ,
    name_forms,
    names_match,
    positions,
)
from godparents.prisoners.import_cells import clean
from godparents.prisoners.import_read import PrisonerRow
from godparents.prisoners.models import Facility, Prisoner, PrisonerAddress
from godparents.prisoners.names import fold
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship
from godparents.sponsorships.services import OPEN_STATUSES, RELEASE_STATUSES

T = TypeVar("T")

# What is compared of a stored prisoner.
PRISONER_COLUMNS = (
    Prisoner.id,
    Prisoner.version,
    Prisoner.external_id,
    Prisoner.birth_date,
    Prisoner.birth_year,
    *(getattr(Prisoner, attribute) for attribute in ATTRIBUTES.values()),
)
NAME_COLUMNS = ("name_latin", "name_be", "name_ru", "aliases")


@dataclass(slots=True)
class Change:
    """An existing prisoner whose row differs: column -> (value now, value in the file)."""

    row: PrisonerRow
    current: Any  # the stored columns compared with (a row of PRISONER_COLUMNS)
    fields: dict[str, tuple[Any, Any]]
    # Why this is another person, when it is: "name", "birth", "gender".
    identity: list[str] = field(default_factory=list)
    # The godparents of the stored prisoner, active or proposed (names).
    godparents: list[str] = field(default_factory=list)

    @property
    def prisoner_id(self) -> int:
        return int(self.current.id)

    @property
    def new_address(self) -> bool:
        return any(column in self.fields for column in ADDRESS_COLUMNS)

    @property
    def ends_detention(self) -> bool:
        """The status changes to one that ends the detention (pairings end with it)."""
        if "status" not in self.fields:
            return False
        old, new = self.fields["status"]
        return new in RELEASE_STATUSES and old not in RELEASE_STATUSES

    def shown(self) -> list[tuple[str, str, str]]:
        """Column, old and new value as the file writes them, in the file's column order."""
        return [
            (column, cell(self.fields[column][0]), cell(self.fields[column][1]))
            for column in COLUMNS
            if column in self.fields
        ]

    def side_by_side(self) -> list[tuple[str, str, str]]:
        """For an identity change: who the prisoner is now and who the row says, field by
        field (names, birth, gender), whether or not each field changes."""
        now, new = self.current, self.row.values
        stored_birth = now.birth_date or now.birth_year
        pairs = [
            ("name_latin", now.name_latin, new.get("name_latin")),
            ("name_be", now.name_be, new.get("name_be", now.name_be)),
            ("name_ru", now.name_ru, new.get("name_ru", now.name_ru)),
            ("aliases", now.aliases, new.get("aliases", now.aliases)),
            ("birth_date", stored_birth, new.get("birth_date", stored_birth)),
            ("gender", now.gender, new.get("gender", now.gender)),
        ]
        return [(column, cell(old), cell(value)) for column, old, value in pairs]


@dataclass
class ImportPlan:
    created: list[PrisonerRow] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # ordinary changes, corrections
    identity_changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # external ids
    # New rows that may be prisoners the registry has under another id, by external_id.
    duplicates: dict[str, list[Candidate]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.changed) + len(self.identity_changes)

    @property
    def releases(self) -> list[Change]:
        """The changes that end a detention and, with it, godparenthoods."""
        return [
            change
            for change in (*self.changed, *self.identity_changes)
            if change.ends_detention and change.godparents
        ]

    def summary(self) -> str:
        text = (
            f"{len(self.created)} created, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged"
        )
        if self.identity_changes:
            text += f", {len(self.identity_changes)} identity change(s)"
        return text


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _same(old: Any, new: Any) -> bool:
    """Whether a stored value equals a parsed one: "" is nothing, line breaks are ``\\n``.

    Parsed values are in that form already; stored ones may come from a form.
    """
    if isinstance(new, list):
        return [item for item in (clean(str(item)) for item in old or []) if item] == new
    if isinstance(old, str):
        return (clean(old) or None) == new
    return bool(old == new)


def current_addresses(session: Session, prisoner_ids: list[int]) -> dict[int, Any]:
    """Each prisoner's current (newest) facility and postal address, in one query. The
    postal address is the facility's when the address row has none of its own."""
    if not prisoner_ids:
        return {}
    current: dict[int, Any] = {}
    for address in session.execute(
        select(
            PrisonerAddress.prisoner_id,
            PrisonerAddress.facility,
            func.coalesce(PrisonerAddress.postal_address, Facility.postal_address).label(
                "postal_address"
            ),
        )
        .outerjoin(Facility, Facility.id == PrisonerAddress.facility_id)
        .where(PrisonerAddress.prisoner_id.in_(prisoner_ids))
        .order_by(
            PrisonerAddress.prisoner_id,
            PrisonerAddress.valid_from.desc(),
            PrisonerAddress.id.desc(),
        )
    ):
        current.setdefault(address.prisoner_id, address)
    return current


def _address_differences(row: PrisonerRow, address: Any) -> dict[str, tuple[Any, Any]]:
    """A new address when the row names another facility, or gives another postal address;
    empty cells leave the history as it is."""
    changes: dict[str, tuple[Any, Any]] = {}
    facility, postal = row.values.get("facility"), row.values.get("postal_address")
    if facility is None and postal is None:
        return changes
    old_facility = address.facility if address else None
    old_postal = address.postal_address if address else None
    if postal is not None:
        if not _same(old_facility, facility):
            changes["facility"] = (old_facility, facility)
        if not _same(old_postal, postal):
            changes["postal_address"] = (old_postal, postal)
    elif fold(old_facility or "") != fold(facility or ""):
        changes["facility"] = (old_facility, facility)
    return changes


def _differences(row: PrisonerRow, current: Any, address: Any) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for column, new in row.values.items():
        if column in ATTRIBUTES:
            old = getattr(current, ATTRIBUTES[column])
        elif column == "birth_date":
            old = current.birth_date or current.birth_year
        else:
            continue
        if not _same(old, new):
            changes[column] = (old, new)
    changes.update(_address_differences(row, address))
    return changes


def _row_names(row: PrisonerRow) -> list[tuple[str | None, str]]:
    """The names a row gives (never mixed with stored ones: a row naming someone else must
    not borrow the stored person's other names)."""
    values = row.values
    return name_forms(
        values.get("name_latin"),
        values.get("name_be"),
        values.get("name_ru"),
        values.get("aliases"),
    )


def identity_differences(row: PrisonerRow, current: Any) -> list[str]:
    """Why the row is someone else than the stored prisoner (empty: the same person)."""
    reasons = []
    stored = name_forms(current.name_latin, current.name_be, current.name_ru, current.aliases)
    if not names_match(positions(stored), positions(_row_names(row))):
        reasons.append("name")
    if births_differ(row.values.get("birth_date"), current.birth_date, current.birth_year):
        reasons.append("birth")
    if genders_differ(row.values.get("gender"), current.gender):
        reasons.append("gender")
    return reasons


def godparents_of(session: Session, prisoner_ids: list[int]) -> dict[int, list[str]]:
    """The active and proposed godparents of each prisoner, by name, in one query."""
    if not prisoner_ids:
        return {}
    found: dict[int, list[str]] = {}
    for prisoner_id, name in session.execute(
        select(Sponsorship.prisoner_id, Sponsor.full_name)
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .where(Sponsorship.prisoner_id.in_(prisoner_ids), Sponsorship.status.in_(OPEN_STATUSES))
        .order_by(Sponsorship.prisoner_id, Sponsor.full_name, Sponsorship.id)
    ):
        found.setdefault(prisoner_id, []).append(name)
    return found


def _merged_ids(session: Session) -> dict[str, str]:
    """The external id of each record merged into another -> that other's external id."""
    found: dict[str, str] = {}
    for external_id, former in session.execute(
        select(Prisoner.external_id, Prisoner.former_external_ids).where(
            cast(Prisoner.former_external_ids, Text) != "[]"
        )
    ):
        for old in former or []:
            if external_id:
                found[old] = external_id
    return found


def plan_import(rows: Iterable[PrisonerRow], session: Session) -> ImportPlan:
    """What importing ``rows`` would do, matching prisoners by external_id; writes nothing.

    Three queries per thousand rows (the prisoners with those external ids, as columns, not
    ORM objects, to keep 15,000 rows light; their current addresses; the godparents of those
    that change), and one read of the registry's search keys when there are new prisoners.
    """
    plan = ImportPlan()
    merged = _merged_ids(session)
    for chunk in chunks(rows):
        external_ids = [merged.get(row.external_id, row.external_id) for row in chunk]
        existing = {
            found.external_id: found
            for found in session.execute(
                select(*PRISONER_COLUMNS).where(Prisoner.external_id.in_(external_ids))
            )
        }
        addresses = current_addresses(session, [found.id for found in existing.values()])
        changes: list[Change] = []
        for row in chunk:
            current = existing.get(merged.get(row.external_id, row.external_id))
            if current is None:
                plan.created.append(row)
                continue
            fields = _differences(row, current, addresses.get(current.id))
            if fields:
                changes.append(Change(row, current, fields))
            else:
                plan.unchanged.append(row.external_id)
        for change in changes:
            change.identity = identity_differences(change.row, change.current)
        watched = [c.prisoner_id for c in changes if c.identity or c.ends_detention]
        godparents = godparents_of(session, watched)
        for change in changes:
            change.godparents = godparents.get(change.prisoner_id, [])
            (plan.identity_changes if change.identity else plan.changed).append(change)
    plan.duplicates = duplicates_in_registry(
        session,
        [
            (row.external_id, _row_names(row), birth_year_of(row.values.get("birth_date")))
            for row in plan.created
        ],
    )
    return plan
