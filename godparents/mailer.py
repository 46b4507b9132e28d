"""Sending one transactional email (an invitation, a password reset) after the commit."""

from __future__ import annotations

import time

from flask import current_app
from flask_mail import BadHeaderError, Message, email_dispatched, sanitize_address

from godparents.reminders.smtp import Dropped, Refused, Session, Settings, Unreachable


def send_email(message: Message) -> bool:
    """Send ``message``; False if the mail server refused it or could not be reached.

    Called after the commit, so an unreachable mail server never loses the change that the
    email is about; the caller tells the user to try again. Flask-Mail composes it; the
    reminders' SMTP client sends it, with a timeout on every step and a deadline for the
    message, so a mail server that never answers cannot hold a web request (Flask-Mail's
    own connection has no timeout). The log names the subject only.
    """
    try:
        if message.has_bad_headers():
            # A line break in an address or the subject (header injection): never sent.
            raise BadHeaderError
        if message.date is None:
            message.date = time.time()
        data = message.as_bytes()
        session = Session(Settings.from_config())
        try:
            session.open()
            sender = sanitize_address(message.sender)
            for recipient in sorted(message.send_to):
                session.send(sender, sanitize_address(recipient), data)
        finally:
            session.close()
    except (BadHeaderError, UnicodeEncodeError, Unreachable, Refused, Dropped) as error:
        # UnicodeEncodeError: an address with a non-ASCII name part, stored before the
        # forms refused them, cannot be written into a header.
        current_app.logger.warning("could not send %r: %s", message.subject, type(error).__name__)
        return False
    # The app itself, not the proxy: receivers compare it with the app they connected for.
    # (Flask types current_app as the Flask it stands for, hiding the proxy's method.)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    email_dispatched.send(app, message=message)
    return True
