"""Retention: outbox bodies and messages, audit events, failed logins and ended sessions go
after their periods; nothing younger, and no waiting message, ever (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from godparents.audit.models import AuditEvent
from godparents.audit.retention import Periods, run
from godparents.auth import sessions
from godparents.auth.models import UserSession
from godparents.extensions import db
from godparents.reminders.models import OutboxContent, OutboxMessage, OutboxStatus
from tests.factories import make_outbox_message, make_sponsor

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def _ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _message(key: str, status: OutboxStatus, days: float) -> OutboxMessage:
    """A message told apart by its subject (``key``)."""
    return make_outbox_message(
        recipient_email="a@example.org",
        subject_ref=key,
        email_subject="Hello",
        status=status,
        created_at=_ago(days + 1),
        sent_at=_ago(days) if status is OutboxStatus.SENT else None,
        body_text=f"the body of {key}",
    )


def _event(action: str, days: float) -> None:
    db.session.add(AuditEvent(action=action, created_at=_ago(days), ip="192.0.2.1"))


def _state() -> dict[str, list]:
    db.session.expire_all()
    return {
        "messages": sorted(db.session.scalars(select(OutboxMessage.subject_ref))),
        "bodies": sorted(db.session.scalars(select(OutboxMessage.subject_ref).join(OutboxContent))),
        "events": sorted(
            db.session.scalars(  # those made here (the others are new)
                select(AuditEvent.action).where(AuditEvent.ip == "192.0.2.1")
            )
        ),
        "sessions": sorted(db.session.scalars(select(UserSession.user_agent))),
    }


def _periods(app: Flask) -> Periods:
    return Periods.from_config(app.config)


def test_everything_past_its_period_goes_and_nothing_else(app: Flask) -> None:
    _message("sent-recently", OutboxStatus.SENT, 29)
    _message("sent-a-while-ago", OutboxStatus.SENT, 31)
    _message("cancelled-long-ago", OutboxStatus.CANCELLED, 500)
    _message("failed-long-ago", OutboxStatus.FAILED, 401)
    _message("waiting-for-ever", OutboxStatus.PENDING, 900)
    for action, days in [
        ("login_failed", 89),
        ("login_failed", 91),
        ("throttled", 100),
        ("access_refused", 95),
        ("update", 100),
        ("update", 729),
        ("login", 731),
    ]:
        _event(action, days)
    sponsor = make_sponsor()
    user = sponsor.user
    current, old = user.session_generation, user.session_generation - 1
    for label, remember, created, seen, generation in [
        ("live", False, 0.1, 0.01, current),
        ("remembered, idle 13 days", True, 13.5, 13, current),
        ("remembered, timed out a day ago", True, 15, 15, current),
        ("remembered, timed out 8 days ago", True, 22, 22, current),
        ("timed out 6 days ago", False, 6.2, 6.1, current),
        ("timed out 8 days ago", False, 8.2, 8.1, current),
        ("logged out everywhere 8 days ago", False, 9, 8, old),
        ("logged out everywhere yesterday", False, 2, 1, old),
    ]:
        db.session.add(
            UserSession(
                token_hash=sessions.token_hash(label),
                user=user,
                generation=generation,
                created_at=_ago(created),
                last_seen_at=_ago(seen),
                user_agent=label,
                remember=remember,
            )
        )
    db.session.commit()

    dry = run(_periods(app), NOW, dry_run=True)
    db.session.rollback()
    before = _state()
    counts = run(_periods(app), NOW)
    db.session.commit()
    # The bodies of the three done more than 30 days ago (two of them with their messages).
    assert (
        dry
        == counts
        == {
            "outbox bodies": 3,
            "outbox messages": 2,
            "failed logins": 3,
            "audit events": 1,
            "ended sessions": 3,
        }
    )
    after = _state()
    assert after["messages"] == ["sent-a-while-ago", "sent-recently", "waiting-for-ever"]
    assert after["bodies"] == ["sent-recently", "waiting-for-ever"]  # "sent-a-while-ago"'s gone
    assert after["events"] == sorted(["login_failed", "update", "update"])
    assert after["sessions"] == sorted(
        [
            "live",
            "remembered, idle 13 days",
            "remembered, timed out a day ago",
            "timed out 6 days ago",
            "logged out everywhere yesterday",
        ]
    )
    assert before != after
    assert (
        db.session.scalar(select(AuditEvent.changes).where(AuditEvent.action == "retention"))
        == counts
    )


def test_the_command_and_its_dry_run(app: Flask, runner) -> None:
    _event("login_failed", 1000)
    db.session.commit()
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0 and "would delete: 1 failed logins" in dry.output
    assert len(_state()["events"]) == 1
    done = runner.invoke(args=["retention", "run"])
    assert done.exit_code == 0 and "deleted: 1 failed logins" in done.output
    assert _state()["events"] == []
