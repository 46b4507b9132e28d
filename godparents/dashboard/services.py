"""The coordinator's dashboard: numbers, trends and work lists, each in bounded queries.

Every function takes ``today`` and returns plain data (rows, not live ORM objects) for the
template. The dashboard must stay fast at the campaign's full size, so ``dashboard`` reuses
results within one server process: the numbers and work lists until anything is created,
changed or deleted (``data_version``), the two trend charts, which scan a year of actions,
for ``DASHBOARD_CACHE_SECONDS`` (a monthly trend needs no second-by-second freshness).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, exists, extract, func, literal, or_, select, tuple_

from godparents.actions.models import Action, ActionKind
from godparents.audit.services import data_version
from godparents.caching import cache
from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, KeyDate, Prisoner
from godparents.prisoners.queries import held_without_postal_address
from godparents.reminders.models import CampaignDay, OutboxMessage, OutboxStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import DETENTION_ENDED, Sponsorship, SponsorshipStatus

WORK_LIST_LENGTH = 10
INACTIVE_AFTER_DAYS = 90
FAR_FUTURE = date(9999, 12, 31)

# The kinds of action, in families a chart can show in five colours.
FAMILIES: dict[str, tuple[ActionKind, ...]] = {
    "post": (ActionKind.LETTER, ActionKind.CARD, ActionKind.PARCEL),
    "political": (
        ActionKind.SPEECH,
        ActionKind.PARLIAMENTARY_QUESTION,
        ActionKind.STATEMENT,
        ActionKind.LETTER_TO_AUTHORITIES,
        ActionKind.EMBASSY_CONTACT,
    ),
    "public": (ActionKind.SOCIAL_MEDIA, ActionKind.EVENT, ActionKind.PETITION),
    "personal": (ActionKind.VISIT, ActionKind.FAMILY_CONTACT),
    "other": (ActionKind.OTHER,),
}


def _active_pairing(prisoner_id: Any) -> Any:
    return exists().where(
        Sponsorship.prisoner_id == prisoner_id, Sponsorship.status == SponsorshipStatus.ACTIVE
    )


def _proposed_pairing(prisoner_id: Any) -> Any:
    return exists().where(
        Sponsorship.prisoner_id == prisoner_id, Sponsorship.status == SponsorshipStatus.PROPOSED
    )


# Numbers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    prisoners: int
    held: int
    held_with_godparent: int
    held_proposed: int  # no godparent yet, but one proposed: not "without"
    released_this_year: int
    sponsors: int
    sponsors_active: int
    pairings_active: int
    actions_30: int
    actions_90: int

    @property
    def held_without_godparent(self) -> int:
        return self.held - self.held_with_godparent - self.held_proposed


def counts(today: date) -> Counts:
    """The headline numbers in one query of scalar subqueries."""
    held = Prisoner.status.in_(HELD_STATUSES)
    not_held = Prisoner.status.not_in(HELD_STATUSES)

    def count(model: Any, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = db.session.execute(
        select(
            count(Prisoner),
            count(Prisoner, held),
            count(Prisoner, held, _active_pairing(Prisoner.id)),
            count(Prisoner, held, ~_active_pairing(Prisoner.id), _proposed_pairing(Prisoner.id)),
            count(Prisoner, not_held, Prisoner.released_on >= date(today.year, 1, 1)),
            count(Sponsor, Sponsor.erased_at.is_(None)),
            count(Sponsor, Sponsor.is_active),
            count(Sponsorship, Sponsorship.status == SponsorshipStatus.ACTIVE),
        )
    ).one()
    # Both windows in one range scan of the occurred_on index.
    recent = db.session.execute(
        select(
            func.sum(case((Action.occurred_on > today - timedelta(days=30), 1), else_=0)),
            func.count(),
        ).where(Action.occurred_on > today - timedelta(days=90))
    ).one()
    return Counts(*row, int(recent[0] or 0), recent[1])


def sponsors_by_parliament() -> list[Row[*tuple[Any, ...]]]:
    """Active sponsors with at least one active pairing, per parliament and country."""
    paired = exists().where(
        Sponsorship.sponsor_id == Sponsor.id, Sponsorship.status == SponsorshipStatus.ACTIVE
    )
    return list(
        db.session.execute(
            select(Sponsor.body, Sponsor.country, func.count().label("sponsors"))
            .where(Sponsor.is_active, paired)
            .group_by(Sponsor.body, Sponsor.country)
            .order_by(func.count().desc(), Sponsor.body, Sponsor.country)
        )
    )


# Trends (cached) -------------------------------------------------------------------------------


def month_starts(today: date, months: int = 12) -> list[date]:
    """The first days of the last ``months`` months, oldest first, this month included."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def month_end(start: date) -> date:
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class MonthlyActions:
    months: list[date]
    # family -> one count per month; and kind -> one count per month for the data table
    by_family: dict[str, list[int]]
    by_kind: dict[ActionKind, list[int]]

    @property
    def totals(self) -> list[int]:
        return [sum(values) for values in zip(*self.by_family.values(), strict=True)]


def actions_per_month(today: date) -> MonthlyActions:
    """Actions per month and kind over the last twelve months, in one grouped query.

    The month is bucketed with date comparisons (CASE), which the covering index on
    (occurred_on, kind) answers without reading the table or formatting any date.
    """
    months = month_starts(today)
    bucket = case(
        *[
            (Action.occurred_on < start, index - 1)
            for index, start in enumerate(months[1:], start=1)
        ],
        else_=len(months) - 1,
    )
    rows = db.session.execute(
        select(bucket, Action.kind, func.count())
        .where(Action.occurred_on >= months[0], Action.occurred_on <= today)
        .group_by(bucket, Action.kind)
    )
    by_kind = {kind: [0] * len(months) for kind in ActionKind}
    for index, kind, number in rows:
        by_kind[kind][int(index)] += number
    by_family = {
        family: [sum(by_kind[k][i] for k in kinds) for i in range(len(months))]
        for family, kinds in FAMILIES.items()
    }
    return MonthlyActions(months, by_family, by_kind)


@dataclass(frozen=True)
class Coverage:
    months: list[date]
    held: list[int]
    with_godparent: list[int]

    @property
    def shares(self) -> list[float | None]:
        return [w / h if h else None for h, w in zip(self.held, self.with_godparent, strict=True)]


def coverage_over_time(today: date) -> Coverage:
    """Held prisoners, and those with a godparent, at the end of each of the last 12 months.

    One scan: per prisoner the detention interval and the span covered by pairings (first
    start to last end; a hand-over leaves no gap), then one SUM(CASE ...) per month end.
    """
    months = month_starts(today)
    ends = [min(month_end(m), today) for m in months]
    cover = (
        select(
            Sponsorship.prisoner_id,
            func.min(Sponsorship.started_on).label("first"),
            func.max(func.coalesce(Sponsorship.ended_on, literal(FAR_FUTURE))).label("last"),
        )
        .where(
            Sponsorship.status != SponsorshipStatus.PROPOSED, Sponsorship.started_on.is_not(None)
        )
        .group_by(Sponsorship.prisoner_id)
        .subquery()
    )
    released = func.coalesce(Prisoner.released_on, literal(FAR_FUTURE))
    columns = []
    for end in ends:
        held = and_(Prisoner.detained_on <= end, released > end)
        covered = and_(held, cover.c.first <= end, cover.c.last > end)
        columns.append(func.sum(case((held, 1), else_=0)))
        columns.append(func.sum(case((covered, 1), else_=0)))
    row = db.session.execute(
        select(*columns)
        .select_from(Prisoner)
        .outerjoin(cover, cover.c.prisoner_id == Prisoner.id)
        .where(Prisoner.detained_on.is_not(None))
    ).one()
    values = [int(v or 0) for v in row]
    return Coverage(months, values[0::2], values[1::2])


# Work lists ------------------------------------------------------------------------------------


def held_without_godparent(limit: int = WORK_LIST_LENGTH) -> list[Row[*tuple[Any, ...]]]:
    """Held prisoners nobody is godparent of, nor proposed as one; longest held first."""
    return list(
        db.session.execute(
            select(Prisoner.id, Prisoner.name_latin, Prisoner.detained_on)
            .where(
                Prisoner.status.in_(HELD_STATUSES),
                ~_active_pairing(Prisoner.id),
                ~_proposed_pairing(Prisoner.id),
            )
            .order_by(Prisoner.detained_on.is_(None), Prisoner.detained_on, Prisoner.id)
            .limit(limit)
        )
    )


def held_without_address(limit: int = WORK_LIST_LENGTH) -> list[Row[*tuple[Any, ...]]]:
    """Held prisoners nobody can write to: no address, or a facility without its postal
    address; longest held first."""
    return list(db.session.execute(held_without_postal_address().limit(limit)))


def freed_godparents(limit: int = WORK_LIST_LENGTH) -> list[Row[*tuple[Any, ...]]]:
    """Active sponsors waiting for a new godchild: their godchild's detention ended
    (released, pardoned, deported, died) and they have no current pairing."""
    released_pairing = (
        select(Sponsorship.sponsor_id, func.max(Sponsorship.ended_on).label("ended_on"))
        .where(Sponsorship.end_reason.in_(DETENTION_ENDED))
        .group_by(Sponsorship.sponsor_id)
        .subquery()
    )
    current = exists().where(
        Sponsorship.sponsor_id == Sponsor.id, Sponsorship.status == SponsorshipStatus.ACTIVE
    )
    return list(
        db.session.execute(
            select(Sponsor.id, Sponsor.full_name, Sponsor.body, released_pairing.c.ended_on)
            .join(released_pairing, released_pairing.c.sponsor_id == Sponsor.id)
            .where(Sponsor.is_active, ~current)
            .order_by(released_pairing.c.ended_on.desc(), Sponsor.id)
            .limit(limit)
        )
    )


def _quiet_sponsors(today: date, days: int) -> Any:
    """Sponsors with an active pairing but no action in ``days`` days, with their last one.

    The last action is looked up per candidate through the (sponsorship, date) index, not
    by grouping every action of the campaign.
    """
    since = today - timedelta(days=days)
    own_actions = (Action.sponsorship_id == Sponsorship.id, Sponsorship.sponsor_id == Sponsor.id)
    recent = exists().where(*own_actions, Action.occurred_on >= since)
    last_on = (
        select(func.max(Action.occurred_on))
        .where(*own_actions)
        .correlate(Sponsor)
        .scalar_subquery()
    )
    paired = exists().where(
        Sponsorship.sponsor_id == Sponsor.id, Sponsorship.status == SponsorshipStatus.ACTIVE
    )
    return (
        select(Sponsor.id, Sponsor.full_name, Sponsor.body, last_on.label("last_on"))
        .where(Sponsor.is_active, paired, ~recent)
        .subquery()
    )


def inactive_sponsors(
    today: date, limit: int = WORK_LIST_LENGTH, days: int = INACTIVE_AFTER_DAYS
) -> list[Row[*tuple[Any, ...]]]:
    """Sponsors with an active pairing but no action in ``days`` days, quietest first."""
    candidates = _quiet_sponsors(today, days)
    return list(
        db.session.execute(
            select(candidates)
            .order_by(candidates.c.last_on.is_not(None), candidates.c.last_on, candidates.c.id)
            .limit(limit)
        )
    )


def inactive_sponsor_count(today: date, days: int = INACTIVE_AFTER_DAYS) -> int:
    return db.session.scalar(select(func.count()).select_from(_quiet_sponsors(today, days))) or 0


def mandates_ending(today: date, limit: int = WORK_LIST_LENGTH) -> list[Row[*tuple[Any, ...]]]:
    return list(
        db.session.execute(
            select(Sponsor.id, Sponsor.full_name, Sponsor.body, Sponsor.mandate_ends_on)
            .where(
                Sponsor.is_active,
                Sponsor.mandate_ends_on.between(today, today + timedelta(days=90)),
            )
            .order_by(Sponsor.mandate_ends_on, Sponsor.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class DateAhead:
    on: date
    kind: str  # "birthday", "detention_anniversary", a KeyDateKind value, "campaign_day"
    prisoner: Row[*tuple[Any, ...]] | None = None  # id, name_latin
    name: str | None = None  # a campaign day's name
    note: str | None = None


def dates_ahead(today: date, days: int = 30, limit: int = 20) -> list[DateAhead]:
    """The first ``limit`` birthdays, detention anniversaries, key dates and campaign days of
    the next ``days`` days, for held prisoners (round-number milestones are left to the
    godparents' own pages). A full registry fills the list within a few days, so the next
    three days are looked at first and the whole window only when they are not enough."""
    found = _dates_within(today, min(days, 3))
    if len(found) < limit and days > 3:
        found = _dates_within(today, days)
    return found[:limit]


def _dates_within(today: date, days: int) -> list[DateAhead]:
    end = today + timedelta(days=days)
    window = [today + timedelta(days=n) for n in range(days + 1)]
    pairs = [(d.month, d.day) for d in window]
    if any((d.month, d.day) == (2, 28) for d in window):
        pairs.append((2, 29))  # a 29 February birthday is kept on the 28th in common years

    def on_day(column: Any) -> Any:
        return tuple_(extract("month", column), extract("day", column)).in_(pairs)

    held = Prisoner.status.in_(HELD_STATUSES)
    found: list[DateAhead] = []
    for prisoner in db.session.execute(
        select(Prisoner.id, Prisoner.name_latin, Prisoner.birth_date, Prisoner.detained_on).where(
            held, or_(on_day(Prisoner.birth_date), on_day(Prisoner.detained_on))
        )
    ):
        for origin, kind in (
            (prisoner.birth_date, "birthday"),
            (prisoner.detained_on, "detention_anniversary"),
        ):
            if origin is not None:
                found.extend(
                    DateAhead(on, kind, prisoner)
                    for on in window
                    if _same_day(origin, on) and on.year > origin.year
                )
    for row in db.session.execute(
        select(KeyDate.occurs_on, KeyDate.kind, KeyDate.note, Prisoner.id, Prisoner.name_latin)
        .join(KeyDate.prisoner)
        .where(held, KeyDate.occurs_on.between(today, end))
    ):
        found.append(DateAhead(row.occurs_on, row.kind.value, row, note=row.note))
    for day in db.session.scalars(select(CampaignDay).where(CampaignDay.is_active)):
        found.extend(
            DateAhead(on, "campaign_day", name=day.name)
            for on in window
            if _same_day(date(2000, day.month, day.day), on)
        )
    found.sort(key=lambda d: (d.on, d.kind, d.prisoner.name_latin if d.prisoner else ""))
    return found


def _same_day(origin: date, on: date) -> bool:
    if (origin.month, origin.day) == (2, 29):
        leap = on.year % 4 == 0 and (on.year % 100 != 0 or on.year % 400 == 0)
        return (on.month, on.day) == ((2, 29) if leap else (2, 28))
    return (origin.month, origin.day) == (on.month, on.day)


def failed_message_count() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
        )
        or 0
    )


def failed_messages(limit: int = WORK_LIST_LENGTH) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class WorkLists:
    counts: Counts
    by_parliament: list[Row[*tuple[Any, ...]]]
    without_godparent: list[Row[*tuple[Any, ...]]]
    no_postal_address: list[Row[*tuple[Any, ...]]]
    freed: list[Row[*tuple[Any, ...]]]
    inactive: list[Row[*tuple[Any, ...]]]
    mandates: list[Row[*tuple[Any, ...]]]
    dates: list[DateAhead]


def work_lists(today: date) -> WorkLists:
    return WorkLists(
        counts(today),
        sponsors_by_parliament(),
        held_without_godparent(),
        held_without_address(),
        freed_godparents(),
        inactive_sponsors(today),
        mandates_ending(today),
        dates_ahead(today),
    )


@dataclass(frozen=True)
class Dashboard:
    lists: WorkLists
    actions: MonthlyActions
    coverage: Coverage
    failed: list[OutboxMessage]

    @property
    def counts(self) -> Counts:
        return self.lists.counts


def dashboard(today: date, cache_seconds: float, database: str) -> Dashboard:
    """Everything on the dashboard. The numbers and work lists are reused until anything
    changes (``data_version``); the trends for ``cache_seconds``; failed emails are live."""
    version = data_version()
    return Dashboard(
        lists=cache.get(
            ("dashboard-lists", database, today, version), cache_seconds, lambda: work_lists(today)
        ),
        actions=cache.get(
            ("dashboard-actions", database, today), cache_seconds, lambda: actions_per_month(today)
        ),
        coverage=cache.get(
            ("dashboard-coverage", database, today),
            cache_seconds,
            lambda: coverage_over_time(today),
        ),
        failed=failed_messages(),
    )
