"""Recording audit events. Callers pass what changed; secrets never go in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.auth.models import User
from godparents.extensions import db

# Field names whose values are never written to the audit log, whatever the caller passes.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "totp_secret", "calendar_token_hash", "token", "secret_key"}
)


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    # current_user is a proxy: record the user it stands for, under its real class name.
    actor = _unproxied(actor)
    obj = _unproxied(obj)
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        changes={
            key: ("[redacted]" if key in SECRET_FIELDS else value)
            for key, value in (changes or {}).items()
        },
        ip=ip,
    )
    db.session.add(event)
    return event


def _unproxied(value: Any) -> Any:
    unwrap = getattr(value, "_get_current_object", None)
    return unwrap() if callable(unwrap) else value


def data_version() -> int:
    """Changes whenever anything is created, changed or deleted: every such flush writes an
    audit event (``audit.tracking``), so the newest event's id is a version number."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0
