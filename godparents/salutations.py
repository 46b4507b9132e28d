"""How a person is addressed: the opening line of an email and the name others read.

Everyone who gets mail chooses (or a coordinator chooses for a godparent) a form of
address: as a woman ("Sehr geehrte Frau Dr. Lindner," / "Dear Dr Lindner,"), as a man
("Sehr geehrter Herr Hoffmann," / "Dear Mr Hoffmann,") or neutral, the default, which
uses the whole name ("Guten Tag Alex Weber," / "Dear Alex Weber,"). The academic title
used in a salutation (Dr., Prof.) is kept apart from the parliamentary one ("MdB",
"Abg.z.NR", "MP"), which belongs on lists and never in a salutation.

The words are a table per language, not catalog entries: German and English build the
salutation differently (German names the gender and keeps the full stop in "Dr."), and
a table reads as what it is. A language not in the table is written as English.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Mapped, mapped_column

from godparents.types import enum_type


class FormOfAddress(StrEnum):
    NEUTRAL = "neutral"  # the whole name, no gender: the default
    FEMALE = "female"  # Frau / Ms
    MALE = "male"  # Herr / Mr


class AcademicTitle(StrEnum):
    DR = "dr"
    PROF = "prof"
    PROF_DR = "prof_dr"


@dataclass(frozen=True)
class _Words:
    titles: dict[AcademicTitle, str]
    female: str  # the opening for a woman; {name} is "Frau Dr. Lindner" (German) or "Dr Lindner"
    male: str
    neutral: str  # {name} is the whole name, with the title before it
    nameless: str  # for someone whose name is not known
    ms: str  # "Ms" / "Frau", before the surname when there is no title (English) or always
    mr: str
    gender_with_title: bool  # German keeps "Frau"/"Herr" before a title; English drops it


WORDS: dict[str, _Words] = {
    "en": _Words(
        titles={
            AcademicTitle.DR: "Dr",
            AcademicTitle.PROF: "Professor",
            AcademicTitle.PROF_DR: "Professor",
        },
        female="Dear {name},",
        male="Dear {name},",
        neutral="Dear {name},",
        nameless="Hello,",
        ms="Ms",
        mr="Mr",
        gender_with_title=False,
    ),
    "de": _Words(
        titles={
            AcademicTitle.DR: "Dr.",
            AcademicTitle.PROF: "Prof.",
            AcademicTitle.PROF_DR: "Prof. Dr.",
        },
        female="Sehr geehrte {name},",
        male="Sehr geehrter {name},",
        neutral="Guten Tag {name},",
        nameless="Guten Tag,",
        ms="Frau",
        mr="Herr",
        gender_with_title=True,
    ),
}

# Lower-case words that belong to a surname ("von der Leyen", "van Dijk", "de Vries").
PARTICLES = frozenset(
    {"von", "van", "vom", "zu", "zum", "zur", "der", "den", "de", "di", "da", "du", "del",
     "della", "la", "le", "ten", "ter", "af", "av"}
)  # fmt: skip


class Addressed:
    """The columns a salutation reads, for the models of people who get mail (``Sponsor``,
    ``User``): neutral unless they said otherwise, no academic title unless given."""

    form_of_address: Mapped[FormOfAddress] = mapped_column(
        enum_type(FormOfAddress, "form_of_address"),
        default=FormOfAddress.NEUTRAL,
        server_default=FormOfAddress.NEUTRAL.value,
    )
    academic_title: Mapped[AcademicTitle | None] = mapped_column(
        enum_type(AcademicTitle, "academic_title")
    )


class Addressee(Protocol):
    """What a salutation reads: ``Sponsor`` and ``User`` both have these."""

    @property
    def full_name(self) -> str | None: ...
    @property
    def form_of_address(self) -> str | None: ...
    @property
    def academic_title(self) -> str | None: ...


def _words(locale: str | None) -> _Words:
    return WORDS.get((locale or "en").split("_")[0].split("-")[0].lower(), WORDS["en"])


def _form(value: str | None) -> FormOfAddress:
    try:
        return FormOfAddress(value or FormOfAddress.NEUTRAL)
    except ValueError:
        return FormOfAddress.NEUTRAL


def _title(value: str | None) -> AcademicTitle | None:
    try:
        return AcademicTitle(value) if value else None
    except ValueError:
        return None


def surname(full_name: str) -> str:
    """The family name in a full name: its last word, with the particles before it
    ("Ursula von der Leyen" gives "von der Leyen")."""
    words = full_name.split()
    if not words:
        return ""
    start = len(words) - 1
    while start > 1 and words[start - 1] in PARTICLES:
        start -= 1
    return " ".join(words[start:])


def title_text(title: str | None, locale: str | None) -> str:
    """The academic title as written in ``locale`` ("Dr." in German, "Dr" in English)."""
    chosen = _title(title)
    return _words(locale).titles[chosen] if chosen else ""


def display_name(person: Addressee | None, locale: str | None) -> str:
    """The name as others read it in running text: "Dr. Margarete Lindner" (German),
    "Dr Margarete Lindner" (English); never the parliamentary title."""
    if person is None or not (person.full_name or "").strip():
        return ""
    name = " ".join((person.full_name or "").split())
    return " ".join(filter(None, [title_text(person.academic_title, locale), name]))


def salutation(person: Addressee | None, locale: str | None) -> str:
    """The opening line of an email to ``person`` in ``locale``, comma included."""
    words = _words(locale)
    name = " ".join(((person.full_name if person else None) or "").split())
    if person is None or not name:
        return words.nameless
    form = _form(person.form_of_address)
    title = title_text(person.academic_title, locale)
    if form is FormOfAddress.NEUTRAL:
        return words.neutral.format(name=" ".join(filter(None, [title, name])))
    gender = words.ms if form is FormOfAddress.FEMALE else words.mr
    if title and not words.gender_with_title:
        gender = ""
    addressed = " ".join(filter(None, [gender, title, surname(name)]))
    template = words.female if form is FormOfAddress.FEMALE else words.male
    return template.format(name=addressed)
