"""Transactional emails (invitations, resets) with a real SMTP server, and with one that
never answers: the web request that sends them must not wait for ever."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask_mail import Message

from godparents.extensions import mail
from godparents.mailer import send_email
from tests.faultsmtp import mute_server


def test_an_email_arrives_once_for_each_recipient(app: Flask, smtp_server) -> None:
    message = Message("Invitation", recipients=["mp@example.org"], body="Welcome\n")
    with mail.record_messages() as recorded:
        assert send_email(message) is True
    [received] = smtp_server.inbox.messages
    assert received["To"] == "mp@example.org" and received["Subject"] == "Invitation"
    assert [m.subject for m in recorded] == ["Invitation"]


@pytest.mark.one_database("a mail server's timeout does not depend on the database")
@pytest.mark.slow
@pytest.mark.settings(MAIL_TIMEOUT=1, MAIL_SUPPRESS_SEND=False)
def test_a_mail_server_that_never_answers_gives_up_within_the_timeout(app: Flask) -> None:
    with mute_server() as mute:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mute.port)
        started = time.monotonic()
        sent = send_email(Message("Reset", recipients=["mp@example.org"], body="Link\n"))
        took = time.monotonic() - started
    assert sent is False and took < 3


def test_a_header_with_a_line_break_is_never_sent(app: Flask, smtp_server) -> None:
    message = Message("Hello\r\nBcc: spy@evil.example", recipients=["mp@example.org"], body="x\n")
    assert send_email(message) is False
    assert smtp_server.inbox.messages == []
