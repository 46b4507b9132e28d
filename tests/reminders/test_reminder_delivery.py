"""Delivering reminders to a real SMTP server (aiosmtpd on a free local port): the headers,
both parts, Cyrillic, one refused recipient, the server away and back, retries and failure,
header injection, a broken template, and two runs at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from godparents.extensions import db
from godparents.reminders import delivery, outbox
from godparents.reminders import runner as job
from godparents.reminders.messages import read_unsubscribe_token
from godparents.reminders.models import (
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    RunStatus,
    Trigger,
)
from tests.factories import (
    make_default_rules,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.smtp import Inbox, free_port, start_server

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
ADDRESS = "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"


@pytest.fixture
def rules(app: Flask) -> dict[str, ReminderRule]:
    return {rule.name: rule for rule in make_default_rules()}


def _birthday_pairing(name: str = "Ales Bialiatski", **fields: Any):
    sponsor = make_sponsor(**fields)
    prisoner = make_prisoner(
        name_latin=name,
        name_ru="Алесь Беляцкий",
        birth_date=date(1962, 12, 26),
        address=ADDRESS,
        birth_year=1962,
    )
    make_sponsorship(sponsor, prisoner)
    return sponsor, prisoner


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content().replace("\r\n", "\n")


def test_a_reminder_arrives_with_its_headers_both_parts_and_the_cyrillic_address(
    rules, smtp_server, config
):
    sponsor, prisoner = _birthday_pairing()

    report = job.run(TODAY, NOW)

    assert report.delivered.sent == 1
    [message] = smtp_server.inbox.messages
    assert message["To"] == sponsor.email
    assert message["From"] == config.get("MAIL_DEFAULT_SENDER", "godparents@localhost")
    assert "Ales Bialiatski" in message["Subject"]
    assert message["Message-ID"] and message["Date"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://godparents.test/reminders/unsubscribe/")
    # On the wire as RFC 2369 wants it: the link itself, not RFC 2047 encoded words.
    raw = smtp_server.inbox.envelopes[0].content
    assert f"List-Unsubscribe: <{link}>".encode() in raw
    assert read_unsubscribe_token(link.rsplit("/", 1)[1]) == (sponsor.user.id, Trigger.BIRTHDAY)
    assert message.is_multipart()
    text, html = _body(message, "plain"), _body(message, "html")
    assert ADDRESS in text
    assert "Алесь Беляцкий, 1962 г.р." in text
    assert "<pre" in html and "ул. Володарского, 2," in html
    assert f"/sponsor/prisoners/{prisoner.id}/actions/new?kind=card" in text
    [row] = _outbox()
    assert row.status is OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1


def test_a_cyrillic_subject_travels_encoded_and_arrives_intact(rules, smtp_server):
    sponsor, _prisoner = _birthday_pairing()
    db.session.add(
        OutboxMessage(
            rule=rules["Birthday card"],
            recipient_user_id=sponsor.user.id,
            recipient_email=sponsor.email,
            subject_ref="prisoner:1",
            occurs_on=TODAY,
            email_subject="Открытка для Алеся: день рождения через 30 дней",
            body_text="Адрес:\n" + ADDRESS + "\n",
            body_html="<p>Адрес</p>",
        )
    )
    db.session.commit()

    delivery.deliver(NOW)

    [message] = smtp_server.inbox.messages
    assert message["Subject"] == "Открытка для Алеся: день рождения через 30 дней"
    raw = smtp_server.inbox.envelopes[0].content
    assert b"=?utf-8?" in raw.lower()  # RFC 2047 on the wire, not raw UTF-8 in a header
    assert ADDRESS in _body(message, "plain")


def test_one_refused_recipient_fails_alone_and_the_others_are_delivered(rules, smtp_server):
    refused, _first = _birthday_pairing(name="First Prisoner")
    delegate = make_delegate(refused)
    others = [_birthday_pairing(name=f"Prisoner {number}")[0] for number in range(3)]
    smtp_server.inbox.refuse[refused.email] = "550 5.1.1 <nobody>: Recipient address rejected"

    report = job.run(TODAY, NOW)

    delivered = sorted(message["To"] for message in smtp_server.inbox.messages)
    assert delivered == sorted([delegate.email, *(sponsor.email for sponsor in others)])
    assert (report.delivered.sent, report.delivered.failed) == (4, 1)
    [failed] = [row for row in _outbox() if row.recipient_email == refused.email]
    assert failed.status is OutboxStatus.FAILED  # 5xx: trying again would not help
    assert failed.last_error.startswith("550 5.1.1")


def test_a_temporary_refusal_is_retried_with_growing_delays_then_fails(rules, smtp_server):
    sponsor, _prisoner = _birthday_pairing()
    smtp_server.inbox.refuse[sponsor.email] = "451 4.3.0 Try again later"
    job.run(TODAY, NOW)
    [row] = _outbox()
    delays = []
    now = NOW
    while row.status is OutboxStatus.PENDING:
        delays.append(row.next_attempt_at - now)
        assert delivery.deliver(now + delays[-1] - timedelta(seconds=1)).attempted == 0
        now += delays[-1]
        delivery.deliver(now)
        db.session.refresh(row)

    assert delays == [timedelta(minutes=m) for m in (5, 30, 120, 480)]
    assert row.status is OutboxStatus.FAILED and row.attempts == 5
    assert row.last_error.startswith("451")
    assert smtp_server.inbox.messages == []


@pytest.fixture
def mail_port() -> int:
    return free_port()


@pytest.fixture
def down_then_up(config: dict[str, Any], mail_port: int) -> dict[str, Any]:
    config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail_port, MAIL_SUPPRESS_SEND=False)
    return config


def test_with_the_server_down_nothing_is_lost_and_later_everything_goes_once(
    down_then_up, rules, mail_port
):
    sponsors = [_birthday_pairing(name=f"Prisoner {number}")[0] for number in range(3)]

    first = job.run(TODAY, NOW)  # nobody listens on the port

    # Not tried, so no attempt used up: they wait for the server, and the run says so.
    assert first.delivered.attempted == 0 and first.delivered.unreachable
    assert first.status is RunStatus.UNDELIVERED
    assert {(row.status, row.attempts, row.claimed_by) for row in _outbox()} == {
        (OutboxStatus.PENDING, 0, None)
    }
    inbox = Inbox()
    controller = start_server(inbox, mail_port)
    try:
        later = job.run(TODAY, NOW + timedelta(minutes=1))
        again = job.run(TODAY, NOW + timedelta(hours=9))
    finally:
        controller.stop()

    assert later.delivered.sent == 3 and again.delivered.attempted == 0
    assert later.status is RunStatus.FINISHED
    assert sorted(message["To"] for message in inbox.messages) == sorted(s.email for s in sponsors)
    assert {(row.status, row.attempts) for row in _outbox()} == {(OutboxStatus.SENT, 1)}


def test_no_header_can_be_smuggled_in_through_the_data(rules, smtp_server):
    _birthday_pairing(name="Ales\r\nBcc: spy@evil.example\r\nX-Injected: yes")

    job.run(TODAY, NOW)

    [message] = smtp_server.inbox.messages
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"] and "Bcc: spy@evil.example" in message["Subject"]
    assert smtp_server.inbox.envelopes[0].rcpt_tos == [message["To"]]


def test_a_broken_template_fails_its_message_only(rules, smtp_server):
    sponsor, _prisoner = _birthday_pairing()
    rules["Birthday card"].template = "no_such_template"
    db.session.commit()
    _birthday_pairing(name="Other Prisoner", email="other@example.org")
    db.session.add(
        ReminderRule(
            name="Broken", trigger=Trigger.BIRTHDAY, offset_days=30, template="also_missing"
        )
    )
    db.session.commit()

    report = job.run(TODAY, NOW)

    assert report.delivered.sent == 0  # nothing else was due for the card's day
    failed = [row for row in _outbox() if row.status is OutboxStatus.FAILED]
    assert len(failed) == 4  # two rules x two godparents, each failed on its own
    assert all("TemplateNotFound" in row.last_error for row in failed)
    assert smtp_server.inbox.messages == []
    # The greeting on the day still goes to both.
    on_the_day = job.run(date(2026, 12, 26), NOW + timedelta(days=30))
    assert on_the_day.delivered.sent == 2
    assert sponsor.email in {message["To"] for message in smtp_server.inbox.messages}


def test_retrying_a_message_whose_template_failed_writes_it_again(rules, smtp_server):
    _birthday_pairing()
    rules["Birthday card"].template = "no_such_template"
    db.session.commit()
    job.run(TODAY, NOW)
    [row] = _outbox()
    assert row.status is OutboxStatus.FAILED

    rules["Birthday card"].template = "birthday_card"
    outbox.retry(row, NOW)
    db.session.commit()
    delivery.deliver(NOW)

    assert row.status is OutboxStatus.SENT
    [message] = smtp_server.inbox.messages
    assert "Ales Bialiatski" in message["Subject"]


def _run_in_thread(
    app: Flask, barrier: threading.Barrier, reports: list[Any], errors: list[BaseException]
) -> None:
    try:
        with app.app_context():
            barrier.wait(timeout=10)
            reports.append(job.run(TODAY, NOW))
            db.session.remove()
    except BaseException as error:  # handed to the test thread, which fails on it
        errors.append(error)


@pytest.fixture
def two_workers(app: Flask) -> Iterator[list[Flask]]:
    """Two more app instances on the same database, as on two machines."""
    from godparents import create_app

    workers = [create_app(dict(app.config)) for _ in range(2)]
    yield workers
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()


@pytest.mark.settings(REMINDER_BATCH_SIZE=5)
def test_two_runs_at_the_same_moment_send_every_message_exactly_once(
    rules, smtp_server, two_workers
):
    teams = [_birthday_pairing(name=f"Prisoner {number}") for number in range(12)]
    for sponsor, _prisoner in teams[:6]:
        make_delegate(sponsor)
    db.session.remove()
    barrier = threading.Barrier(2)
    reports: list[Any] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_run_in_thread, args=(worker, barrier, reports, errors))
        for worker in two_workers
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    received = sorted(message["To"] for message in smtp_server.inbox.messages)
    assert len(received) == 18 and len(set(received)) == 18
    assert sum(len(report.planned.new) for report in reports) == 18
    assert sum(report.delivered.sent for report in reports) == 18
    assert len(_outbox()) == 18
