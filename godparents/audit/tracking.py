"""Every create, change and delete, recorded as it is flushed, whoever made it.

Views and services need not remember to audit: a flush hook writes one ``AuditEvent`` per
changed object, in the same transaction, with the fields that changed (old and new). The
actor and address come from the request (``set_actor``); the command line records none.
Secrets and bulky fields are never written.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from godparents.audit.models import AuditEvent
from godparents.types import utcnow

# Never written, whatever the model: secrets, derived and bulky columns.
HIDDEN = frozenset(
    {
        "password_hash",
        "totp_secret",
        "calendar_token_hash",
        "content",
        "search_text",
        "created_at",
        "updated_at",
        "body_text",
        "body_html",
        "last_login_at",
        "totp_last_step",
        "legacy_totp_secret",
        "passkey_challenge_hash",
        "public_key",
        "sign_count",
        "last_used_at",
        "version",
        "home_version",
    }
)
SECRET = frozenset({"password_hash", "totp_secret", "calendar_token_hash"})
# Not audited as objects: the audit log itself, and the outbox (the reminder job's ledger).
# Sessions and recovery codes are audited as what happened (login, logout, "two factors on")
# by the views, not row by row.
UNTRACKED = frozenset(
    {
        "AuditEvent",
        "OutboxMessage",
        "OutboxContent",
        "ReminderRun",
        "UserSession",
        "RecoveryCode",
        "FormSubmission",
        # Itself a record of who gave or withdrew a consent and when (public/consent.py);
        # the consent's change is audited on its prisoner, godparent or pairing.
        "ConsentEvent",
    }
)

_actor: ContextVar[tuple[int | None, str | None]] = ContextVar("audit_actor", default=(None, None))


def set_actor(user_id: int | None, ip: str | None) -> None:
    _actor.set((user_id, ip))


def current_actor_id() -> int | None:
    """The account whose request is writing (None on the command line)."""
    return _actor.get()[0]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _changes(obj: Any, kind: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in HIDDEN and key not in SECRET:
            continue
        history = state.attrs[key].history
        if kind == "update":
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[key] = "[changed]" if key in SECRET else [_plain(old), _plain(new)]
        elif key not in SECRET:
            value = getattr(obj, key)
            if value is not None and value != [] and value != "":
                changes[key] = _plain(value)
    return changes


def _object_id(obj: Any) -> int | None:
    # The primary key as set by the flush (identity keys are assigned only after this hook).
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return key[0] if len(key) == 1 and isinstance(key[0], int) else None


@event.listens_for(Session, "after_flush")
def _record(session: Session, flush_context: Any) -> None:
    actor_id, ip = _actor.get()
    rows = []
    for kind, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            name = type(obj).__name__
            if name in UNTRACKED or not hasattr(obj, "__table__"):
                continue
            changes = _changes(obj, kind)
            if kind == "update" and not changes:
                continue
            rows.append(
                {
                    "actor_id": actor_id,
                    "action": kind,
                    "object_type": name,
                    "object_id": _object_id(obj),
                    "changes": changes,
                    "ip": ip,
                    "created_at": utcnow(),
                }
            )
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def _actor_from_request() -> None:
    set_actor(current_user.id if current_user.is_authenticated else None, request.remote_addr)


def _forget_actor(exc: BaseException | None) -> None:
    set_actor(None, None)


def init_app(app: Flask) -> None:
    app.before_request(_actor_from_request)
    app.teardown_request(_forget_actor)
