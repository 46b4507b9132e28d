"""Choosing whom to pair at the campaign's scale: search, suggestions, plain rows.

1,100 held prisoners and 600 godparents do not fit in drop-downs. The pairing page finds
them with the registry's search (every spelling, any word order, prefixes, a typo: see
``godparents.search``) and shows each godparent with their parliament, language and current
godchildren. For a chosen prisoner it suggests godparents: those with the fewest
godchildren first, and among them those waiting longest (their last pairing began or ended
longest ago, never paired first). Every function runs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, Prisoner, PrisonerStatus
from godparents.search import matches
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from godparents.sponsorships.services import OPEN_STATUSES

RESULTS = 20
SUGGESTIONS = 8


@dataclass(frozen=True)
class PrisonerChoice:
    id: int
    name_latin: str
    name_ru: str | None
    status: PrisonerStatus
    detained_on: date | None
    godparents: int  # active pairings
    proposed: int  # proposed pairings


@dataclass
class SponsorChoice:
    id: int
    full_name: str
    body: str
    country: str
    language: str
    last_paired_on: date | None = None
    godchildren: list[str] = field(default_factory=list)  # current, by name


def _pairing_counts(status: SponsorshipStatus, column: Any) -> Any:
    return (
        select(column.label("key"), func.count().label("number"))
        .where(Sponsorship.status == status)
        .group_by(column)
        .subquery()
    )


def _pairings_of_prisoner(status: SponsorshipStatus) -> Any:
    """The prisoner's pairings of that status, counted for the rows found only (the
    prisoner_id index answers it), not grouped over every pairing first."""
    return (
        select(func.count())
        .where(Sponsorship.prisoner_id == Prisoner.id, Sponsorship.status == status)
        .correlate(Prisoner)
        .scalar_subquery()
    )


def _prisoner_query() -> tuple[Select[Any], Any]:
    """The prisoners' columns with their active and proposed pairings counted; and the
    count of active ones, to sort by."""
    godparents = _pairings_of_prisoner(SponsorshipStatus.ACTIVE)
    query = select(
        Prisoner.id,
        Prisoner.name_latin,
        Prisoner.name_ru,
        Prisoner.status,
        Prisoner.detained_on,
        godparents,
        _pairings_of_prisoner(SponsorshipStatus.PROPOSED),
    )
    return query, godparents


def find_prisoners(query: str, limit: int = RESULTS) -> list[PrisonerChoice]:
    """Held prisoners matching ``query``, those without a godparent first."""
    condition = matches(Prisoner.search_text, query)
    if condition is None:
        return []
    select_prisoners, godparents = _prisoner_query()
    rows = db.session.execute(
        select_prisoners.where(Prisoner.status.in_(HELD_STATUSES), condition)
        .order_by(godparents, Prisoner.name_latin, Prisoner.id)
        .limit(limit)
    )
    return [PrisonerChoice(*row) for row in rows]


def prisoner_choice(prisoner_id: int | None) -> PrisonerChoice | None:
    if prisoner_id is None:
        return None
    row = db.session.execute(_prisoner_query()[0].where(Prisoner.id == prisoner_id)).first()
    return PrisonerChoice(*row) if row else None


def _sponsor_columns() -> tuple[Any, Any, Any, Any, Any]:  # SponsorChoice's first five
    return (Sponsor.id, Sponsor.full_name, Sponsor.body, Sponsor.country, Sponsor.language)


def _with_godchildren(sponsors: list[SponsorChoice]) -> list[SponsorChoice]:
    """Each godparent's current godchildren, by name, in one query."""
    if not sponsors:
        return sponsors
    names: dict[int, list[str]] = defaultdict(list)
    for sponsor_id, name in db.session.execute(
        select(Sponsorship.sponsor_id, Prisoner.name_latin)
        .join(Prisoner, Prisoner.id == Sponsorship.prisoner_id)
        .where(
            Sponsorship.sponsor_id.in_([s.id for s in sponsors]),
            Sponsorship.status == SponsorshipStatus.ACTIVE,
        )
        .order_by(Sponsorship.sponsor_id, Prisoner.name_latin)
    ):
        names[sponsor_id].append(name)
    for sponsor in sponsors:
        sponsor.godchildren = names.get(sponsor.id, [])
    return sponsors


def find_sponsors(query: str, limit: int = RESULTS) -> list[SponsorChoice]:
    """Active godparents matching ``query``, with their current godchildren."""
    condition = matches(Sponsor.search_text, query)
    if condition is None:
        return []
    rows = db.session.execute(
        select(*_sponsor_columns())
        .where(Sponsor.is_active, condition)
        .order_by(Sponsor.full_name, Sponsor.id)
        .limit(limit)
    )
    return _with_godchildren([SponsorChoice(*row) for row in rows])


def sponsor_choice(sponsor_id: int | None) -> SponsorChoice | None:
    if sponsor_id is None:
        return None
    row = db.session.execute(select(*_sponsor_columns()).where(Sponsor.id == sponsor_id)).first()
    return _with_godchildren([SponsorChoice(*row)])[0] if row else None


def suggestions(prisoner_id: int, limit: int = SUGGESTIONS) -> list[SponsorChoice]:
    """Active godparents for this prisoner: the fewest godchildren first, then those waiting
    longest (never paired, then the oldest last pairing); none already paired with them."""
    active = _pairing_counts(SponsorshipStatus.ACTIVE, Sponsorship.sponsor_id)
    last = (
        select(
            Sponsorship.sponsor_id.label("key"),
            func.max(func.coalesce(Sponsorship.ended_on, Sponsorship.started_on)).label("on"),
        )
        .group_by(Sponsorship.sponsor_id)
        .subquery()
    )
    paired = select(Sponsorship.sponsor_id).where(
        Sponsorship.prisoner_id == prisoner_id, Sponsorship.status.in_(OPEN_STATUSES)
    )
    rows = db.session.execute(
        select(*_sponsor_columns(), last.c.on)
        .outerjoin(active, active.c.key == Sponsor.id)
        .outerjoin(last, last.c.key == Sponsor.id)
        .where(Sponsor.is_active, Sponsor.id.not_in(paired))
        .order_by(func.coalesce(active.c.number, 0), last.c.on.is_not(None), last.c.on, Sponsor.id)
        .limit(limit)
    )
    return _with_godchildren([SponsorChoice(*row) for row in rows])
