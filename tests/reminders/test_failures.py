"""The outbox says in plain words what failed, what happens next and when; the raw error
stays one click away (and never holds the mail password)."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from godparents.extensions import db
from godparents.reminders import failures
from godparents.reminders.failures import Failure
from godparents.reminders.models import OutboxMessage, OutboxStatus
from godparents.reminders.smtp import Refused, _describe
from tests.factories import make_coordinator, make_outbox_message
from tests.helpers import LoginAs

NOW = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)  # 14:05 in Berlin
NEXT = datetime(2026, 12, 3, 13, 35, tzinfo=UTC)  # 14:35 in Berlin


def _timed_out() -> smtplib.SMTPServerDisconnected:
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as error:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed") from error
    except smtplib.SMTPServerDisconnected as disconnected:
        return disconnected


# What each failure leaves in last_error, as delivery, smtp, bounces and writing store it.
RAW = {
    Failure.REFUSED: _describe(ConnectionRefusedError(111, "Connection refused")),
    Failure.TIMEOUT: _describe(_timed_out()),
    Failure.RECIPIENT: str(Refused(550, "5.1.1 <nobody@example.org>: Recipient address rejected")),
    Failure.REJECTED: str(Refused(554, "5.7.1 Message rejected as spam")),
    Failure.LATER: str(Refused(451, "4.7.1 Greylisted, try again later")),
    Failure.AUTH: _describe(smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed")),
    Failure.TLS: _describe(ssl.SSLCertVerificationError("certificate verify failed")),
    Failure.DISCONNECTED: "connection lost while sending: the mail server closed the connection",
    Failure.BOUNCED: "bounced: 5.1.1 smtp; 550 5.1.1 user unknown",
    Failure.UNDELIVERABLE: "the address bounced: no more mail goes to it",
    Failure.UNWRITTEN: "TemplateNotFound: reminders/email/gone.txt",
    Failure.OTHER: "ValueError: something unforeseen",
}


@pytest.mark.parametrize("kind", list(Failure))
def test_every_stored_error_is_recognised(kind: Failure) -> None:
    assert failures.classify(RAW[kind]) is kind


def test_a_run_that_could_not_reach_the_server_is_recognised() -> None:
    raw = "mail server unavailable: " + RAW[Failure.REFUSED]
    assert failures.classify(raw) is Failure.REFUSED
    assert failures.classify("SMTPNotSupportedError: STARTTLS extension not supported") == "tls"
    assert failures.classify("the mail server did not answer in time") is Failure.TIMEOUT
    assert failures.classify("no reply within 30 s") is Failure.TIMEOUT
    assert failures.classify("421 4.4.2 closing") is Failure.DISCONNECTED
    assert failures.classify(None) is Failure.OTHER


def _message(kind: Failure, status: OutboxStatus, attempts: int, next_at=None) -> OutboxMessage:
    return OutboxMessage(
        status=status,
        attempts=attempts,
        last_error=RAW[kind],
        next_attempt_at=next_at,
        recipient_email="mp@example.org",
    )


WAITING = [
    (Failure.REFUSED, "The mail server did not answer. Next try 14:35, 3 of 5."),
    (Failure.TIMEOUT, "The mail server did not answer in time. Next try 14:35, 3 of 5."),
    (Failure.LATER, "The mail server asked us to try again later. Next try 14:35, 3 of 5."),
    (
        Failure.DISCONNECTED,
        "The connection to the mail server broke while the message was sent. "
        "Next try 14:35, 3 of 5.",
    ),
    (
        Failure.AUTH,
        "The mail server did not accept the app's login: the mail settings need checking. "
        "Next try 14:35, 3 of 5.",
    ),
    (
        Failure.TLS,
        "No secure connection to the mail server could be made: the mail settings or the "
        "server's certificate need checking. Next try 14:35, 3 of 5.",
    ),
]


@pytest.mark.parametrize(("kind", "expected"), WAITING)
def test_a_waiting_message_says_what_failed_and_when_it_is_tried_again(
    app: Flask, kind: Failure, expected: str
) -> None:
    with app.test_request_context():
        assert failures.explain(_message(kind, OutboxStatus.PENDING, 2, NEXT), NOW) == expected


def test_a_next_try_on_another_day_names_the_day(app: Flask) -> None:
    message = _message(Failure.LATER, OutboxStatus.PENDING, 3, NEXT + timedelta(days=1))
    with app.test_request_context():
        assert failures.explain(message, NOW).endswith("Next try 4 Dec 2026, 14:35, 4 of 5.")


FAILED = [
    (
        Failure.RECIPIENT,
        1,
        "The mail server does not know this address. "
        "It will not be tried again; retry it once the cause is fixed.",
    ),
    (
        Failure.REJECTED,
        1,
        "The mail server refused to take the message. "
        "It will not be tried again; retry it once the cause is fixed.",
    ),
    (
        Failure.REFUSED,
        5,
        "The mail server did not answer. Given up after 5 attempts; retry it once the cause "
        "is fixed.",
    ),
    (
        Failure.BOUNCED,
        1,
        "The message came back: the recipient's mail server could not deliver it. Nothing "
        "more is sent to this address until a coordinator clears it on the start page, after "
        "checking it with the recipient.",
    ),
    (
        Failure.UNDELIVERABLE,
        0,
        "Mail to this address came back before, so nothing more is sent to it. Nothing more "
        "is sent to this address until a coordinator clears it on the start page, after "
        "checking it with the recipient.",
    ),
    (
        Failure.UNWRITTEN,
        0,
        "The email could not be written. It will not be tried again; retry it once the "
        "reminder is fixed.",
    ),
    (
        Failure.OTHER,
        5,
        "Sending failed. Given up after 5 attempts; retry it once the cause is fixed.",
    ),
]


@pytest.mark.parametrize(("kind", "attempts", "expected"), FAILED)
def test_a_failed_message_says_what_failed_and_that_nothing_more_happens(
    app: Flask, kind: Failure, attempts: int, expected: str
) -> None:
    with app.test_request_context():
        assert failures.explain(_message(kind, OutboxStatus.FAILED, attempts), NOW) == expected


def test_a_sent_or_cancelled_message_has_nothing_to_explain(app: Flask) -> None:
    with app.test_request_context():
        for status in (OutboxStatus.SENT, OutboxStatus.CANCELLED):
            assert failures.explain(_message(Failure.REFUSED, status, 1), NOW) == ""


@pytest.mark.settings(MAIL_PASSWORD="hunter2-secret")
def test_the_raw_error_never_shows_the_mail_password(app: Flask) -> None:
    assert failures.raw_error("535 bad login for user:hunter2-secret") == "535 bad login for user:…"


def test_the_outbox_shows_plain_words_and_the_raw_error_behind_a_click(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    message = make_outbox_message(
        status=OutboxStatus.PENDING,
        attempts=1,
        last_error="the mail server refused the connection",
        next_attempt_at=datetime.now(UTC) + timedelta(days=2),
    )
    db.session.commit()
    login_as(make_coordinator())
    for path in ("/coordinator/reminders/outbox", f"/coordinator/reminders/outbox/{message.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "The mail server did not answer. Next try " in page and ", 2 of 5." in page
        assert "<summary>Technical details</summary>" in page
        assert "the mail server refused the connection" in page
        assert "ConnectionRefusedError" not in page
