"""Two factors: enrolment, the code step of logging in, replay, the window, recovery codes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth import twofactor
from godparents.auth.models import RecoveryCode, User, UserSession
from godparents.extensions import db
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import Auth, csrf_token, field_errors, summary_links, totp_code

KEY_PATTERN = re.compile(r'<pre class="address" id="totp-key">([A-Z2-7 ]+)</pre>')
CODE_PATTERN = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .order_by(AuditEvent.id)
            .where(AuditEvent.object_id == user.id, AuditEvent.object_type == "User")
        )
    )


def _enrol(client: FlaskClient, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Through the real pages: read the key off the page, type the app's code."""
    page = client.get("/account/two-factor")
    assert 'src="data:image/svg+xml' in page.text  # the QR code, drawn here
    key = KEY_PATTERN.search(page.text).group(1).replace(" ", "")
    token = csrf_token(client, "/account/two-factor")
    shown = client.post(
        "/account/two-factor/enable",
        data={"csrf_token": token, "code": pyotp.TOTP(key).now(), "current_password": password},
    )
    assert shown.status_code == 200, shown.text
    return key, CODE_PATTERN.findall(shown.text)


def _login_with_code(client: FlaskClient, email: str, code: str):
    token = csrf_token(client, "/auth/login")
    first = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert first.headers["Location"] == "/auth/two-factor"
    token = csrf_token(client, "/auth/two-factor")
    return client.post("/auth/two-factor", data={"code": code, "csrf_token": token})


def test_the_window_is_one_step_either_side() -> None:
    secret = pyotp.random_base32()
    now = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)
    step = int(now.timestamp()) // 30
    totp = pyotp.TOTP(secret)
    for offset in (-1, 0, 1):
        assert (
            twofactor.matching_step(secret, totp.generate_otp(step + offset), now) == step + offset
        )
    for offset in (-2, 2, 10):
        assert twofactor.matching_step(secret, totp.generate_otp(step + offset), now) is None
    # Not newer than the last accepted step: refused, whatever the window says.
    assert twofactor.matching_step(secret, totp.generate_otp(step), now, after=step) is None
    assert twofactor.matching_step(secret, totp.generate_otp(step + 1), now, after=step) == step + 1
    assert twofactor.matching_step(secret, "12345", now) is None
    assert twofactor.matching_step(secret, "abcdef", now) is None


def test_a_coordinator_reaches_nothing_but_enrolment_until_done(
    app, auth: Auth, client: FlaskClient
) -> None:
    coordinator = make_coordinator(totp_secret=None)
    assert auth.login(coordinator.email).headers["Location"] == "/"
    for path in (
        "/",
        "/coordinator/",
        "/coordinator/prisoners/",
        "/account/",
        "/coordinator/audit/",
        "/coordinator/accounts/",
    ):
        response = client.get(path)
        assert response.headers.get("Location") == "/account/two-factor", path
    token = csrf_token(client, "/account/two-factor")
    assert (
        client.post("/coordinator/reminders/run", data={"csrf_token": token}).headers["Location"]
        == "/account/two-factor"
    )

    # A wrong code, then a wrong password: nothing is turned on.
    page = client.get("/account/two-factor").text
    key = KEY_PATTERN.search(page).group(1).replace(" ", "")
    assert len(key) == 32  # 160 bits, also shown as text for typing by hand
    wrong_code = client.post(
        "/account/two-factor/enable",
        data={
            "csrf_token": token,
            "code": "000000" if pyotp.TOTP(key).now() != "000000" else "111111",
            "current_password": PASSWORD,
        },
    )
    assert "This code is not right" in wrong_code.text
    wrong_password = client.post(
        "/account/two-factor/enable",
        data={
            "csrf_token": token,
            "code": pyotp.TOTP(key).now(),
            "current_password": "not it at all!",
        },
    )
    assert "This is not your current password." in wrong_password.text
    assert _user(coordinator.email).totp_secret is None

    key_again, codes = _enrol(client)
    assert key_again == key  # the key shown stays the same until confirmed
    user = _user(coordinator.email)
    assert user.totp_secret == key
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(
        db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    )
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashes only
    assert client.get("/coordinator/").status_code == 200
    assert "two_factor_enabled" in _actions(user)


def test_login_needs_the_code_and_a_code_works_once(app, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    code = pyotp.TOTP(coordinator.totp_secret).now()
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token}
    )
    # The password alone opens nothing.
    assert client.get("/coordinator/").headers["Location"].startswith("/auth/login")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0

    token = csrf_token(client, "/auth/two-factor")
    assert (
        client.post("/auth/two-factor", data={"code": code, "csrf_token": token}).headers[
            "Location"
        ]
        == "/"
    )
    assert client.get("/coordinator/").status_code == 200
    logout = csrf_token(client, "/coordinator/")
    client.post("/auth/logout", data={"csrf_token": logout})

    replay = _login_with_code(client, coordinator.email, code)
    assert replay.status_code == 200 and "used already" in replay.text
    assert client.get("/coordinator/").status_code == 302
    user = _user(coordinator.email)
    assert _actions(user).count("two_factor_failed") == 1
    login = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
    assert login.changes == {"second_factor": "totp"}


def test_a_recovery_code_logs_in_once(app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    auth = Auth(client)
    auth.login(sponsor.email)
    _key, codes = _enrol(client)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")})

    used = _login_with_code(client, sponsor.email, codes[3].upper().replace("-", " "))
    assert used.headers["Location"] == "/"
    home = client.get("/sponsor/")
    assert home.status_code == 200 and "9 are left" in home.text
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account/")})

    again = _login_with_code(client, sponsor.email, codes[3])
    assert again.status_code == 200 and "This code is not right" in again.text
    assert client.get("/sponsor/").status_code == 302


def test_the_code_step_expires(app, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    token = csrf_token(client, "/auth/login")
    client.post(
        "/auth/login", data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token}
    )
    assert client.get("/auth/two-factor").status_code == 200
    with client.session_transaction() as session:  # the password was typed 301 s ago
        pending = dict(session["two_factor_pending"])
        pending["at"] -= 301
        session["two_factor_pending"] = pending
    response = client.get("/auth/two-factor")
    assert response.headers["Location"] == "/auth/login"


def test_the_code_step_without_a_password_step_goes_to_login(client: FlaskClient) -> None:
    assert client.get("/auth/two-factor").headers["Location"] == "/auth/login"


def test_sponsors_may_turn_two_factors_off_coordinators_may_not(
    app, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    assert client.get("/sponsor/").status_code == 200  # optional for godparents
    _enrol(client)
    token = csrf_token(client, "/account/two-factor")
    wrong = client.post(
        "/account/two-factor/off", data={"csrf_token": token, "current_password": "wrong password!"}
    )
    assert wrong.status_code == 302 and _user(sponsor.email).totp_secret is not None
    client.post("/account/two-factor/off", data={"csrf_token": token, "current_password": PASSWORD})
    user = _user(sponsor.email)
    assert user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert "two_factor_disabled" in _actions(user)


def test_a_coordinator_cannot_turn_two_factors_off(app, auth: Auth, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    token = csrf_token(client, "/account/two-factor")
    response = client.post(
        "/account/two-factor/off",
        data={"csrf_token": token, "current_password": PASSWORD},
        follow_redirects=True,
    )
    assert "Coordinators cannot turn two factors off." in response.text
    assert _user(coordinator.email).totp_secret is not None


def test_new_recovery_codes_replace_the_old(app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    Auth(client).login(sponsor.email)
    _key, first = _enrol(client)
    token = csrf_token(client, "/account/two-factor")
    renewed = client.post(
        "/account/two-factor/recovery-codes",
        data={"csrf_token": token, "current_password": PASSWORD},
    )
    second = CODE_PATTERN.findall(renewed.text)
    assert len(second) == 10 and not set(first) & set(second)
    user = _user(sponsor.email)
    assert not twofactor.use_recovery_code(user, first[0], datetime.now(UTC))
    assert twofactor.use_recovery_code(user, second[0], datetime.now(UTC))


def test_a_new_phone_ends_the_old_key(app, auth: Auth, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    old_key = coordinator.totp_secret
    auth.login(coordinator.email)
    token = csrf_token(client, "/account/two-factor")
    client.post(
        "/account/two-factor/replace", data={"csrf_token": token, "current_password": PASSWORD}
    )
    assert _user(coordinator.email).totp_secret is None
    assert client.get("/coordinator/").headers["Location"] == "/account/two-factor"
    new_key, _codes = _enrol(client)
    assert new_key != old_key
    assert "two_factor_reset" in _actions(_user(coordinator.email))


def test_enrolling_ends_the_other_sessions(app, web_app, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    other = web_app.test_client()
    Auth(other).login(sponsor.email)
    Auth(client).login(sponsor.email)
    _enrol(client)
    assert other.get("/sponsor/").headers["Location"].startswith("/auth/login")
    assert client.get("/sponsor/").status_code == 200


def test_a_coordinator_resets_someones_two_factors(app, auth: Auth, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    colleague = make_coordinator()
    auth.login(coordinator.email)
    token = csrf_token(client, "/coordinator/accounts/")
    client.post(
        f"/coordinator/accounts/{colleague.id}/reset-two-factors",
        data={"csrf_token": token, "current_password": "wrong password!"},
    )
    assert _user(colleague.email).totp_secret is not None
    client.post(
        f"/coordinator/accounts/{colleague.id}/reset-two-factors",
        data={"csrf_token": token, "current_password": PASSWORD},
    )
    assert _user(colleague.email).totp_secret is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor_reset"))
    assert event.actor_id == coordinator.id and event.object_id == colleague.id


def test_the_command_line_resets_two_factors(app, runner) -> None:
    coordinator = make_coordinator()
    email = coordinator.email
    result = runner.invoke(args=["users", "reset-two-factors", email])
    assert result.exit_code == 0, result.output
    assert _user(email).totp_secret is None
    missing = runner.invoke(args=["users", "reset-two-factors", "nobody@example.org"])
    assert missing.exit_code != 0 and "no account" in missing.output


def test_auth_helper_code_is_for_an_unused_step(app) -> None:
    """The tests' own helper must follow the rule it logs in under."""
    coordinator = make_coordinator()
    step = int(time.time()) // 30
    coordinator.totp_last_step = step
    db.session.commit()
    code = totp_code(coordinator.email)
    assert (
        twofactor.matching_step(
            coordinator.totp_secret, code, datetime.now(UTC) + timedelta(seconds=0), after=step
        )
        is not None
    )


def test_every_mistake_of_turning_two_factors_on_is_shown_at_once(
    auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    auth.login(sponsor.email)
    page = client.get("/account/two-factor").text
    key = KEY_PATTERN.search(page).group(1).replace(" ", "")
    token = csrf_token(client, "/account/two-factor")
    wrong = "000000" if pyotp.TOTP(key).now() != "000000" else "111111"
    for code, code_message in [
        (wrong, "This code is not right."),  # both the rules' mistakes
        ("1" * 11, "Field cannot be longer than 10 characters."),  # the form's and a rule's
    ]:
        response = client.post(
            "/account/two-factor/enable",
            data={"csrf_token": token, "code": code, "current_password": "not it at all!"},
        )
        assert response.status_code == 200
        errors = field_errors(response)
        assert set(errors) == {"code", "current_password"}, code
        assert errors["code"].startswith(code_message), code
        assert errors["current_password"] == "This is not your current password."
        assert summary_links(response) == ["code", "current_password"]
    assert _user(sponsor.email).totp_secret is None
