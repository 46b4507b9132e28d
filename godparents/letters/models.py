"""Letter templates and the list of words that get letters withheld."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from godparents.extensions import Model
from godparents.types import UTCDateTime, enum_type, utcnow


class Occasion(StrEnum):
    BIRTHDAY = "birthday"
    NEW_YEAR = "new_year"
    SUPPORT = "support"
    AFTER_SENTENCING = "after_sentencing"


class LetterLanguage(StrEnum):
    """The languages letters are handed over in."""

    RUSSIAN = "ru"
    BELARUSIAN = "be"


class LetterTemplate(Model):
    """A letter or card text kept by coordinators, in Russian or Belarusian, with German and
    English translations for the writer; ``{name}`` and ``{first_name}`` are filled in."""

    __tablename__ = "letter_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    occasion: Mapped[Occasion] = mapped_column(enum_type(Occasion, "occasion"), index=True)
    language: Mapped[LetterLanguage] = mapped_column(enum_type(LetterLanguage, "language"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    translation_de: Mapped[str | None] = mapped_column(Text)
    translation_en: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<LetterTemplate {self.id}>"


class WatchWord(Model):
    """A word or topic that gets letters withheld, in one of the four languages; matched as
    whole words, or, ending in "*", as a stem ("свобод*" finds "свободы", "свободе")."""

    __tablename__ = "letter_watch_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(2))  # ru, be, de, en
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<WatchWord {self.id}>"
