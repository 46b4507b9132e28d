"""Sponsors (godparents) and the office staff who act for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import Model
from godparents.prisoners.spellings import words_of
from godparents.salutations import Addressed
from godparents.search import key_text, trigram_index
from godparents.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from godparents.auth.models import User
    from godparents.sponsorships.models import Sponsorship


class Parliament(Model):
    """A parliament on the maintained list the godparent form picks from, named in each
    language the app speaks. A godparent in a parliament not on it has "other" and the
    name as typed (``Sponsor.body``)."""

    __tablename__ = "parliaments"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The English name is also what ``Sponsor.body`` holds for a godparent in it, so that
    # lists, filters and exports that read ``body`` keep working (labels.parliament).
    name_en: Mapped[str] = mapped_column(String(200), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2; "EU" for the EU's

    def __repr__(self) -> str:
        return f"<Parliament {self.id}>"

    def name_in(self, locale: str | None) -> str:
        return self.name_de if (locale or "").startswith("de") else self.name_en


class Sponsor(Addressed, Model):
    __tablename__ = "sponsors"
    __table_args__ = (trigram_index("ix_sponsors_search_text_trigrams", "search_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped by every ORM update; an UPDATE whose version moved on meanwhile changes no row
    # and raises StaleDataError (godparents/concurrency.py): no lost updates.
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}
    full_name: Mapped[str] = mapped_column(String(200))
    # The parliamentary title or post-nominal ("MdB", "Abg.z.NR", "MP"): shown on lists,
    # never in a salutation. The academic title a salutation uses is apart from it.
    title: Mapped[str | None] = mapped_column(String(100))
    # The parliament from the list; None for "other", whose name is in ``body`` as typed.
    parliament_id: Mapped[int | None] = mapped_column(
        ForeignKey("parliaments.id", ondelete="SET NULL"), index=True
    )
    # The parliament's name: the list's English name, or the name as typed for "other".
    body: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    party: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    # The sender's address on envelopes (the godparent's office, usually), line breaks kept.
    postal_address: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    mandate_ends_on: Mapped[date | None]
    # active_history: the consent record (public/consent.py) needs the value before a change
    # even when the row was not loaded since the last commit.
    has_public_consent: Mapped[bool] = mapped_column(default=False, active_history=True)
    public_quote: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Moved on by every change that concerns this team's home page (sponsors/home_cache.py).
    home_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The name's words, folded, for the pickers (godparents.search); kept by a flush hook.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Set when the sponsor's personal data was erased; their actions stay, anonymous.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship(back_populates="sponsor")
    parliament: Mapped[Parliament | None] = relationship()
    delegations: Mapped[list[Delegation]] = relationship(
        back_populates="sponsor", cascade="all, delete-orphan"
    )
    sponsorships: Mapped[list[Sponsorship]] = relationship(back_populates="sponsor")

    def __repr__(self) -> str:
        return f"<Sponsor {self.id}>"

    def refresh_search_text(self) -> None:
        self.search_text = key_text(words_of(self.full_name))


class Delegation(Model):
    """A delegate (office staff) acting on a sponsor's behalf."""

    __tablename__ = "delegations"

    sponsor_id: Mapped[int] = mapped_column(
        ForeignKey("sponsors.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sponsor: Mapped[Sponsor] = relationship(back_populates="delegations")
    user: Mapped[User] = relationship(back_populates="delegations")
