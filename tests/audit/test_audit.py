"""The audit log records every create, change and delete, with who and what, and no secret."""

from __future__ import annotations

import json
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.audit.models import AuditEvent
from godparents.extensions import db
from tests.factories import PASSWORD, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import Auth, LoginAs, csrf_token


def _events(object_type: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
        )
    )


def test_web_changes_are_recorded_with_actor_fields_and_address(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner, started_on=date(2024, 1, 1))
    login_as(sponsor.email)
    path = f"/sponsor/prisoners/{prisoner.id}/actions/new"
    token = csrf_token(client, path)
    client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "letter",
            "summary": "First letter",
            "occurred_on": "2025-05-01",
        },
    )
    [created] = _events("Action")
    assert created.action == "create" and created.actor_id == sponsor.user_id
    assert created.changes["summary"] == "First letter"
    assert created.changes["occurred_on"] == "2025-05-01"
    assert created.ip == "127.0.0.1"

    edit = f"/sponsor/actions/{created.object_id}/edit"
    csrf_token(client, edit)  # open the edit form first, as a browser does (its version)
    client.post(
        edit,
        data={
            "csrf_token": token,
            "kind": "letter",
            "summary": "Second letter",
            "occurred_on": "2025-05-01",
        },
    )
    client.post(f"/sponsor/actions/{created.object_id}/delete", data={"csrf_token": token})
    _created, updated, deleted = _events("Action")
    assert updated.action == "update"
    assert updated.changes == {"summary": ["First letter", "Second letter"]}
    assert deleted.action == "delete" and deleted.object_id == created.object_id


def test_no_secret_reaches_the_audit_log(app: Flask, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)  # the login's own event is checked too
    token = csrf_token(client, "/account/")
    client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "password": "another long password",
            "confirm": "another long password",
        },
    )
    # A new session began with the new password, and with it a new CSRF token.
    client.post("/account/calendar", data={"csrf_token": csrf_token(client, "/account/")})
    everything = json.dumps([e.changes for e in db.session.scalars(select(AuditEvent))])
    assert "$argon2" not in everything
    assert PASSWORD not in everything and "another long password" not in everything
    user_updates = [e.changes for e in _events("User") if e.action == "update"]
    assert {"password_hash": "[changed]", "session_generation": [1, 2]} in user_updates
    assert any(e.changes.get("calendar_token_hash") == "[changed]" for e in _events("User"))
    actions = {e.action for e in db.session.scalars(select(AuditEvent))}
    assert {"login", "change_password", "rotate_calendar_link"} <= actions
