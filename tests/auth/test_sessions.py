"""Sessions the server can end: logout, password change, sign out everywhere, timeouts,
remember-me, cookie flags and a new session at every login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from godparents import create_app
from godparents.auth.models import UserSession
from godparents.extensions import db
from godparents.types import utcnow
from tests.conftest import FAST_HASHING
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import Auth, csrf_token

COOKIE = "godparents_session"


def _cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _with_cookie(web_app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of the cookie."""
    thief = web_app.test_client()
    thief.set_cookie(COOKIE, value)
    return thief


def _logged_in(client: FlaskClient, path: str = "/sponsor/") -> bool:
    return client.get(path).status_code == 200


def _sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession))


def _age(**values) -> None:
    """Pass time: make every session look as old as given."""
    db.session.execute(update(UserSession).values(**values))
    db.session.commit()


def test_logout_ends_the_session_for_good(app, web_app, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    copied = _cookie(client)
    assert _logged_in(_with_cookie(web_app, copied))
    auth.logout()
    assert not _logged_in(client)
    thief = _with_cookie(web_app, copied)
    assert thief.get("/sponsor/").headers["Location"].startswith("/auth/login")
    assert _sessions() == 0


def test_every_login_gets_a_new_session(app, web_app, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    client.get("/auth/login")
    before = _cookie(client)  # what an attacker could have planted before the login
    auth.login(sponsor.email)
    first = _cookie(client)
    assert first != before
    auth.logout()
    auth.login(sponsor.email)
    assert _cookie(client) not in (before, first)
    tokens = set(db.session.scalars(select(UserSession.token_hash)))
    assert len(tokens) == 1  # the first one was deleted at logout
    assert not _logged_in(_with_cookie(web_app, before))


def test_a_password_change_ends_every_other_session(app, web_app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    laptop, phone = client, web_app.test_client()
    Auth(laptop).login(sponsor.email)
    Auth(phone).login(sponsor.email)
    copied = _cookie(laptop)
    token = csrf_token(laptop, "/account/")
    laptop.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "password": "a completely new passphrase",
            "confirm": "a completely new passphrase",
        },
    )
    assert _logged_in(laptop)  # this device carries on, with a new session
    assert not _logged_in(phone)
    assert not _logged_in(_with_cookie(web_app, copied))
    assert _sessions() == 1


def test_signing_out_everywhere_ends_this_session_too(app, web_app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    other = web_app.test_client()
    Auth(client).login(sponsor.email)
    Auth(other).login(sponsor.email)
    token = csrf_token(client, "/account/")
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": token})
    assert response.headers["Location"] == "/auth/login"
    assert not _logged_in(client) and not _logged_in(other)
    assert _sessions() == 0


def test_a_coordinator_signs_someone_out_everywhere(
    app, web_app, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    coordinator = make_coordinator()
    victim_laptop = web_app.test_client()
    Auth(victim_laptop).login(sponsor.email)
    auth.login(coordinator.email)
    page = client.get("/coordinator/accounts/")
    assert sponsor.email in page.text
    token = csrf_token(client, "/coordinator/accounts/")
    client.post(f"/coordinator/accounts/{sponsor.user.id}/sign-out", data={"csrf_token": token})
    assert not _logged_in(victim_laptop)
    assert client.get("/coordinator/").status_code == 200  # their own session is untouched


def test_a_deactivated_coordinator_is_logged_out(
    app, web_app, auth: Auth, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    leaving = make_coordinator()
    their_laptop = web_app.test_client()
    Auth(their_laptop).login(leaving.email)
    auth.login(coordinator.email)
    token = csrf_token(client, "/coordinator/accounts/")
    client.post(f"/coordinator/accounts/{leaving.id}/active", data={"csrf_token": token})
    assert not _logged_in(their_laptop, "/coordinator/")
    assert Auth(web_app.test_client()).login(leaving.email).status_code == 200  # refused
    # Not oneself: that would lock the campaign out by a slip of the mouse.
    assert (
        client.post(
            f"/coordinator/accounts/{coordinator.id}/active", data={"csrf_token": token}
        ).status_code
        == 400
    )


def test_a_coordinator_times_out_after_thirty_idle_minutes(
    app, auth: Auth, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    _age(last_seen_at=utcnow() - timedelta(minutes=29))
    assert _logged_in(client, "/coordinator/")
    _age(last_seen_at=utcnow() - timedelta(minutes=31))
    response = client.get("/coordinator/", follow_redirects=True)
    assert "logged out after a while without activity" in response.text
    assert _sessions() == 0


def test_a_sponsor_times_out_after_two_idle_hours(app, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    _age(last_seen_at=utcnow() - timedelta(minutes=119))
    assert _logged_in(client)
    _age(last_seen_at=utcnow() - timedelta(minutes=121))
    assert not _logged_in(client)


@pytest.mark.settings(SESSION_IDLE_TIMEOUT_COORDINATOR=timedelta(minutes=5))
def test_the_idle_timeout_is_configurable(app, auth: Auth, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    _age(last_seen_at=utcnow() - timedelta(minutes=6))
    assert not _logged_in(client, "/coordinator/")


def test_activity_keeps_a_session_alive_until_the_absolute_timeout(
    app, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    _age(created_at=utcnow() - timedelta(hours=11, minutes=59), last_seen_at=utcnow())
    assert _logged_in(client)
    _age(created_at=utcnow() - timedelta(hours=12, minutes=1), last_seen_at=utcnow())
    assert not _logged_in(client)


def test_keep_me_logged_in_is_for_sponsors_only(app, web_app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    coordinator = make_coordinator()
    Auth(client).login(sponsor.email, remember=True)
    cookie = client.get_cookie(COOKIE)
    assert cookie.expires is not None  # kept when the browser closes
    _age(created_at=utcnow() - timedelta(days=3), last_seen_at=utcnow() - timedelta(days=2))
    assert _logged_in(client)
    _age(created_at=utcnow() - timedelta(days=15), last_seen_at=utcnow())
    assert not _logged_in(client)

    office = web_app.test_client()
    Auth(office).login(coordinator.email, remember=True)
    assert office.get_cookie(COOKIE).expires is None  # gone with the browser
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == coordinator.id))
    assert row.remember is False
    _age(last_seen_at=utcnow() - timedelta(minutes=31))
    assert not _logged_in(office, "/coordinator/")


def test_the_session_cookie_is_httponly_lax_and_not_remembered(
    auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    response = auth.login(sponsor.email)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Expires" not in header
    assert "remember_token" not in str(response.headers)


def test_outside_development_the_cookie_is_secure(config, database_url) -> None:
    production = create_app({**config, "TESTING": False, "SECRET_KEY": "s" * 32, **FAST_HASHING})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    client = production.test_client()
    response = client.get("/auth/login", base_url="https://godparents.test")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_accounts_page_costs_the_same_queries_for_3_or_60_accounts(
    app, web_app, auth: Auth, client: FlaskClient, count_queries
) -> None:
    coordinator = make_coordinator()
    auth.login(coordinator.email)

    def add(count: int) -> None:
        for _ in range(count):
            sponsor = make_sponsor()
            Auth(web_app.test_client()).login(sponsor.email)  # an open session to count

    add(2)
    with count_queries() as few:
        assert client.get("/coordinator/accounts/").status_code == 200
    add(57)
    with count_queries() as many:
        page = client.get("/coordinator/accounts/").text
    assert page.count("Log out everywhere") == 50  # a full page, each with its sessions
    assert many.count == few.count
