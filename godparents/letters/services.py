"""The print kit's plain functions: what goes on an envelope, which prisoners a batch
holds, templates with placeholders, and the withheld-words list. The caller commits."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, extract, select
from sqlalchemy.orm import joinedload, selectinload

from godparents.auth.models import User
from godparents.extensions import db
from godparents.letters import pdf
from godparents.letters.check import Word
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.prisoners import services as registry
from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsors.services import is_current, pairings_for
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

PLACEHOLDERS = ("name", "first_name")
_PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
SENDER_MAX_LINES = 6
BATCH_SHOWN = 20  # names listed per problem in a batch's preview


class LetterError(ValueError):
    """Input that cannot be used; ``field`` is the form field the message belongs to."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# --- Templates and placeholders --------------------------------------------------------------


def unknown_placeholders(text: str) -> list[str]:
    """The ``{...}`` in a text that are not placeholders, in order, each once."""
    found = [m.group(1) for m in _PLACEHOLDER.finditer(text or "")]
    return list(dict.fromkeys(name for name in found if name not in PLACEHOLDERS))


LATIN = "latin"  # for the German and English translations beside a letter


def name_in(prisoner: Prisoner, language: LetterLanguage | str) -> str:
    """The prisoner's name as the letter's language writes it (``LATIN``: as the
    translations write it), first name first."""
    if language == LATIN:
        return prisoner.name_latin
    if language == LetterLanguage.BELARUSIAN:
        return prisoner.name_be or prisoner.name_ru or prisoner.name_latin
    return prisoner.name_ru or prisoner.name_be or prisoner.name_latin


def fill(text: str, prisoner: Prisoner, language: LetterLanguage | str) -> str:
    """The text with its placeholders filled in for ``prisoner``; the registry keeps names
    first name first, so ``{first_name}`` is the first word."""
    name = name_in(prisoner, language)
    values = {"name": name, "first_name": name.split()[0] if name.split() else name}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def templates(active_only: bool = False) -> list[LetterTemplate]:
    query = select(LetterTemplate).order_by(
        LetterTemplate.occasion, LetterTemplate.language, LetterTemplate.title, LetterTemplate.id
    )
    if active_only:
        query = query.where(LetterTemplate.is_active.is_(True))
    return list(db.session.scalars(query))


@dataclass
class TemplateData:
    occasion: str
    language: str
    title: str
    body: str
    translation_de: str | None
    translation_en: str | None
    is_active: bool


def template_problems(body: str | None) -> list[tuple[str, str]]:
    """Every ``(field, message)`` of the template's own rules; a body the form refused
    itself is None and not judged again."""
    unknown = unknown_placeholders(body) if body is not None else []
    if not unknown:
        return []
    message = _(
        "Unknown placeholder: %(names)s. Use {name} or {first_name}.",
        names=", ".join("{" + n + "}" for n in unknown),
    )
    return [("body", message)]


def save_template(template: LetterTemplate | None, data: TemplateData) -> LetterTemplate:
    """Create or change a template; an unknown placeholder is refused at its field."""
    for name, message in template_problems(data.body):
        raise LetterError(message, name)
    if template is None:
        template = LetterTemplate()
        db.session.add(template)
    template.occasion = Occasion(data.occasion)
    template.language = LetterLanguage(data.language)
    template.title = data.title.strip()
    template.body = data.body.strip()
    template.translation_de = (data.translation_de or "").strip() or None
    template.translation_en = (data.translation_en or "").strip() or None
    template.is_active = data.is_active
    db.session.flush()
    return template


# --- The withheld-words list -----------------------------------------------------------------


def watch_words() -> list[WatchWord]:
    return list(
        db.session.scalars(select(WatchWord).order_by(WatchWord.language, WatchWord.phrase))
    )


def check_words() -> list[Word]:
    return [Word(word.phrase, word.reason) for word in watch_words()]


def words_json(words: list[Word]) -> str:
    """The list for the live check in the browser (static/js/letters.js); WTForms escapes
    it into the attribute."""
    return json.dumps([[word.phrase, word.reason] for word in words], ensure_ascii=False)


def watch_word_problems(phrase: str | None, language: str | None) -> list[tuple[str, str]]:
    """Every ``(field, message)`` of the list's own rules; a value the form refused itself
    is None and not judged again."""
    if phrase is None or language is None:
        return []
    phrase = " ".join(phrase.split())
    # Compared in Python: SQLite's lower() folds ASCII only, and the list is short.
    if any(
        w.phrase.casefold() == phrase.casefold() and w.language == language for w in watch_words()
    ):
        return [("phrase", _("This word is on the list already."))]
    return []


def add_watch_word(phrase: str, language: str, reason: str) -> WatchWord:
    for name, message in watch_word_problems(phrase, language):
        raise LetterError(message, name)
    phrase = " ".join(phrase.split())
    word = WatchWord(phrase=phrase, language=language, reason=reason.strip())
    db.session.add(word)
    db.session.flush()
    return word


# --- Envelopes -------------------------------------------------------------------------------


@dataclass
class EnvelopeView:
    """A godchild's envelope as the team sees it: what is known, and what is missing."""

    prisoner: Prisoner
    sponsor: Sponsor
    recipient: str | None  # None: the postal address is unknown
    sender: str | None
    problems: dict[str, str | None] = field(default_factory=dict)  # size -> block too long


def envelope_view(user: User, prisoner_id: int) -> EnvelopeView | None:
    """The addresses, not yet measured (``measure_envelope``); None unless the user's
    team is the prisoner's godparent now (an ended pairing or a released prisoner has
    nothing to post)."""
    pairings = list(
        db.session.scalars(
            pairings_for(user, prisoner_id)
            .options(
                joinedload(Sponsorship.prisoner).selectinload(Prisoner.addresses),
                joinedload(Sponsorship.sponsor),
            )
            .order_by(Sponsorship.started_on, Sponsorship.id)
        ).unique()
    )
    current = next((p for p in pairings if is_current(p)), None)
    if current is None:
        return None
    prisoner = current.prisoner
    address = prisoner.current_address
    recipient = prisoner.envelope(address) if address else None
    sender = (current.sponsor.postal_address or "").strip() or None
    return EnvelopeView(prisoner, current.sponsor, recipient, sender)


def measure_envelope(view: EnvelopeView) -> None:
    """Fill in ``view.problems``: which sizes the addresses do not fit."""
    if view.recipient and view.sender:
        view.problems = pdf.envelope_problems(pdf.Envelope(view.recipient, view.sender))


def set_sender_address(sponsor: Sponsor, text: str) -> None:
    lines = [line.strip() for line in (text or "").strip().splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > SENDER_MAX_LINES:
        raise LetterError(
            _("At most %(count)d lines, please.", count=SENDER_MAX_LINES), "postal_address"
        )
    sponsor.postal_address = "\n".join(lines) or None
    db.session.flush()


# --- Batches from the prisoner list's filters ------------------------------------------------


@dataclass(frozen=True)
class BatchFilters:
    """The prisoner list's filters, and two of the print kit's own."""

    registry: registry.Filters
    birth_month: int | None = None
    parliament: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BatchFilters:
        month = args.get("month", "")
        return cls(
            registry=registry.Filters.from_args(args),
            birth_month=int(month) if month.isdigit() and 1 <= int(month) <= 12 else None,
            parliament=args.get("parliament", "").strip()[:200],
        )

    def args(self) -> dict[str, str]:
        """The filters as query arguments, for links to the PDFs."""
        yes_no = {True: "yes", False: "no", None: ""}
        values = {
            "q": self.registry.q,
            "status": self.registry.status,
            "godparent": yes_no[self.registry.has_godparent],
            "letters": "unknown"
            if self.registry.letters_unknown
            else yes_no[self.registry.can_receive_letters],
            "month": str(self.birth_month or ""),
            "parliament": self.parliament,
        }
        return {key: value for key, value in values.items() if value}


def parliaments() -> list[str]:
    """The bodies of godparents with an active pairing, for the batch's choice."""
    return list(
        db.session.scalars(
            select(Sponsor.body)
            .join(Sponsorship, Sponsorship.sponsor_id == Sponsor.id)
            .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
            .distinct()
            .order_by(Sponsor.body)
        )
    )


def batch_query(filters: BatchFilters) -> Select[Prisoner]:
    query = registry.search(filters.registry)
    if filters.birth_month is not None:
        query = query.where(extract("month", Prisoner.birth_date) == filters.birth_month)
    if filters.parliament:
        query = query.where(
            select(Sponsorship.id)
            .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
            .where(
                Sponsorship.prisoner_id == Prisoner.id,
                Sponsorship.status == SponsorshipStatus.ACTIVE,
                Sponsor.body == filters.parliament,
            )
            .exists()
        )
    return query


@dataclass
class Batch:
    """A batch's prisoners sorted into those to print and those left out, with why."""

    printable: list[tuple[Prisoner, str]] = field(default_factory=list)  # with the label text
    unknown_address: list[Prisoner] = field(default_factory=list)
    too_long: list[Prisoner] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.printable) + len(self.unknown_address) + len(self.too_long)


def batch(filters: BatchFilters, check_labels: bool = True) -> Batch:
    """The prisoners of a batch, by name, their addresses loaded in two more queries."""
    prisoners = db.session.scalars(
        batch_query(filters)
        .options(selectinload(Prisoner.addresses))
        .order_by(Prisoner.name_latin, Prisoner.id)
    ).all()
    result = Batch()
    with pdf.label_measure() as fits:
        for prisoner in prisoners:
            address = prisoner.current_address
            text = prisoner.envelope(address) if address else None
            if not text:
                result.unknown_address.append(prisoner)
            elif check_labels and not fits(text):
                result.too_long.append(prisoner)
            else:
                result.printable.append((prisoner, text))
    return result


def batch_letters(template: LetterTemplate, prisoners: list[Prisoner]) -> list[pdf.Letter]:
    return [pdf.Letter(fill(template.body, p, template.language)) for p in prisoners]
