"""Long outages are visible: the job's status for monitoring, the dashboard, the exit code,
and sending every failed message again at once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from godparents.extensions import db
from godparents.reminders import outbox
from godparents.reminders.models import (
    OutboxMessage,
    OutboxStatus,
    ReminderRun,
    RunStatus,
    UndeliverableAddress,
)
from tests.factories import (
    make_coordinator,
    make_default_rules,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, LoginAs, csrf_token
from tests.smtp import free_port

TOKEN = "monitoring-token-0123456789"
STATUS = "/reminders/status"


def _run(status: RunStatus, minutes_ago: int, **fields: object) -> ReminderRun:
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    values = {
        "started_at": when,
        "finished_at": when,
        "heartbeat_at": when,
        "planned_for": when.date(),
        "window_start": when.date(),
        **fields,
    }
    run = ReminderRun(status=status, **values)
    db.session.add(run)
    db.session.commit()
    return run


def _get(client: FlaskClient, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(STATUS, headers=headers)


@pytest.mark.settings(REMINDER_STATUS_TOKEN=TOKEN)
def test_the_status_needs_the_token_or_a_coordinator(
    login_as: LoginAs, app: Flask, client: FlaskClient, auth: Auth
) -> None:
    _run(RunStatus.FINISHED, 5, sent=3)
    assert _get(client, token=None).status_code == 401
    assert _get(client, token="wrong").status_code == 401
    assert _get(client).status_code == 200
    sponsor = make_sponsor()
    login_as(sponsor.user.email)
    assert _get(client, token=None).status_code == 401
    auth.logout()
    login_as(make_coordinator().email)
    assert _get(client, token=None).status_code == 200


@pytest.mark.settings(REMINDER_STATUS_TOKEN=TOKEN)
def test_a_healthy_job_answers_200_with_numbers_and_no_names(
    app: Flask, client: FlaskClient
) -> None:
    _run(RunStatus.FINISHED, 5, sent=3, planned=3, written=3)
    make_outbox_message(
        recipient_email="secret-mp@example.org",
        next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
    )

    response = _get(client)

    assert response.status_code == 200
    found = response.get_json()
    assert found["status"] == "ok" and found["problems"] == []
    assert found["last_run"]["status"] == "finished" and found["last_run"]["sent"] == 3
    assert found["backlog"] == {"waiting": 1, "due": 0, "oldest_due_at": None}
    assert "@" not in json.dumps(found)


@pytest.mark.settings(REMINDER_STATUS_TOKEN=TOKEN)
@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("never", "never_ran"),
        ("undelivered", "last_run_failed"),
        ("stale", "no_complete_run"),
        ("overdue", "overdue"),
        ("silent", "run_silent"),
    ],
)
def test_an_unhealthy_job_answers_503_and_says_why(
    app: Flask, client: FlaskClient, setup: str, problem: str
) -> None:
    if setup == "undelivered":
        _run(RunStatus.FINISHED, 30)
        _run(RunStatus.UNDELIVERED, 5, error="mail server unavailable: refused")
    elif setup == "stale":
        _run(RunStatus.FINISHED, 61)
    elif setup == "overdue":
        _run(RunStatus.FINISHED, 5)
        make_outbox_message(next_attempt_at=datetime.now(UTC) - timedelta(minutes=90))
    elif setup == "silent":
        _run(RunStatus.FINISHED, 30)
        _run(RunStatus.RUNNING, 70, finished_at=None)

    response = _get(client)

    assert response.status_code == 503
    assert problem in [item["code"] for item in response.get_json()["problems"]]


def test_the_dashboard_says_what_is_wrong(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    _run(RunStatus.UNDELIVERED, 5)
    login_as(make_coordinator().email)

    page = client.get("/coordinator/").text

    assert 'data-health="failing"' in page and 'data-problem="last_run_failed"' in page
    assert "could not deliver everything" in page


def test_the_job_exits_non_zero_when_the_mail_server_is_away(
    app: Flask, runner: FlaskCliRunner
) -> None:
    make_outbox_message()
    # The command runs in the test's app context (Flask's CLI reuses the one it finds).
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(),  # nobody there
        MAIL_SUPPRESS_SEND=False,
    )

    result = runner.invoke(args=["reminders", "run", "--quiet", "--today", "2026-11-26"])

    assert result.exit_code == 1, result.output
    assert "undelivered" in result.output and "mail server unavailable" in result.output
    run = db.session.scalar(select(ReminderRun).order_by(ReminderRun.id.desc()).limit(1))
    assert run.status is RunStatus.UNDELIVERED


def test_every_failed_message_goes_again_at_once(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    make_default_rules()
    sponsor = make_sponsor()
    make_sponsorship(sponsor, make_prisoner(birth_date=date(1980, 12, 26)))
    failed = [
        make_outbox_message(
            recipient=sponsor.user,
            status=OutboxStatus.FAILED,
            subject_ref=f"prisoner:{number}",
            attempts=5,
            last_error="mail server unavailable",
        )
        for number in range(3)
    ]
    bounced = make_outbox_message(status=OutboxStatus.FAILED, last_error="bounced: 5.1.1")
    db.session.add(UndeliverableAddress(email=bounced.recipient_email))
    db.session.commit()
    login_as(make_coordinator().email)

    response = client.post(
        "/coordinator/reminders/outbox/retry-failed",
        data={"csrf_token": csrf_token(client, "/coordinator/")},
    )

    assert response.status_code == 302
    assert (
        "3 failed messages go again with the next run."
        in client.get(response.headers["Location"]).text
    )
    db.session.expire_all()
    again = [db.session.get(OutboxMessage, message.id) for message in failed]
    assert {(m.status, m.attempts, m.email_subject) for m in again} == {
        (OutboxStatus.PENDING, 0, "")
    }  # written anew by the next run
    assert db.session.get(OutboxMessage, bounced.id).status is OutboxStatus.FAILED
    assert outbox.retry_failed(datetime.now(UTC)) == 0


def test_a_run_killed_long_ago_no_longer_blocks_the_button(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    dead = _run(RunStatus.RUNNING, 30, finished_at=None)  # heartbeat 30 minutes ago
    login_as(make_coordinator().email)

    response = client.post(
        "/coordinator/reminders/run", data={"csrf_token": csrf_token(client, "/coordinator/")}
    )

    db.session.expire_all()
    assert db.session.get(ReminderRun, dead.id).status is RunStatus.CRASHED
    assert response.headers["Location"] != f"/coordinator/reminders/runs/{dead.id}"
    newest = db.session.scalar(select(ReminderRun).order_by(ReminderRun.id.desc()).limit(1))
    assert newest.status is RunStatus.REQUESTED


@pytest.mark.settings(REMINDER_BATCH_SECONDS=0.5)
def test_a_batch_ends_after_its_time_and_claims_again(app: Flask, monkeypatch) -> None:
    """A slow server does not hold a big batch: after REMINDER_BATCH_SECONDS the rest is
    handed back and claimed anew (by this runner or another)."""
    from godparents.reminders import delivery
    from tests.faultsmtp import FaultyInbox, faulty_server

    messages = [make_outbox_message(subject_ref=f"prisoner:{n}") for n in range(6)]
    claims: list[int] = []
    original = delivery.claim

    def counting(*args: object, **kwargs: object) -> list[int]:
        found = original(*args, **kwargs)
        claims.append(len(found))
        return found

    monkeypatch.setattr(delivery, "claim", counting)
    with faulty_server(FaultyInbox(delay=0.3)) as server:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
        report = delivery.deliver(datetime.now(UTC))
    assert report.sent == 6 and sorted(server.inbox.counts().values()) == [1] * 6
    assert claims[0] == 6 and len(claims) >= 3  # 6, then the rest handed back, ..., then 0
    assert len(messages) == 6
