"""The response headers on every page, and the audit log's record of security events."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.audit.models import AuditEvent
from godparents.auth.models import UserSession
from godparents.extensions import db
from tests.factories import PASSWORD, make_coordinator, make_delegate, make_sponsor
from tests.helpers import Auth, csrf_token

STRICT = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'")


def _plain_get_pages(web_app: Flask, prefix: str) -> list[str]:
    return sorted(
        {
            rule.rule
            for rule in web_app.url_map.iter_rules()
            if "GET" in rule.methods
            and not rule.arguments
            and rule.rule.startswith(prefix)
            and not rule.rule.endswith((".csv", ".pdf"))  # downloads: their own tests
        }
    )


def _check(response, path: str, logged_in: bool) -> list[str]:
    problems = []
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    if not all(part in policy for part in STRICT) or "unsafe-inline" in policy:
        problems.append(f"{path}: CSP {policy!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{path}: nosniff missing")
    if headers.get("Referrer-Policy") != "no-referrer":
        problems.append(f"{path}: Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if logged_in and "no-store" not in headers.get("Cache-Control", ""):
        problems.append(f"{path}: Cache-Control {headers.get('Cache-Control')!r}")
    if "Strict-Transport-Security" in headers:  # development and tests run on plain http
        problems.append(f"{path}: HSTS in testing")
    return problems


def test_every_page_carries_the_headers(app, web_app: Flask) -> None:
    coordinator, sponsor = make_coordinator(), make_sponsor()
    problems: list[str] = []
    visited = 0
    for user, prefixes in (
        (coordinator, ("/coordinator/", "/account/")),
        (sponsor, ("/sponsor/", "/account/")),
    ):
        client = web_app.test_client()
        Auth(client).login(user.email)
        for prefix in prefixes:
            for path in _plain_get_pages(web_app, prefix):
                response = client.get(path)
                assert response.status_code == 200, path
                problems += _check(response, path, logged_in=True)
                visited += 1
    anonymous = web_app.test_client()
    for path in ("/auth/login", "/auth/reset", "/no/such/page"):
        problems += _check(anonymous.get(path), path, logged_in=False)
    assert visited > 15 and problems == []


def test_security_events_land_in_the_audit_log_without_secrets(
    app, web_app: Flask, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    stranger = web_app.test_client()
    Auth(stranger).login(sponsor.email, password="wrong password, surely")
    Auth(stranger).login(delegate.email)
    stranger.get("/coordinator/")  # a role refused
    stranger.get("/sponsor/prisoners/424242")  # an object refused (or absent)

    Auth(client).login(coordinator.email)
    token = csrf_token(client, "/coordinator/accounts/")
    client.post(
        f"/coordinator/accounts/{sponsor.user.id}/reset-two-factors",
        data={"csrf_token": token, "current_password": PASSWORD},
    )
    client.post(f"/coordinator/accounts/{delegate.id}/sign-out", data={"csrf_token": token})
    token = csrf_token(client, "/account/two-factor")
    renewed = client.post(
        "/account/two-factor/recovery-codes",
        data={"csrf_token": token, "current_password": PASSWORD},
    )
    assert renewed.status_code == 200

    db.session.expire_all()
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    actions = [event.action for event in events]
    for wanted in (
        "login_failed",
        "login",
        "access_refused",
        "sign_out_everywhere",
        "recovery_codes_renewed",
    ):
        assert wanted in actions, wanted
    refused = [e.changes for e in events if e.action == "access_refused"]
    assert {"status": 403, "method": "GET", "path": "/coordinator/"} in refused
    assert {"status": 404, "method": "GET", "path": "/sponsor/prisoners/424242"} in refused

    everything = json.dumps([[e.action, e.changes] for e in events])
    secrets = [PASSWORD, "wrong password, surely", coordinator.totp_secret, "$argon2"]
    secrets += list(db.session.scalars(select(UserSession.token_hash)))
    assert not [secret for secret in secrets if secret and secret in everything]
