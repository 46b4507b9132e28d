"""What godparents did: letters, speeches, questions in parliament."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import Model
from godparents.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from godparents.auth.models import User
    from godparents.sponsorships.models import Sponsorship


class ActionKind(StrEnum):
    LETTER = "letter"
    CARD = "card"
    PARCEL = "parcel"
    LETTER_TO_AUTHORITIES = "letter_to_authorities"
    EMBASSY_CONTACT = "embassy_contact"
    SPEECH = "speech"
    PARLIAMENTARY_QUESTION = "parliamentary_question"
    STATEMENT = "statement"
    SOCIAL_MEDIA = "social_media"
    EVENT = "event"
    PETITION = "petition"
    VISIT = "visit"
    FAMILY_CONTACT = "family_contact"
    OTHER = "other"

    @property
    def is_mail(self) -> bool:
        """Post to the prison, whose fate is worth recording."""
        return self in {ActionKind.LETTER, ActionKind.CARD, ActionKind.PARCEL}


class LetterOutcome(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    REPLY_RECEIVED = "reply_received"
    RETURNED = "returned"
    CENSORED = "censored"
    UNKNOWN = "unknown"


class Action(Model):
    __tablename__ = "actions"
    __table_args__ = (
        Index(None, "sponsorship_id", "occurred_on"),
        # Covers the dashboard's counts and monthly chart without reading the table.
        Index("ix_actions_occurred_on_kind", "occurred_on", "kind"),
        # The reminders' nudge: which pairings logged something on given days.
        Index("ix_actions_occurred_on_sponsorship_id", "occurred_on", "sponsorship_id"),
        # The impact report counts a period's actions from the index alone (reports/services).
        Index(
            "ix_actions_occurred_on_counted",
            "occurred_on",
            "sponsorship_id",
            "kind",
            "letter_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped by every ORM update; an UPDATE whose version moved on meanwhile changes no row
    # and raises StaleDataError (godparents/concurrency.py): no lost updates.
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorships.id"))
    kind: Mapped[ActionKind] = mapped_column(enum_type(ActionKind, "kind"))
    occurred_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    letter_outcome: Mapped[LetterOutcome | None] = mapped_column(
        enum_type(LetterOutcome, "letter_outcome")
    )
    outcome_on: Mapped[date | None]
    logged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    is_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sponsorship: Mapped[Sponsorship] = relationship(back_populates="actions")
    logged_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.kind}>"
