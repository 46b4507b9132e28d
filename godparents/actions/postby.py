"""Post-by dates: the day a card must go into the post to reach a Belarusian prison in time.

Coordinators keep a transit time per destination country (``TransitTime``); Belarus, where
every godchild is held today, takes 21 days unless they say otherwise. A card for a
birthday or a campaign day is due at the post ``transit`` days before the day itself. The
day is compared with the reader's own today (their time zone): past it, a card arrives
late, and the home offers what still works (a public message, a statement, a photo with a
sign).

29 February birthdays follow ``calendar.dates.in_year``: they fall on 28 February in
common years, so the post-by day is counted back from the 28th there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.orm import Mapped, mapped_column

from godparents.calendar.dates import DateKind, Occurrence, in_year
from godparents.extensions import Model, db
from godparents.types import UTCDateTime, utcnow

DESTINATION = "BY"  # every prison address in the registry is in Belarus
DEFAULT_TRANSIT_DAYS = {"BY": 21}
FALLBACK_TRANSIT_DAYS = 21
MAX_TRANSIT_DAYS = 120
# The dates a card is posted for; the rest (trials, milestones) are marked otherwise.
CARD_DATES = frozenset({DateKind.BIRTHDAY, DateKind.CAMPAIGN_DAY})


class TransitTime(Model):
    """How many days post takes to reach a prison in a country (ISO 3166 alpha-2)."""

    __tablename__ = "transit_times"
    __table_args__ = (CheckConstraint("days BETWEEN 0 AND 120", name="days"),)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<TransitTime {self.country} {self.days}>"


@dataclass(frozen=True)
class Transit:
    """The transit days per country, as the coordinators set them (defaults beneath)."""

    days: dict[str, int]

    def to(self, country: str = DESTINATION) -> int:
        return self.days.get(country, DEFAULT_TRANSIT_DAYS.get(country, FALLBACK_TRANSIT_DAYS))


def transit() -> Transit:
    """The transit table in one query (kept for the request or the reminder run)."""
    cached = g.get("_transit") if has_app_context() else None
    if cached is not None:
        return cached
    found = Transit(
        {
            **DEFAULT_TRANSIT_DAYS,
            **{
                country: days
                for country, days in db.session.execute(
                    select(TransitTime.country, TransitTime.days)
                )
            },
        }
    )
    if has_app_context():
        g._transit = found
    return found


def post_by(on: date, days: int) -> date:
    """The last day to post for something that must arrive by ``on``."""
    return on - timedelta(days=days)


@dataclass(frozen=True)
class PostBy:
    """The post-by day of one date that matters, as the reader sees it today."""

    on: date  # the occasion
    post_by: date
    today: date

    @property
    def is_past(self) -> bool:
        """Too late for a card: it would arrive after the day."""
        return self.post_by < self.today

    @property
    def days_left(self) -> int:
        return (self.post_by - self.today).days


def for_occurrence(occurrence: Occurrence, today: date, table: Transit) -> PostBy | None:
    """The post-by day of a birthday or a campaign day (None for other dates, whose
    message is not a card)."""
    if occurrence.kind not in CARD_DATES:
        return None
    return PostBy(occurrence.on, post_by(occurrence.on, table.to(DESTINATION)), today)


def for_day(on: date, today: date, table: Transit | None = None) -> PostBy:
    """The post-by day of an occasion on ``on`` (for the reminders, which know the date)."""
    return PostBy(on, post_by(on, (table or transit()).to(DESTINATION)), today)


def set_transit_days(country: str, days: int) -> TransitTime:
    """Record a country's transit time (the caller commits)."""
    country = country.strip().upper()
    found = db.session.get(TransitTime, country)
    if found is None:
        found = TransitTime(country=country, days=days)
        db.session.add(found)
    else:
        found.days = days
    g.pop("_transit", None)
    return found


def coming_occasions(month: int, day: int, today: date, count: int = 2) -> list[date]:
    """The next ``count`` yearly occasions on month/day from today on (29 February: the
    28th in common years), for the calendar feed's dated post-by events."""
    found: list[date] = []
    year = today.year
    while len(found) < count:
        on = in_year(month, day, year)
        if on >= today:
            found.append(on)
        year += 1
    return found
