"""What ends a login ends the calendar link too (finding 2 of the second security round)."""

from __future__ import annotations

import re
from datetime import date

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from godparents.auth import services as accounts
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.sponsors.registry_services import deactivate, reactivate
from godparents.sponsors.services import remove_delegate
from godparents.types import utcnow
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, csrf_token

NEW_PASSWORD = "a brand new passphrase"


def _calendar_url(client: FlaskClient) -> str:
    token = csrf_token(client, "/account/")
    page = client.post("/account/calendar", data={"csrf_token": token}).text
    url = re.search(r'id="calendar-url">([^<]+)</pre>', page).group(1)
    return url.removeprefix("http://godparents.test")


def test_logging_out_everywhere_ends_the_calendar_link(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    url = _calendar_url(client)
    assert client.get(url).status_code == 200
    client.post(
        "/account/sign-out-everywhere", data={"csrf_token": csrf_token(client, "/account/")}
    )
    assert client.get(url).status_code == 404


def test_a_password_change_ends_the_calendar_link_and_says_so(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    url = _calendar_url(client)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/"),
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        follow_redirects=True,
    )
    assert "Your calendar link was switched off too" in response.text
    assert client.get(url).status_code == 404


def test_deactivation_ends_the_calendar_link_for_good(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    url = _calendar_url(client)
    deactivate(sponsor)
    db.session.commit()
    assert client.get(url).status_code == 404
    reactivate(sponsor)  # back in the campaign: the old link stays dead
    db.session.commit()
    assert client.get(url).status_code == 404


def test_a_removed_delegate_invited_again_starts_afresh(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    """The dead link of a removed delegate must not come back, least of all with the new
    team's godchildren in it; nor the old password or second factor."""
    first, second = make_sponsor(), make_sponsor()
    make_sponsorship(
        second, make_prisoner(name_latin="New Team Godchild", birth_date=date(1990, 1, 2))
    )
    delegate = make_delegate(first, totp_secret=pyotp.random_base32())
    auth.login(delegate.email)
    url = _calendar_url(client)
    remove_delegate(first, delegate, make_coordinator())
    db.session.commit()
    assert client.get(url).status_code == 404

    accounts.invite(delegate.email, Role.DELEGATE, second, second.user, utcnow())
    db.session.commit()
    assert client.get(url).status_code == 404
    db.session.refresh(delegate)
    assert delegate.is_active and delegate.password_hash is None
    assert delegate.totp_secret is None and delegate.calendar_token_hash is None
