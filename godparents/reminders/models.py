"""Campaign days, reminder rules and the outbox that is also the ledger of reminders."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import db
from godparents.types import UTCDateTime, enum_type, utcnow


class CampaignDay(db.Model):
    __tablename__ = "campaign_days"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    is_active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<CampaignDay {self.month:02}-{self.day:02}>"


class Trigger(StrEnum):
    BIRTHDAY = "birthday"
    DETENTION_ANNIVERSARY = "detention_anniversary"
    DETENTION_MILESTONE = "detention_milestone"
    KEY_DATE = "key_date"
    CAMPAIGN_DAY = "campaign_day"
    INACTIVITY = "inactivity"
    SPONSORSHIP_START = "sponsorship_start"
    COORDINATOR_DIGEST = "coordinator_digest"


class ReminderRule(db.Model):
    """When to write to whom about what.

    ``offset_days`` is days before the date for the dated triggers; negative, days after:
    after the start of a pairing for a follow-up, after the last action for the nudge (which
    then comes again every as many days while nothing is logged).
    """

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[Trigger] = mapped_column(enum_type(Trigger, "trigger"))
    offset_days: Mapped[int] = mapped_column(default=0)
    # For the key-date trigger: which kinds of key date (KeyDateKind values); empty: all.
    key_date_kinds: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(JSON()), default=list
    )
    to_sponsor: Mapped[bool] = mapped_column(default=True)
    to_delegates: Mapped[bool] = mapped_column(default=False)
    to_coordinators: Mapped[bool] = mapped_column(default=False)
    template: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReminderRule {self.id} {self.trigger}>"


class ReminderRun(db.Model):
    """One finished planning run; the newest tells the next run where to catch up from."""

    __tablename__ = "reminder_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_for: Mapped[date] = mapped_column(index=True)  # "today" in the campaign's zone
    window_start: Mapped[date]
    planned: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReminderRun {self.planned_for}>"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(db.Model):
    """One email to send, and the record that it was planned.

    The idempotency key is unique over (rule, recipient, subject, occurrence date), so a
    reminder planned twice, by two runs at once or on two machines, is inserted once.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder_rules.id", ondelete="SET NULL"), index=True
    )
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recipient_email: Mapped[str] = mapped_column(String(254))
    subject_ref: Mapped[str] = mapped_column(String(100))  # what it is about: "prisoner:17"
    occurs_on: Mapped[date | None]
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_subject: Mapped[str] = mapped_column(String(300))  # "" until written out
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[ReminderRule | None] = relationship()
    # The bodies live in a table of their own: the job rewrites a message's row twice as it
    # sends it (claimed, sent), and a row of a few hundred bytes costs far less to rewrite
    # than one carrying two bodies and the composed email.
    content: Mapped[OutboxContent | None] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True)

    def _content(self) -> OutboxContent:
        if self.content is None:
            self.content = OutboxContent(body_text="")
        return self.content

    @property
    def body_text(self) -> str:
        return self.content.body_text if self.content is not None else ""

    @body_text.setter
    def body_text(self, value: str) -> None:
        self._content().body_text = value

    @property
    def body_html(self) -> str | None:
        return self.content.body_html if self.content is not None else None

    @body_html.setter
    def body_html(self, value: str | None) -> None:
        self._content().body_html = value

    @property
    def mime(self) -> bytes | None:
        return self.content.mime if self.content is not None else None

    @mime.setter
    def mime(self, value: bytes | None) -> None:
        self._content().mime = value

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status}>"


class OutboxContent(db.Model):
    """What an outbox message says, and the email composed from it (dropped once sent)."""

    __tablename__ = "outbox_contents"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True)
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    mime: Mapped[bytes | None] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="content")

    def __repr__(self) -> str:
        return f"<OutboxContent {self.message_id}>"
