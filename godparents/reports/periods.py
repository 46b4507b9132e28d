"""The report's period from the page's query string: a calendar year, a campaign year
(from the anniversary of the campaign's start, ``CAMPAIGN_STARTED_ON``), or two dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import gettext as _

YEAR, CAMPAIGN_YEAR, DATES = "year", "campaign", "dates"
KINDS = (YEAR, CAMPAIGN_YEAR, DATES)
FIRST_YEAR, LAST_YEAR = 1990, 2200  # a year outside is a typing error


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # included

    @property
    def year(self) -> int:
        return self.start.year

    def label(self) -> str:
        if self.kind == YEAR:
            return str(self.start.year)
        if self.kind == CAMPAIGN_YEAR:
            return _(
                "Campaign year %(first)d/%(second)s",
                first=self.start.year,
                second=f"{(self.start.year + 1) % 100:02d}",
            )
        return _(
            "%(start)s to %(end)s",
            start=format_date(self.start, "medium"),
            end=format_date(self.end, "medium"),
        )

    def slug(self) -> str:
        """For a file name: 2025, campaign-2025, 2025-01-01_2025-03-31."""
        if self.kind == YEAR:
            return str(self.start.year)
        if self.kind == CAMPAIGN_YEAR:
            return f"campaign-{self.start.year}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def query(self) -> dict[str, str]:
        """The query string that gives this period again."""
        if self.kind == DATES:
            return {"period": DATES, "from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"period": self.kind, "year": str(self.start.year)}


def _anniversary(started_on: date, year: int) -> date:
    try:
        return started_on.replace(year=year)
    except ValueError:  # 29 February in a year without one
        return date(year, 3, 1)


def campaign_year(started_on: date, year: int) -> Period:
    """The campaign year that begins on the campaign's anniversary in ``year``."""
    start = _anniversary(started_on, year)
    return Period(CAMPAIGN_YEAR, start, _anniversary(started_on, year + 1) - timedelta(days=1))


def calendar_year(year: int) -> Period:
    return Period(YEAR, date(year, 1, 1), date(year, 12, 31))


def current_campaign_year(started_on: date, today: date) -> int:
    return today.year if _anniversary(started_on, today.year) <= today else today.year - 1


def parse(
    args: Mapping[str, str], today: date, started_on: date
) -> tuple[Period | None, str | None]:
    """The period the query string asks for (this calendar year when it asks for none), or
    None and what is wrong with it."""
    kind = args.get("period") or YEAR
    if kind not in KINDS:
        return None, _("Choose a calendar year, a campaign year or two dates.")
    if kind == DATES:
        try:
            start = date.fromisoformat(args.get("from", "").strip())
            end = date.fromisoformat(args.get("to", "").strip())
        except ValueError:
            return None, _("Enter both dates as dates, for example 2025-01-31.")
        if end < start:
            return None, _("The last day comes before the first.")
        if start.year < FIRST_YEAR or end.year > LAST_YEAR:
            return None, _(
                "Enter dates between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR
            )
        return Period(DATES, start, end), None
    default = today.year if kind == YEAR else current_campaign_year(started_on, today)
    text = (args.get("year") or str(default)).strip()
    if not text.isascii() or not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        return None, _(
            "Enter a year between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR
        )
    year = int(text)
    return (calendar_year(year) if kind == YEAR else campaign_year(started_on, year)), None
