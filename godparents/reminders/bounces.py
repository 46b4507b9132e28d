"""Bounces: delivery reports (RFC 3464) for mail the server had accepted.

MPs' addresses die at every election, so mail that left here can still come back. The
reports land in a mailbox, read here: a Maildir (tests, small installs) or IMAP. Each is
matched to its outbox message by the envelope sender it came back to (VERP, when
``REMINDER_BOUNCE_ADDRESS`` is set: ``bounces+<id>-<signature>@…``) or else by the
Message-ID it quotes. Then:

- **hard** (``Action: failed`` with a 5.x.x status): the address is undeliverable, nothing
  more is planned or sent to it, and the coordinators see it in a work list until the
  address changes or they clear it;
- **soft** (``Action: failed`` with a 4.x.x status: the far server gave up after trying):
  the message waits and goes again, as after a 4xx reply;
- ``delayed``, ``delivered``, ``relayed`` reports, auto-replies and any other mail are
  left alone (a delayed message is still being tried by the far server).

The standard library reads RFC 3464 well (``message/delivery-status`` parses into its
field blocks), so no library is added for it.
"""

from __future__ import annotations

import contextlib
import hmac
import imaplib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from godparents.database import begin_write
from godparents.extensions import db
from godparents.reminders.delivery import retry_delays, verp_signature
from godparents.reminders.models import (
    Bounce,
    BounceKind,
    OutboxMessage,
    OutboxStatus,
    UndeliverableAddress,
)

MAX_DIAGNOSTIC = 500
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})")


class MailboxError(Exception):
    """The bounce mailbox could not be read (its address or login is wrong, it is away)."""


@dataclass(frozen=True)
class Report:
    """One recipient's line of a delivery report."""

    recipient: str
    action: str
    status: str
    diagnostic: str | None

    @property
    def kind(self) -> BounceKind | None:
        if self.action != "failed":
            return None  # delayed, delivered, relayed, expanded: nothing to do
        if self.status.startswith("5"):
            return BounceKind.HARD
        if self.status.startswith("4"):
            return BounceKind.SOFT
        return None


@dataclass
class Parsed:
    """A delivery report as read: its recipients' lines and how to find the message."""

    reports: list[Report] = field(default_factory=list)
    verp_id: int | None = None
    quoted_message_id: str | None = None
    report_id: str | None = None


def _address(value: str | None) -> str:
    """The address of a report field such as ``rfc822; someone@example.org``."""
    if not value:
        return ""
    _kind, _semicolon, address = str(value).partition(";")
    return (address or _kind).strip().strip("<>").lower()


def _verp_id(message: Message) -> int | None:
    """The outbox message id in the address the report was delivered to, if signed."""
    bounce = current_app.config.get("REMINDER_BOUNCE_ADDRESS")
    if not bounce:
        return None
    local, _at, domain = getaddresses([bounce])[0][1].partition("@")
    pattern = re.compile(
        rf"^{re.escape(local)}\+(\d+)-([0-9a-f]{{10}})@{re.escape(domain)}$", re.IGNORECASE
    )
    for header in ("Delivered-To", "X-Original-To", "Envelope-To", "To"):
        for _name, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            match = pattern.match(address.strip())
            if match and hmac.compare_digest(
                match.group(2).lower(), verp_signature(int(match.group(1)))
            ):
                return int(match.group(1))
    return None


def parse(message: Message) -> Parsed | None:
    """The report in ``message``, or None when it is not an RFC 3464 delivery report."""
    report_type = message.get_param("report-type")  # a tuple when RFC 2231-encoded
    if (
        message.get_content_type() != "multipart/report"
        or not isinstance(report_type, str)
        or report_type.lower() != "delivery-status"
    ):
        return None
    parsed = Parsed(
        verp_id=_verp_id(message), report_id=(str(message.get("Message-ID") or "").strip() or None)
    )
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks[1:] if isinstance(blocks, list) else []:
                if not isinstance(block, Message):
                    continue
                status = _STATUS.match(str(block.get("Status", "")).strip())
                recipient = _address(block.get("Final-Recipient")) or _address(
                    block.get("Original-Recipient")
                )
                if not recipient or status is None:
                    continue
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split()) or None
                parsed.reports.append(
                    Report(
                        recipient,
                        str(block.get("Action", "")).strip().lower(),
                        ".".join(status.groups()),
                        diagnostic[:MAX_DIAGNOSTIC] if diagnostic else None,
                    )
                )
        elif kind in ("text/rfc822-headers", "message/rfc822") and parsed.quoted_message_id is None:
            parsed.quoted_message_id = _quoted_message_id(part)
    return parsed


def _quoted_message_id(part: Message) -> str | None:
    """The Message-ID of the original message, as the report quotes it."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        # message/rfc822: a parsed message
        found = payload[0].get("Message-ID")
    else:
        headers = part.get_payload(decode=True)
        found = message_from_bytes(
            headers if isinstance(headers, bytes) else b"", policy=policy.compat32
        ).get("Message-ID")
    return " ".join(str(found).split()) if found else None


def _message_for(parsed: Parsed) -> OutboxMessage | None:
    if parsed.verp_id is not None:
        found = db.session.get(OutboxMessage, parsed.verp_id)
        if found is not None:
            return found
    if parsed.quoted_message_id:
        return db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.email_message_id == parsed.quoted_message_id)
            .limit(1)
        )
    return None


@dataclass
class Outcome:
    hard: int = 0
    soft: int = 0
    ignored: int = 0  # not a report, not ours, or nothing to do


def apply(message: Message, now: datetime, outcome: Outcome) -> bool:
    """Act on one piece of mail from the bounce mailbox, committed; False if it was not
    a failure report about one of ours (to be left for a person)."""
    parsed = parse(message)
    if parsed is None:
        outcome.ignored += 1
        return False
    begin_write()
    if (
        parsed.report_id
        and db.session.scalar(select(Bounce.id).where(Bounce.report_id == parsed.report_id))
        is not None
    ):
        db.session.rollback()
        return True  # read before: done already
    found = _message_for(parsed)
    failures = [report for report in parsed.reports if report.kind is not None]
    if found is None or not failures:
        db.session.rollback()
        outcome.ignored += 1
        return found is not None  # ours, with nothing to act on (delayed, delivered)
    report = next(
        (r for r in failures if r.recipient == found.recipient_email.lower()), failures[0]
    )
    bounce = Bounce(
        message=found,
        email=found.recipient_email.lower(),
        kind=report.kind,
        status_code=report.status,
        diagnostic=report.diagnostic,
        report_id=parsed.report_id,
        received_at=now,
    )
    db.session.add(bounce)
    if report.kind is BounceKind.HARD:
        _undeliverable(found, bounce, report, now)
        outcome.hard += 1
    else:
        _again(found, report, now)
        outcome.soft += 1
    try:
        db.session.commit()
    except IntegrityError:  # another reader took the same report at this moment
        db.session.rollback()
    return True


def _describe(report: Report) -> str:
    return f"bounced: {report.status} {report.diagnostic or ''}".strip()[:1000]


def _undeliverable(message: OutboxMessage, bounce: Bounce, report: Report, now: datetime) -> None:
    """Nothing more to this address: the message shows as failed, what waits for the
    address fails with it, and the address goes on the coordinators' work list."""
    address = message.recipient_email.lower()
    message.status, message.last_error = OutboxStatus.FAILED, _describe(report)
    db.session.flush()
    if (
        db.session.scalar(
            select(UndeliverableAddress.id).where(UndeliverableAddress.email == address)
        )
        is None
    ):
        db.session.add(UndeliverableAddress(email=address, bounce=bounce, since=now))
    db.session.execute(
        update(OutboxMessage)
        .where(
            func.lower(OutboxMessage.recipient_email) == address,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(
            status=OutboxStatus.FAILED,
            claimed_by=None,
            next_attempt_at=None,
            last_error="the address bounced: no more mail goes to it",
        )
        .execution_options(synchronize_session=False)
    )
    current_app.logger.info("outbox message %s bounced for good (%s)", message.id, report.status)


def _again(message: OutboxMessage, report: Report, now: datetime) -> None:
    """The far server gave up for now: send it again later, as after a 4xx."""
    delays = retry_delays()
    if message.status is not OutboxStatus.SENT:
        return  # waiting or failed already: nothing to add
    attempts = message.attempts + 1
    message.attempts, message.last_error = attempts, _describe(report)
    if attempts > len(delays):
        message.status, message.next_attempt_at = OutboxStatus.FAILED, None
    else:
        message.status, message.next_attempt_at = OutboxStatus.PENDING, now + delays[attempts - 1]
    message.sent_at, message.claimed_by = None, None


# Mailboxes.


def read_mailbox(location: str, now: datetime) -> Outcome:
    """Read the new mail of the bounce mailbox (``maildir:/path`` or
    ``imaps://user:password@host[:port]/FOLDER``) and file each message away."""
    if location.startswith("maildir:"):
        return read_maildir(Path(location.removeprefix("maildir:")), now)
    if location.startswith(("imap://", "imaps://")):
        return read_imap(location, now)
    raise MailboxError("REMINDER_BOUNCE_MAILBOX must start with maildir:, imap:// or imaps://")


def read_maildir(path: Path, now: datetime) -> Outcome:
    """Each message in ``new`` is read and moved to ``cur``: seen when it was a report
    about one of ours, unseen (for a person to read) otherwise."""
    if not (path / "new").is_dir():
        raise MailboxError(f"no Maildir at {path}")
    box = mailbox.Maildir(path, factory=None, create=False)
    outcome = Outcome()
    for key in list(box.iterkeys()):
        item = box.get_message(key)
        if item.get_subdir() != "new":
            continue
        parsed = message_from_bytes(item.as_bytes(), policy=policy.compat32)
        handled = apply(parsed, now, outcome)
        item.set_subdir("cur")
        if handled:
            item.add_flag("S")
        box[key] = item
    return outcome


def _imap_parts(location: str) -> tuple[str, int, bool, str, str, str]:
    url = urlsplit(location)
    secure = url.scheme == "imaps"
    if not url.hostname or not url.username:
        raise MailboxError("the bounce mailbox needs a host and a user")
    folder = unquote(url.path.lstrip("/")) or "INBOX"
    return (
        url.hostname,
        url.port or (993 if secure else 143),
        secure,
        unquote(url.username),
        unquote(url.password or ""),
        folder,
    )


def read_imap(location: str, now: datetime) -> Outcome:
    """The unseen messages of the folder; each is marked seen once read, and flagged for a
    person when it was not a report about one of ours."""
    host, port, secure, user, password, folder = _imap_parts(location)
    timeout = float(current_app.config.get("MAIL_TIMEOUT", 30))
    outcome = Outcome()
    try:
        client = (
            imaplib.IMAP4_SSL(host, port, timeout=timeout)
            if secure
            else imaplib.IMAP4(host, port, timeout=timeout)
        )
        try:
            client.login(user, password)
            client.select(folder)
            for number, data in _unseen(client):
                handled = apply(message_from_bytes(data, policy=policy.compat32), now, outcome)
                client.store(number, "+FLAGS", "\\Seen" if handled else "(\\Seen \\Flagged)")
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"{type(error).__name__}: {error}") from error
    return outcome


def _unseen(client: imaplib.IMAP4) -> Iterator[tuple[str, bytes]]:
    _status, found = client.search(None, "UNSEEN")
    for number in (found[0] or b"").decode("ascii").split():
        _status, data = client.fetch(number, "(BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                yield number, item[1]
