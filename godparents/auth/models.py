"""Accounts: who can log in, and as what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from godparents.encryption import Encrypted
from godparents.extensions import Model
from godparents.salutations import Addressed
from godparents.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from godparents.sponsors.models import Delegation, Sponsor


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SPONSOR = "sponsor"
    DELEGATE = "delegate"


class User(UserMixin, Addressed, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # How emails address office staff and coordinators (``Addressed`` adds the form of
    # address and the academic title); a godparent's own are on their Sponsor record. No
    # name: "Hello," alone.
    full_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # Two factors (auth/twofactor.py): the TOTP key once enrolment is confirmed, and the
    # newest time step a code was accepted for: a code is good once, never replayed.
    # Encrypted at rest with a key kept outside the database (godparents/encryption.py).
    totp_secret: Mapped[str | None] = mapped_column("totp_key", Encrypted)
    totp_last_step: Mapped[int | None] = mapped_column()
    # The hash of the passkey challenge last offered at the second step of logging in: it is
    # claimed once (auth/passkeys.py), so an answer to it cannot be replayed.
    passkey_challenge_hash: Mapped[str | None] = mapped_column(String(64))
    # Where the key was kept in clear before December 2026: see UserSession's like column.
    legacy_totp_secret: Mapped[str | None] = mapped_column("totp_secret", String(64), deferred=True)
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

    # The token of the session this object was loaded for (auth/sessions.py); not stored.
    # (Typed for mypy only: an annotation in the class body would ask the ORM for a column.)
    if TYPE_CHECKING:
        session_token: str | None
    session_token = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookie: the session's token, never the user id,
        so that the server decides whether the session is still alive."""
        return self.session_token

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.COORDINATOR

    @property
    def has_two_factors(self) -> bool:
        return self.totp_secret is not None

    @property
    def needs_two_factors(self) -> bool:
        """Coordinators may not work without a second factor."""
        return self.is_coordinator and not self.has_two_factors


class UserSession(Model):
    """One login on one device (auth/sessions.py). The browser's signed cookie holds a
    random token; only its hash is stored, and deleting the row ends the session for good,
    whatever copies of the cookie exist."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The user's session generation at login: a bump ends this session too.
    generation: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "Keep me signed in" (not offered to coordinators): the longer timeouts apply.
    remember: Mapped[bool] = mapped_column(default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # A TOTP key shown for enrolment on this device and not yet confirmed with a code.
    pending_totp_secret: Mapped[str | None] = mapped_column("pending_totp_key", Encrypted)
    # Where the key was kept in clear before December 2026: emptied by the migration that
    # encrypted it, and kept (always empty, never loaded) because dropping a column means
    # rebuilding the table on SQLite.
    legacy_pending_totp_secret: Mapped[str | None] = mapped_column(
        "pending_totp_secret", String(64), deferred=True
    )

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """A one-time code for when the authenticator is lost; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def normalise_email(value: str) -> str:
    return value.strip().lower()


class Passkey(Model):
    """A passkey (WebAuthn credential) of a user with two factors: the preferred second
    factor, bound to this site's address, so a phishing site cannot relay it
    (auth/passkeys.py). Only its public key is stored."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
