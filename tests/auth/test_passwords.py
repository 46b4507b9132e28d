"""One password rule set wherever a password is set; argon2id; the current password for
changing email, password or two factors."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.auth import services, tokens
from godparents.auth.models import Role, User
from godparents.auth.passwords import COMMON_PASSWORDS_FILE
from godparents.extensions import db
from tests.factories import PASSWORD, make_sponsor, make_user
from tests.helpers import Auth, csrf_token, field_errors, summary_links

# Long enough, yet on the shipped list: the list must refuse them.
with gzip.open(COMMON_PASSWORDS_FILE, "rt") as _lines:
    COMMON = [word for word in _lines.read().split() if len(word) >= 12][:3]
BAD = {
    "short": ("elevenchars", "at least 12 characters"),
    "too long": ("x" * 1025 + "y", "at most 1024 characters"),
    "common": (COMMON[0], "list of passwords that attackers try first"),
    "repeated": ("abcabcabcabc", "list of passwords that attackers try first"),
    "email": ("my name is anna.novak!", "email address"),
}


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_the_shipped_list_is_there_and_long() -> None:
    assert len(COMMON) == 3
    with gzip.open(COMMON_PASSWORDS_FILE, "rt") as lines:
        assert sum(1 for _ in lines) > 19_000


@pytest.mark.parametrize("case", sorted(BAD))
def test_changing_the_password_follows_the_rules(app, client: FlaskClient, case: str) -> None:
    password, message = BAD[case]
    sponsor = make_sponsor(email="anna.novak@example.org")
    before = _user(sponsor.email).password_hash
    Auth(client).login(sponsor.email)
    token = csrf_token(client, "/account/")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 200 and message in response.text
    assert _user(sponsor.email).password_hash == before


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_reset_and_invitation_pages_follow_the_same_rules(
    app, web_app: Flask, case: str
) -> None:
    password, message = BAD[case]
    now = datetime.now(UTC)
    invited = make_user(Role.SPONSOR, email="anna.novak@example.org", password=None)
    reset = make_user(Role.SPONSOR, email="anna.novak@example.net")
    for user, path in ((invited, "/auth/invitation/{}"), (reset, "/auth/reset/{}")):
        purpose = tokens.INVITATION if "invitation" in path else tokens.PASSWORD_RESET
        with web_app.app_context():  # signed with the serving app's key
            url = path.format(tokens.make_token(db.session.merge(user), purpose, now))
        client = web_app.test_client()
        token = csrf_token(client, url)
        response = client.post(
            url, data={"csrf_token": token, "password": password, "confirm": password}
        )
        assert response.status_code == 200 and message in response.text, (path, case)
    assert _user(invited.email).password_hash is None


def test_the_reset_and_invitation_pages_show_every_mistake_at_once(app, web_app: Flask) -> None:
    """A repeat that differs (the form's check) and a short password (the rules') together."""
    now = datetime.now(UTC)
    invited = make_user(Role.SPONSOR, email="anna.novak@example.org", password=None)
    reset = make_user(Role.SPONSOR, email="anna.novak@example.net")
    before = _user(reset.email).password_hash
    for user, path in ((invited, "/auth/invitation/{}"), (reset, "/auth/reset/{}")):
        purpose = tokens.INVITATION if "invitation" in path else tokens.PASSWORD_RESET
        with web_app.app_context():
            url = path.format(tokens.make_token(db.session.merge(user), purpose, now))
        client = web_app.test_client()
        token = csrf_token(client, url)
        response = client.post(
            url, data={"csrf_token": token, "password": "short", "confirm": "shorter"}
        )
        assert response.status_code == 200, path
        errors = field_errors(response)
        assert set(errors) == {"password", "confirm"}, path
        assert errors["password"].startswith("Use at least"), path
        assert errors["confirm"] == "The passwords differ.", path
        assert summary_links(response) == ["password", "confirm"], path
    assert _user(invited.email).password_hash is None
    assert _user(reset.email).password_hash == before


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_command_line_follows_the_same_rules(app, runner, case: str) -> None:
    password, message = BAD[case]
    created = runner.invoke(
        args=["users", "create", "anna.novak@example.org", "--role", "coordinator"],
        input=password + "\n",
    )
    assert created.exit_code != 0 and message in created.output
    assert _user("anna.novak@example.org") is None
    make_sponsor(email="anna.novak@example.org")
    changed = runner.invoke(
        args=["users", "password", "anna.novak@example.org"], input=password + "\n"
    )
    assert changed.exit_code != 0 and message in changed.output


def test_no_composition_rules_and_argon2id(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "ops@example.org", "--role", "coordinator"],
        input="lantern river quietly folding\n",
    )
    assert result.exit_code == 0, result.output
    assert _user("ops@example.org").password_hash.startswith("$argon2id$")
    changed = runner.invoke(
        args=["users", "password", "ops@example.org"], input="another lantern by the river\n"
    )
    assert changed.exit_code == 0, changed.output
    assert (
        services.authenticate("ops@example.org", "another lantern by the river", datetime.now(UTC))
        is not None
    )


def test_the_login_form_refuses_an_overlong_password_politely(client: FlaskClient) -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"email": "a@example.org", "password": "x" * 5000, "csrf_token": token}
    )
    assert response.status_code == 200


def test_changing_the_email_needs_the_current_password(
    app, web_app, client: FlaskClient, smtp_server
) -> None:
    sponsor = make_sponsor(email="old@example.org")
    other_device = web_app.test_client()
    Auth(other_device).login(sponsor.email)
    Auth(client).login(sponsor.email)
    token = csrf_token(client, "/account/")
    wrong = client.post(
        "/account/email",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "current_password": "not my password",
        },
    )
    assert "This is not your current password." in wrong.text
    assert _user("old@example.org") is not None

    taken = make_sponsor(email="taken@example.org")
    clash = client.post(
        "/account/email",
        data={"csrf_token": token, "email": taken.email, "current_password": PASSWORD},
    )
    assert "already exists" in clash.text

    done = client.post(
        "/account/email",
        data={"csrf_token": token, "email": "New@Example.org", "current_password": PASSWORD},
    )
    assert done.headers["Location"] == "/account/"
    assert _user("new@example.org") is not None and _user("old@example.org") is None
    assert client.get("/sponsor/").status_code == 200
    assert other_device.get("/sponsor/").status_code == 302
    [notice] = smtp_server.inbox.messages
    assert notice["To"] == "old@example.org" and "new@example.org" in notice.get_content()
