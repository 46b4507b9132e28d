"""The second security round's findings that are not races (those are in test_races.py):
each test failed on the code before its fix."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth import services as accounts
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.types import utcnow
from tests.factories import (
    make_coordinator,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, csrf_token

# 6: a deactivated godparent ------------------------------------------------------------------


def test_an_inactive_godparent_cannot_be_invited(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False, is_active=False)
    login_as(make_coordinator().email)
    response = client.post(
        f"/coordinator/sponsors/{sponsor.id}/invite",
        data={
            "csrf_token": csrf_token(client, f"/coordinator/sponsors/{sponsor.id}"),
            "email": sponsor.email,
        },
    )
    assert "This godparent is inactive" in response.text
    assert (
        db.session.scalar(select(func.count()).select_from(User).where(User.email == sponsor.email))
        == 0
    )
    with pytest.raises(accounts.AccountError):  # nor their office staff
        accounts.invite("office@example.org", Role.DELEGATE, sponsor, make_coordinator(), utcnow())


def test_an_inactive_godparent_whose_account_stayed_on_sees_nothing(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    """As the demo seeded it: the godparent inactive, the account left on."""
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    sponsor.is_active = False
    db.session.commit()
    login_as(sponsor.email)
    assert client.get(f"/sponsor/prisoners/{prisoner.id}").status_code == 404
    assert prisoner.name_latin not in client.get("/sponsor/").text


# 7: the team invitation form and addresses with an account -----------------------------------


def _invite(client: FlaskClient, email: str):
    return client.post(
        "/sponsor/team",
        data={"csrf_token": csrf_token(client, "/sponsor/team"), "email": email},
        follow_redirects=True,
    )


def _flashes(response) -> list[str]:
    return re.findall(r'<div class="alert[^>]*>\s*([^<]*?)\s*<', response.text)


def test_the_team_form_answers_alike_for_addresses_with_an_account(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    coordinator = make_coordinator(email="coordinator@example.org")
    login_as(sponsor.email)
    taken = _invite(client, coordinator.email)
    fresh = _invite(client, "colleague@example.org")
    assert taken.status_code == fresh.status_code == 200
    assert _flashes(taken) == [f"Invitation sent to {coordinator.email}."]
    assert _flashes(fresh) == ["Invitation sent to colleague@example.org."]
    assert "already exists" not in taken.text
    db.session.refresh(coordinator)
    assert coordinator.role is Role.COORDINATOR and not coordinator.delegations
    # The coordinators learn of it from the audit log.
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "invite_existing_account")
    )
    assert event.object_id == coordinator.id and event.actor_id == sponsor.user_id


@pytest.mark.settings(TEAM_INVITE_LIMIT="3 per day")
def test_team_invitations_are_throttled(app: Flask, login_as: LoginAs, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    statuses = [_invite(client, f"probe{n}@example.org").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


# 8: pictures that take a worker's memory -----------------------------------------------------

MEASURE = """
import resource, sys
from io import BytesIO
from PIL import Image
from godparents.prisoners.photos import PhotoError, reencode
width, height, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
buffer = BytesIO()
Image.new("RGB", (width, height), (200, 100, 50)).save(buffer, kind)
data = buffer.getvalue()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    outcome = f"{len(reencode(data, max_bytes=len(data)))} bytes"
except PhotoError as error:
    outcome = str(error)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown // 1024, outcome)
"""


def _reencoded_in_a_process(width: int, height: int, kind: str) -> tuple[int, str]:
    """(how many MB the process grew while re-encoding, what came of it)"""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(width), str(height), kind],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    grown, outcome = done.stdout.strip().split(" ", 1)
    return int(grown), outcome


@pytest.mark.one_database("decoding a picture does not touch the database")
@pytest.mark.slow
def test_a_picture_cannot_take_a_workers_memory() -> None:
    """Finding 8: a 7000 x 7000 PNG (160 KB) took a worker from 175 MB to 706 MB."""
    grown, outcome = _reencoded_in_a_process(7000, 7000, "PNG")
    assert outcome == "The picture has too many pixels. Please upload a smaller one."
    # The largest accepted: a PNG is decoded whole (four bytes a pixel, no more copies at
    # full size); a 48-megapixel JPEG is decoded at an eighth of its size.
    for width, height, kind in ((4800, 4800, "PNG"), (8000, 6000, "JPEG")):
        grown, outcome = _reencoded_in_a_process(width, height, kind)
        assert outcome.endswith(" bytes"), outcome
        assert grown < 150, f"a {width} x {height} {kind} took {grown} MB"


# 9: the demo seed on a production database ---------------------------------------------------


def test_the_demo_refuses_a_database_with_real_accounts(app: Flask, runner) -> None:
    make_coordinator(email="anna@campaign.example")
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert "not a demo database" in result.output
    assert "two-factor key" not in result.output and "password:" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.settings(BASE_URL="https://campaign.example")
def test_the_demo_refuses_a_public_server_unless_told(app: Flask, runner) -> None:
    refused = runner.invoke(args=["demo", "seed"])
    assert refused.exit_code == 1 and "--public-demo" in refused.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    allowed = runner.invoke(args=["demo", "seed", "--public-demo"])
    assert allowed.exit_code == 0, allowed.output


# 10: addresses that carry a copy to someone else ----------------------------------------------

SMUGGLER = "name?cc=spy%40evil.example&x=@example.org"


def test_an_address_with_link_fields_is_refused_at_the_field(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False)
    login_as(make_coordinator().email)
    path = f"/coordinator/sponsors/{sponsor.id}/edit"
    page = client.get(path).text
    form = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    form.update(
        full_name=sponsor.full_name, body=sponsor.body, country="DE", language="de", email=SMUGGLER
    )
    response = client.post(path, data=form)
    assert response.status_code == 200
    assert "Use only letters, digits and . _ - + &#39; before the @." in response.text
    db.session.refresh(sponsor)
    assert sponsor.email != SMUGGLER


def test_a_stored_address_becomes_a_mailto_link_with_one_recipient(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False, email=SMUGGLER)  # as an old record may hold
    login_as(make_coordinator().email)
    page = client.get(f"/coordinator/sponsors/{sponsor.id}").text
    href = re.search(r'href="(mailto:[^"]*)"', page).group(1)
    assert href == "mailto:name%3Fcc%3Dspy%2540evil.example%26x%3D@example.org"
    assert "?" not in href


# 11: audit rows written by asking for missing pages -------------------------------------------


def test_refused_pages_are_recorded_only_so_often(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    before = db.session.scalar(select(func.max(AuditEvent.id)))
    for number in range(60):
        assert client.get(f"/sponsor/prisoners/{900000 + number}").status_code == 404
    refusals = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "access_refused", AuditEvent.id > before)
    )
    assert refusals == 20
    # The data version (the page caches' key) moved as often, not 60 times.
    assert db.session.scalar(select(func.max(AuditEvent.id))) == before + 20


# 12: numbers too large for the database ------------------------------------------------------

HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [
        "/coordinator/sponsors/",
        "/coordinator/prisoners/",
        "/coordinator/sponsorships/",
        "/coordinator/actions/",
        "/coordinator/accounts/",
        "/coordinator/audit/",
        "/coordinator/reminders/outbox",
    ],
)
def test_huge_page_numbers_give_a_page_not_a_500(
    app: Flask, login_as: LoginAs, client: FlaskClient, path: str
) -> None:
    login_as(make_coordinator().email)
    for page in (HUGE, str(2**63), str(2**31)):
        assert client.get(f"{path}?page={page}").status_code == 200


def test_a_huge_object_id_in_the_audit_filter_finds_nothing(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    for object_id in (HUGE, str(2**63), "-" + HUGE):
        response = client.get(f"/coordinator/audit/?object_id={object_id}")
        assert response.status_code == 200
        assert "<tbody>" not in response.text  # no event, though the login made one


def test_the_demo_runs_again_beside_a_developers_own_account(app: Flask, runner) -> None:
    """`make run` seeds every time: once the demo is in, nothing of it is made again, so a
    developer's own account beside it does not stop it."""
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    make_coordinator(email="me@campaign.example")
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "none of it was added again" in again.output
