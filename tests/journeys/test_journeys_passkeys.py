"""Passkeys in real Chromium, with its virtual authenticator (the DevTools protocol through
Playwright): a coordinator adds two, names one anew, removes the other and logs in with a
passkey instead of a code. WebAuthn refuses IP addresses, so the app is served on
``localhost`` and its BASE_URL (the relying party) says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from godparents.audit.models import AuditEvent
from godparents.auth.models import Passkey
from godparents.extensions import db
from tests.browser import log_in
from tests.factories import PASSWORD, make_coordinator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def on_localhost(web_app: Flask) -> Iterator[str]:
    server = make_server("localhost", 0, web_app, threaded=True)
    url = f"http://localhost:{server.server_port}"
    web_app.config["BASE_URL"] = url  # the relying party: this host
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def tab(browser: Any, on_localhost: str) -> Iterator[Any]:
    context = browser.new_context(base_url=on_localhost, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield page
    context.close()
    assert errors == []


def _authenticator(devtools: Any) -> str:
    return devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})[
        "authenticatorId"
    ]


def _add_passkey(tab: Any, name: str) -> None:
    tab.goto("/account/passkeys")
    form = tab.locator("form[data-passkey=create]")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Add a passkey").click()
    tab.get_by_text(f"The passkey “{name}” is added.").wait_for()


def test_passkeys_added_named_removed_and_used_to_log_in(app: Flask, tab: Any) -> None:
    coordinator = make_coordinator()
    devtools = tab.context.new_cdp_session(tab)
    devtools.send("WebAuthn.enable")
    laptop = _authenticator(devtools)

    log_in(tab, coordinator.email, PASSWORD)
    tab.wait_for_url("**/coordinator/")
    _add_passkey(tab, "Laptop")
    # A second one, on another authenticator (a security key).
    devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": laptop})
    _authenticator(devtools)
    _add_passkey(tab, "Security key")
    assert [p.name for p in db.session.scalars(select(Passkey).order_by(Passkey.id))] == [
        "Laptop",
        "Security key",
    ]

    item = tab.locator("li", has_text="Security key")
    item.get_by_label("Name").fill("Key on my keyring")
    item.get_by_role("button", name="Rename").click()
    tab.get_by_text("The passkey is renamed.").wait_for()
    item = tab.locator("li", has_text="Laptop")
    item.get_by_label("Current password").fill(PASSWORD)
    item.get_by_role("button", name="Remove").click()
    tab.get_by_text("The passkey “Laptop” is removed.").wait_for()
    db.session.expire_all()
    assert [p.name for p in db.session.scalars(select(Passkey))] == ["Key on my keyring"]

    tab.get_by_role("button", name="Log out").click()
    tab.wait_for_url("**/auth/login")
    tab.get_by_label("Email").fill(coordinator.email)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url("**/auth/two-factor")
    tab.get_by_role("button", name="Use a passkey").click()
    tab.wait_for_url("**/coordinator/")
    assert tab.get_by_role("heading", name="Dashboard").is_visible()
    login = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc())
    ).first()
    assert login.changes == {"second_factor": "passkey"}
    db.session.expire_all()
    assert db.session.scalar(select(Passkey.last_used_at)) is not None
