"""Pairings of a sponsor with a prisoner, current and past."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import Model
from godparents.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from godparents.actions.models import Action
    from godparents.prisoners.models import Prisoner
    from godparents.sponsors.models import Sponsor


class SponsorshipStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    RELEASED = "released"
    PARDONED = "pardoned"
    DEPORTED = "deported"
    MANDATE_ENDED = "mandate_ended"
    WITHDREW = "withdrew"
    DIED = "died"
    OTHER = "other"


# The pairing ended because the prisoner's detention did: the godparent waits for a new
# godchild.
DETENTION_ENDED = frozenset(
    {EndReason.RELEASED, EndReason.PARDONED, EndReason.DEPORTED, EndReason.DIED}
)


class Sponsorship(Model):
    __tablename__ = "sponsorships"
    __table_args__ = (
        # At most one active pairing per (sponsor, prisoner); ended ones stay as history.
        Index(
            "uq_sponsorships_active_pair",
            "sponsor_id",
            "prisoner_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # The reminders' welcome and follow-up: active pairings that started on given days.
        Index("ix_sponsorships_status_started_on", "status", "started_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsors.id"), index=True)
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoners.id"), index=True)
    status: Mapped[SponsorshipStatus] = mapped_column(enum_type(SponsorshipStatus, "status"))
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    end_reason: Mapped[EndReason | None] = mapped_column(enum_type(EndReason, "end_reason"))
    # active_history: the consent record (public/consent.py) needs the value before a change
    # even when the row was not loaded since the last commit.
    has_public_consent: Mapped[bool] = mapped_column(default=False, active_history=True)
    announced_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sponsor: Mapped[Sponsor] = relationship(back_populates="sponsorships")
    prisoner: Mapped[Prisoner] = relationship(back_populates="sponsorships")
    actions: Mapped[list[Action]] = relationship(
        back_populates="sponsorship", order_by="Action.occurred_on.desc()"
    )

    def __repr__(self) -> str:
        return f"<Sponsorship {self.id} {self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status is SponsorshipStatus.ACTIVE
