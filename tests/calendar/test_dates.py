"""The date arithmetic behind "coming up", the calendar feed and the reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from godparents.calendar.dates import (
    DateKind,
    campaign_dates,
    in_year,
    milestones,
    prisoner_dates,
    upcoming,
    yearly,
)
from godparents.labels import label
from godparents.prisoners.models import KeyDate, KeyDateKind, Prisoner, PrisonerStatus
from godparents.reminders.models import CampaignDay
from godparents.sponsorships.models import EndReason
from godparents.timeutil import local_today


def _prisoner(**fields) -> Prisoner:
    values = {
        "id": 1,
        "name_latin": "P",
        "status": PrisonerStatus.SENTENCED,
        "key_dates": [],
        **fields,
    }
    return Prisoner(**values)


@pytest.mark.parametrize(
    ("year", "expected"), [(2027, date(2027, 2, 28)), (2028, date(2028, 2, 29))]
)
def test_29_february_falls_on_28_february_in_common_years(year: int, expected: date) -> None:
    assert in_year(2, 29, year) == expected


def test_yearly_counts_years_and_skips_the_origin_year() -> None:
    found = list(yearly(date(1988, 2, 29), date(2026, 1, 1), date(2028, 12, 31)))
    assert found == [(date(2026, 2, 28), 38), (date(2027, 2, 28), 39), (date(2028, 2, 29), 40)]
    assert list(yearly(date(2026, 5, 1), date(2026, 1, 1), date(2026, 12, 31))) == []


def test_milestones_every_500_days() -> None:
    detained = date(2020, 1, 1)
    found = list(milestones(detained, date(2020, 1, 1), date(2025, 12, 31)))
    assert [days for _on, days in found] == [500, 1000, 1500, 2000]
    assert all((on - detained).days == days for on, days in found)
    thousandth = date(2022, 9, 27)  # 366 + 365 + 269 days after 1 January 2020
    assert list(milestones(detained, thousandth, thousandth)) == [(thousandth, 1000)]
    assert list(milestones(detained, date(2022, 9, 28), date(2023, 1, 1))) == []


def test_prisoner_dates_within_the_window() -> None:
    prisoner = _prisoner(
        birth_date=date(1979, 3, 14),
        detained_on=date(2021, 7, 14),
        expected_release_on=date(2026, 4, 1),
        key_dates=[
            KeyDate(kind=KeyDateKind.APPEAL, occurs_on=date(2026, 3, 20), note="Minsk"),
            KeyDate(kind=KeyDateKind.TRIAL, occurs_on=date(2027, 1, 1)),
        ],
    )
    found = {
        (o.kind, o.on, o.number)
        for o in prisoner_dates(prisoner, date(2026, 3, 1), date(2026, 4, 30))
    }
    assert found == {
        (DateKind.BIRTHDAY, date(2026, 3, 14), 47),
        (DateKind.APPEAL, date(2026, 3, 20), None),
        (DateKind.EXPECTED_RELEASE, date(2026, 4, 1), None),
    }


def test_released_prisoners_have_no_detention_dates() -> None:
    prisoner = _prisoner(status=PrisonerStatus.RELEASED, detained_on=date(2020, 1, 1))
    assert list(prisoner_dates(prisoner, date(2021, 1, 1), date(2021, 12, 31))) == []


def test_campaign_days_and_sorting() -> None:
    days = [
        CampaignDay(name="Freedom Day", month=3, day=25, is_active=True),
        CampaignDay(name="Switched off", month=3, day=10, is_active=False),
    ]
    assert [o.on for o in campaign_dates(days, date(2026, 1, 1), date(2027, 12, 31))] == [
        date(2026, 3, 25),
        date(2027, 3, 25),
    ]
    prisoner = _prisoner(birth_date=date(1990, 3, 30))
    found = upcoming([prisoner], days, today=date(2026, 3, 1), horizon=60)
    assert [o.kind for o in found] == [DateKind.CAMPAIGN_DAY, DateKind.BIRTHDAY]
    assert found[0].days_from(date(2026, 3, 1)) == 24


def test_today_depends_on_the_time_zone() -> None:
    late_evening_utc = datetime(2026, 3, 24, 23, 30, tzinfo=UTC)
    assert local_today("Europe/Berlin", "UTC", late_evening_utc) == date(2026, 3, 25)
    assert local_today("America/New_York", "UTC", late_evening_utc) == date(2026, 3, 24)
    assert local_today("Not/AZone", "Europe/Berlin", late_evening_utc) == date(2026, 3, 25)


def test_labels_tell_equal_values_of_different_enums_apart(app) -> None:
    assert label(PrisonerStatus.RELEASED) == "Released"
    assert label(EndReason.RELEASED) == "Prisoner released"
    assert label(PrisonerStatus.UNKNOWN) == "Status unknown"
