"""Which dates matter for a prisoner, and when they next fall. Pure date arithmetic.

Shared by the sponsor's "coming up" list, the calendar feed and the reminders, so that all
three agree on, for instance, when a 29 February birthday falls in 2027 (28 February).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from godparents.prisoners.models import KeyDateKind, Prisoner
from godparents.reminders.models import CampaignDay

MILESTONE_STEP = 500  # days in detention worth marking: 500, 1000, 1500, ...


class DateKind(StrEnum):
    BIRTHDAY = "birthday"
    DETENTION_ANNIVERSARY = "detention_anniversary"
    DETENTION_MILESTONE = "detention_milestone"
    TRIAL = "trial"
    APPEAL = "appeal"
    HEARING = "hearing"
    EXPECTED_RELEASE = "expected_release"
    CUSTOM = "custom"
    CAMPAIGN_DAY = "campaign_day"


@dataclass(frozen=True)
class Occurrence:
    """One date that matters. ``number`` is the age, the years or the days it marks."""

    on: date
    kind: DateKind
    prisoner: Prisoner | None = None
    number: int | None = None
    note: str | None = None
    campaign_day: CampaignDay | None = None

    def days_from(self, today: date) -> int:
        return (self.on - today).days


def in_year(month: int, day: int, year: int) -> date:
    """The date of month/day in ``year``; 29 February is 28 February in common years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def yearly(origin: date, start: date, end: date) -> Iterator[tuple[date, int]]:
    """Each anniversary of ``origin`` from ``start`` to ``end``, with its number of years."""
    for year in range(max(start.year, origin.year + 1), end.year + 1):
        on = in_year(origin.month, origin.day, year)
        if start <= on <= end:
            yield on, year - origin.year


def milestones(detained_on: date, start: date, end: date) -> Iterator[tuple[date, int]]:
    """Each round number of days in detention (500, 1000, ...) that falls from start to end."""
    first = max(1, -(-(start - detained_on).days // MILESTONE_STEP))
    count = first * MILESTONE_STEP
    while (on := detained_on + timedelta(days=count)) <= end:
        if on >= start:
            yield on, count
        count += MILESTONE_STEP


_KEY_DATE_KINDS = {
    KeyDateKind.TRIAL: DateKind.TRIAL,
    KeyDateKind.APPEAL: DateKind.APPEAL,
    KeyDateKind.HEARING: DateKind.HEARING,
    KeyDateKind.EXPECTED_RELEASE: DateKind.EXPECTED_RELEASE,
    KeyDateKind.CUSTOM: DateKind.CUSTOM,
}


def prisoner_dates(prisoner: Prisoner, start: date, end: date) -> Iterator[Occurrence]:
    """The prisoner's dates from ``start`` to ``end`` (inclusive); ``key_dates`` must be loaded."""
    if prisoner.birth_date is not None:
        for on, age in yearly(prisoner.birth_date, start, end):
            yield Occurrence(on, DateKind.BIRTHDAY, prisoner, age)
    if prisoner.detained_on is not None and prisoner.is_held:
        for on, years in yearly(prisoner.detained_on, start, end):
            yield Occurrence(on, DateKind.DETENTION_ANNIVERSARY, prisoner, years)
        for on, days in milestones(prisoner.detained_on, start, end):
            yield Occurrence(on, DateKind.DETENTION_MILESTONE, prisoner, days)
    expected_release_listed = False
    for key_date in prisoner.key_dates:
        kind = _KEY_DATE_KINDS[key_date.kind]
        expected_release_listed |= kind is DateKind.EXPECTED_RELEASE
        if key_date.is_yearly:
            for on, _years in yearly(key_date.occurs_on, start, end):
                yield Occurrence(on, kind, prisoner, note=key_date.note)
            if start <= key_date.occurs_on <= end:
                yield Occurrence(key_date.occurs_on, kind, prisoner, note=key_date.note)
        elif start <= key_date.occurs_on <= end:
            yield Occurrence(key_date.occurs_on, kind, prisoner, note=key_date.note)
    release = prisoner.expected_release_on
    if release is not None and not expected_release_listed and start <= release <= end:
        yield Occurrence(release, DateKind.EXPECTED_RELEASE, prisoner)


def campaign_dates(days: Iterable[CampaignDay], start: date, end: date) -> Iterator[Occurrence]:
    for day in days:
        if not day.is_active:
            continue
        for year in range(start.year, end.year + 1):
            on = in_year(day.month, day.day, year)
            if start <= on <= end:
                yield Occurrence(on, DateKind.CAMPAIGN_DAY, campaign_day=day)


def upcoming(
    prisoners: Iterable[Prisoner], days: Iterable[CampaignDay], today: date, horizon: int = 60
) -> list[Occurrence]:
    """Everything from today to ``horizon`` days ahead, soonest first."""
    end = today + timedelta(days=horizon)
    found = [o for p in prisoners for o in prisoner_dates(p, today, end)]
    found.extend(campaign_dates(days, today, end))
    return sorted(found, key=lambda o: (o.on, o.kind.value, o.prisoner.id if o.prisoner else 0))
