"""Sessions the server can end.

Flask's session is a signed cookie: on its own, a copy of it works until it expires, logout
or not. So every login also writes a ``UserSession`` row, and the cookie carries a random
token whose hash names that row. A request is logged in only while its row exists, belongs
to an active user of the same session generation and has not timed out. Logging out
deletes the row; ending all of a user's sessions bumps the generation and deletes them all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from godparents.auth.models import User, UserSession
from godparents.extensions import db

# last_seen_at is written at most this often: a request per click need not be a write.
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def timeouts(user: User, remember: bool) -> tuple[timedelta, timedelta]:
    """(idle, absolute) for a session of this user."""
    config = current_app.config
    if remember and not user.is_coordinator:
        return config["SESSION_REMEMBER_DURATION"], config["SESSION_REMEMBER_DURATION"]
    idle = config[
        "SESSION_IDLE_TIMEOUT_COORDINATOR" if user.is_coordinator else "SESSION_IDLE_TIMEOUT"
    ]
    return idle, config["SESSION_ABSOLUTE_TIMEOUT"]


def start(
    user: User,
    now: datetime,
    *,
    remember: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session: returns the token for the cookie (only its hash is stored).

    Coordinators are never remembered, whatever was asked. The user's sessions that have
    timed out are cleared away on the way.
    """
    remember = remember and not user.is_coordinator
    _delete_expired(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=token_hash(token),
            user=user,
            generation=user.session_generation,
            created_at=now,
            last_seen_at=now,
            remember=remember,
            ip=ip,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return token


@dataclass(frozen=True)
class Loaded:
    user: User | None
    expired: bool  # a session was found but had timed out


def load(token: str, now: datetime) -> Loaded:
    """The session's user if the token names a live session; an ended one is deleted."""
    row = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == token_hash(token))
    )
    if row is None:
        return Loaded(None, expired=False)
    user = row.user
    if not user.is_active or row.generation != user.session_generation:
        _end_row(row.id)
        return Loaded(None, expired=False)
    idle, absolute = timeouts(user, row.remember)
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        _end_row(row.id)
        return Loaded(None, expired=True)
    if now - row.last_seen_at >= TOUCH_EVERY:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
        )
        db.session.commit()
    return Loaded(user, expired=False)


def find(token: str | None) -> UserSession | None:
    if not token:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))


def _end_row(session_id: int) -> None:
    db.session.execute(delete(UserSession).where(UserSession.id == session_id))
    db.session.commit()


def end(token: str) -> None:
    """Log this one session out for good. Commits."""
    db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
    db.session.commit()


def end_all(user: User) -> None:
    """End every session of the user, everywhere (the caller commits).

    The generation bump also makes every reset or invitation link issued before it void.
    The calendar link goes too: it is a credential of its own (it reads the godchildren's
    names without a login), and whatever ends the sessions (logging out everywhere, a new
    password or email, a change of second factor, deactivation) must end it as well.
    """
    user.session_generation += 1
    user.calendar_token_hash = None
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def live_counts(users: list[User], now: datetime) -> dict[int, int]:
    """How many live sessions each of these users has (for the accounts page); one query."""
    by_id = {user.id: user for user in users}
    counts = dict.fromkeys(by_id, 0)
    if not by_id:
        return counts
    rows = db.session.execute(
        select(
            UserSession.user_id,
            UserSession.generation,
            UserSession.remember,
            UserSession.created_at,
            UserSession.last_seen_at,
        ).where(UserSession.user_id.in_(by_id))
    )
    for user_id, generation, remember, created_at, last_seen_at in rows:
        user = by_id[user_id]
        idle, absolute = timeouts(user, remember)
        if (
            user.is_active
            and generation == user.session_generation
            and now - last_seen_at <= idle
            and now - created_at <= absolute
        ):
            counts[user_id] += 1
    return counts


def _delete_expired(user: User, now: datetime) -> None:
    idle, absolute = timeouts(user, remember=False)
    long_idle, long_absolute = timeouts(user, remember=True)
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.generation != user.session_generation,
                UserSession.created_at < now - max(absolute, long_absolute),
                UserSession.last_seen_at < now - max(idle, long_idle),
                (UserSession.remember.is_(False))
                & or_(
                    UserSession.created_at < now - absolute, UserSession.last_seen_at < now - idle
                ),
            ),
        )
    )
