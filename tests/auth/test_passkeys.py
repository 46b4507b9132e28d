"""Passkeys, checked for real with a software authenticator: added only with two factors on
and the password, used once per challenge, gone with the second factor."""

from __future__ import annotations

import html
import json
import re
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth.models import Passkey
from godparents.extensions import db
from tests.concurrency import WebClient, at_once
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import Auth, csrf_token, field_errors, summary_links
from tests.webauthn_soft import SoftAuthenticator

ORIGIN, RP_ID = "http://godparents.test", "godparents.test"
OPTIONS = re.compile(r'data-options="([^"]*)"')
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _options(page: str) -> dict:
    return json.loads(html.unescape(OPTIONS.search(page).group(1)))


def _add(
    client: FlaskClient,
    authenticator: SoftAuthenticator,
    name: str = "Laptop",
    password: str = PASSWORD,
):
    page = client.get("/account/passkeys").text  # (each look makes a new challenge)
    credential = authenticator.create(_options(page))
    return client.post(
        "/account/passkeys",
        data={
            "csrf_token": TOKEN.search(page).group(1),
            "name": name,
            "current_password": password,
            "credential": credential,
        },
        follow_redirects=True,
    )


def _answer(client: FlaskClient, authenticator: SoftAuthenticator) -> dict[str, str]:
    """The passkey form of the two-factor page, answered (each look makes a new challenge)."""
    page = client.get("/auth/two-factor").text
    assert "Use a passkey" in page
    return {
        "csrf_token": TOKEN.search(page).group(1),
        "credential": authenticator.get(_options(page)),
    }


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Passkey)) or 0


def _password_step(client: FlaskClient, email: str) -> None:
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(client, "/auth/login"),
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/auth/two-factor"


def test_a_passkey_is_added_with_the_password_and_logs_in_once(
    app: Flask, auth: Auth, client: FlaskClient, web_app: Flask
) -> None:
    coordinator = make_coordinator()
    key = SoftAuthenticator(ORIGIN, RP_ID)
    auth.login(coordinator.email)
    assert "This is not your current password" in _add(client, key, password="wrong!").text
    assert _count() == 0
    assert "The passkey “Laptop” is added" in _add(client, key).text
    assert _count() == 1
    auth.logout()

    _password_step(client, coordinator.email)
    stale = _answer(client, key)
    fresh = _answer(client, key)  # the page shown again: the first challenge is void
    refused = client.post("/auth/two-factor/passkey", data=stale)
    assert refused.headers["Location"] == "/auth/two-factor"
    logged_in = client.post("/auth/two-factor/passkey", data=fresh)
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/"
    answer = fresh["credential"]

    # The same answer again, from a browser that typed the password a moment ago: refused.
    other = web_app.test_client()
    _password_step(other, coordinator.email)
    replay = other.post(
        "/auth/two-factor/passkey",
        data={"csrf_token": csrf_token(other, "/auth/login"), "credential": answer},
    )
    assert replay.headers["Location"] == "/auth/two-factor"
    failures = db.session.scalar(select(func.count()).where(AuditEvent.action == "passkey_failed"))
    assert failures == 2


def test_every_mistake_of_adding_a_passkey_is_shown_at_once(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    """No name (the form's check) and a wrong password (the rules') together."""
    auth.login(make_coordinator().email)
    response = _add(client, SoftAuthenticator(ORIGIN, RP_ID), name=" ", password="wrong!")
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"name", "current_password"}, errors
    assert errors["current_password"] == "This is not your current password."
    assert summary_links(response) == ["name", "current_password"]
    assert _count() == 0


def test_passkeys_need_two_factors_and_go_with_them(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    page = client.get("/account/passkeys").text  # no form: two factors first
    assert "Turn on two factors first" in page and "data-passkey" not in page
    coordinator = make_coordinator()
    db.session.add(
        Passkey(user_id=coordinator.id, credential_id="abc", public_key=b"k", name="Old key")
    )
    db.session.commit()
    auth.logout()
    admin = make_coordinator()
    auth.login(admin.email)
    response = client.post(
        f"/coordinator/accounts/{coordinator.id}/reset-two-factors",
        data={
            "csrf_token": csrf_token(client, "/coordinator/accounts/"),
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _count() == 0


@pytest.mark.slow
@pytest.mark.xdist_group("serial")
@pytest.mark.settings(TWO_FACTOR_LIMIT_PER_ACCOUNT="100 per 15 minutes")
def test_one_answer_sent_many_times_at_once_logs_in_once(
    app: Flask, live_server, web_app: Flask
) -> None:
    coordinator = make_coordinator()
    email = coordinator.email
    web_app.config["BASE_URL"] = live_server.url
    key = SoftAuthenticator(live_server.url, "127.0.0.1")
    db.session.add(
        Passkey(
            user_id=coordinator.id,
            credential_id=key_id(key),
            public_key=public_key(key),
            name="Key",
        )
    )
    db.session.commit()
    client = WebClient(live_server.url)
    reply = client.post("/auth/login", client.form("/auth/login", email=email, password=PASSWORD))
    assert reply.location.endswith("/auth/two-factor")
    page = client.get("/auth/two-factor").text
    form = {"csrf_token": TOKEN.search(page).group(1), "credential": key.get(_options(page))}
    replies = at_once([partial(client.post, "/auth/two-factor/passkey", form) for _ in range(8)])
    assert (
        sorted(reply.location.rsplit("/", 2)[-1] for reply in replies) == [""] + ["two-factor"] * 7
    )


def key_id(key: SoftAuthenticator) -> str:
    from tests.webauthn_soft import b64url

    return b64url(key.credential_id)


def public_key(key: SoftAuthenticator) -> bytes:
    """The COSE public key the server keeps for it."""
    import cbor2

    numbers = key.key.public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )
