"""The audit log page for coordinators: who did what, when, filterable."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import false, select

from godparents.audit import bp
from godparents.audit.models import AuditEvent
from godparents.audit.sentences import action_name, describe, object_name
from godparents.auth.models import Role, User, normalise_email
from godparents.extensions import db
from godparents.fields import MAX_ID
from godparents.listing import paginate
from godparents.security import roles_required


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


@bp.get("/coordinator/audit/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    """Newest first, each event in a sentence with its raw values one click away; filter
    by actor (email or id), kind of event, object (kind and id) and days (reader's zone)."""
    query = select(AuditEvent)
    actor = request.args.get("actor", "").strip()
    if actor:
        query = query.join(AuditEvent.actor).where(
            User.email.contains(normalise_email(actor), autoescape=True)
        )
    actor_id = request.args.get("actor_id", type=int)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id if 0 < actor_id <= MAX_ID else false())
    action = request.args.get("action", "")
    if action:
        query = query.where(AuditEvent.action == action)
    object_type = request.args.get("object", "")
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    object_id = request.args.get("object_id", type=int)
    if object_id is not None:
        # No object has an id beyond what the column holds: no event, rather than an
        # overflow inside the database driver.
        query = query.where(
            AuditEvent.object_id == object_id if 0 < object_id <= MAX_ID else false()
        )
    zone = current_user.timezone
    if (since := _day("from")) is not None:
        query = query.where(AuditEvent.created_at >= _start_of(since, zone))
    if (until := _day("to")) is not None:
        query = query.where(AuditEvent.created_at < _start_of(until + timedelta(days=1), zone))
    page = paginate(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    objects = db.session.scalars(
        select(AuditEvent.object_type)
        .distinct()
        .where(AuditEvent.object_type.is_not(None))
        .order_by(AuditEvent.object_type)
    )
    return render_template(
        "audit/index.html",
        page=page,
        lines=describe(page.items),
        actions=[(action, action_name(action)) for action in actions],
        objects=[(kind, object_name(kind or "")) for kind in objects],
    )
