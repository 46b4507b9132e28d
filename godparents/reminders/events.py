"""The dates reminders are about, found by SQL within a range of days.

Each finder takes the range of *event* dates [start, end] and returns plain ``Event`` tuples,
reading only the rows that can match (birthdays by month and day, milestones by the
detention dates that lead to them), so that a day's plan stays fast whatever the size of
the campaign. 29 February counts as 28 February in other years, as everywhere else.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, and_, bindparam, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from godparents.actions.models import Action
from godparents.calendar.dates import MILESTONE_STEP, campaign_dates, milestones, yearly
from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, KeyDate, KeyDateKind, Prisoner
from godparents.reminders.models import CampaignDay
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

MAX_MILESTONE = 40 * MILESTONE_STEP  # 55 years in detention: nobody's milestone lies beyond
# A pairing quiet for a year (six nudges) is nudged no more: the coordinators' digest lists
# its godparent among the inactive ones, and a person decides what to do.
MAX_NUDGES = 6


class month_day(FunctionElement[str]):
    """``'MM-DD'`` of a date column, in each database's own words."""

    type = String()
    inherit_cache = True


@compiles(month_day, "sqlite")
def _month_day_sqlite(element: month_day, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates as 'YYYY-MM-DD' text: cutting is several times faster than strftime.
    return f"substr({compiler.process(element.clauses, **kw)}, 6, 5)"


@compiles(month_day, "postgresql")
def _month_day_postgresql(element: month_day, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'MM-DD')"


Range = tuple[date, date]  # first and last day, both included


@dataclass(frozen=True)
class Event:
    """One dated thing a reminder can be about, for one pairing (or for everyone).

    ``subject_ref`` names what it is about ("prisoner:7", "key_date:3", "campaign_day:2",
    "sponsorship:12"); with the date it makes the reminder's idempotency key.
    """

    on: date
    subject_ref: str
    sponsor_id: int | None = None
    prisoner_id: int | None = None
    sponsorship_id: int | None = None
    number: int | None = None
    kind: str | None = None
    note: str | None = None
    campaign_day_id: int | None = None


def days(start: date, end: date) -> Iterator[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def month_days(ranges: Iterable[Range]) -> list[str]:
    """The 'MM-DD' keys of every day in the ranges; 28 February brings in 29 February."""
    keys = {day.strftime("%m-%d") for start, end in ranges for day in days(start, end)}
    if "02-28" in keys:
        keys.add("02-29")  # in a common year 29 February is celebrated on the 28th
    return sorted(keys)


def _each(ranges: Iterable[Range], dates: Iterable[tuple[date, int]]) -> Iterator[tuple[date, int]]:
    wanted = list(ranges)
    return (
        (on, number) for on, number in dates if any(start <= on <= end for start, end in wanted)
    )


def _yearly_in(origin: date, ranges: list[Range]) -> Iterator[tuple[date, int]]:
    seen: set[date] = set()
    for start, end in ranges:
        for on, years in yearly(origin, start, end):
            if on not in seen:
                seen.add(on)
                yield on, years


def _span(ranges: list[Range]) -> Range:
    return min(start for start, _end in ranges), max(end for _start, end in ranges)


@cache
def active_pairings() -> Any:
    """Active pairings of prisoners still held with an active godparent: id, sponsor, prisoner.

    Built once: a statement is immutable, each finder adds its own columns and conditions.
    """
    return (
        select(Sponsorship.id, Sponsorship.sponsor_id, Sponsorship.prisoner_id)
        .join(Prisoner, Prisoner.id == Sponsorship.prisoner_id)
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .where(
            Sponsorship.status == SponsorshipStatus.ACTIVE,
            Prisoner.status.in_(HELD_STATUSES),
            Sponsor.is_active.is_(True),
        )
    )


def columns(statement: Any, values: dict[str, Any] | None = None) -> Any:
    """Run a statement that reads columns, never objects, on the session's connection as
    Core: the ORM's own work on each execution (a few tenths of a millisecond) buys nothing
    for plain columns, and the planner runs some twenty statements a day. Pending changes
    are flushed first, as the session would have done."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, values or {})


def _days_param(name: str, column: Any) -> Any:
    """An IN list of values for ``column``, given at execution."""
    return bindparam(name, expanding=True, type_=column.type)


def _in_any(column: Any, ranges: int) -> Any:
    """``column`` in any of so many ranges, their bounds given at execution as first0,
    last0, first1, ..."""
    return or_(
        *(
            column.between(
                bindparam(f"first{index}", type_=column.type),
                bindparam(f"last{index}", type_=column.type),
            )
            for index in range(ranges)
        )
    )


def _bounds(ranges: list[Range]) -> dict[str, date]:
    """The values for ``_in_any``."""
    values: dict[str, date] = {}
    for index, (start, end) in enumerate(ranges):
        values[f"first{index}"], values[f"last{index}"] = start, end
    return values


# The finders' statements are built once and given their values at each execution: built
# anew, a statement cost the planner more than the database spent answering it (building,
# then the cache key that finds its compiled form). The SQL is the same either way.


@cache
def _earliest(name: str) -> Any:
    column = getattr(Prisoner, name)
    return select(func.min(column)).where(Prisoner.status.in_(HELD_STATUSES))


@cache
def _held_on(name: str, exact: bool) -> Any:
    """Active pairings with the prisoner's date ``name`` on one of the given dates
    (``exact``), or on one of the given 'MM-DD' days."""
    column = getattr(Prisoner, name)
    if exact:
        return active_pairings().add_columns(column).where(column.in_(_days_param("days", column)))
    return (
        active_pairings()
        .add_columns(column)
        .where(month_day(column).in_(bindparam("days", expanding=True, type_=String())))
    )


# Above this many dates a list of exact dates costs more than reading every held prisoner's
# date once (a long catch-up window with far-apart birthday-card lead times).
MAX_EXACT_DATES = 2000


def _on_month_days(name: str, ranges: list[Range]) -> list[Any] | None:
    """The rows of active pairings whose prisoner's date ``name`` falls on one of the
    ranges' month-days, in a year whose anniversary can lie in them (None: no such date).

    Asked for as the list of those exact dates, from the earliest held prisoner's year on,
    so that the index on the column finds them directly: cutting 'MM-DD' out of every
    held prisoner's date read all of them, every day. Anniversaries only come after the
    year of the date itself, so a date in the ranges' last year or later never has one
    there.
    """
    keys = month_days(ranges)
    earliest = columns(_earliest(name)).scalar()
    if earliest is None:
        return None
    years = range(earliest.year, _span(ranges)[1].year)
    if len(years) * len(keys) > MAX_EXACT_DATES:
        return list(columns(_held_on(name, exact=False), {"days": keys}))
    pairs = [(int(key[:2]), int(key[3:])) for key in keys]
    exact = [
        date(year, month, day)
        for year in years
        for month, day in pairs
        if day != 29 or month != 2 or calendar.isleap(year)
    ]
    return list(columns(_held_on(name, exact=True), {"days": exact}))


def birthdays(ranges: list[Range]) -> list[Event]:
    rows = _on_month_days("birth_date", ranges) or []
    return [
        Event(on, f"prisoner:{prisoner}", sponsor, prisoner, pairing, number=age, kind="birthday")
        for pairing, sponsor, prisoner, born in rows
        for on, age in _yearly_in(born, ranges)
    ]


def detention_anniversaries(ranges: list[Range]) -> list[Event]:
    rows = _on_month_days("detained_on", ranges) or []
    return [
        Event(
            on,
            f"prisoner:{prisoner}",
            sponsor,
            prisoner,
            pairing,
            number=years,
            kind="detention_anniversary",
        )
        for pairing, sponsor, prisoner, detained in rows
        for on, years in _yearly_in(detained, ranges)
    ]


def detention_milestones(ranges: list[Range]) -> list[Event]:
    origins = {
        day - timedelta(days=count)
        for start, end in ranges
        for day in days(start, end)
        for count in range(MILESTONE_STEP, MAX_MILESTONE + 1, MILESTONE_STEP)
    }
    rows = columns(_held_on("detained_on", exact=True), {"days": sorted(origins)})
    first, last = _span(ranges)
    return [
        Event(
            on,
            f"prisoner:{prisoner}",
            sponsor,
            prisoner,
            pairing,
            number=count,
            kind="detention_milestone",
        )
        for pairing, sponsor, prisoner, detained in rows
        for on, count in _each(ranges, milestones(detained, first, last))
    ]


@cache
def _key_dates_statement(ranges: int) -> Any:
    return (
        active_pairings()
        .add_columns(
            KeyDate.id.label("key_date_id"),
            KeyDate.kind,
            KeyDate.occurs_on,
            KeyDate.is_yearly,
            KeyDate.note,
        )
        .join(KeyDate, KeyDate.prisoner_id == Sponsorship.prisoner_id)
        .where(
            KeyDate.kind.in_(_days_param("kinds", KeyDate.kind)),
            or_(
                _in_any(KeyDate.occurs_on, ranges),
                and_(
                    KeyDate.is_yearly.is_(True),
                    month_day(KeyDate.occurs_on).in_(
                        bindparam("keys", expanding=True, type_=String())
                    ),
                ),
            ),
        )
    )


@cache
def _releases_statement(ranges: int) -> Any:
    listed = exists().where(
        KeyDate.prisoner_id == Prisoner.id, KeyDate.kind == KeyDateKind.EXPECTED_RELEASE
    )
    return (
        active_pairings()
        .add_columns(Prisoner.expected_release_on)
        .where(_in_any(Prisoner.expected_release_on, ranges), ~listed)
    )


def key_dates(ranges: list[Range], kinds: Iterable[str]) -> list[Event]:
    """Key dates of these kinds (all if none), yearly ones included; and the prisoner's
    expected release when no key date gives it (as on the sponsor's pages)."""
    chosen = [KeyDateKind(kind) for kind in kinds] or list(KeyDateKind)
    rows = columns(
        _key_dates_statement(len(ranges)),
        {"kinds": chosen, "keys": month_days(ranges), **_bounds(ranges)},
    )
    found: list[Event] = []
    for pairing, sponsor, prisoner, key_date, kind, occurs_on, is_yearly, note in rows:
        dates = {on for on, _years in _yearly_in(occurs_on, ranges)} if is_yearly else set()
        if any(start <= occurs_on <= end for start, end in ranges):
            dates.add(occurs_on)
        found.extend(
            Event(
                on, f"key_date:{key_date}", sponsor, prisoner, pairing, kind=kind.value, note=note
            )
            for on in sorted(dates)
        )
    if KeyDateKind.EXPECTED_RELEASE in chosen:
        rows = columns(_releases_statement(len(ranges)), _bounds(ranges))
        found.extend(
            Event(
                release,
                f"release:{prisoner}",
                sponsor,
                prisoner,
                pairing,
                kind=KeyDateKind.EXPECTED_RELEASE.value,
            )
            for pairing, sponsor, prisoner, release in rows
        )
    return found


@cache
def _campaign_days_statement() -> Any:
    return select(CampaignDay).where(CampaignDay.is_active.is_(True))


def campaign_days(ranges: list[Range]) -> list[Event]:
    """Campaign days, for everyone (no pairing)."""
    active = list(db.session.scalars(_campaign_days_statement()))
    found: dict[tuple[int, date], Event] = {}
    for start, end in ranges:
        for o in campaign_dates(active, start, end):
            day = o.campaign_day
            if day is None:  # never: campaign_dates names the day of each occurrence
                continue
            found[day.id, o.on] = Event(
                o.on, f"campaign_day:{day.id}", campaign_day_id=day.id, note=day.name
            )
    return list(found.values())


@cache
def _starts_statement(ranges: int, without_actions: bool) -> Any:
    query = (
        active_pairings()
        .add_columns(Sponsorship.started_on)
        .where(_in_any(Sponsorship.started_on, ranges))
    )
    if without_actions:
        query = query.where(~exists().where(Action.sponsorship_id == Sponsorship.id))
    return query


def pairing_starts(ranges: list[Range], *, without_actions: bool) -> list[Event]:
    """Pairings that started in the ranges; optionally only those with nothing logged."""
    rows = columns(_starts_statement(len(ranges), without_actions), _bounds(ranges))
    return [
        Event(started, f"sponsorship:{pairing}", sponsor, prisoner, pairing)
        for pairing, sponsor, prisoner, started in rows
    ]


@cache
def _quiet_statements() -> tuple[Any, Any]:
    """The pairings whose last action, and those whose start with nothing logged since,
    lies on one of the origin days."""
    later = Action.__table__.alias("later")
    origins = _days_param("origins", Action.occurred_on)

    def nothing_after(pairing: Any, day: Any) -> Any:
        return ~exists().where(later.c.sponsorship_id == pairing, later.c.occurred_on > day)

    # Last actions first, on their own: the database starts from the few days asked for,
    # then takes the active pairings among them by their key.
    last = (
        select(Action.sponsorship_id, func.max(Action.occurred_on).label("last_on"))
        .where(
            Action.occurred_on.in_(origins),
            nothing_after(Action.sponsorship_id, Action.occurred_on),
        )
        .group_by(Action.sponsorship_id)
        .subquery("last_actions")
    )
    last_actions = (
        active_pairings()
        .add_columns(Sponsorship.started_on, last.c.last_on)
        .join(last, last.c.sponsorship_id == Sponsorship.id)
    )
    since_start = (
        active_pairings()
        .add_columns(Sponsorship.started_on)
        .where(
            Sponsorship.started_on.in_(origins),
            nothing_after(Sponsorship.id, Sponsorship.started_on),
        )
    )
    return last_actions, since_start


def quiet_pairings(start: date, end: date, period: int) -> list[Event]:
    """Pairings on which nothing was logged for a multiple of ``period`` days on a day from
    start to end (the day is the event): nudged after 60 days, again after 120, and so on
    up to ``MAX_NUDGES`` times.

    The last activity is the newest action, or the start when there is none since. Rather
    than aggregate every pairing's actions, look only at the days that would make a nudge
    fall in the range (through the index on the action's date), and check that nothing
    came after them.
    """
    # Six origins a day whatever the pairings: an origin before every active pairing's
    # start can lead to no nudge (the checks below compare with the start).
    origins = sorted(
        {
            day - timedelta(days=period * count)
            for day in days(start, end)
            for count in range(1, MAX_NUDGES + 1)
        }
    )
    if not origins:
        return []
    # pairing -> (sponsor, prisoner, quiet since); rows taken as tuples, not by name
    quiet_since: dict[int, tuple[int, int, date]] = {}
    last_actions, since_start = _quiet_statements()
    for pairing, sponsor, prisoner, started, last_on in columns(last_actions, {"origins": origins}):
        if last_on >= started:
            quiet_since[pairing] = (sponsor, prisoner, last_on)
    for pairing, sponsor, prisoner, started in columns(since_start, {"origins": origins}):
        quiet_since.setdefault(pairing, (sponsor, prisoner, started))
    in_range = list(days(start, end))
    found = []
    for pairing, (sponsor, prisoner, since) in quiet_since.items():
        for day in in_range:
            quiet = (day - since).days
            if 0 < quiet <= period * MAX_NUDGES and quiet % period == 0:
                found.append(
                    Event(day, f"sponsorship:{pairing}", sponsor, prisoner, pairing, number=quiet)
                )
    return found


def rebuild(subject_ref: str, on: date, number_of: str | None = None) -> Event | None:
    """The event an outbox message was about, read again (to write the message anew).

    ``number_of`` says what the number counts for a prisoner's date: "birthday",
    "detention_anniversary" or "detention_milestone" (a Trigger value).
    """
    kind, _colon, ident = subject_ref.partition(":")
    if kind == "campaign":
        return Event(on, subject_ref)
    if not ident.isdigit():
        return None
    found = int(ident)
    if kind == "prisoner" or kind == "release":
        prisoner = db.session.get(Prisoner, found)
        if prisoner is None:
            return None
        number = None
        if number_of == "birthday" and prisoner.birth_date:
            number = on.year - prisoner.birth_date.year
        elif number_of == "detention_anniversary" and prisoner.detained_on:
            number = on.year - prisoner.detained_on.year
        elif number_of == "detention_milestone" and prisoner.detained_on:
            number = (on - prisoner.detained_on).days
        what = KeyDateKind.EXPECTED_RELEASE.value if kind == "release" else number_of
        return Event(on, subject_ref, prisoner_id=prisoner.id, number=number, kind=what)
    if kind == "key_date":
        key_date = db.session.get(KeyDate, found)
        return (
            None
            if key_date is None
            else Event(
                on,
                subject_ref,
                prisoner_id=key_date.prisoner_id,
                kind=key_date.kind.value,
                note=key_date.note,
            )
        )
    if kind == "sponsorship":
        pairing = db.session.get(Sponsorship, found)
        return (
            None
            if pairing is None
            else Event(on, subject_ref, pairing.sponsor_id, pairing.prisoner_id, pairing.id)
        )
    if kind == "campaign_day":
        day = db.session.get(CampaignDay, found)
        return (
            None if day is None else Event(on, subject_ref, campaign_day_id=day.id, note=day.name)
        )
    return None
