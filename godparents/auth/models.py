"""Accounts: who can log in, and as what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, String
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from godparents.extensions import db
from godparents.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from godparents.sponsors.models import Delegation, Sponsor


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SPONSOR = "sponsor"
    DELEGATE = "delegate"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # Part of the session's user id: bumping it logs this user out everywhere.
    session_generation: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Reminder preferences: the kinds (reminders.models.Trigger values) this user opted out
    # of, and how many days before a godchild's birthday the card reminder comes.
    reminder_opt_outs: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(JSON()), default=list
    )
    birthday_card_days: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sponsor: Mapped[Sponsor | None] = relationship(back_populates="user")
    delegations: Mapped[list[Delegation]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    @validates("email")
    def _normalise_email(self, key: str, value: str) -> str:
        return normalise_email(value)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.COORDINATOR


def normalise_email(value: str) -> str:
    return value.strip().lower()

