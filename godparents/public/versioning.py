"""When the public pages' cache is out of date: only when something they show changed.

A flush that creates, changes or deletes a prisoner, an address, a facility, a photo, a
godparent, a pairing or the public settings moves ``public_settings.version`` on, in the
same transaction; the public pages' cache key is that version (one primary-key read per
request). Other writes (actions logged, reminders sent, logins) leave the cache alone: the
campaign's figures, which count actions, may be up to ``PUBLIC_CACHE_SECONDS`` old. Bulk
writes that bypass the ORM (the demo's scale data) are caught by that bound too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from godparents.prisoners.models import Facility, Prisoner, PrisonerAddress, PrisonerPhoto
from godparents.public.models import PublicSettings
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship

SHOWN = (Prisoner, PrisonerAddress, PrisonerPhoto, Facility, Sponsor, Sponsorship, PublicSettings)


@event.listens_for(Session, "after_flush")
def _bump(session: Session, flush_context: Any) -> None:
    changed = any(isinstance(obj, SHOWN) for obj in (*session.new, *session.deleted)) or any(
        isinstance(obj, SHOWN) and session.is_modified(obj) for obj in session.dirty
    )
    if changed:
        table = PublicSettings.__table__
        session.connection().execute(
            update(table).where(table.c.id == 1).values(version=table.c.version + 1)
        )
