"""Settings, password change and the personal calendar feed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from dateutil.rrule import rrulestr
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind
from godparents.reminders.models import CampaignDay, Trigger
from godparents.sponsorships.models import SponsorshipStatus
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, LoginAs, csrf_token, error_text, field_errors, summary_links


def _save_profile(client: FlaskClient, **data):
    token = csrf_token(client, "/account/")
    values = {
        "locale": "de",
        "timezone": "Europe/Vilnius",
        "birthday_card_days": "35",
        "reminders": ["birthday", "key_date"],
        "title": "Dr.",
        "phone": "+49 30 1234",
        "contact_email": "Office@Example.org",
        **data,
    }
    return client.post("/account/", data={"csrf_token": token, **values})


def test_profile_saves_language_time_zone_reminders_and_contact(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    response = _save_profile(client)
    assert response.status_code == 302
    db.session.refresh(sponsor)
    user = sponsor.user
    db.session.refresh(user)
    assert (user.locale, user.timezone, user.birthday_card_days) == ("de", "Europe/Vilnius", 35)
    assert set(user.reminder_opt_outs) == {
        Trigger.DETENTION_ANNIVERSARY,
        Trigger.DETENTION_MILESTONE,
        Trigger.CAMPAIGN_DAY,
        Trigger.INACTIVITY,
        Trigger.SPONSORSHIP_START,
        # The news of a godchild (reminders/notices.py), left unticked as well.
        Trigger.NOTICE_RELEASE,
        Trigger.NOTICE_SENTENCE,
        Trigger.NOTICE_HEARING,
        Trigger.LETTER_OUTCOMES,
    }
    assert (sponsor.title, sponsor.phone, sponsor.email) == (
        "Dr.",
        "+49 30 1234",
        "office@example.org",
    )
    assert "Einstellungen" in client.get("/account/").text  # the page now speaks German


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "Not a valid choice."),
        ({"birthday_card_days": "2"}, "Number must be between 7 and 90."),
        ({"locale": "xx"}, "Not a valid choice."),
        ({"contact_email": "not an address"}, "such as name@example.org, in Latin letters."),
    ],
)
def test_profile_refuses_bad_input(
    app: Flask, login_as: LoginAs, client: FlaskClient, data: dict, message: str
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    response = _save_profile(client, **{"locale": "en", **data})
    assert response.status_code == 200
    assert message in error_text(response)
    db.session.refresh(sponsor.user)
    assert (sponsor.user.locale, sponsor.user.timezone) == ("en", "Europe/Berlin")


def test_password_change_needs_the_current_password(
    web_app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    other_device = web_app.test_client()
    Auth(other_device).login(sponsor.email)
    login_as(sponsor.email)
    token = csrf_token(client, "/account/")
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not it",
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert wrong.status_code == 200
    assert "This is not your current password." in error_text(wrong)
    right = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert right.status_code == 302
    assert client.get("/account/").status_code == 200  # this session goes on
    assert other_device.get("/account/").status_code == 302  # the other one ended
    fresh = Auth(web_app.test_client())
    assert fresh.login(sponsor.email, "a new long password").status_code == 302


@pytest.mark.parametrize(
    ("confirm", "expected"),
    [
        ("short", {"current_password", "password"}),  # the rules' mistakes only
        ("different", {"current_password", "password", "confirm"}),  # and the form's
    ],
)
def test_every_mistake_of_a_password_change_is_shown_at_once(
    login_as: LoginAs, client: FlaskClient, confirm: str, expected: set[str]
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    before = sponsor.user.password_hash
    token = csrf_token(client, "/account/")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not it",
            "password": "short",
            "confirm": confirm,
        },
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == expected
    assert errors["current_password"] == "This is not your current password."
    assert errors["password"].startswith("Use at least")
    assert sorted(summary_links(response)) == sorted(expected)
    db.session.refresh(sponsor.user)
    assert sponsor.user.password_hash == before


@pytest.mark.parametrize(
    ("email", "email_message"),
    [
        ("taken@example.org", "An account with this email address already exists."),  # a rule
        ("not an address", ""),  # the form's own check: the password is judged all the same
    ],
)
def test_every_mistake_of_an_email_change_is_shown_at_once(
    login_as: LoginAs, client: FlaskClient, email: str, email_message: str
) -> None:
    sponsor = make_sponsor(email="old@example.org")
    make_sponsor(email="taken@example.org")
    login_as(sponsor.email)
    token = csrf_token(client, "/account/")
    response = client.post(
        "/account/email",
        data={"csrf_token": token, "email": email, "current_password": "not it"},
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"login-email-email", "login-email-current_password"}
    assert email_message in errors["login-email-email"]
    assert errors["login-email-current_password"] == "This is not your current password."
    assert summary_links(response) == ["login-email-email", "login-email-current_password"]
    db.session.refresh(sponsor.user)
    assert sponsor.user.email == "old@example.org"


def _calendar_url(client: FlaskClient) -> str:
    token = csrf_token(client, "/account/")
    page = client.post("/account/calendar", data={"csrf_token": token}).text
    url = re.search(r'<pre class="address mb-2" id="calendar-url">([^<]+)</pre>', page).group(1)
    return url.removeprefix("http://godparents.test")


def test_calendar_feed_parses_with_the_godchildrens_dates(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    leap = make_prisoner(
        name_latin="Alena Krautsova",
        birth_date=date(1988, 2, 29),
        detained_on=date(2020, 9, 7),
        address="246035, г. Гомель,\nул. Антошкина, 3,\nИК-4",
    )
    make_sponsorship(sponsor, leap)
    db.session.add(
        KeyDate(
            prisoner=leap,
            kind=KeyDateKind.APPEAL,
            occurs_on=date(2027, 1, 24),
            note="internal note: judge Ivanov",
        )
    )
    db.session.add(CampaignDay(name="Freedom Day", month=3, day=25))
    ended = make_prisoner(name_latin="Former Godchild", birth_date=date(1970, 5, 5))
    make_sponsorship(sponsor, ended, status=SponsorshipStatus.ENDED)
    db.session.commit()
    login_as(sponsor.email)
    path = _calendar_url(client)

    anonymous = Flask.test_client(client.application)  # a calendar app has no session
    response = anonymous.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    # Post-by days have events of their own (tests/actions/test_post_by.py).
    summaries = sorted(
        str(e["summary"]) for uid, e in events.items() if not uid.startswith("post-by-")
    )
    assert summaries == [
        "Anniversary of detention: Alena Krautsova",
        "Appeal hearing: Alena Krautsova",
        "Birthday: Alena Krautsova",
        "Freedom Day",
    ]
    assert f"birthday-{leap.id}@godparents" in events  # stable UIDs
    # Nothing beyond a name and the kind of date.
    assert b"judge" not in response.data and "Гомель".encode() not in response.data

    birthday = events[f"birthday-{leap.id}@godparents"]
    start = birthday.decoded("dtstart")
    rule = rrulestr(birthday["rrule"].to_ical().decode(), dtstart=start)
    first = [d.date() for d in rule[:5]]
    assert first == [
        date(1988, 2, 29),
        date(1989, 2, 28),
        date(1990, 2, 28),
        date(1991, 2, 28),
        date(1992, 2, 29),
    ]  # every year, not only leap years
    assert len([d for d in rule[:45] if d.year in (2026, 2027, 2028)]) == 3


def test_rotating_the_calendar_link_retires_the_old_one(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    first = _calendar_url(client)
    second = _calendar_url(client)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    token = csrf_token(client, "/account/")
    client.post("/account/calendar/off", data={"csrf_token": token})
    assert client.get(second).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_a_delegates_feed_has_their_sponsors_godchildren(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    make_sponsorship(sponsor, make_prisoner(name_latin="Godchild", birth_date=date(1990, 1, 2)))
    delegate = make_delegate(sponsor)
    login_as(delegate.email)
    data = client.get(_calendar_url(client)).data
    assert b"Birthday: Godchild" in data


def test_coordinators_have_settings_without_a_calendar(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    page = client.get("/account/").text
    assert "The weekly digest (Mondays)" in page
    assert "Birthdays (a reminder" not in page and "Your calendar" not in page


def test_an_address_mail_servers_cannot_take_is_refused_and_a_domain_kept_as_ascii(
    login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    refused = _save_profile(client, contact_email="jürgen@example.org")
    assert "in Latin letters" in error_text(refused)
    saved = _save_profile(client, contact_email="office@bücher.example")
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(sponsor), sponsor.id).email == "office@xn--bcher-kva.example"
