"""Delivery: send the due messages of the outbox, a batch per SMTP connection.

Each batch is first *claimed* in its own short transaction: its messages get an attempt and
a lease (``next_attempt_at`` a few minutes ahead), chosen with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL and under SQLite's single writer lock elsewhere, so two workers never take the
same message. Then the batch is sent over one connection and each message is marked on its
own: sent; or, after an error, retried later with a growing delay, and ``failed`` after the
last attempt or at once when the server refuses it for good (5xx). If the process dies
between sending and marking, the lease runs out and the message goes again: SMTP offers no
way to make that window smaller than one message.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message, sanitize_address
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from godparents.database import begin_write
from godparents.extensions import db, mail
from godparents.reminders.messages import (
    dated,
    list_unsubscribe_headers,
    url_context,
)
from godparents.reminders.models import OutboxContent, OutboxMessage, OutboxStatus

LEASE = timedelta(minutes=10)
MAX_ERROR = 1000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


def retry_delays() -> list[timedelta]:
    return [timedelta(minutes=minutes) for minutes in current_app.config["REMINDER_RETRY_MINUTES"]]


def is_due(now: datetime) -> object:
    """Waiting, written out (a subject), and its time has come."""
    return (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.email_subject != "") \
        & or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)


def claim(now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due messages for this worker and commit: theirs alone now."""
    due = select(OutboxMessage.id).where(is_due(now)).order_by(OutboxMessage.id).limit(limit)
    begin_write()
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), is_due(now))
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def build(row: OutboxMessage) -> Message:
    """A Flask-Mail message for a row written before composed bytes were kept."""
    headers = {}
    if row.rule is not None and row.recipient_user_id is not None:
        headers = list_unsubscribe_headers(row.recipient_user_id, row.rule.trigger)
    return Message(subject=row.email_subject, recipients=[row.recipient_email],
                   body=row.body_text, html=row.body_html, extra_headers=headers)


def transmit(connection: Connection, row: OutboxMessage, sender: str) -> None:
    """Send one message over Flask-Mail's open connection.

    The bytes were composed by Flask-Mail when the message was written out; sending them
    as they are (only the date set to now) keeps delivery as quick as the SMTP exchange
    itself. With MAIL_SUPPRESS_SEND (development, tests) Flask-Mail has no server: nothing
    leaves the machine and the message counts as sent.
    """
    if row.mime is None:
        connection.send(build(row))
    elif connection.host is not None:
        connection.host.sendmail(sender, [row.recipient_email], dated(row.mime))


def _refusal(error: smtplib.SMTPException) -> tuple[int | None, str]:
    """The server's code and words, from whichever kind of refusal this is."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return None, str(error)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return code, f"{code} {text}"


@dataclass
class Outcome:
    """What happened to one message of a batch, written down after the batch."""

    row: OutboxMessage
    error: str | None = None
    permanent: bool = False


def record_error(outcome: Outcome, now: datetime, report: DeliveryReport) -> None:
    """Try again later, with a longer wait each time; failed after the last attempt, or at
    once when the server refused for good (5xx)."""
    row = outcome.row
    delays = retry_delays()
    row.last_error = outcome.error[:MAX_ERROR]
    if outcome.permanent or row.attempts > len(delays):
        row.status, row.next_attempt_at = OutboxStatus.FAILED, None
        report.failed += 1
    else:
        row.next_attempt_at = now + delays[row.attempts - 1]
        report.retrying += 1
    report.errors.append(f"message {row.id}: {row.last_error}")


def _send_all(rows: list[OutboxMessage]) -> tuple[list[Outcome], BaseException | None]:
    """Send over one connection; what became of each, and the error that ended it early."""
    outcomes: list[Outcome] = []
    sender = sanitize_address(current_app.extensions["mail"].default_sender)
    try:
        with mail.connect() as connection:
            for row in rows:
                try:
                    transmit(connection, row, sender)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                        smtplib.SMTPDataError) as error:
                    code, text = _refusal(error)
                    outcomes.append(Outcome(row, text, code is not None and code >= 500))
                except BadHeaderError:
                    outcomes.append(Outcome(row, "a header held a line break", True))
                else:
                    outcomes.append(Outcome(row))
    except (OSError, smtplib.SMTPException) as error:
        return outcomes, error
    return outcomes, None


def send_batch(ids: list[int], now: datetime, report: DeliveryReport) -> bool:
    """Send the claimed messages over one connection, then mark each in one transaction;
    False if the server could not be reached or went away (the rest wait for the next
    attempt, as the backoff says)."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                              .options(joinedload(OutboxMessage.rule),
                                       selectinload(OutboxMessage.content))
                              .order_by(OutboxMessage.id)).all()
    outcomes, broken = _send_all(list(rows))
    if broken is not None:
        current_app.logger.warning("mail server unavailable: %s", type(broken).__name__)
        done = {outcome.row.id for outcome in outcomes}
        outcomes.extend(Outcome(row, f"mail server unavailable: {type(broken).__name__}: "
                                     f"{broken}") for row in rows if row.id not in done)
    sent = [outcome.row.id for outcome in outcomes if outcome.error is None]
    begin_write()
    if sent:  # one statement for the many that went
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(sent))
            .values(status=OutboxStatus.SENT, sent_at=now, next_attempt_at=None,
                    last_error=None)
            .execution_options(synchronize_session=False))
        report.sent += len(sent)
    for outcome in outcomes:
        if outcome.error is not None:
            record_error(outcome, now, report)
    db.session.commit()
    return broken is None


def forget_composed() -> int:
    """Drop the composed bytes of messages that went or will not go (the bodies stay):
    housekeeping after delivery, kept out of its way."""
    done = select(OutboxMessage.id).where(
        OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.CANCELLED]))
    begin_write()
    result = db.session.execute(
        update(OutboxContent).where(OutboxContent.mime.is_not(None),
                                    OutboxContent.message_id.in_(done))
        .values(mime=None).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0


def deliver(now: datetime, batch_size: int | None = None, limit: int | None = None
            ) -> DeliveryReport:
    """Send every due message (at most ``limit``), a batch per connection."""
    report = DeliveryReport()
    size = batch_size or current_app.config["REMINDER_BATCH_SIZE"]
    with url_context():  # the List-Unsubscribe links
        while limit is None or report.attempted < limit:
            wanted = size if limit is None else min(size, limit - report.attempted)
            ids = claim(now, wanted)
            if not ids or not send_batch(ids, now, report):
                break
    return report
