"""Lost updates refused: an edit form carries the version it was read at.

Prisoners, sponsors and actions have a ``version`` that the ORM bumps on every update and
checks in the UPDATE's WHERE clause (``version_id_col``). Their edit forms carry it in a
hidden field (``VersionField``). On save, ``conflict(record, form, saved_form)`` compares: a
form read at an older version is not applied. It comes back with the coordinator's own
values still in it, above them what was changed since, by whom and when (from the audit
log), and two choices: save again to keep theirs over it ("keep mine": the form now carries
the current version), or reload the record ("take theirs"). A form without the field (not
one of ours, or from before it existed) counts as stale. Two saves in the same instant both
pass this check; the database lets only one UPDATE through and the other ends in
``StaleDataError``, which ``errors.py`` answers with the same advice instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, Field, HiddenField, SelectField
from wtforms.validators import Optional as OptionalValidator

from godparents.audit.models import AuditEvent
from godparents.auth.models import User
from godparents.extensions import db

LOOK_BACK = 50  # update events of one record read to find what changed since


class VersionField(HiddenField):
    """The version the form was read at; filled from the record's ``version``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[OptionalValidator()], **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        # A submitted form without the field says nothing about what it was read at: never
        # let the record's own version (filled in from ``obj``) stand in for it.
        self.data = valuelist[0] if valuelist else None

    def submitted(self) -> int | None:
        try:
            return int(self.data)
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class FieldChange:
    label: str
    saved: str  # what is saved now (theirs)
    yours: str  # what the form holds


@dataclass
class Conflict:
    changed_by: list[str] = field(default_factory=list)
    changed_at: datetime | None = None
    changes: list[FieldChange] = field(default_factory=list)


def shown(item: Field) -> str:
    """A field's value as a reader would recognise it."""
    value = item.data
    if isinstance(item, BooleanField):
        return _("yes") if value else _("no")
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(item, SelectField):
        for choice_value, choice_label, *_rest in item.iter_choices():
            if str(choice_value) == str(value):
                return str(choice_label)
    if isinstance(value, date):
        return format_date(value, "medium")
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def conflict(record: Any, form: FlaskForm, saved_form: Callable[[], FlaskForm]) -> Conflict | None:
    """None when ``form`` was read at ``record``'s current version. Otherwise what changed
    since: the fields someone else changed (from the audit log), each with the value saved
    now (``saved_form()``: the same form filled from the record) and the value in ``form``; and
    ``form`` is moved on to the current version, so that saving it again keeps it."""
    version_field: VersionField = form["version"]
    read_at = version_field.submitted()
    if read_at == record.version:
        return None
    # Each update since the form was read moved the version on by one and was audited as
    # one update event: the newest (current - read) of them are what changed since.
    missed = record.version - read_at if read_at is not None else LOOK_BACK
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == type(record).__name__,
            AuditEvent.object_id == record.id,
            AuditEvent.action == "update",
        )
        .order_by(AuditEvent.id.desc())
        .limit(max(1, min(missed, LOOK_BACK)))
    ).all()
    saved = saved_form()
    names: set[str] = set()
    actors: set[int] = set()
    found = Conflict()
    for event in events:
        names.update(event.changes or {})
        if event.actor_id is not None:
            actors.add(event.actor_id)
        if found.changed_at is None or event.created_at > found.changed_at:
            found.changed_at = event.created_at
    if actors:
        found.changed_by = sorted(db.session.scalars(select(User.email).where(User.id.in_(actors))))
    for item in form:
        if item.name in names or (read_at is None and item.name in saved._fields):
            if item.name in ("version", "csrf_token") or item.type == "SubmitField":
                continue
            before, mine = shown(saved[item.name]), shown(item)
            if before != mine or item.name in names:
                found.changes.append(FieldChange(str(item.label.text), before, mine))
    version_field.data = str(record.version)
    return found
