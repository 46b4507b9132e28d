"""Random but plausible dates and sentences, shared by the demo and the bulk data."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TypeVar

from godparents.demo import data
from godparents.prisoners.models import Gender

CAMPAIGN_START = date(2020, 10, 1)  # no pairing starts before the campaign did
FIRST_DETENTION = date(2020, 8, 9)  # election day; the demo's detentions start here
LAST_DETENTION = date(2025, 12, 31)

T = TypeVar("T")


def random_date(rng: random.Random, first: date, last: date) -> date:
    """A day from first to last, both included (first if the range is empty)."""
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def leap_year_near(year: int) -> int:
    """A leap year at most three years before ``year`` (1904-2096 need no century rule)."""
    return year - year % 4


def detention_date(rng: random.Random, latest: date) -> date:
    """A detention date in 2020-2025, weighted towards the mass arrests of 2020-2021."""
    year = pick_weighted(rng, data.DETENTION_YEAR_WEIGHTS)
    first = max(date(year, 1, 1), FIRST_DETENTION)
    last = min(date(year, 12, 31), LAST_DETENTION, latest)
    return random_date(rng, min(first, last), last)


def earliest_start(detained_on: date) -> date:
    """The first day a pairing with a prisoner detained then can plausibly have started."""
    return max(detained_on + timedelta(days=30), CAMPAIGN_START)


def years_left_open(detained_on: date, today: date) -> int:
    """The shortest sentence, in whole years, that still runs two months after today."""
    return (today + timedelta(days=60) - detained_on).days // 365 + 1


def sentence_text(rng: random.Random, years: int, gender: Gender | None) -> str:
    regimes = data.WOMEN_REGIMES if gender is Gender.FEMALE else data.MEN_REGIMES
    return f"{years} years in a {rng.choice(regimes)}"


def pick_weighted(rng: random.Random, weights: dict[T, int]) -> T:
    """One key of ``weights``, chosen with the probability its weight gives it."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]
