"""Post-by dates (actions/postby.py) and one tap "posted" (actions/posted.py): the
arithmetic, the home that shows them, the coordinators' transit times, the prefilled form."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import func, select

from godparents.actions import postby
from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.actions.postby import PostBy, Transit, TransitTime
from godparents.calendar.dates import DateKind, Occurrence, prisoner_dates
from godparents.extensions import db
from godparents.reminders.events import Event
from godparents.reminders.messages import Rendered
from godparents.reminders.models import CampaignDay
from godparents.reminders.planner import Due, Recipient
from godparents.reminders.writing import render_due
from godparents.timeutil import campaign_today, local_today
from tests.factories import (
    make_coordinator,
    make_default_rules,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, csrf_token


def _today() -> date:
    return campaign_today("Europe/Berlin")


def _birthday_in(days: int) -> date:
    """A day ``days`` ahead that exists in 1985 too (not 29 February)."""
    day = _today() + timedelta(days=days)
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


def _errors(response) -> str:
    return " ".join(re.findall(r'class="invalid-feedback[^"]*">([^<]*)<', response.text))


# The arithmetic ----------------------------------------------------------------------------


def test_post_by_is_the_date_less_the_transit_days() -> None:
    assert postby.post_by(date(2027, 5, 21), 21) == date(2027, 4, 30)
    assert Transit({}).to("BY") == 21  # Belarus by default
    assert Transit({"BY": 30}).to("BY") == 30
    assert Transit({}).to("UA") == postby.FALLBACK_TRANSIT_DAYS


def test_a_29_february_birthday_counts_back_from_28_february_in_common_years(app: Flask) -> None:
    prisoner = make_prisoner(birth_date=date(1992, 2, 29))
    table = Transit({"BY": 21})
    common = next(prisoner_dates(prisoner, date(2027, 1, 1), date(2027, 12, 31)))
    leap = next(prisoner_dates(prisoner, date(2028, 1, 1), date(2028, 12, 31)))
    assert (common.on, common.kind) == (date(2027, 2, 28), DateKind.BIRTHDAY)
    first = postby.for_occurrence(common, date(2027, 1, 1), table)
    second = postby.for_occurrence(leap, date(2028, 1, 1), table)
    assert first is not None and second is not None
    assert first.post_by == date(2027, 2, 7)
    assert second.post_by == date(2028, 2, 8)


def test_only_birthdays_and_campaign_days_have_a_post_by_day() -> None:
    table = Transit({})
    trial = Occurrence(date(2027, 3, 1), DateKind.TRIAL)
    assert postby.for_occurrence(trial, date(2027, 1, 1), table) is None


def test_the_reader_s_time_zone_decides_whether_the_day_has_passed() -> None:
    """At 12:00 UTC on 7 February it is already 8 February in Auckland: the card for a
    28 February birthday is late there, still in time in Berlin."""
    now = datetime(2027, 2, 7, 12, 0, tzinfo=UTC)
    berlin = local_today("Europe/Berlin", "Europe/Berlin", now)
    auckland = local_today("Pacific/Auckland", "Europe/Berlin", now)
    birthday = Occurrence(date(2027, 2, 28), DateKind.BIRTHDAY)
    in_berlin = postby.for_occurrence(birthday, berlin, Transit({}))
    in_auckland = postby.for_occurrence(birthday, auckland, Transit({}))
    assert in_berlin is not None and in_auckland is not None
    assert (in_berlin.is_past, in_berlin.days_left) == (False, 0)
    assert (in_auckland.is_past, in_auckland.days_left) == (True, -1)


def test_a_post_by_day_already_past() -> None:
    late = PostBy(date(2027, 3, 10), date(2027, 2, 17), today=date(2027, 3, 3))
    assert late.is_past and late.days_left == -14


# The home ----------------------------------------------------------------------------------


def test_the_home_shows_the_post_by_day_and_a_posted_link(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    birthday = _birthday_in(30)
    prisoner = make_prisoner(birth_date=birthday.replace(year=1985))
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    page = client.get("/sponsor/").text
    post_by = (birthday - timedelta(days=21)).isoformat()
    assert f'data-post-by="{post_by}"' in page
    assert "Post by" in page
    link = f"/sponsor/prisoners/{prisoner.id}/actions/new?occasion=birthday&amp;kind=card"
    assert link in page


def test_past_the_post_by_day_the_home_offers_what_still_works(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner(birth_date=_birthday_in(7).replace(year=1985))
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    page = client.get("/sponsor/").text
    assert 'data-post-by="late"' in page
    assert "Too late for a card by post." in page
    assert "a public message, a statement, a photo with a sign" in page
    assert (
        f"/sponsor/prisoners/{prisoner.id}/actions/new?occasion=birthday&amp;kind=social_media"
        in page
    )
    assert "occasion=birthday&amp;kind=card" not in page


@pytest.mark.settings(PAGE_CACHE_SECONDS=600)
def test_a_new_transit_time_reaches_every_cached_home(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    birthday = _birthday_in(40)
    make_sponsorship(sponsor, make_prisoner(birth_date=birthday.replace(year=1985)))
    auth.login(sponsor.email)
    assert (
        f'data-post-by="{(birthday - timedelta(days=21)).isoformat()}"'
        in client.get("/sponsor/").text
    )
    postby.set_transit_days("BY", 30)
    db.session.commit()
    assert (
        f'data-post-by="{(birthday - timedelta(days=30)).isoformat()}"'
        in client.get("/sponsor/").text
    )


# The coordinators' transit times -----------------------------------------------------------


def test_coordinators_set_the_transit_time(app: Flask, auth: Auth, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    page = client.get("/coordinator/letters/transit-times")
    assert page.status_code == 200 and 'data-transit="BY">21<' in page.text
    token = csrf_token(client, "/coordinator/letters/transit-times")
    response = client.post(
        "/coordinator/letters/transit-times",
        data={"country": "by", "days": "28", "csrf_token": token},
        follow_redirects=True,
    )
    assert 'data-transit="BY">28<' in response.text
    assert db.session.get(TransitTime, "BY").days == 28


@pytest.mark.parametrize(
    ("country", "days", "field_error"),
    [("BY", "500", "between"), ("Belarus", "21", "Two letters"), ("BY", "", "required")],
)
def test_bad_transit_times_are_refused_at_the_field(
    app: Flask, auth: Auth, client: FlaskClient, country: str, days: str, field_error: str
) -> None:
    auth.login(make_coordinator().email)
    token = csrf_token(client, "/coordinator/letters/transit-times")
    response = client.post(
        "/coordinator/letters/transit-times",
        data={"country": country, "days": days, "csrf_token": token},
    )
    assert response.status_code == 200
    assert field_error.lower() in _errors(response).lower()
    assert db.session.scalar(select(func.count()).select_from(TransitTime)) == 0


def test_godparents_cannot_reach_the_transit_times(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    assert client.get("/coordinator/letters/transit-times").status_code == 302  # to the login
    auth.login(make_sponsor().email)
    assert client.get("/coordinator/letters/transit-times").status_code == 403
    response = client.post(
        "/coordinator/letters/transit-times", data={"country": "BY", "days": "1"}
    )
    assert response.status_code in (400, 403)
    assert db.session.scalar(select(func.count()).select_from(TransitTime)) == 0


# One tap "posted" --------------------------------------------------------------------------


def test_the_posted_link_opens_the_form_filled_in(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    path = f"/sponsor/prisoners/{prisoner.id}/actions/new?occasion=birthday&kind=card"
    page = client.get(path).text
    assert "data-quick-save" in page
    assert re.search(r'value="card"[^>]*checked|checked[^>]*value="card"', page)
    assert re.search(r">\s*Birthday card</textarea>", page)
    assert f'value="{_today().isoformat()}"' in page
    # The quick save button comes before the fourteen kinds: on a phone's first screen.
    assert page.index('name="quick"') < page.index('name="kind"')
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "kind": "card",
            "occurred_on": _today().isoformat(),
            "summary": "Birthday card",
            "quick": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    action = db.session.scalar(select(Action))
    assert (action.kind, action.summary, action.letter_outcome) == (
        ActionKind.CARD,
        "Birthday card",
        LetterOutcome.SENT,
    )


def test_a_link_s_day_is_used_unless_it_lies_ahead(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    base = f"/sponsor/prisoners/{prisoner.id}/actions/new?occasion=campaign_day"
    yesterday = _today() - timedelta(days=1)
    assert f'value="{yesterday.isoformat()}"' in client.get(f"{base}&on={yesterday}").text
    ahead = _today() + timedelta(days=3)
    page = client.get(f"{base}&on={ahead}&kind=nonsense").text
    assert f'value="{_today().isoformat()}"' in page
    assert re.search(r">\s*Card for the campaign day</textarea>", page)


@pytest.mark.parametrize("kind", ["letter", "card", "parcel"])
def test_letters_cards_and_parcels_need_no_summary(
    app: Flask, auth: Auth, client: FlaskClient, kind: str
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    path = f"/sponsor/prisoners/{prisoner.id}/actions/new"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "kind": kind,
            "occurred_on": _today().isoformat(),
            "summary": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Action.summary)) == kind.capitalize()


def test_other_kinds_still_need_a_few_words(app: Flask, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    auth.login(sponsor.email)
    path = f"/sponsor/prisoners/{prisoner.id}/actions/new"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "kind": "speech",
            "occurred_on": _today().isoformat(),
            "summary": " ",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "Please say in a few words what you did." in _errors(response)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0


def test_a_quick_link_for_another_team_s_godchild_is_not_found(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    mine, other = make_sponsor(), make_sponsor()
    theirs = make_prisoner()
    make_sponsorship(other, theirs)
    auth.login(mine.email)
    path = f"/sponsor/prisoners/{theirs.id}/actions/new?occasion=birthday&kind=card"
    assert client.get(path).status_code == 404


# The calendar feed -------------------------------------------------------------------------


def _feed(client: FlaskClient) -> dict[str, Any]:
    token = csrf_token(client, "/account/")
    page = client.post("/account/calendar", data={"csrf_token": token}).text
    url = re.search(r'id="calendar-url">([^<]+)</pre>', page).group(1)
    anonymous = Flask.test_client(client.application)
    data = anonymous.get(url.removeprefix("http://godparents.test")).data
    return {str(e["uid"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_the_calendar_feed_has_post_by_events_of_their_own(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    leap = make_prisoner(name_latin="Alena Krautsova", birth_date=date(1988, 2, 29))
    make_sponsorship(sponsor, leap)
    db.session.add(CampaignDay(name="Freedom Day", month=3, day=25))
    db.session.commit()
    auth.login(sponsor.email)
    events = _feed(client)
    today = _today()
    posts = {
        uid: (str(e["summary"]), e.decoded("dtstart"))
        for uid, e in events.items()
        if uid.startswith("post-by-")
    }
    birthdays = sorted(d for s, d in posts.values() if s.startswith("Post the birthday card"))
    assert len(birthdays) == 2 and birthdays[0] >= today - timedelta(days=21)
    for day in birthdays:
        # 7 February in common years (from the 28th), 8 February in leap years.
        assert (day.month, day.day) == ((2, 8) if calendar.isleap(day.year) else (2, 7))
    assert sum(s == "Post cards for Freedom Day by today" for s, _d in posts.values()) == 2
    assert all((d.month, d.day) == (3, 4) for s, d in posts.values() if "Freedom" in s)


# The birthday-card reminder ----------------------------------------------------------------


def _birthday_card(today: date, birthday: date) -> Rendered:
    rule = next(r for r in make_default_rules() if r.template == "birthday_card")
    sponsor = make_sponsor()
    prisoner = make_prisoner(birth_date=birthday.replace(year=1980))
    pairing = make_sponsorship(sponsor, prisoner)
    event = Event(
        birthday, f"prisoner:{prisoner.id}", sponsor.id, prisoner.id, pairing.id, number=46
    )
    due = Due(rule, Recipient.of(sponsor.user, sponsor.email, sponsor), event, today)
    written = render_due([due], today)[due.key]
    assert isinstance(written, Rendered), written
    return written


def test_the_birthday_card_reminder_says_when_to_post_and_links_the_filled_form(
    app: Flask,
) -> None:
    written = _birthday_card(date(2026, 8, 26), date(2026, 9, 25))
    text = " ".join(written.text.split())
    assert "Post it by Friday 4 September 2026" in text
    assert "about 21 days" in text
    assert "occasion=birthday" in written.text and "kind=card" in written.text
    assert "Post it by" in written.html


def test_a_birthday_card_reminder_read_too_late_says_what_still_works(app: Flask) -> None:
    written = _birthday_card(date(2026, 9, 20), date(2026, 9, 25))
    assert "would arrive after the day" in " ".join(written.text.split())
    assert "Post it by" not in written.text
