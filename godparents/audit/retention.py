"""Retention: what the app stops keeping, and when (``flask --app godparents retention run``).

The audit log, the outbox and the session rows grow without end, and what they hold ages
badly in a dump: email bodies with prisoners' addresses and key-date notes, IP addresses
of every login and failure, who did what years ago. The scheduled job deletes:

- the **bodies of outbox emails** (text, HTML, the composed email) once a message was
  sent, failed or was cancelled ``RETENTION_OUTBOX_BODY_DAYS`` ago (30); the message's row,
  the ledger that it went, stays;
- **outbox messages** themselves after ``RETENTION_OUTBOX_DAYS`` (400): a reminder's key
  names its date, and the planner looks back a week at most, so an old key is never needed
  to keep an email from going twice;
- **failed logins** (wrong passwords and codes, throttling, refused pages, with their IP
  addresses) after ``RETENTION_FAILED_LOGIN_DAYS`` (90);
- **every other audit event** after ``RETENTION_AUDIT_DAYS`` (730);
- **ended sessions** (timed out, logged out elsewhere, of a deactivated account) once they
  have been over for ``RETENTION_SESSION_DAYS`` (7).

Waiting messages are never touched. The job writes one audit event with the numbers.
Plain functions with an explicit ``now``; the command commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from godparents.audit.services import record
from godparents.extensions import db
from godparents.types import utcnow

# Audit actions that record a failure to get in (or a probe), with the address it came from.
FAILED_LOGIN_ACTIONS = (
    "login_failed",
    "two_factor_failed",
    "passkey_failed",
    "throttled",
    "access_refused",
)
DONE = ("sent", "failed", "cancelled")  # outbox statuses; "pending" messages still wait

_messages = sa.table(
    "outbox_messages",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("sent_at", sa.DateTime),
    sa.column("created_at", sa.DateTime),
)
_contents = sa.table("outbox_contents", sa.column("message_id", sa.Integer))
_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("created_at", sa.DateTime),
)
_sessions = sa.table(
    "user_sessions",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("generation", sa.Integer),
    sa.column("remember", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("last_seen_at", sa.DateTime),
)
_users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("is_active", sa.Boolean),
    sa.column("session_generation", sa.Integer),
)


@dataclass(frozen=True)
class Periods:
    outbox_bodies: timedelta
    outbox_messages: timedelta
    failed_logins: timedelta
    audit_events: timedelta
    ended_sessions: timedelta
    idle: timedelta  # the longest a session lives without a request
    absolute: timedelta  # the longest a session lives at all
    remembered: timedelta  # both, for "keep me signed in"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Periods:
        days = {
            name: timedelta(days=int(config[f"RETENTION_{name.upper()}_DAYS"]))
            for name in ("outbox_body", "outbox", "failed_login", "audit", "session")
        }
        return cls(
            outbox_bodies=days["outbox_body"],
            outbox_messages=days["outbox"],
            failed_logins=days["failed_login"],
            audit_events=days["audit"],
            ended_sessions=days["session"],
            idle=max(config["SESSION_IDLE_TIMEOUT"], config["SESSION_IDLE_TIMEOUT_COORDINATOR"]),
            absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
            remembered=config["SESSION_REMEMBER_DURATION"],
        )


def _at(moment: datetime) -> datetime:
    """A bound value for a plain DateTime column: naive UTC on SQLite (as UTCDateTime
    stores it), aware elsewhere."""
    return moment.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else moment


def _selections(periods: Periods, now: datetime) -> dict[str, tuple[Any, Any]]:
    """Per kind: (the table, the condition of the rows to delete)."""
    done_messages = _messages.c.status.in_(DONE)
    finished = sa.func.coalesce(_messages.c.sent_at, _messages.c.created_at)
    old_bodies = sa.select(_messages.c.id).where(
        done_messages, finished < _at(now - periods.outbox_bodies)
    )
    ended = ~sa.exists().where(
        _users.c.id == _sessions.c.user_id,
        _users.c.is_active.is_(True),
        _users.c.session_generation == _sessions.c.generation,
    )
    grace = periods.ended_sessions
    return {
        "outbox bodies": (_contents, _contents.c.message_id.in_(old_bodies)),
        "outbox messages": (
            _messages,
            sa.and_(done_messages, _messages.c.created_at < _at(now - periods.outbox_messages)),
        ),
        "failed logins": (
            _events,
            sa.and_(
                _events.c.action.in_(FAILED_LOGIN_ACTIONS),
                _events.c.created_at < _at(now - periods.failed_logins),
            ),
        ),
        "audit events": (_events, _events.c.created_at < _at(now - periods.audit_events)),
        "ended sessions": (
            _sessions,
            sa.or_(
                sa.and_(
                    _sessions.c.remember.is_(False),
                    sa.or_(
                        _sessions.c.last_seen_at < _at(now - periods.idle - grace),
                        _sessions.c.created_at < _at(now - periods.absolute - grace),
                    ),
                ),
                sa.and_(
                    _sessions.c.remember.is_(True),
                    sa.or_(
                        _sessions.c.last_seen_at < _at(now - periods.remembered - grace),
                        _sessions.c.created_at < _at(now - periods.remembered - grace),
                    ),
                ),
                sa.and_(ended, _sessions.c.last_seen_at < _at(now - grace)),
            ),
        ),
    }


def run(periods: Periods, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Delete what is past its period (count it only, with ``dry_run``); how many of each.

    Bodies go before their messages, so that counts do not overlap and a database without
    enforced foreign keys keeps no orphans. The caller commits.
    """
    counts: dict[str, int] = {}
    for kind, (table, condition) in _selections(periods, now).items():
        if dry_run:
            counts[kind] = (
                db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition))
                or 0
            )
            continue
        if kind == "outbox messages":  # their bodies too, whatever their age
            db.session.execute(
                _contents.delete().where(
                    _contents.c.message_id.in_(sa.select(_messages.c.id).where(condition))
                )
            )
        result = db.session.execute(table.delete().where(condition))
        counts[kind] = result.rowcount  # type: ignore[attr-defined]
    if not dry_run:
        record(None, "retention", changes=counts)
    return counts


retention = AppGroup(
    "retention", help="Delete what the app keeps no longer (see docs/operations.md)."
)


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def run_command(dry_run: bool) -> None:
    """Delete outbox bodies and messages, audit events, failed logins and ended sessions
    past their retention periods (GODPARENTS_RETENTION_*_DAYS)."""
    counts = run(Periods.from_config(current_app.config), utcnow(), dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would delete" if dry_run else "deleted"
    for kind, count in counts.items():
        click.echo(f"{verb}: {count} {kind}")
