"""Delivery: send the due messages of the outbox, each marked sent in its own commit.

The promise is "exactly once" as far as SMTP allows it, on one machine or several:

1. **Claim.** A runner takes a batch of due messages in one short transaction: they get
   its name (``claimed_by``) and a lease (``next_attempt_at``, ``REMINDER_LEASE_SECONDS``
   ahead). PostgreSQL chooses them with ``FOR UPDATE SKIP LOCKED`` inside a materialised
   CTE (a plain ``IN (subquery)`` may be run again for each row and claim far more than
   asked); SQLite under its single writer lock. "Now" is read at every claim.
2. **Send, then mark.** No transaction is open while SMTP talks. Right after the server's
   250 the message is marked sent in a commit of its own, and only if this runner still
   owns it. Before each message the runner makes sure its lease outlasts the message's own
   deadline (renewing it for the rest of the batch when needed), so no other runner can
   take a message while it is being sent.
3. **What can go twice**: only the message in flight when the process dies (``kill -9``,
   power) or its connection breaks after the server took it but before the reply arrived:
   SMTP has no way to ask "did you get it?". Its lease runs out and it goes again.

An attempt is counted only when the server was really tried with the message: a message
never sent because the server was unreachable, the run was told to stop or its time ran
out keeps its attempts and is handed back at once. A connection that breaks mid-batch is
opened again for the rest; a 4xx waits (``REMINDER_RETRY_MINUTES``), a 5xx fails at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import cache
from typing import Any

from flask import current_app
from flask_mail import sanitize_address
from sqlalchemy import ColumnElement, String, bindparam, func, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from godparents.database import begin_write, rows_changed
from godparents.extensions import db
from godparents.reminders.messages import (
    TemplateProblem,
    compose,
    dated,
    message_id_of,
    url_context,
)
from godparents.reminders.models import (
    OutboxContent,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    Trigger,
    UndeliverableAddress,
)
from godparents.reminders.smtp import Dropped, Refused, Session, Settings, Unreachable

MAX_ERROR = 1000
MARK_TRIES = 3  # a lost database connection while marking: reconnect and mark again

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(now: datetime) -> Clock:
    """Always ``now``: for tests and replays that pass the time in."""
    return lambda: now


def never() -> bool:
    return False


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    # Why delivery ended before every due message was dealt with, if it did.
    unreachable: str | None = None  # the server could not be reached
    out_of_time: bool = False  # the run's deadline came
    stopped: bool = False  # the process was told to stop
    lost_leases: int = 0  # sent, but another runner owned it by then (should never happen)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    @property
    def complete(self) -> bool:
        return self.unreachable is None and not self.out_of_time and not self.stopped


@dataclass(frozen=True)
class Limits:
    """How much one runner takes on at a time."""

    batch_size: int
    batch_seconds: float  # a batch longer than this hands its rest back and claims anew
    lease: timedelta
    message_seconds: float

    @classmethod
    def from_config(cls, batch_size: int | None = None) -> Limits:
        config = current_app.config
        return cls(
            batch_size or config["REMINDER_BATCH_SIZE"],
            float(config["REMINDER_BATCH_SECONDS"]),
            timedelta(seconds=float(config["REMINDER_LEASE_SECONDS"])),
            float(config["REMINDER_MESSAGE_SECONDS"]),
        )

    @property
    def margin(self) -> timedelta:
        """What a lease must still have left before a message is sent under it: the
        message's whole deadline, and as much again for the marking and the clocks."""
        return timedelta(seconds=2 * self.message_seconds + 1)


def retry_delays() -> list[timedelta]:
    return [timedelta(minutes=minutes) for minutes in current_app.config["REMINDER_RETRY_MINUTES"]]


def is_due(now: datetime) -> ColumnElement[bool]:
    """Waiting, written out (a subject), and its time has come (or its lease ran out)."""
    return (
        (OutboxMessage.status == OutboxStatus.PENDING)
        & (OutboxMessage.email_subject != "")
        & or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
    )


_PG_CLAIM = text("""
    WITH chosen AS MATERIALIZED (
        SELECT id FROM outbox_messages
        WHERE status = 'pending' AND email_subject <> ''
          AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
        ORDER BY id LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_messages AS message
    SET claimed_by = :owner, next_attempt_at = :until
    FROM chosen WHERE message.id = chosen.id
    RETURNING message.id
""")


def claim(owner: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Take up to ``limit`` due messages for ``owner`` and commit: theirs alone until
    ``now + lease`` (unless renewed). Exactly ``limit`` when that many are due."""
    if db.engine.dialect.name == "postgresql":
        claimed = db.session.scalars(
            _PG_CLAIM, {"now": now, "limit": limit, "owner": owner, "until": now + lease}
        ).all()
    else:
        begin_write()  # SQLite's writer lock: nobody else claims between the two
        ids = db.session.scalars(
            select(OutboxMessage.id).where(is_due(now)).order_by(OutboxMessage.id).limit(limit)
        ).all()
        claimed = (
            db.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_by=owner, next_attempt_at=now + lease)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).all()
            if ids
            else []
        )
    db.session.commit()
    return sorted(claimed)


def _mine(owner: str) -> ColumnElement[bool]:
    return (OutboxMessage.claimed_by == owner) & (OutboxMessage.status == OutboxStatus.PENDING)


def renew(owner: str, ids: list[int], until: datetime) -> set[int]:
    """Extend the lease on those of ``ids`` this runner still owns; which those are."""
    if not ids:
        return set()
    begin_write()
    kept = set(
        db.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _mine(owner))
            .values(next_attempt_at=until)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return kept


def release(owner: str, ids: list[int], now: datetime) -> None:
    """Hand back messages this runner claimed and did not try: due again at once, their
    attempts unchanged."""
    if not ids:
        return
    begin_write()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _mine(owner))
        .values(claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@cache
def _mark_sent_statement(new_message_id: bool) -> Any:
    """Built once: marking runs once per message. The Message-ID is written only when the
    email was composed just now (else it is the one stored when it was written)."""
    table = OutboxMessage.__table__
    values: dict[str, Any] = {
        "status": OutboxStatus.SENT,
        "sent_at": bindparam("now"),
        "next_attempt_at": None,
        "claimed_by": None,
        "last_error": None,
        "attempts": table.c.attempts + 1,
    }
    if new_message_id:
        values["email_message_id"] = bindparam("email_message_id", type_=String)
    return (
        table.update()
        .where(
            table.c.id == bindparam("message_id"),
            table.c.claimed_by == bindparam("owner"),
            table.c.status == OutboxStatus.PENDING,
        )
        .values(**values)
    )


class Marker:
    """Marks messages as they go, each in a commit of its own, on a database connection of
    its own (Core, without the session's work: it runs once per message). If that
    connection is lost (a restart, a terminated backend), it takes a new one and marks
    again: the mark is what keeps a message that went from going again.

    A single UPDATE needs no BEGIN IMMEDIATE on SQLite: it reads nothing first, so it
    takes the write lock at once (waiting its turn) and cannot deadlock."""

    def __init__(self) -> None:
        self.connection: Connection | None = None

    def _write(self, statement: Any, values: dict[str, Any]) -> int:
        for attempt in range(MARK_TRIES):
            if self.connection is None:
                self.connection = db.engine.connect()
            try:
                done = self.connection.execute(statement, values).rowcount
                self.connection.commit()
                return done
            except DBAPIError as error:
                self.close()
                if not error.connection_invalidated or attempt == MARK_TRIES - 1:
                    raise
                current_app.logger.warning("database connection lost while marking; again")
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()

    def sent(
        self, owner: str, message_id: int, now: datetime, email_message_id: str | None
    ) -> bool:
        """Sent, right after the server's 250; only by its owner. False if another runner
        owns it by now (its lease ran out: a frozen process)."""
        values = {"message_id": message_id, "owner": owner, "now": now}
        if email_message_id is not None:
            values["email_message_id"] = email_message_id
        return self._write(_mark_sent_statement(email_message_id is not None), values) == 1

    def error(
        self,
        owner: str,
        row: Row,
        error: str,
        permanent: bool,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        """Tried and not taken: again later, with a longer wait each time; failed after
        the last attempt, or at once when the server refused for good (5xx)."""
        delays = retry_delays()
        attempts = row.attempts + 1
        failed = permanent or attempts > len(delays)
        table = OutboxMessage.__table__
        statement = (
            table.update()
            .where(
                table.c.id == row.id,
                table.c.claimed_by == owner,
                table.c.status == OutboxStatus.PENDING,
            )
            .values(
                attempts=attempts,
                last_error=error[:MAX_ERROR],
                claimed_by=None,
                status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
                next_attempt_at=None if failed else now + delays[attempts - 1],
            )
        )
        if self._write(statement, {}) == 1:
            if failed:
                report.failed += 1
            else:
                report.retrying += 1
        else:
            report.lost_leases += 1
        report.errors.append(f"message {row.id}: {error[:MAX_ERROR]}")


@dataclass
class Row:
    """What sending one message needs, read in one short transaction before SMTP."""

    id: int
    email: str
    attempts: int
    mime: bytes | None
    subject: str
    body_text: str
    body_html: str | None
    user_id: int
    trigger: Trigger


def load(ids: list[int]) -> list[Row]:
    """The claimed messages, as plain values; the transaction ends before SMTP starts."""
    rows = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient_email,
            OutboxMessage.attempts,
            OutboxContent.mime,
            OutboxMessage.email_subject,
            OutboxContent.body_text,
            OutboxContent.body_html,
            OutboxMessage.recipient_user_id,
            ReminderRule.trigger,
        )
        .join(ReminderRule, ReminderRule.id == OutboxMessage.rule_id)
        .outerjoin(OutboxContent, OutboxContent.message_id == OutboxMessage.id)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()
    db.session.rollback()  # nothing written: no transaction stays open while SMTP talks
    return [Row(*row[:5], row[5] or "", *row[6:]) for row in rows]


def _bytes(row: Row) -> tuple[bytes, str | None]:
    """The email as it goes on the wire (date set to now), and its Message-ID when it was
    composed just now: a row whose composed bytes were dropped (a soft bounce sends it
    again) or never kept."""
    if row.mime is not None:
        return dated(row.mime), None
    with url_context():
        data = compose(
            row.subject, row.body_text, row.body_html, row.email, row.user_id, row.trigger
        )
    return dated(data), message_id_of(data)


def envelope_sender(message_id: int) -> str:
    """The address bounces come back to. With ``REMINDER_BOUNCE_ADDRESS`` set, each message
    has its own (VERP: ``bounces+1234-5f3a9c0d1e@campaign.example``), signed so that a
    forged bounce cannot stop someone's reminders; else the sender's."""
    return _envelope_senders()(message_id)


def _envelope_senders() -> Callable[[int], str]:
    """The envelope sender for each message id, its parts worked out once per batch."""
    bounce = current_app.config.get("REMINDER_BOUNCE_ADDRESS")
    if not bounce:
        sender = sanitize_address(current_app.extensions["mail"].default_sender)
        return lambda message_id: sender
    local, _at, domain = parseaddr(bounce)[1].partition("@")
    return lambda message_id: f"{local}+{message_id}-{verp_signature(message_id)}@{domain}"


def verp_signature(message_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"verp:{message_id}".encode(), hashlib.sha256).hexdigest()[:10]


@dataclass
class Runner:
    """One delivery pass of one process: its name, its clock and its bounds."""

    clock: Clock
    limits: Limits
    stop: Callable[[], bool] = never
    deadline: float | None = None  # time.monotonic() by which to have stopped
    heartbeat: Callable[[DeliveryReport], None] | None = None
    owner: str = field(default_factory=lambda: secrets.token_hex(8))
    marker: Marker = field(default_factory=lambda: Marker())

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def deliver(self, limit: int | None = None) -> DeliveryReport:
        report = DeliveryReport()
        session = Session(Settings.from_config())
        self.marker = Marker()
        try:
            with url_context():  # the List-Unsubscribe links of older rows
                while limit is None or report.attempted < limit:
                    if self._must_end(report):
                        break
                    wanted = (
                        self.limits.batch_size
                        if limit is None
                        else min(self.limits.batch_size, limit - report.attempted)
                    )
                    ids = claim(self.owner, self.clock(), wanted, self.limits.lease)
                    if not ids:
                        break
                    self._send_batch(ids, session, report, limit)
                    if self.heartbeat is not None:
                        self.heartbeat(report)
                    if report.unreachable is not None:
                        break
        finally:
            session.close()
            self.marker.close()
        return report

    def _must_end(self, report: DeliveryReport) -> bool:
        if self.stop():
            report.stopped = True
        elif self.out_of_time():
            report.out_of_time = True
        return report.stopped or report.out_of_time

    def _send_batch(
        self, ids: list[int], session: Session, report: DeliveryReport, limit: int | None
    ) -> None:
        rows = load(ids)
        undeliverable = self._undeliverable(rows)
        lease_end = self.clock() + self.limits.lease
        ends = time.monotonic() + self.limits.batch_seconds
        sender_of = _envelope_senders()
        ids = [row.id for row in rows]
        for index, row in enumerate(rows):
            if (
                self._must_end(report)
                or time.monotonic() >= ends
                or (limit is not None and report.attempted >= limit)
            ):
                release(self.owner, ids[index:], self.clock())
                return
            if row.email in undeliverable:
                self.marker.error(
                    self.owner,
                    row,
                    "the address bounced: no more mail goes to it",
                    True,
                    self.clock(),
                    report,
                )
                continue
            if lease_end - self.clock() < self.limits.margin:
                owned = renew(self.owner, ids[index:], self.clock() + self.limits.lease)
                lease_end = self.clock() + self.limits.lease
                if row.id not in owned:
                    report.lost_leases += 1
                    continue
            try:
                data, message_id = _bytes(row)
            except TemplateProblem as problem:
                self.marker.error(self.owner, row, str(problem), True, self.clock(), report)
                continue
            try:
                session.open()
            except Unreachable as error:
                report.unreachable = f"mail server unavailable: {error}"
                current_app.logger.warning("mail server unavailable: %s", error)
                release(self.owner, ids[index:], self.clock())
                return
            try:
                session.send(sender_of(row.id), row.email, data)
            except Refused as refusal:
                self.marker.error(
                    self.owner, row, str(refusal), refusal.permanent, self.clock(), report
                )
            except Dropped as drop:
                # It may have arrived: it waits like a 4xx; the rest go on a new connection.
                current_app.logger.warning(
                    "mail connection lost during message %s: %s", row.id, drop
                )
                self.marker.error(
                    self.owner,
                    row,
                    f"connection lost while sending: {drop}",
                    False,
                    self.clock(),
                    report,
                )
            else:
                if self.marker.sent(self.owner, row.id, self.clock(), message_id):
                    report.sent += 1
                else:
                    report.lost_leases += 1
                    current_app.logger.error("message %s was sent after its lease ran out", row.id)

    @staticmethod
    def _undeliverable(rows: list[Row]) -> set[str]:
        emails = sorted({row.email.lower() for row in rows})
        if not emails:
            return set()
        found = {
            email.lower()
            for email in db.session.scalars(
                select(UndeliverableAddress.email).where(
                    func.lower(UndeliverableAddress.email).in_(emails)
                )
            )
        }
        db.session.rollback()
        return {row.email for row in rows if row.email.lower() in found}


def deliver(
    now: datetime | Clock,
    batch_size: int | None = None,
    limit: int | None = None,
    *,
    stop: Callable[[], bool] = never,
    deadline: float | None = None,
    heartbeat: Callable[[DeliveryReport], None] | None = None,
) -> DeliveryReport:
    """Send every due message (at most ``limit``), a batch per claim. ``now`` is a clock,
    or a fixed time for replays and tests."""
    clock = now if callable(now) else fixed_clock(now)
    runner = Runner(clock, Limits.from_config(batch_size), stop, deadline, heartbeat)
    return runner.deliver(limit)


def forget_composed() -> int:
    """Drop the composed bytes of messages that went or will not go (the bodies stay):
    housekeeping after delivery, kept out of its way."""
    done = select(OutboxMessage.id).where(
        OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.CANCELLED])
    )
    begin_write()
    result = db.session.execute(
        update(OutboxContent)
        .where(OutboxContent.mime.is_not(None), OutboxContent.message_id.in_(done))
        .values(mime=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return rows_changed(result) or 0
