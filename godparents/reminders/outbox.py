"""The outbox for coordinators and for monitoring: what waits, what failed, what bounced,
and what to do about it (retry, cancel, unsubscribe, clear an address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.sql.elements import ColumnElement

from godparents.auth.models import User
from godparents.extensions import db
from godparents.reminders.delivery import is_due
from godparents.reminders.models import (
    Bounce,
    OutboxContent,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    RunStatus,
    Trigger,
    UndeliverableAddress,
)
from godparents.reminders.writing import write_message
from godparents.timeutil import campaign_today


def retry(message: OutboxMessage, now: datetime) -> None:
    """Send a failed or cancelled message again, written anew from today's data (the
    address may have changed, the template may be fixed), with a fresh set of attempts.

    A message still waiting is left alone: a worker may be sending it this very moment.
    """
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        raise ValueError(f"a {message.status} message is not retried")
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, now
    message.claimed_by = None
    message.email_subject, message.body_text, message.body_html, message.mime = "", "", None, None
    write_message(message, campaign_today(current_app.config["TIMEZONE"], now))


def retry_failed(now: datetime) -> int:
    """Every failed message back to waiting, with a fresh set of attempts; the next run
    writes each anew from today's data and sends it. Messages to an address that bounced
    stay failed until the address is cleared. How many."""
    bounced = select(UndeliverableAddress.email)
    failed = (OutboxMessage.status == OutboxStatus.FAILED) & OutboxMessage.recipient_email.not_in(
        bounced
    )
    ids = list(db.session.scalars(select(OutboxMessage.id).where(failed)))
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(part), failed)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                claimed_by=None,
                email_subject="",
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(OutboxContent)
            .where(OutboxContent.message_id.in_(part))
            .values(body_text="", body_html=None, mime=None)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def cancel(message: OutboxMessage) -> None:
    """Do not send it. (If a worker is sending it this very moment, it goes, and shows as
    sent: the outbox says what happened.)"""
    if message.status is OutboxStatus.SENT:
        raise ValueError("a sent message cannot be cancelled")
    message.status, message.next_attempt_at, message.claimed_by = OutboxStatus.CANCELLED, None, None


def unsubscribe(user: User, trigger: Trigger) -> int:
    """Stop this kind of reminder for ``user``; waiting messages of that kind are cancelled."""
    if trigger.value not in (user.reminder_opt_outs or []):
        user.reminder_opt_outs = sorted({*(user.reminder_opt_outs or []), trigger.value})
    waiting = db.session.scalars(
        select(OutboxMessage)
        .join(ReminderRule, ReminderRule.id == OutboxMessage.rule_id)
        .where(
            OutboxMessage.recipient_user_id == user.id,
            ReminderRule.trigger == trigger,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    ).all()
    for message in waiting:
        cancel(message)
    return len(waiting)


def clear_address(address: UndeliverableAddress) -> None:
    """Mail may go to this address again (a coordinator checked it works)."""
    db.session.delete(address)


def status_counts(*where: ColumnElement[bool]) -> dict[OutboxStatus, int]:
    """How many messages have each status (one grouped query); every status is present."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).where(*where).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


# What can be wrong with the job (the dashboard words them; monitoring gets the codes).
NEVER_RAN = "never_ran"
LAST_RUN_FAILED = "last_run_failed"
RUN_SILENT = "run_silent"
NO_COMPLETE_RUN = "no_complete_run"
OVERDUE = "overdue"
PROBLEM_TEXT = {
    NEVER_RAN: "the reminder job has never run",
    LAST_RUN_FAILED: "the last run could not deliver everything",
    RUN_SILENT: "the run under way stopped giving signs of life",
    NO_COMPLETE_RUN: "no run got through everything within the time allowed",
    OVERDUE: "messages wait longer than allowed past their time",
}


@dataclass(frozen=True)
class Health:
    """How the reminder job is doing, for the dashboard and for monitoring."""

    last_run: ReminderRun | None
    last_finished_at: datetime | None  # the newest run that got through everything
    waiting: int  # written and waiting, due or not
    due: int  # waiting and due now: the backlog
    oldest_due_at: datetime | None
    failed: int
    undeliverable: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def health(now: datetime) -> Health:
    """The job's state in a few queries: the newest run, the backlog, the failures, the
    addresses that bounce; and what is wrong, in words (empty when all is well)."""
    stale = timedelta(minutes=current_app.config["REMINDER_STALE_MINUTES"])
    last = db.session.scalar(
        select(ReminderRun)
        .where(ReminderRun.status.not_in([RunStatus.REQUESTED]))
        .order_by(ReminderRun.id.desc())
        .limit(1)
    )
    finished = (
        select(func.max(ReminderRun.finished_at))
        .where(ReminderRun.status == RunStatus.FINISHED)
        .scalar_subquery()
    )
    bounced = select(func.count()).select_from(UndeliverableAddress).scalar_subquery()
    waiting, due, oldest, failed, finished_at, undeliverable = db.session.execute(
        select(
            func.count().filter(OutboxMessage.status == OutboxStatus.PENDING),
            func.count().filter(is_due(now)),
            func.min(func.coalesce(OutboxMessage.next_attempt_at, OutboxMessage.created_at)).filter(
                is_due(now)
            ),
            func.count().filter(OutboxMessage.status == OutboxStatus.FAILED),
            finished,
            bounced,
        )
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
    ).one()
    if finished_at is not None and finished_at.tzinfo is None:  # SQLite, through Core
        finished_at = finished_at.replace(tzinfo=UTC)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    problems: list[str] = []
    if last is None:
        problems.append(NEVER_RAN)
    elif last.status in (RunStatus.UNDELIVERED, RunStatus.CRASHED):
        problems.append(LAST_RUN_FAILED)
    elif (
        last.status is RunStatus.RUNNING
        and last.heartbeat_at is not None
        and now - last.heartbeat_at > stale
    ):
        problems.append(RUN_SILENT)
    if last is not None and (finished_at is None or now - finished_at > stale):
        problems.append(NO_COMPLETE_RUN)
    if oldest is not None and now - oldest > stale:
        problems.append(OVERDUE)
    return Health(
        last,
        finished_at,
        waiting or 0,
        due or 0,
        oldest,
        failed or 0,
        undeliverable or 0,
        tuple(problems),
    )


def health_document(found: Health, now: datetime) -> dict[str, object]:
    """The monitoring status as JSON: numbers and times, no names or addresses."""
    last = found.last_run

    def when(value: datetime | date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "status": "ok" if found.ok else "failing",
        "problems": [{"code": code, "text": PROBLEM_TEXT[code]} for code in found.problems],
        "checked_at": when(now),
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "status": str(last.status),
            "started_at": when(last.started_at),
            "finished_at": when(last.finished_at),
            "planned_for": when(last.planned_for),
            "planned": last.planned,
            "written": last.written,
            "sent": last.sent,
            "retrying": last.retrying,
            "failed": last.failed,
        },
        "last_complete_run_at": when(found.last_finished_at),
        "backlog": {
            "waiting": found.waiting,
            "due": found.due,
            "oldest_due_at": when(found.oldest_due_at),
        },
        "failed": found.failed,
        "undeliverable_addresses": found.undeliverable,
    }


def undeliverable_addresses(limit: int) -> list[tuple[UndeliverableAddress, User | None]]:
    """The addresses that bounce, newest first, with the account the bounced message was
    for (for the coordinators' work list): two queries, whatever the length."""
    rows = db.session.execute(
        select(UndeliverableAddress, User)
        .outerjoin(Bounce, Bounce.id == UndeliverableAddress.bounce_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == Bounce.message_id)
        .outerjoin(User, User.id == OutboxMessage.recipient_user_id)
        .options(contains_eager(UndeliverableAddress.bounce), selectinload(User.sponsor))
        .order_by(UndeliverableAddress.since.desc(), UndeliverableAddress.id.desc())
        .limit(limit)
    ).all()
    return [(address, user) for address, user in rows]
