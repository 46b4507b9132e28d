"""The public pages' settings and the record of every public consent given or withdrawn."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from godparents.extensions import Model
from godparents.types import UTCDateTime, enum_type, utcnow


class PublicSettings(Model):
    """One row (id 1): whether the public pages are on, and where to ask to become a
    godparent. Off until a coordinator switches them on."""

    __tablename__ = "public_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    is_enabled: Mapped[bool] = mapped_column(default=False)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # Moved on by every change to what the public pages show (public/versioning.py): their
    # cache key, so that other writes (an action logged, a login) leave the cache alone.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConsentRecord(StrEnum):
    PRISONER = "prisoner"
    SPONSOR = "sponsor"
    SPONSORSHIP = "sponsorship"


class ConsentEvent(Model):
    """A public consent given or withdrawn: by whom (the account that ticked or unticked
    the box; none from the command line) and when. Kept when the record itself is deleted,
    so that the open data feed can tell copies elsewhere to delete it too."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_record_type_record_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[ConsentRecord] = mapped_column(enum_type(ConsentRecord, "record_type"))
    record_id: Mapped[int]
    is_given: Mapped[bool]
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
