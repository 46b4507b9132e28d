"""Reading lists whose headings are not the import format's: which column is which.

A coordinator says it once per set of headings ("ФИО", "Дата рождения", "Place of
detention" ...); the mapping is stored under a hash of the headings and used again for the
next file with the same headings, on the web and on the command line. For headings seen
the first time, a guess from the words lists use in Russian, Belarusian, English and German
is offered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from godparents.prisoners.csvio import COLUMNS
from godparents.prisoners.import_read import FULL_NAME, IGNORED, normalised
from godparents.prisoners.models import ImportMapping

TARGETS: tuple[str, ...] = (*COLUMNS, FULL_NAME)

# Headings lists use, normalised (casefolded, single spaces), by the column they hold.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "id",
        "№",
        "no",
        "no.",
        "nr",
        "number",
        "номер",
        "нумар",
        "external id",
        "ид",
        "код",
        "code",
    ),
    FULL_NAME: (
        "фио",
        "ф.и.о.",
        "ф. и. о.",
        "фамилия имя отчество",
        "фамилия, имя, отчество",
        "прозвішча, імя, імя па бацьку",
        "прозвішча імя імя па бацьку",
        "пiб",
        "піб",
        "name",
        "full name",
        "имя",
        "імя",
        "person",
        "name (surname first)",
        "name",
        "прозвішча, імя",
        "фамилия, имя",
        "vollständiger name",
    ),
    "name_latin": (
        "name (latin)",
        "latin name",
        "name in latin",
        "name, latin",
        "transliteration",
        "транслитерация",
    ),
    "name_be": ("name (belarusian)", "імя па-беларуску", "па-беларуску", "belarusian name"),
    "name_ru": ("name (russian)", "имя по-русски", "по-русски", "russian name"),
    "aliases": ("aliases", "other spellings", "другие написания", "іншыя напісанні"),
    "gender": ("пол", "gender", "sex", "пол (м/ж)", "geschlecht", "пол/sex"),
    "birth_date": (
        "дата рождения",
        "дата нараджэння",
        "date of birth",
        "birth date",
        "born",
        "год рождения",
        "год нараджэння",
        "geburtsdatum",
        "birthday",
    ),
    "status": ("статус", "status"),
    "detained_on": (
        "дата задержания",
        "дата затрымання",
        "detained",
        "detained on",
        "date of detention",
        "arrested",
        "дата ареста",
        "festgenommen",
    ),
    "released_on": (
        "дата освобождения",
        "дата вызвалення",
        "released",
        "released on",
        "date of release",
        "freigelassen",
    ),
    "articles": (
        "статья",
        "статьи",
        "статьи ук",
        "артыкул",
        "артыкулы",
        "артыкулы кк",
        "articles",
        "article",
        "criminal code",
        "paragraphen",
    ),
    "sentence": ("приговор", "прысуд", "sentence", "срок", "тэрмін", "urteil"),
    "expected_release_on": (
        "конец срока",
        "заканчэнне тэрміну",
        "expected release",
        "end of sentence",
    ),
    "facility": (
        "место содержания",
        "месца ўтрымання",
        "place of detention",
        "facility",
        "где содержится",
        "дзе ўтрымліваецца",
        "учреждение",
        "установа",
        "prison",
        "colony",
        "колония",
        "haftort",
    ),
    "postal_address": (
        "адрес",
        "адрас",
        "address",
        "postal address",
        "почтовый адрес",
        "паштовы адрас",
        "адрес для писем",
        "адрас для лістоў",
        "anschrift",
    ),
    "can_receive_letters": ("letters", "письма доходят", "лісты даходзяць", "letters get through"),
    "source_url": ("ссылка", "спасылка", "link", "url", "source", "quelle"),
    "is_public": ("public", "публично", "публічна", "öffentlich"),
    "bio": (
        "описание",
        "апісанне",
        "bio",
        "description",
        "biography",
        "история",
        "гісторыя",
        "beschreibung",
    ),
}
_GUESSES = {synonym: column for column, synonyms in SYNONYMS.items() for synonym in synonyms}


def headings_key(headings: Sequence[str]) -> str:
    """The same for the same set of headings, in any order and case."""
    names = sorted({normalised(heading) for heading in headings if heading.strip()})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()


def guess(headings: Sequence[str]) -> dict[str, str]:
    """A first mapping: each heading that is a column's name or a known synonym, each
    column at most once."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for heading in headings:
        name = normalised(heading)
        column = name if name in TARGETS else _GUESSES.get(name, IGNORED)
        if column in taken:
            column = IGNORED
        found[name] = column
        if column:
            taken.add(column)
    return found


def remembered(session: Session, headings: Sequence[str]) -> dict[str, str] | None:
    """The mapping stored for this set of headings, if any."""
    stored = session.scalar(
        select(ImportMapping.columns).where(ImportMapping.headings_key == headings_key(headings))
    )
    return dict(stored) if stored else None


def remember(
    session: Session, headings: Sequence[str], mapping: Mapping[str, str], user_id: int | None
) -> None:
    """Store the mapping for this set of headings (replacing the one there was)."""
    key = headings_key(headings)
    columns = {normalised(h): mapping.get(normalised(h), IGNORED) for h in headings if h.strip()}
    found = session.scalar(select(ImportMapping).where(ImportMapping.headings_key == key))
    if found is None:
        session.add(ImportMapping(headings_key=key, columns=columns, updated_by_id=user_id))
    else:
        found.columns, found.updated_by_id = columns, user_id
    session.flush()
