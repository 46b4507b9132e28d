"""Who gave each public consent and when: a flush hook writes a ``ConsentEvent`` whenever
a prisoner's, a godparent's or a pairing's ``has_public_consent`` is set, cleared, or its
record deleted while it held. Every way of changing the box (the coordinators' forms, the
import, a merge, erasure) is recorded the same way, by the account in ``audit.tracking``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from godparents.audit import tracking
from godparents.prisoners.models import Prisoner
from godparents.public.models import ConsentEvent, ConsentRecord
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship
from godparents.types import utcnow

RECORDS: dict[type[Any], ConsentRecord] = {
    Prisoner: ConsentRecord.PRISONER,
    Sponsor: ConsentRecord.SPONSOR,
    Sponsorship: ConsentRecord.SPONSORSHIP,
}


def _change(obj: Any, kind: str) -> bool | None:
    """True: consent given; False: withdrawn; None: no change to record."""
    if kind == "create":
        return True if obj.has_public_consent else None
    if kind == "delete":
        history = inspect(obj).attrs["has_public_consent"].history
        held = [*history.unchanged, *history.deleted]
        return False if any(held) or obj.has_public_consent else None
    history = inspect(obj).attrs["has_public_consent"].history
    if not history.has_changes():
        return None
    before = bool(history.deleted[0]) if history.deleted else False
    after = bool(obj.has_public_consent)
    return after if before != after else None


@event.listens_for(Session, "after_flush")
def _record(session: Session, flush_context: Any) -> None:
    actor_id = tracking.current_actor_id()
    rows = []
    for kind, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            record_type = RECORDS.get(type(obj))
            if record_type is None:
                continue
            given = _change(obj, kind)
            if given is None or obj.id is None:
                continue
            rows.append(
                {
                    "record_type": record_type.value,
                    "record_id": obj.id,
                    "is_given": given,
                    "given_by_id": actor_id,
                    "created_at": utcnow(),
                }
            )
    if rows:
        session.connection().execute(insert(ConsentEvent.__table__), rows)
