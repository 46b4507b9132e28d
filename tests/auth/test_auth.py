"""Login, logout, invitations and password resets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth import services, tokens
from godparents.auth.models import Role, User
from godparents.extensions import db, mail
from godparents.types import utcnow
from tests.factories import PASSWORD, make_coordinator, make_sponsor, make_user
from tests.helpers import Auth, csrf_token, field_errors, summary_links

NOW = datetime(2026, 5, 21, 9, 30, tzinfo=UTC)


def _error_text(response) -> str:
    return " ".join(re.findall(r'class="invalid-feedback[^"]*">([^<]*)<', response.text))


def test_login_page_is_public_and_has_a_form(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="password"' in response.text


def test_login_with_the_right_password_starts_a_session(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    response = auth.login(sponsor.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/sponsor/"
    assert client.get("/sponsor/").status_code == 200
    db.session.refresh(sponsor.user)
    assert sponsor.user.last_login_at is not None
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == sponsor.user_id))
        == "login"
    )


def test_email_is_case_insensitive(auth: Auth, client: FlaskClient) -> None:
    make_coordinator(email="Ops@Example.org")
    assert auth.login("  OPS@example.ORG ").headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/coordinator/"


@pytest.mark.parametrize(
    "case", ["unknown email", "wrong password", "no password yet", "deactivated"]
)
def test_failed_logins_all_say_the_same(
    app: Flask, auth: Auth, client: FlaskClient, case: str
) -> None:
    make_user(email="known@example.org")
    make_user(email="invited@example.org", password=None)
    make_user(email="gone@example.org", is_active=False)
    email, password = {
        "unknown email": ("nobody@example.org", PASSWORD),
        "wrong password": ("known@example.org", "not the password"),
        "no password yet": ("invited@example.org", ""),
        "deactivated": ("gone@example.org", PASSWORD),
    }[case]
    response = auth.login(email, password or "anything at all")
    assert response.status_code == 200
    assert _error_text(response) == "Email or password is incorrect."
    assert 'value="' + email + '"' in response.text or case == "unknown email"
    assert client.get("/sponsor/").status_code == 302  # still logged out
    failures = db.session.scalar(select(func.count()).where(AuditEvent.action == "login_failed"))
    assert failures == 1


def test_logout_only_by_post(auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/sponsor/").status_code == 200  # the GET did not log out
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/sponsor/").status_code == 302


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    make_user(email="known@example.org")
    response = client.post("/auth/login", data={"email": "known@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "form has expired" in response.text
    assert client.get("/sponsor/").status_code == 302


def test_logout_without_csrf_token_is_refused(auth: Auth, client: FlaskClient) -> None:
    auth.login(make_sponsor().email)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/sponsor/").status_code == 200


def test_a_bumped_session_generation_logs_out_everywhere(auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    sponsor.user.session_generation += 1
    db.session.commit()
    assert client.get("/sponsor/").status_code == 302


# Invitations ---------------------------------------------------------------------------------


def _invite(client: FlaskClient, **data: object):
    token = csrf_token(client, "/auth/invite")
    return client.post("/auth/invite", data={"csrf_token": token, **data})


def test_coordinator_invites_a_sponsor_who_sets_a_password(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False, language="de")
    auth.login(make_coordinator().email)
    with mail.record_messages() as outbox:
        response = _invite(
            client, email="new.mp@example.org", role="sponsor", sponsor_id=sponsor.id
        )
    assert response.status_code == 302
    assert len(outbox) == 1
    message = outbox[0]
    assert message.recipients == ["new.mp@example.org"]
    assert message.subject == "Ihre Einladung zu godparents"  # in the sponsor's language
    link = re.search(r"http://godparents.test(/auth/invitation/\S+)", message.body).group(1)
    db.session.refresh(sponsor)
    assert sponsor.user.email == "new.mp@example.org" and not sponsor.user.has_password

    auth.logout()
    form = client.get(link)
    assert form.status_code == 200
    token = csrf_token(client, link)
    new_password = "a long new passphrase"
    response = client.post(
        link, data={"csrf_token": token, "password": new_password, "confirm": new_password}
    )
    assert response.status_code == 302
    assert client.get("/sponsor/").status_code == 200  # logged in straight away
    # The link worked once.
    auth.logout()
    assert client.get(link).status_code == 404
    assert auth.login("new.mp@example.org", new_password).status_code == 302


def test_invitation_of_a_delegate(auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth.login(make_coordinator().email)
    with mail.record_messages() as outbox:
        _invite(client, email="office@example.org", role="delegate", sponsor_id=sponsor.id)
    assert len(outbox) == 1
    delegate = services.find_user("office@example.org")
    assert delegate.role is Role.DELEGATE
    assert [d.sponsor_id for d in delegate.delegations] == [sponsor.id]


def test_invitation_errors_show_at_the_field_and_change_nothing(
    auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()  # already has an account
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    users_before = db.session.scalar(select(func.count()).select_from(User))
    with mail.record_messages() as outbox:
        taken = _invite(client, email="new@example.org", role="sponsor", sponsor_id=sponsor.id)
        duplicate = _invite(client, email=coordinator.email, role="delegate", sponsor_id=sponsor.id)
        malformed = _invite(client, email="not an email", role="delegate", sponsor_id=sponsor.id)
        unknown = _invite(client, email="x@example.org", role="delegate", sponsor_id=999999)
    assert "This godparent already has an account." in _error_text(taken)
    assert "already exists" in _error_text(duplicate)
    assert "such as name@example.org, in Latin letters." in _error_text(malformed)
    assert "Not a valid choice." in _error_text(unknown)
    for response in (taken, duplicate, malformed, unknown):
        assert response.status_code == 200
    assert outbox == []
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before


@pytest.mark.parametrize(
    ("email", "email_message"),
    [
        ("coordinator", "An account with this email address already exists."),  # a rule
        ("not an email", "such as name@example.org"),  # the form's own check
    ],
)
def test_every_mistake_of_an_invitation_is_shown_at_once(
    auth: Auth, client: FlaskClient, email: str, email_message: str
) -> None:
    sponsor = make_sponsor()  # already has an account
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    users_before = db.session.scalar(select(func.count()).select_from(User))
    address = coordinator.email if email == "coordinator" else email
    with mail.record_messages() as outbox:
        response = _invite(client, email=address, role="sponsor", sponsor_id=sponsor.id)
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"email", "sponsor_id"}
    assert email_message in errors["email"]
    assert errors["sponsor_id"] == "This godparent already has an account."
    assert summary_links(response) == ["email", "sponsor_id"]
    assert outbox == []
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert sponsor.user.email != address


def test_invitation_token_expires(app: Flask) -> None:
    user = make_user(password=None)
    token = tokens.make_token(user, tokens.INVITATION, NOW)
    assert services.read_invitation(token, NOW + timedelta(days=6, hours=23)) == user
    assert services.read_invitation(token, NOW + timedelta(days=7, seconds=1)) is None


def test_tokens_are_bound_to_their_purpose_and_signature(app: Flask) -> None:
    user = make_user()
    reset = tokens.make_token(user, tokens.PASSWORD_RESET, NOW)
    assert services.read_password_reset(reset, NOW) == user
    assert services.read_invitation(reset, NOW) is None
    assert services.read_password_reset(reset[:-2] + "xx", NOW) is None
    assert services.read_password_reset("garbage", NOW) is None


def test_invitation_page_with_a_bad_token_is_a_calm_404(client: FlaskClient) -> None:
    response = client.get("/auth/invitation/not-a-token")
    assert response.status_code == 404
    assert "This link no longer works" in response.text


# Password reset ------------------------------------------------------------------------------


def _request_reset(client: FlaskClient, email: str):
    token = csrf_token(client, "/auth/reset")
    return client.post(
        "/auth/reset", data={"csrf_token": token, "email": email}, follow_redirects=True
    )


def test_reset_reply_never_tells_whether_an_address_exists(client: FlaskClient) -> None:
    make_user(email="known@example.org")
    with mail.record_messages() as outbox:
        known = _request_reset(client, "known@example.org")
        unknown = _request_reset(client, "unknown@example.org")
    assert len(outbox) == 1 and outbox[0].recipients == ["known@example.org"]
    flash = re.compile(r'<div class="alert[^>]*>([^<]*)</div>')
    assert flash.findall(known.text) == flash.findall(unknown.text) != []
    assert known.status_code == unknown.status_code == 200


def test_reset_sets_a_new_password_once_and_ends_other_sessions(
    web_app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    other_browser = web_app.test_client()
    Auth(other_browser).login(sponsor.email)
    with mail.record_messages() as outbox:
        _request_reset(client, sponsor.email)
    link = re.search(r"http://godparents.test(/auth/reset/\S+)", outbox[0].body).group(1)
    token = csrf_token(client, link)
    response = client.post(
        link, data={"csrf_token": token, "password": "short", "confirm": "short"}
    )
    assert "Use at least 12 characters." in _error_text(response)
    response = client.post(
        link,
        data={
            "csrf_token": token,
            "password": "brand new password",
            "confirm": "brand new password",
        },
    )
    assert response.status_code == 302
    assert client.get(link).status_code == 404  # used
    assert other_browser.get("/sponsor/").status_code == 302  # its session ended
    assert auth.login(sponsor.email).status_code == 200  # old password refused
    assert auth.login(sponsor.email, "brand new password").status_code == 302


def test_reset_token_expires_after_an_hour(app: Flask) -> None:
    user = make_user()
    token = tokens.make_token(user, tokens.PASSWORD_RESET, NOW)
    assert services.read_password_reset(token, NOW + timedelta(minutes=59)) == user
    assert services.read_password_reset(token, NOW + timedelta(minutes=61)) is None
    assert services.read_password_reset(token, NOW - timedelta(minutes=1)) is None


def test_passwords_are_hashed_with_argon2id(app: Flask) -> None:
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert services.authenticate(user.email, PASSWORD, utcnow()) == user


def test_invitation_travels_over_real_smtp(auth: Auth, client: FlaskClient, smtp_server) -> None:
    sponsor = make_sponsor(with_login=False, full_name="Ewa Nowak")
    auth.login(make_coordinator().email)
    response = _invite(client, email="ewa.nowak@example.org", role="sponsor", sponsor_id=sponsor.id)
    assert response.status_code == 302
    [message] = smtp_server.inbox.messages
    assert message["To"] == "ewa.nowak@example.org"
    assert message["From"] == "godparents@localhost"
    assert message["Subject"] == "Your invitation to godparents"
    body = message.get_content()
    link = re.search(r"http://godparents.test(/auth/invitation/\S+)", body).group(1)
    assert client.get(link).status_code == 200


@pytest.mark.settings(MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
def test_mail_server_down_keeps_the_account_and_says_so(auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor(with_login=False)
    auth.login(make_coordinator().email)
    response = _invite(client, email="later@example.org", role="sponsor", sponsor_id=sponsor.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "the email could not be sent" in page
    assert services.find_user("later@example.org") is not None


def test_inviting_again_before_the_password_is_set_sends_a_fresh_link(
    auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False)
    auth.login(make_coordinator().email)
    with mail.record_messages() as outbox:
        _invite(client, email="twice@example.org", role="sponsor", sponsor_id=sponsor.id)
        again = _invite(client, email="twice@example.org", role="sponsor", sponsor_id=sponsor.id)
        as_other_role = _invite(
            client, email="twice@example.org", role="delegate", sponsor_id=sponsor.id
        )
    assert again.status_code == 302
    assert len(outbox) == 2 and outbox[1].recipients == ["twice@example.org"]
    assert "already exists" in _error_text(as_other_role)
    db.session.refresh(sponsor)
    assert sponsor.user.email == "twice@example.org"
