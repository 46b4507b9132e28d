"""Why a message did not go, in words a coordinator reads: what failed, what happens next
and when ("The mail server did not answer. Next try 14:35, 3 of 5.").

The outbox keeps the raw error (``last_error``, in English, as the mail server or the code
said it); this reads it. The raw text stays one click away for whoever fixes the server,
with the mail password cut out should a server ever repeat it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum

from flask import current_app
from flask_babel import format_time, gettext, ngettext, to_user_timezone

from godparents import formats
from godparents.reminders.models import OutboxMessage, OutboxStatus


class Failure(StrEnum):
    REFUSED = "refused"  # no connection: nothing listens, or a firewall says no
    TIMEOUT = "timeout"
    RECIPIENT = "recipient"  # 5xx about the address (enhanced status 5.1.x)
    REJECTED = "rejected"  # another 5xx: the server will not take the message
    LATER = "later"  # 4xx: the server asks to try again later
    AUTH = "auth"
    TLS = "tls"
    DISCONNECTED = "disconnected"
    BOUNCED = "bounced"  # a bounce came back after the server took it
    UNDELIVERABLE = "undeliverable"  # the address bounced before: no more mail goes to it
    UNWRITTEN = "unwritten"  # the email could not be written (a template, a deleted record)
    OTHER = "other"


_REPLY = re.compile(r"^\s*([45])(\d\d)\b\s*(?:([245])\.(\d{1,3})\.\d{1,3})?")


def classify(raw: str | None) -> Failure:
    """The kind of failure a stored error describes (see ``smtp._describe``,
    ``delivery``, ``bounces`` and ``writing`` for what they store)."""
    text = (raw or "").strip()
    lowered = text.lower()
    if lowered.startswith("the address bounced"):
        return Failure.UNDELIVERABLE
    if lowered.startswith("bounced"):
        return Failure.BOUNCED
    if "authentication" in lowered or re.match(r"^\s*(530|534|535)\b", text):
        return Failure.AUTH
    if any(word in lowered for word in ("ssl", "tls", "certificate")):
        return Failure.TLS
    if "refused the connection" in lowered or "connectionrefused" in lowered:
        return Failure.REFUSED
    if "errno 111" in lowered or "name or service not known" in lowered:
        return Failure.REFUSED
    if "in time" in lowered or "no reply within" in lowered or "timed out" in lowered:
        return Failure.TIMEOUT
    if lowered.startswith("421") or any(
        words in lowered
        for words in ("connection lost", "closed the connection", "disconnected", "no connection")
    ):
        return Failure.DISCONNECTED
    reply = _REPLY.match(text)
    if reply:
        if reply.group(1) == "4":
            return Failure.LATER
        if reply.group(4) == "1":
            return Failure.RECIPIENT
        return Failure.REJECTED
    if "template" in lowered or "no longer exists" in lowered or "rendered no subject" in lowered:
        return Failure.UNWRITTEN
    return Failure.OTHER


def what_failed(raw: str | None) -> str:
    """The first sentence: what failed, for the kind of ``raw``."""
    kind = classify(raw)
    if kind is Failure.REFUSED:
        return gettext("The mail server did not answer.")
    if kind is Failure.TIMEOUT:
        return gettext("The mail server did not answer in time.")
    if kind is Failure.RECIPIENT:
        return gettext("The mail server does not know this address.")
    if kind is Failure.REJECTED:
        return gettext("The mail server refused to take the message.")
    if kind is Failure.LATER:
        return gettext("The mail server asked us to try again later.")
    if kind is Failure.AUTH:
        return gettext(
            "The mail server did not accept the app's login: the mail settings need checking."
        )
    if kind is Failure.TLS:
        return gettext(
            "No secure connection to the mail server could be made: "
            "the mail settings or the server's certificate need checking."
        )
    if kind is Failure.DISCONNECTED:
        return gettext("The connection to the mail server broke while the message was sent.")
    if kind is Failure.BOUNCED:
        return gettext("The message came back: the recipient's mail server could not deliver it.")
    if kind is Failure.UNDELIVERABLE:
        return gettext("Mail to this address came back before, so nothing more is sent to it.")
    if kind is Failure.UNWRITTEN:
        return gettext("The email could not be written.")
    return gettext("Sending failed.")


def _when(moment: datetime, now: datetime) -> str:
    """A time today as "14:35", another day with its date."""
    if to_user_timezone(moment).date() == to_user_timezone(now).date():
        return format_time(moment, "short")
    return formats.format_moment(moment, "short")


def what_next(message: OutboxMessage, now: datetime | None = None) -> str:
    """The second sentence: when the next attempt is and which of how many, or that there
    will be none and why."""
    tries = len(current_app.config["REMINDER_RETRY_MINUTES"]) + 1
    kind = classify(message.last_error)
    if message.status is OutboxStatus.PENDING and message.next_attempt_at is not None:
        return gettext(
            "Next try %(time)s, %(attempt)d of %(tries)d.",
            time=_when(message.next_attempt_at, now or datetime.now(UTC)),
            attempt=message.attempts + 1,
            tries=tries,
        )
    if message.status is not OutboxStatus.FAILED:
        return ""
    if kind in (Failure.BOUNCED, Failure.UNDELIVERABLE):
        return gettext(
            "Nothing more is sent to this address until a coordinator clears it on the start "
            "page, after checking it with the recipient."
        )
    if kind is Failure.UNWRITTEN:
        return gettext("It will not be tried again; retry it once the reminder is fixed.")
    if message.attempts >= tries:
        return ngettext(
            "Given up after %(num)d attempt; retry it once the cause is fixed.",
            "Given up after %(num)d attempts; retry it once the cause is fixed.",
            message.attempts,
        )
    return gettext("It will not be tried again; retry it once the cause is fixed.")


def explain(message: OutboxMessage, now: datetime | None = None) -> str:
    """Both sentences, for the outbox: "" when nothing went wrong."""
    if not message.last_error or message.status in (OutboxStatus.SENT, OutboxStatus.CANCELLED):
        return ""
    return f"{what_failed(message.last_error)} {what_next(message, now)}"


def raw_error(raw: str | None) -> str:
    """The stored error for the technical details, the mail password never in it."""
    text = raw or ""
    password = current_app.config.get("MAIL_PASSWORD")
    if password and len(str(password)) >= 4:
        text = text.replace(str(password), "…")
    return text
