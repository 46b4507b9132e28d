"""The second security round's findings that are not races (those are in test_races.py):
each test failed on the code before its fix."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth import services as accounts
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.types import utcnow
from tests.conftest import Auth, csrf_token
from tests.factories import (
    make_coordinator,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)

# 6: a deactivated godparent ------------------------------------------------------------------

def test_an_inactive_godparent_cannot_be_invited(app: Flask, auth: Auth,
                                                 client: FlaskClient) -> None:
    sponsor = make_sponsor(with_login=False, is_active=False)
    auth.login(make_coordinator().email)
    response = client.post(f"/coordinator/sponsors/{sponsor.id}/invite", data={
        "csrf_token": csrf_token(client, f"/coordinator/sponsors/{sponsor.id}"),
        "email": sponsor.email})
    assert "This godparent is inactive" in response.text
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email == sponsor.email)) == 0
    with pytest.raises(accounts.AccountError):  # nor their office staff
        accounts.invite("office@example.org", Role.DELEGATE, sponsor, make_coordinator(),
                        utcnow())


def test_an_inactive_godparent_whose_account_stayed_on_sees_nothing(
        app: Flask, auth: Auth, client: FlaskClient) -> None:
    """As the demo seeded it: the godparent inactive, the account left on."""
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    sponsor.is_active = False
    db.session.commit()
    auth.login(sponsor.email)
    assert client.get(f"/sponsor/prisoners/{prisoner.id}").status_code == 404
    assert prisoner.name_latin not in client.get("/sponsor/").text



# 7: the team invitation form and addresses with an account -----------------------------------

def _invite(client: FlaskClient, email: str):
    return client.post("/sponsor/team", data={"csrf_token": csrf_token(client, "/sponsor/team"),
                                              "email": email}, follow_redirects=True)


def _flashes(response) -> list[str]:
    return re.findall(r'<div class="alert[^>]*>\s*([^<]*?)\s*<', response.text)


def test_the_team_form_answers_alike_for_addresses_with_an_account(
        app: Flask, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    coordinator = make_coordinator(email="coordinator@example.org")
    auth.login(sponsor.email)
    taken = _invite(client, coordinator.email)
    fresh = _invite(client, "colleague@example.org")
    assert taken.status_code == fresh.status_code == 200
    assert _flashes(taken) == [f"Invitation sent to {coordinator.email}."]
    assert _flashes(fresh) == ["Invitation sent to colleague@example.org."]
    assert "already exists" not in taken.text
    db.session.refresh(coordinator)
    assert coordinator.role is Role.COORDINATOR and not coordinator.delegations
    # The coordinators learn of it from the audit log.
    event = db.session.scalar(select(AuditEvent)
                              .where(AuditEvent.action == "invite_existing_account"))
    assert event.object_id == coordinator.id and event.actor_id == sponsor.user_id


@pytest.mark.settings(TEAM_INVITE_LIMIT="3 per day")
def test_team_invitations_are_throttled(app: Flask, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    statuses = [_invite(client, f"probe{n}@example.org").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]
