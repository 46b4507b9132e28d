"""Running the reminder job: plan the day, write the new messages, deliver what is due.

The command line (``reminders run``, ``reminders worker``) calls ``run``; a coordinator's
"Run reminders now" only *asks* for a run (``request_run``), which the worker or the next
scheduled run takes up: a request to the web server never waits for a mail server.
Every run is recorded (``ReminderRun``) with what it did, for the dashboard and for
monitoring.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select, text, tuple_, update

from godparents.auth.models import User
from godparents.database import begin_write, rows_changed, schema_revisions
from godparents.extensions import db
from godparents.reminders import bounces, delivery, events
from godparents.reminders.delivery import Clock, DeliveryReport, fixed_clock, never
from godparents.reminders.messages import outbox_row
from godparents.reminders.models import (
    OutboxMessage,
    ReminderRule,
    ReminderRun,
    RunStatus,
)
from godparents.reminders.planner import Due, plan
from godparents.reminders.writing import Written, write_pending

ACTIVE = (RunStatus.REQUESTED, RunStatus.RUNNING)


class SchemaMismatch(RuntimeError):
    """The database is not at the migrations' head this code was written for."""


def check_schema() -> None:
    """Refuse to run against a database that is behind (or ahead of) this code: a changed
    table read the old way can send a reminder twice or never."""
    current, heads = schema_revisions()
    if current != heads:
        found = ", ".join(sorted(current)) or "none (not migrated)"
        raise SchemaMismatch(
            f"the database is at revision {found}, this code needs {', '.join(sorted(heads))}:"
            " run `flask --app godparents db upgrade` first"
        )


@dataclass
class Planned:
    """What a planning run found: every reminder due, and which of them are new."""

    today: date
    start: date
    due: list[Due]
    new: list[Due]


@dataclass
class RunReport:
    planned: Planned
    written: Written | None = None
    delivered: DeliveryReport | None = None
    run_id: int | None = None
    status: RunStatus = RunStatus.FINISHED


def last_planned_day() -> date | None:
    return events.columns(_last_planned_statement()).scalar()


@cache
def _last_planned_statement() -> Any:
    return select(func.max(ReminderRun.planned_for))


def window_start(today: date, grace: int, last: date | None) -> date:
    """Catch up from the day of the last run (again: it may have run before a change made
    later that day), but never more than ``grace`` days back."""
    earliest = today - timedelta(days=grace)
    if last is None or last > today:
        return today
    return max(last, earliest)


def active_rules() -> list[ReminderRule]:
    return list(db.session.scalars(_active_rules_statement()))


@cache
def _active_rules_statement() -> Any:
    return select(ReminderRule).where(ReminderRule.is_active.is_(True)).order_by(ReminderRule.id)


def _existing(keys: list[tuple[date, int, int, str]]) -> set[tuple[date, int, int, str]]:
    """Which of these reminders the outbox holds already (for a dry run)."""
    table = OutboxMessage.__table__
    unique = tuple_(*(table.c[name] for name in _UNIQUE))
    found: set[tuple[date, int, int, str]] = set()
    for chunk in range(0, len(keys), 500):
        found.update(
            tuple(row)
            for row in events.columns(
                select(*(table.c[name] for name in _UNIQUE)).where(
                    unique.in_(keys[chunk : chunk + 500])
                )
            )
        )
    return found


def plan_day(
    today: date, now: datetime, *, dry_run: bool = False, run_id: int | None = None
) -> Planned:
    """Plan ``today`` (and the missed days before it) into the outbox, in one transaction.

    A reminder already in the outbox is skipped, also when another run inserts it at the
    same moment (the database's unique index decides). The messages are written out
    afterwards (``write_pending``). ``dry_run`` writes nothing. ``run_id`` is the record of
    this run: it takes the day in the same transaction.
    """
    last = last_planned_day()
    start = window_start(today, current_app.config["REMINDER_GRACE_DAYS"], last)
    due = plan(active_rules(), start, today, planned_before=last)
    if dry_run:
        existing = _existing([item.key for item in due])
        db.session.rollback()
        return Planned(today, start, due, [item for item in due if item.key not in existing])
    begin_write()
    inserted = _insert_planned(due, now)
    result = Planned(today, start, due, [item for item in due if item.key in inserted])
    run = db.session.get(ReminderRun, run_id) if run_id is not None else None
    if run is None:
        run = ReminderRun(status=RunStatus.FINISHED, started_at=now, finished_at=now)
        db.session.add(run)
    run.planned_for, run.window_start, run.planned = today, start, len(result.new)
    db.session.commit()
    return result


_SQLITE_INSERT = (
    "INSERT INTO outbox_messages (rule_id, recipient_user_id, recipient_email, subject_ref, "
    "occurs_on, locale, status, attempts, email_subject, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, '', ?) "
    "ON CONFLICT (occurs_on, rule_id, recipient_user_id, subject_ref) DO NOTHING"
)

_UNIQUE = ("occurs_on", "rule_id", "recipient_user_id", "subject_ref")


def _insert_planned(items: list[Due], now: datetime) -> set[tuple[date, int, int, str]]:
    """Insert the planned messages; the keys of those that were new.

    PostgreSQL: ON CONFLICT DO NOTHING, and RETURNING says which went in. SQLite: the
    write lock is already held (BEGIN IMMEDIATE), and the rows go through the driver's own
    executemany (on a busy day the ORM's per-row work cost more than the database's), also
    with ON CONFLICT DO NOTHING; no other writer can come between, so the rows after the
    newest message there was are the ones that went in (SQLite numbers a new row after the
    largest id in the table).
    """
    if not items:
        return set()
    table = OutboxMessage.__table__
    unique = [table.c[name] for name in _UNIQUE]
    if db.engine.dialect.name != "sqlite":
        rows = [outbox_row(item, now) for item in items]
        inserted: set[tuple[date, int, int, str]] = set()
        for chunk in range(0, len(rows), 1000):
            inserted.update(
                tuple(row)
                for row in db.session.execute(
                    _insert_new().returning(*unique), rows[chunk : chunk + 1000]
                )
            )
        return inserted
    newest = events.columns(_newest_message_statement()).scalar() or 0
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # how UTCDateTime stores it
    db.session.connection().exec_driver_sql(
        _SQLITE_INSERT,
        [
            (
                item.rule.id,
                item.recipient.user_id,
                item.recipient.email,
                item.event.subject_ref,
                item.event.on.isoformat(),
                item.recipient.locale,
                stamp,
            )
            for item in items
        ],
    )
    return {tuple(row) for row in events.columns(_keys_after_statement(), {"newest": newest})}


@cache
def _newest_message_statement() -> Any:
    return select(func.max(OutboxMessage.id))


@cache
def _keys_after_statement() -> Any:
    table = OutboxMessage.__table__
    return select(*(table.c[name] for name in _UNIQUE)).where(table.c.id > bindparam("newest"))


def _insert_new() -> Any:
    """INSERT that skips a reminder already there (ON CONFLICT DO NOTHING)."""
    from sqlalchemy.dialects.postgresql import insert as dialect_insert

    table = OutboxMessage.__table__  # Core, not the ORM: thousands of rows a day
    return dialect_insert(table).on_conflict_do_nothing(
        index_elements=[table.c[name] for name in _UNIQUE]
    )


# The record of runs.


def _bury_dead_runs(now: datetime) -> None:
    """A run that stopped giving signs of life for longer than any run may take was
    killed (``kill -9``, a power cut): it is recorded so, and no longer counts as under
    way. Call inside a write transaction."""
    config = current_app.config
    longest = timedelta(
        seconds=config["REMINDER_RUN_SECONDS"] + 2 * config["REMINDER_MESSAGE_SECONDS"] + 60
    )
    db.session.execute(
        update(ReminderRun)
        .where(
            ReminderRun.status == RunStatus.RUNNING,
            func.coalesce(ReminderRun.heartbeat_at, ReminderRun.started_at) < now - longest,
        )
        .values(status=RunStatus.CRASHED, error="it stopped giving signs of life")
        .execution_options(synchronize_session=False)
    )


def request_run(user: User, now: datetime) -> ReminderRun:
    """Ask for a run (the dashboard's button); a run already asked for or under way is
    the answer instead of a second one."""
    begin_write()
    _bury_dead_runs(now)
    active = current_run()
    if active is not None:
        db.session.commit()  # the dead runs buried, if any
        return active
    run = ReminderRun(status=RunStatus.REQUESTED, requested_by_id=user.id, requested_at=now)
    db.session.add(run)
    db.session.commit()
    return run


def current_run() -> ReminderRun | None:
    """The run asked for or under way, if any (the oldest)."""
    return db.session.scalar(
        select(ReminderRun).where(ReminderRun.status.in_(ACTIVE)).order_by(ReminderRun.id).limit(1)
    )


def requested_run_waiting() -> bool:
    return (
        db.session.execute(
            select(func.count())
            .select_from(ReminderRun)
            .where(ReminderRun.status == RunStatus.REQUESTED)
        ).scalar_one()
        > 0
    )


def begin_run(now: datetime) -> int:
    """Start this process's run: the oldest one a coordinator asked for, if any (so the
    request is answered), else a new one. Committed; the run's id."""
    begin_write()
    _bury_dead_runs(now)
    for requested in db.session.scalars(
        select(ReminderRun.id)
        .where(ReminderRun.status == RunStatus.REQUESTED)
        .order_by(ReminderRun.id)
    ).all():
        taken = rows_changed(
            db.session.execute(
                update(ReminderRun)
                .where(ReminderRun.id == requested, ReminderRun.status == RunStatus.REQUESTED)
                .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if taken:
            db.session.commit()
            return requested
    run = ReminderRun(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
    db.session.add(run)
    db.session.commit()
    return run.id


def _record(
    run_id: int,
    now: datetime,
    report: RunReport,
    *,
    status: RunStatus | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"heartbeat_at": now}
    if report.written is not None:
        values["written"] = report.written.count
    if report.delivered is not None:
        values.update(
            sent=report.delivered.sent,
            retrying=report.delivered.retrying,
            failed=report.delivered.failed,
        )
    if status is not None:
        values.update(status=status, finished_at=now)
    if error is not None:
        values["error"] = error[:2000]
    begin_write()
    db.session.execute(
        update(ReminderRun)
        .where(ReminderRun.id == run_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _outcome(report: RunReport) -> tuple[RunStatus, str | None]:
    delivered = report.delivered
    if delivered is None:
        return RunStatus.FINISHED, None
    if delivered.stopped:
        return RunStatus.STOPPED, "told to stop before every message was sent"
    if delivered.unreachable is not None:
        return RunStatus.UNDELIVERED, delivered.unreachable
    if delivered.out_of_time:
        return RunStatus.UNDELIVERED, "the run's time ran out before every message was sent"
    return RunStatus.FINISHED, None


def run(
    today: date,
    now: datetime | Clock,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    stop: Callable[[], bool] = never,
    seconds: float | None = None,
) -> RunReport:
    """Plan, write the new messages, then deliver what is due; recorded as a run.

    ``now`` is the clock (or a fixed time for replays and tests); ``stop`` is asked between
    two messages whether to stop; ``seconds`` bounds the whole run (default
    ``REMINDER_RUN_SECONDS``). A dry run only plans, and keeps nothing.
    """
    clock = now if callable(now) else fixed_clock(now)
    if dry_run:
        return RunReport(plan_day(today, clock(), dry_run=True))
    seconds = current_app.config["REMINDER_RUN_SECONDS"] if seconds is None else seconds
    deadline = time.monotonic() + seconds
    run_id = begin_run(clock())
    report = RunReport(Planned(today, today, [], []), run_id=run_id)
    try:
        report.planned = plan_day(today, clock(), run_id=run_id)
        report.written = write_pending(today, clock())
        _read_bounces(clock())
        report.delivered = delivery.deliver(
            clock,
            limit=limit,
            stop=stop,
            deadline=deadline,
            heartbeat=lambda delivered: _record(
                run_id, clock(), RunReport(report.planned, report.written, delivered)
            ),
        )
        delivery.forget_composed()
        optimize_database()
    except BaseException as error:
        db.session.rollback()
        _record(
            run_id,
            clock(),
            report,
            status=RunStatus.CRASHED,
            error=f"{type(error).__name__}: {error}",
        )
        raise
    report.status, problem = _outcome(report)
    _record(run_id, clock(), report, status=report.status, error=problem)
    return report


def _read_bounces(now: datetime) -> None:
    """Read the bounce mailbox, when there is one, before sending more."""
    if not current_app.config.get("REMINDER_BOUNCE_MAILBOX"):
        return
    try:
        bounces.read_mailbox(current_app.config["REMINDER_BOUNCE_MAILBOX"], now)
    except bounces.MailboxError as error:
        db.session.rollback()
        current_app.logger.warning("could not read the bounce mailbox: %s", error)


def optimize_database() -> None:
    """SQLite plans its queries well only with statistics; let it refresh them when useful
    (cheap when nothing changed). PostgreSQL's autovacuum does this by itself."""
    if db.engine.dialect.name == "sqlite":
        begin_write()  # it may write statistics
        db.session.execute(text("PRAGMA optimize"))
        db.session.commit()


def last_run() -> ReminderRun | None:
    """The newest run that planned a day (what the rules page shows)."""
    return db.session.scalar(
        select(ReminderRun)
        .where(ReminderRun.planned_for.is_not(None))
        .order_by(ReminderRun.id.desc())
        .limit(1)
    )
