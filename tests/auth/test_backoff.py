"""A stranger cannot lock an account's owner out: the owner's browser, known from an
earlier login, is not held by the account's lock but waits longer after each failure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.testing import FlaskClient

from godparents.auth.devices import COOKIE
from godparents.extensions import db
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import Auth, csrf_token, error_text

pytestmark = pytest.mark.xdist_group("serial")  # it moves the clock


def _login(client: FlaskClient, email: str, password: str, address: str = "127.0.0.1"):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _locked_by_a_stranger(web_app, email: str) -> FlaskClient:
    stranger = web_app.test_client()
    for attempt in range(10):
        _login(stranger, email, f"wrong password {attempt}", address=f"10.0.0.{attempt}")
    assert _login(stranger, email, PASSWORD, address="10.0.1.1").status_code == 429
    return stranger


def test_the_owners_browser_gets_in_while_strangers_are_locked_out(
    app, web_app, auth: Auth, client: FlaskClient
) -> None:
    """Finding: ten wrong passwords from anyone locked the account for 15 minutes, its
    coordinator included."""
    coordinator = make_coordinator()
    auth.login(coordinator.email)  # an earlier login leaves the cookie
    assert client.get_cookie(COOKIE, path="/auth/") is not None
    auth.logout()
    _locked_by_a_stranger(web_app, coordinator.email)
    response = _login(client, coordinator.email, PASSWORD)
    assert response.headers["Location"] == "/auth/two-factor"
    assert auth.second_factor(coordinator.email).status_code == 302
    # A new browser is a stranger's: still locked.
    assert _login(web_app.test_client(), coordinator.email, PASSWORD).status_code == 429


def test_failures_from_a_known_browser_wait_longer_each_time(
    app, web_app, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    auth.logout()
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        for attempt in range(5):  # a few mistakes cost nothing
            assert _login(client, sponsor.email, f"typo {attempt}").status_code == 200
        waits = []
        for attempt in range(4):
            refused = _login(client, sponsor.email, f"again {attempt}")
            assert refused.status_code == 429
            waits.append(int(re.search(r"Wait (\d+) second", error_text(refused)).group(1)))
            clock.shift(timedelta(seconds=waits[-1]))
            assert _login(client, sponsor.email, f"again {attempt}").status_code == 200
        assert waits == [1, 2, 4, 8]
        assert _login(client, sponsor.email, PASSWORD).status_code == 429  # too soon...
        clock.shift(timedelta(seconds=16))
        assert _login(client, sponsor.email, PASSWORD).status_code == 302  # ...then in
        auth.logout()
        # Getting in wipes the browser's failures: no wait after the next mistake.
        assert _login(client, sponsor.email, "one more typo").status_code == 200
        assert _login(client, sponsor.email, PASSWORD).status_code == 302


def test_the_cookie_is_bound_to_the_account_and_to_its_sessions(
    app, web_app, auth: Auth, client: FlaskClient
) -> None:
    sponsor, other = make_sponsor(), make_sponsor()
    auth.login(other.email)  # a known browser of another account
    auth.logout()
    _locked_by_a_stranger(web_app, sponsor.email)
    assert _login(client, sponsor.email, PASSWORD).status_code == 429

    auth.login(other.email)
    auth.logout()
    other.user.session_generation += 1  # logged out everywhere: the devices are forgotten
    db.session.commit()
    _locked_by_a_stranger(web_app, other.email)
    assert _login(client, other.email, PASSWORD).status_code == 429

    forged = web_app.test_client()
    forged.set_cookie(COOKIE, "eyJ1IjoxfQ.forged.signature", path="/auth/")
    assert _login(forged, sponsor.email, PASSWORD).status_code == 429
