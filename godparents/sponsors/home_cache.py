"""When a godparent's cached home is out of date: only when something of their team's changed.

The home shows a team's pairings, those prisoners (names, status, address, photo, key
dates), the last actions, and the campaign days. Each sponsor has a ``home_version``; a
flush hook moves it on, in the same transaction, for exactly the sponsors whose home a
change concerns:

- a pairing: its sponsor (both, when a pairing moves to another);
- a prisoner, an address, a photo, a key date: every sponsor paired with that prisoner,
  now or before (former godchildren are shown too);
- an action: the sponsor of its pairing;
- the sponsor's record, or their office staff (``Delegation``): that sponsor;
- a campaign day or a transit time (post-by days): every sponsor (rare, and on every home).

Anything else (another team's action, a reminder sent, someone logging in) leaves the
cached homes alone, so that a busy campaign does not empty every godparent's cache with
each write. The home's cache key carries the versions of the user's sponsors, read in one
query (``team_key``). Bulk writes that bypass the ORM call ``prisoners_changed`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from godparents.actions.models import Action
from godparents.actions.postby import TransitTime
from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, Prisoner, PrisonerAddress, PrisonerPhoto
from godparents.reminders.models import CampaignDay
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsors.services import sponsor_ids_for
from godparents.sponsorships.models import Sponsorship

PRISONER_PARTS = (PrisonerAddress, PrisonerPhoto, KeyDate)


def team_key(user: User) -> tuple[tuple[int, int], ...]:
    """The (sponsor id, home version) of every sponsor the user acts for: one query."""
    rows = db.session.execute(
        select(Sponsor.id, Sponsor.home_version)
        .where(Sponsor.id.in_(sponsor_ids_for(user)))
        .order_by(Sponsor.id)
    )
    return tuple((int(sponsor_id), int(version)) for sponsor_id, version in rows)


def _values(obj: Any, attribute: str) -> set[int]:
    """The attribute's value now and, if the flush changed it, before."""
    state = inspect(obj)
    history = state.attrs[attribute].history
    found = {
        value
        for value in (*history.added, *history.deleted, *history.unchanged)
        if isinstance(value, int)
    }
    current = getattr(obj, attribute, None) if not state.deleted else None
    if isinstance(current, int):
        found.add(current)
    return found


def bump(session: Session, sponsor_ids: Iterable[int] | None) -> None:
    """Move the home version on for these sponsors (None: all of them)."""
    table = Sponsor.__table__
    # updated_at named explicitly: its onupdate would otherwise date the sponsor's record
    # to every action of their team.
    statement = update(table).values(
        home_version=table.c.home_version + 1, updated_at=table.c.updated_at
    )
    if sponsor_ids is not None:
        ids = sorted(set(sponsor_ids))  # one order for every writer: no deadlock between two
        if not ids:
            return
        statement = statement.where(table.c.id.in_(ids))
    session.connection().execute(statement)


def prisoners_changed(session: Session, prisoner_ids: Iterable[int]) -> None:
    """For writers that bypass the ORM (the CSV import): these prisoners changed."""
    ids = sorted(set(prisoner_ids))
    if ids:
        bump(session, _sponsors_of_prisoners(session, ids))


def _sponsors_of_prisoners(session: Session, prisoner_ids: list[int]) -> set[int]:
    return set(
        session.connection().scalars(
            select(Sponsorship.__table__.c.sponsor_id)
            .where(Sponsorship.__table__.c.prisoner_id.in_(prisoner_ids))
            .distinct()
        )
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    sponsors: set[int] = set()
    prisoners: set[int] = set()
    pairings: set[int] = set()
    everyone = False
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Sponsorship):
            sponsors |= _values(obj, "sponsor_id")
        elif isinstance(obj, Action):
            pairings |= _values(obj, "sponsorship_id")
        elif isinstance(obj, Prisoner):
            if obj.id is not None:
                prisoners.add(obj.id)
        elif isinstance(obj, PRISONER_PARTS):
            prisoners |= _values(obj, "prisoner_id")
        elif isinstance(obj, Sponsor | Delegation):
            if isinstance(obj, Sponsor) and obj.id is not None:
                if (
                    session.is_modified(obj, include_collections=False)
                    or obj in session.new
                    or obj in session.deleted
                ):
                    sponsors.add(obj.id)
            elif isinstance(obj, Delegation):
                sponsors |= _values(obj, "sponsor_id")
        elif isinstance(obj, CampaignDay | TransitTime):
            everyone = True
    if everyone:
        bump(session, None)
        return
    if pairings:
        sponsors |= set(
            session.connection().scalars(
                select(Sponsorship.__table__.c.sponsor_id).where(
                    Sponsorship.__table__.c.id.in_(sorted(pairings))
                )
            )
        )
    if prisoners:
        sponsors |= _sponsors_of_prisoners(session, sorted(prisoners))
    bump(session, sponsors)
