"""Bounces: real delivery reports (RFC 3464) in a Maildir, for mail a real SMTP server took.

The reports in tests/data/bounces are shaped as Postfix and Exim write them (a hard
bounce, a soft one after the far server gave up, a delay notice) plus an out-of-office
reply; each test fills in the address it came back to and the Message-ID it quotes.
"""

from __future__ import annotations

import mailbox
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from godparents.extensions import db
from godparents.reminders import bounces
from godparents.reminders import runner as job
from godparents.reminders.models import (
    Bounce,
    BounceKind,
    OutboxMessage,
    OutboxStatus,
    UndeliverableAddress,
)
from godparents.reminders.planner import plan
from tests.factories import (
    make_coordinator,
    make_default_rules,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, csrf_token

REPORTS = Path(__file__).resolve().parents[1] / "data" / "bounces"
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
BOUNCES = "bounces@campaign.example"


@pytest.fixture
def sent(app: Flask, smtp_server) -> dict[str, object]:
    """One birthday card sent to a godparent through a real SMTP server, with VERP."""
    app.config["REMINDER_BOUNCE_ADDRESS"] = BOUNCES
    make_default_rules()
    sponsor = make_sponsor(email="mdb.lindner@bundestag.example", full_name="Dr Lindner")
    prisoner = make_prisoner(name_latin="Ales Bialiatski", birth_date=date(1962, 12, 26))
    make_sponsorship(sponsor, prisoner)
    report = job.run(TODAY, NOW)
    assert report.delivered.sent == 1
    [message] = db.session.scalars(select(OutboxMessage)).all()
    [envelope] = smtp_server.inbox.envelopes
    return {
        "message": message,
        "sponsor": sponsor,
        "verp": envelope.mail_from,
        "recipient": sponsor.email,
        "message_id": message.email_message_id,
    }


def report(name: str, sent: dict[str, object], **changes: str) -> bytes:
    values = {
        "bounce_address": sent["verp"],
        "recipient": sent["recipient"],
        "message_id": sent["message_id"],
        **changes,
    }
    return (REPORTS / name).read_text().format(**values).encode()


def maildir(tmp_path: Path, *items: bytes) -> Path:
    path = tmp_path / "bounces"
    box = mailbox.Maildir(path, create=True)
    for item in items:
        box.add(mailbox.MaildirMessage(item))
    return path


def filed(path: Path) -> list[tuple[str, str]]:
    """(sub-folder, flags) of each message in the Maildir."""
    box = mailbox.Maildir(path, create=False)
    return sorted((message.get_subdir(), message.get_flags()) for message in box)


def test_verp_envelope_is_signed_per_message(sent) -> None:
    message = sent["message"]
    local, _at, domain = str(sent["verp"]).partition("@")
    assert domain == "campaign.example"
    assert local.startswith(f"bounces+{message.id}-") and len(local.rsplit("-", 1)[1]) == 10
    assert message.email_message_id and message.email_message_id.startswith("<")


def test_a_hard_bounce_stops_mail_to_the_address_and_lists_it_for_coordinators(
    sent, tmp_path: Path, login_as: LoginAs, client: FlaskClient
) -> None:
    waiting = make_outbox_message(recipient=sent["sponsor"].user, recipient_email=sent["recipient"])
    path = maildir(tmp_path, report("postfix-hard.eml", sent))

    outcome = bounces.read_mailbox(f"maildir:{path}", NOW)

    assert (outcome.hard, outcome.soft, outcome.ignored) == (1, 0, 0)
    message = db.session.get(OutboxMessage, sent["message"].id)
    assert message.status is OutboxStatus.FAILED
    assert message.last_error.startswith("bounced: 5.1.1 smtp; 550 5.1.1")
    [bounce] = db.session.scalars(select(Bounce)).all()
    assert (bounce.kind, bounce.message_id, bounce.email) == (
        BounceKind.HARD,
        message.id,
        "mdb.lindner@bundestag.example",
    )
    [address] = db.session.scalars(select(UndeliverableAddress)).all()
    assert address.email == "mdb.lindner@bundestag.example"
    db.session.refresh(waiting)
    assert waiting.status is OutboxStatus.FAILED and "bounced" in waiting.last_error
    assert filed(path) == [("cur", "S")]
    # Nothing more is planned for the address: next year's card finds nobody to write to.
    assert plan(job.active_rules(), date(2027, 11, 26), date(2027, 11, 26)) == []
    # The coordinators see who it is, and can say the address works again.
    login_as(make_coordinator().email)
    page = client.get("/coordinator/").text
    assert "Email addresses that bounce" in page and "Dr Lindner" in page
    assert "5.1.1" in page
    token = csrf_token(client, "/coordinator/")
    response = client.post(
        f"/coordinator/reminders/undeliverable/{address.id}/clear", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UndeliverableAddress)) == 0
    assert len(plan(job.active_rules(), date(2027, 11, 26), date(2027, 11, 26))) == 1


def test_a_hard_bounce_is_found_by_its_message_id_without_verp(sent, tmp_path: Path) -> None:
    path = maildir(tmp_path, report("postfix-hard.eml", sent, bounce_address=BOUNCES))

    outcome = bounces.read_mailbox(f"maildir:{path}", NOW)

    assert outcome.hard == 1
    assert db.session.get(OutboxMessage, sent["message"].id).status is OutboxStatus.FAILED


def test_a_forged_verp_address_for_an_unknown_message_is_left_for_a_person(
    sent, tmp_path: Path
) -> None:
    message = sent["message"]
    forged = f"bounces+{message.id}-0000000000@campaign.example"
    path = maildir(
        tmp_path,
        report(
            "postfix-hard.eml",
            sent,
            bounce_address=forged,
            message_id="<unknown@elsewhere.example>",
        ),
    )

    outcome = bounces.read_mailbox(f"maildir:{path}", NOW)

    assert (outcome.hard, outcome.ignored) == (0, 1)
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.SENT
    assert db.session.scalar(select(func.count()).select_from(UndeliverableAddress)) == 0
    assert filed(path) == [("cur", "")]  # read, not marked seen: a person looks at it


def test_a_soft_bounce_sends_the_message_again_as_after_a_4xx(
    sent, tmp_path: Path, smtp_server
) -> None:
    path = maildir(tmp_path, report("exim-soft.eml", sent))

    outcome = bounces.read_mailbox(f"maildir:{path}", NOW)

    assert (outcome.hard, outcome.soft) == (0, 1)
    message = db.session.get(OutboxMessage, sent["message"].id)
    assert message.status is OutboxStatus.PENDING and message.attempts == 2
    assert message.next_attempt_at == NOW + timedelta(minutes=30)  # the second delay
    assert "4.4.7" in message.last_error
    assert db.session.scalar(select(func.count()).select_from(UndeliverableAddress)) == 0
    assert job.run(TODAY, NOW + timedelta(minutes=29)).delivered.sent == 0
    assert job.run(TODAY, NOW + timedelta(minutes=30)).delivered.sent == 1
    again = smtp_server.inbox.messages[-1]
    assert len(smtp_server.inbox.messages) == 2 and "Ales Bialiatski" in again["Subject"]


def test_a_delay_notice_and_an_auto_reply_change_nothing(sent, tmp_path: Path) -> None:
    path = maildir(tmp_path, report("delayed.eml", sent), report("out-of-office.eml", sent))

    outcome = bounces.read_mailbox(f"maildir:{path}", NOW)

    assert (outcome.hard, outcome.soft, outcome.ignored) == (0, 0, 2)
    assert db.session.get(OutboxMessage, sent["message"].id).status is OutboxStatus.SENT
    assert db.session.scalar(select(func.count()).select_from(Bounce)) == 0
    # The delay notice was about one of ours (seen); the out-of-office is for a person.
    assert filed(path) == [("cur", ""), ("cur", "S")]


def test_a_report_read_twice_counts_once(sent, tmp_path: Path) -> None:
    copy = report("exim-soft.eml", sent)
    path = maildir(tmp_path, copy, copy)

    bounces.read_mailbox(f"maildir:{path}", NOW)

    assert db.session.scalar(select(func.count()).select_from(Bounce)) == 1
    assert db.session.get(OutboxMessage, sent["message"].id).attempts == 2


def test_a_new_address_for_the_person_gets_mail_again(sent, tmp_path: Path) -> None:
    bounces.read_mailbox(f"maildir:{maildir(tmp_path, report('postfix-hard.eml', sent))}", NOW)
    sponsor = sent["sponsor"]
    sponsor.email = "m.lindner@europarl.example"
    db.session.commit()

    [due] = plan(job.active_rules(), date(2027, 11, 26), date(2027, 11, 26))

    assert due.recipient.email == "m.lindner@europarl.example"


def test_the_command_reads_the_mailbox(sent, tmp_path: Path, runner: FlaskCliRunner) -> None:
    path = maildir(tmp_path, report("postfix-hard.eml", sent), report("delayed.eml", sent))

    result = runner.invoke(args=["reminders", "bounces", "--mailbox", f"maildir:{path}"])

    assert result.exit_code == 0, result.output
    assert "hard bounces 1, soft bounces 0, other mail 1" in result.output
    missing = runner.invoke(
        args=["reminders", "bounces", "--mailbox", f"maildir:{tmp_path / 'nowhere'}"]
    )
    assert missing.exit_code == 1 and "no Maildir" in missing.output


def test_each_run_reads_the_bounce_mailbox_first(sent, tmp_path: Path, app: Flask) -> None:
    path = maildir(tmp_path, report("postfix-hard.eml", sent))
    app.config["REMINDER_BOUNCE_MAILBOX"] = f"maildir:{path}"

    job.run(TODAY, NOW + timedelta(hours=1))

    assert db.session.scalar(select(func.count()).select_from(UndeliverableAddress)) == 1
