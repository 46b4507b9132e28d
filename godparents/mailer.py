"""Sending one transactional email after the commit."""

from __future__ import annotations

import smtplib

from flask import current_app
from flask_mail import BadHeaderError, Message

from godparents.extensions import mail


def send_email(message: Message) -> bool:
    """Send ``message``; False if the mail server refused or could not be reached.

    Called after the commit, so an unreachable mail server never loses the change that the
    email is about; the caller tells the user to try again. The log names the subject only.
    """
    try:
        mail.send(message)
    except (OSError, smtplib.SMTPException, BadHeaderError, UnicodeEncodeError):
        # BadHeaderError: an address or subject with a line break (header injection) is
        # refused here, never sent. UnicodeEncodeError: an address with a non-ASCII name
        # part, stored before the forms refused them, cannot be written into a header.
        current_app.logger.exception("could not send %r", message.subject)
        return False
    return True
