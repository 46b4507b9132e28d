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
    UniqueConstraint,
)
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import Model
from godparents.types import UTCDateTime, enum_type, utcnow


class CampaignDay(Model):
    __tablename__ = "campaign_days"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # in English
    name_de: Mapped[str | None] = mapped_column(String(200))  # None: the English name
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    is_active: Mapped[bool] = mapped_column(default=True)

    def name_in(self, locale: str | None) -> str:
        return (self.name_de or self.name) if (locale or "").startswith("de") else self.name

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
    # Godparents hear what changed (reminders/notices.py): written when the change is saved.
    NOTICE_TRANSFER = "notice_transfer"
    NOTICE_RELEASE = "notice_release"
    NOTICE_SENTENCE = "notice_sentence"
    NOTICE_HEARING = "notice_hearing"
    # Mondays: letters with no outcome after six weeks are asked about (actions/outcomes.py).
    LETTER_OUTCOMES = "letter_outcomes"

    @property
    def is_notice(self) -> bool:
        return self.value.startswith("notice_")

    @property
    def can_be_stopped(self) -> bool:
        """A person may stop this kind, except news of a transfer: letters to the old
        address are lost."""
        return self is not Trigger.NOTICE_TRANSFER


class ReminderRule(Model):
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
    key_date_kinds: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON()), default=list)
    to_sponsor: Mapped[bool] = mapped_column(default=True)
    to_delegates: Mapped[bool] = mapped_column(default=False)
    to_coordinators: Mapped[bool] = mapped_column(default=False)
    template: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every ORM update; an UPDATE whose version moved on meanwhile changes no row
    # and raises StaleDataError (godparents/concurrency.py): no lost updates.
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<ReminderRule {self.id} {self.trigger}>"


class RunStatus(StrEnum):
    REQUESTED = "requested"  # asked for from the dashboard, waiting for a runner
    RUNNING = "running"
    FINISHED = "finished"  # every due message was dealt with
    UNDELIVERED = "undelivered"  # the mail server could not be reached, or time ran out
    STOPPED = "stopped"  # told to stop (SIGTERM) before the end
    CRASHED = "crashed"  # an error ended it; see ``error``


class ReminderRun(Model):
    """One run of the reminder job, from the request (if a coordinator asked for it) to
    its end; a run that planned a day records which (the newest tells the next run where
    to catch up from). Monitoring and the dashboard read the newest runs."""

    __tablename__ = "reminder_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[RunStatus] = mapped_column(
        enum_type(RunStatus, "status"), default=RunStatus.FINISHED, index=True
    )
    # "today" in the campaign's zone, set in the planning transaction itself.
    planned_for: Mapped[date | None] = mapped_column(index=True)
    window_start: Mapped[date | None]
    planned: Mapped[int] = mapped_column(default=0)
    written: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    retrying: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written now and then while it runs: a run whose heartbeat stopped has died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ReminderRun {self.id} {self.status}>"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OutboxMessage(Model):
    """One email to send, and the record that it was planned.

    Unique over (date, rule, recipient, subject), every one of them NOT NULL (NULLs never
    collide in a unique index): a reminder planned twice, by two runs at once or on two
    machines, is inserted once. The date comes first: a day's plan lands in a few places of
    the index instead of one page per reminder.

    A runner that takes a message for sending *claims* it: ``claimed_by`` names the runner
    and ``next_attempt_at`` is the end of its lease, renewed while the batch goes on. Only
    the owner may mark it sent; when the lease runs out another runner may take it.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        UniqueConstraint(
            "occurs_on",
            "rule_id",
            "recipient_user_id",
            "subject_ref",
            name="uq_outbox_messages_reminder",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Rules are switched off, never deleted: their ledger stays. A deleted account's
    # messages go with it (the erasure of a godparent deletes them first anyway).
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("reminder_rules.id", ondelete="RESTRICT"), index=True
    )
    recipient_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    recipient_email: Mapped[str] = mapped_column(String(254))
    # What it is about: "prisoner:17"; "" where nothing in particular (the digest).
    subject_ref: Mapped[str] = mapped_column(String(100))
    occurs_on: Mapped[date]
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "status"), default=OutboxStatus.PENDING
    )
    # Attempts the mail server really saw: a message never tried (the server was down, the
    # run stopped first) has not used one up.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_subject: Mapped[str] = mapped_column(String(300))  # "" until written out
    # The Message-ID header it went out with: how a bounce finds its message.
    email_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[ReminderRule] = relationship()
    # The bodies live in a table of their own: the job rewrites a message's row twice as it
    # sends it (claimed, sent), and a row of a few hundred bytes costs far less to rewrite
    # than one carrying two bodies and the composed email.
    content: Mapped[OutboxContent | None] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True
    )

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


class OutboxContent(Model):
    """What an outbox message says, and the email composed from it (dropped once sent)."""

    __tablename__ = "outbox_contents"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), primary_key=True
    )
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    mime: Mapped[bytes | None] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="content")

    def __repr__(self) -> str:
        return f"<OutboxContent {self.message_id}>"


class BounceKind(StrEnum):
    HARD = "hard"  # the address does not exist (5.x.x): nothing more goes to it
    SOFT = "soft"  # a mailbox full, a server away (4.x.x): the message is tried again


class Bounce(Model):
    """A delivery report that came back for a message the server had accepted."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    kind: Mapped[BounceKind] = mapped_column(enum_type(BounceKind, "kind"))
    status_code: Mapped[str] = mapped_column(String(16))  # RFC 3463: "5.1.1"
    diagnostic: Mapped[str | None] = mapped_column(Text)
    # The report's own Message-ID: a report read twice (a crash before it was filed away)
    # counts once.
    report_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[OutboxMessage | None] = relationship()

    def __repr__(self) -> str:
        return f"<Bounce {self.kind} {self.status_code}>"


class UndeliverableAddress(Model):
    """An address that bounced for good: no reminder goes to it until a coordinator clears
    it or the person's account changes to another address."""

    __tablename__ = "undeliverable_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    bounce_id: Mapped[int | None] = mapped_column(ForeignKey("bounces.id", ondelete="SET NULL"))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bounce: Mapped[Bounce | None] = relationship()

    def __repr__(self) -> str:
        return f"<UndeliverableAddress {self.id}>"
