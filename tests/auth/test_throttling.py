"""Throttling of logins, codes and reset requests: per account, per address, nothing given
away, failures only where a success must not count, shared through Redis when configured."""

from __future__ import annotations

import re
import uuid

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents import create_app
from godparents.audit.models import AuditEvent
from godparents.extensions import db
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import Auth, csrf_token

REDIS_URL = "redis://127.0.0.1:6379/0"
CSRF_VALUE = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


def _login(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _throttled_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "throttled")))


def test_failed_logins_are_limited_per_account(app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    for attempt in range(10):
        assert (
            _login(
                client, sponsor.email, f"wrong password {attempt}", address=f"10.0.0.{attempt}"
            ).status_code
            == 200
        )
    # The 11th, from yet another address and with the right password: still refused.
    blocked = _login(client, sponsor.email, PASSWORD, address="10.0.1.1")
    assert blocked.status_code == 429
    assert client.get("/sponsor/").status_code == 302
    # Another account is not affected.
    other = make_sponsor()
    assert _login(client, other.email, PASSWORD, address="10.0.1.1").status_code == 302
    events = _throttled_events()
    assert events and events[0].changes["scope"] == "account"
    assert sponsor.email not in str([e.changes for e in events])  # what was typed stays out


def test_a_throttled_reply_says_nothing_about_the_account(app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    pages = {}
    for email in (sponsor.email, "nobody@example.org"):
        for attempt in range(11):
            response = _login(client, email, f"wrong password {attempt}")
        pages[email] = response
    known, unknown = pages.values()
    assert known.status_code == unknown.status_code == 429
    # The same page, byte for byte, but for the per-session CSRF token of the footer form.
    assert CSRF_VALUE.sub("", known.text) == CSRF_VALUE.sub("", unknown.text)


@pytest.mark.settings(LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes")
def test_failed_logins_are_limited_per_address(app, client: FlaskClient) -> None:
    accounts = [make_sponsor() for _ in range(6)]
    for sponsor in accounts[:5]:
        assert _login(client, sponsor.email, "not the password!").status_code == 200
    assert _login(client, accounts[5].email, PASSWORD).status_code == 429
    # From elsewhere the same account logs in.
    assert _login(client, accounts[5].email, PASSWORD, address="10.9.9.9").status_code == 302
    assert any(e.changes["scope"] == "address" for e in _throttled_events())


def test_successful_logins_do_not_count(app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth = Auth(client)
    for _ in range(12):
        assert auth.login(sponsor.email).status_code == 302
        auth.logout()


def test_wrong_codes_are_limited(app, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    assert _login(client, coordinator.email, PASSWORD).headers["Location"] == "/auth/two-factor"
    token = csrf_token(client, "/auth/two-factor")
    statuses = [
        client.post("/auth/two-factor", data={"code": f"00000{n}", "csrf_token": token}).status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert _throttled_events()


def test_reset_requests_are_limited_and_send_no_more_mail(
    app, client: FlaskClient, smtp_server
) -> None:
    sponsor = make_sponsor()
    statuses = []
    for _ in range(4):
        token = csrf_token(client, "/auth/reset")
        response = client.post("/auth/reset", data={"email": sponsor.email, "csrf_token": token})
        response.close()  # the email goes once the reply has gone (auth/views.py)
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429]
    assert len(smtp_server.inbox.messages) == 3


@pytest.fixture
def redis_storage() -> str:
    """A Redis server is part of this machine's setup (and started by .ci/run)."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not running at {REDIS_URL}")
    return REDIS_URL


def test_two_processes_share_the_counts_through_redis(config, redis_storage) -> None:
    """With GODPARENTS_RATELIMIT_STORAGE_URI set, every server process counts together."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        **config,
        "RATELIMIT_STORAGE_URI": redis_storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_LIMIT_PER_ACCOUNT": "4 per 15 minutes",
    }
    first, second = create_app(settings), create_app(settings)
    with first.app_context():
        email = make_sponsor().email
    try:
        statuses = []
        for attempt in range(5):
            served = (first if attempt % 2 else second).test_client()
            statuses.append(_login(served, email, f"wrong password {attempt}").status_code)
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        connection = redis.Redis.from_url(redis_storage)
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)
        with first.app_context():
            db.session.remove()
            db.engine.dispose()
        with second.app_context():
            db.engine.dispose()


def test_a_login_posted_as_json_counts_against_the_account(app, client: FlaskClient) -> None:
    """Finding 4: the form reads JSON too, but the count per account read only form posts."""
    sponsor = make_sponsor()
    statuses = []
    for attempt in range(10):
        token = csrf_token(client, "/auth/login")
        statuses.append(
            client.post(
                "/auth/login",
                json={"email": sponsor.email, "password": f"wrong password {attempt}"},
                headers={"X-CSRFToken": token},
                environ_base={"REMOTE_ADDR": f"10.0.2.{attempt}"},
            ).status_code
        )
    assert statuses == [200] * 10
    # Ten failures against this account: a form post, with the right password, is refused.
    assert _login(client, sponsor.email, PASSWORD, address="10.0.3.1").status_code == 429


def test_the_current_password_check_is_throttled(app, auth: Auth, client: FlaskClient) -> None:
    """Finding 5: with a stolen session, the password behind the settings could be guessed
    without limit, then the login email changed."""
    sponsor = make_sponsor()
    auth.login(sponsor.email)

    def change_email(password: str):
        return client.post(
            "/account/email",
            data={
                "csrf_token": csrf_token(client, "/account/"),
                "email": "thief@example.org",
                "current_password": password,
            },
        )

    for attempt in range(5):
        assert "This is not your current password" in change_email(f"guess {attempt}").text
    refused = change_email(PASSWORD)  # the right one, now too late
    assert "Too many wrong passwords" in refused.text
    db.session.refresh(sponsor.user)
    assert sponsor.user.email == sponsor.email
    assert any(e.changes["endpoint"] == "account.change_email" for e in _throttled_events())
