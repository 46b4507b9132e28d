"""The Latin spellings of a Cyrillic name that are in real use, for search and identity.

A Belarusian political prisoner's name reaches the campaign spelled many ways: from the
Belarusian form (Васіленка) or the Russian one (Василенко), by a passport office, a
library, a Polish or a German newspaper. From each Cyrillic word this module generates the
spellings of these systems:

====================  ===============================  =================================
System                Belarusian form                  Russian form
====================  ===============================  =================================
passport, English     Belarusian passports (ASCII):    ICAO Doc 9303 (passports since
press                 Krautsova, Bialiatski            2013) and MVD 310 (before):
                                                       Kravtsova, Andrei / Andrey
BGN/PCGN              BGN/PCGN 1979: Krawtsova         BGN/PCGN; Wikipedia's English
                                                       usage: Belyatsky
national, scholarly   national system 2007 (with       ISO 9 (GOST 7.79), scholarly:
                      diacritics): Kraŭcova, Žuk;      Kravcova, Žuk
                      ISO 9: Kraǔcova
Polish                Łacinka (Kraŭcova, Łasicki) and  Polish press: Krawcowa, Łosicki
                      Polish press: Wasilenka, Żuk
German                German press: Wassilenka         Duden/German press: Wassilenko,
                                                       Krawzowa, Schuk
====================  ===============================  =================================

The Russian systems but German and Polish come from ``iuliia`` (its published schemas,
each tested against its standard's samples). No maintained library covers the
Belarusian systems, nor German or Polish press spellings (``cyrtranslit``'s Belarusian is
one scholarly scheme that writes э as ė; ``transliterate`` has no Belarusian and is GPL),
so those tables are written here, as ``iuliia`` schemas, so that its engine applies them
(letter by letter, with the letter before and after and the word's ending in view).

Plain functions; every result is folded (``names.fold``): diacritics are gone, so Kraŭcova
and Kraucova are one spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import iuliia
from iuliia.schema import TranslitSchema

from godparents.prisoners.names import fold

BE_VOWELS = "аеёіоуыэюя"
RU_VOWELS = "аеёиоуыэюя"
# After these (and at a word's start) е, ё, ю, я are iotated: ye, yo, yu, ya.
BE_IOTATING = BE_VOWELS + "ьў'"
RU_IOTATING = RU_VOWELS + "ьъ"
HUSHING = "жчшщц"  # after these Polish and German write е, ё without the j

_BE_ONLY = set("іў")
_RU_ONLY = set("ищъ")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_APOSTROPHES = re.compile(r"['’ʼʹ`]")
MAX_WORD = 64  # longer "words" are not names: they are left as they are


def _iotated(values: dict[str, str], after: str) -> dict[str, str]:
    """``prev_mapping`` entries: each letter at a word's start and after ``after``."""
    entries = {}
    for letter, value in values.items():
        entries[letter] = value
        for previous in after:
            entries[previous + letter] = value
    return entries


def _after(letters: str, values: dict[str, str]) -> dict[str, str]:
    """``prev_mapping`` entries: each letter of ``values`` after each of ``letters``."""
    return {previous + letter: value for previous in letters for letter, value in values.items()}


def _before(letter: str, following: str, value: str) -> dict[str, str]:
    """``next_mapping`` entries: ``letter`` before each of ``following``."""
    return {letter + after: value for after in following}


def _schema(
    name: str,
    mapping: dict[str, str],
    prev: dict[str, str] | None = None,
    next_: dict[str, str] | None = None,
    endings: dict[str, str] | None = None,
) -> TranslitSchema:
    return TranslitSchema(
        name=name, mapping=mapping, prev_mapping=prev, next_mapping=next_, ending_mapping=endings
    )


_BE_COMMON = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "з": "z",
    "і": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "ы": "y",
    "ь": "",
    "э": "e",
}
# The soft sign makes the consonant before it soft: ź, ĺ, ń, ś, ć in the national system.
_BE_SOFT = {"зь": "ź", "ль": "ĺ", "нь": "ń", "сь": "ś", "ць": "ć"}

# Belarusian passports and most English-language press (Tsikhanouskaya, Bialiatski).
BE_PASSPORT = _schema(
    "be_passport",
    {
        **_BE_COMMON,
        "е": "e",
        "ё": "io",
        "ж": "zh",
        "й": "i",
        "ў": "u",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "ю": "iu",
        "я": "ia",
    },
    prev={
        **_iotated({"е": "ye", "ё": "yo", "ю": "yu", "я": "ya"}, BE_IOTATING),
        "ыя": "ia",  # Maryia
        "й": "y",
    },
    endings={"ый": "y"},
)

# BGN/PCGN 1979 for Belarusian (Krawtsova, Byalyatski).
BE_BGN = _schema(
    "be_bgn_pcgn",
    {
        **_BE_COMMON,
        "е": "e",
        "ё": "ë",
        "ж": "zh",
        "й": "y",
        "ў": "w",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "ю": "yu",
        "я": "ya",
    },
    prev=_iotated({"е": "ye", "ё": "yo"}, BE_IOTATING),
)

# The national system of 2007 (UN-approved; road signs, maps): Kraŭcova, Viciebsk.
BE_NATIONAL = _schema(
    "be_national",
    {
        **_BE_COMMON,
        "е": "ie",
        "ё": "io",
        "ж": "ž",
        "й": "j",
        "ў": "ŭ",
        "х": "ch",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "ю": "iu",
        "я": "ia",
    },
    prev=_iotated({"е": "je", "ё": "jo", "ю": "ju", "я": "ja"}, BE_IOTATING),
    next_=_BE_SOFT,
)

# Classical Łacinka: like the national system, but a hard л is ł and a soft one l, whose
# vowel then loses its i (Łukašenka, Bialacki).
_SOFT_AFTER_L = {"е": "e", "ё": "o", "ю": "u", "я": "a"}
BE_LACINKA = _schema(
    "be_lacinka",
    {
        **_BE_COMMON,
        "е": "ie",
        "ё": "io",
        "ж": "ž",
        "й": "j",
        "л": "ł",
        "ў": "ŭ",
        "х": "ch",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "ю": "iu",
        "я": "ia",
    },
    prev={
        **_iotated({"е": "je", "ё": "jo", "ю": "ju", "я": "ja"}, BE_IOTATING),
        **_after("л", _SOFT_AFTER_L),
    },
    next_={**_BE_SOFT, **_before("л", "еёюяіь", "l")},
)

# ISO 9:1995 (GOST 7.79 system A), one Latin letter for each Cyrillic one.
BE_ISO9 = _schema(
    "be_iso9",
    {
        **_BE_COMMON,
        "г": "g",
        "ґ": "g̀",
        "е": "e",
        "ё": "ë",
        "ж": "ž",
        "і": "ì",
        "й": "j",
        "ў": "ǔ",
        "х": "h",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "ь": "ʹ",
        "э": "è",
        "ю": "û",
        "я": "â",
    },
)

# Polish press from the Belarusian form (Wasilenka, Cichanouska, Żuk).
BE_POLISH = _schema(
    "be_polish",
    {
        **_BE_COMMON,
        "в": "w",
        "е": "ie",
        "ё": "io",
        "ж": "ż",
        "й": "j",
        "л": "ł",
        "ў": "u",
        "х": "ch",
        "ц": "c",
        "ч": "cz",
        "ш": "sz",
        "ю": "iu",
        "я": "ia",
    },
    prev={
        **_iotated({"е": "je", "ё": "jo", "ю": "ju", "я": "ja"}, BE_IOTATING),
        **_after("л", _SOFT_AFTER_L),
        **_after(HUSHING + "р", {"е": "e", "ё": "o"}),
    },
    next_={**_before("л", "еёюяіь", "l"), "зь": "ź", "нь": "ń", "сь": "ś", "ць": "ć"},
    endings={"ая": "a", "ый": "y", "ій": "i"},
)

# German press from the Belarusian form (Wassilenka, Krauzowa, Bjaljazki).
_GERMAN_S = {
    **{"с": "s"},
    **_after("бвгджзйклмнпрстфхцчшщьў", {"с": "s"}),
}
BE_GERMAN = _schema(
    "be_german",
    {
        **_BE_COMMON,
        "в": "w",
        "е": "e",
        "ё": "jo",
        "ж": "sch",
        "з": "s",
        "й": "i",
        "ў": "u",
        "х": "ch",
        "ц": "z",
        "ч": "tsch",
        "ш": "sch",
        "ю": "ju",
        "я": "ja",
    },
    prev={
        **_iotated({"е": "je"}, BE_IOTATING),
        **_after(HUSHING, {"ё": "o"}),
        **_GERMAN_S,
    },
    next_=_before("с", BE_VOWELS, "ss"),
    endings={"ый": "y", "ій": "i"},
)

_RU_COMMON = {
    "а": "a",
    "б": "b",
    "г": "g",
    "д": "d",
    "и": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "т": "t",
    "у": "u",
    "ф": "f",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
}

# Polish press from the Russian form (Wasilenko, Krawcowa, Łosicki, Tichanowska).
RU_POLISH = _schema(
    "ru_polish",
    {
        **_RU_COMMON,
        "в": "w",
        "е": "ie",
        "ё": "io",
        "ж": "ż",
        "з": "z",
        "й": "j",
        "л": "ł",
        "с": "s",
        "х": "ch",
        "ц": "c",
        "ч": "cz",
        "ш": "sz",
        "щ": "szcz",
        "ю": "iu",
        "я": "ia",
    },
    prev={
        **_iotated({"е": "je", "ё": "jo", "ю": "ju", "я": "ja"}, RU_IOTATING),
        **_after("л", _SOFT_AFTER_L),
        **_after(HUSHING + "р", {"е": "e", "ё": "o"}),
        **_after("жшц", {"и": "y"}),
    },
    next_={**_before("л", "еёюяиь", "l"), "зь": "ź", "нь": "ń", "сь": "ś", "ць": "ć"},
    endings={"ая": "a", "ый": "y", "ий": "i"},
)

# German press and the Duden's rules, from the Russian form (Wassilenko, Krawzowa, Schuk).
RU_GERMAN = _schema(
    "ru_german",
    {
        **_RU_COMMON,
        "в": "w",
        "е": "e",
        "ё": "jo",
        "ж": "sch",
        "з": "s",
        "й": "i",
        "с": "s",
        "х": "ch",
        "ц": "z",
        "ч": "tsch",
        "ш": "sch",
        "щ": "schtsch",
        "ю": "ju",
        "я": "ja",
    },
    prev={
        **_iotated({"е": "je"}, RU_IOTATING),
        **_after(HUSHING, {"ё": "o"}),
        "й": "j",
        **{"с": "s"},
        **_after("бвгджзйклмнпрстфхцчшщьъ", {"с": "s"}),
    },
    next_=_before("с", RU_VOWELS, "ss"),
    endings={"ий": "i", "ый": "y"},
)

BELARUSIAN: tuple[TranslitSchema, ...] = (
    BE_PASSPORT,
    BE_BGN,
    BE_NATIONAL,
    BE_LACINKA,
    BE_ISO9,
    BE_POLISH,
    BE_GERMAN,
)
RUSSIAN: tuple[object, ...] = (
    iuliia.ICAO_DOC_9303,
    iuliia.MVD_310,
    iuliia.BGN_PCGN,
    iuliia.WIKIPEDIA,
    iuliia.GOST_779,
    iuliia.SCIENTIFIC,
    RU_POLISH,
    RU_GERMAN,
)


def language_of(word: str) -> str:
    """ "be", "ru", or "" when the letters could be either (Павел, Жук)."""
    letters = set(word.lower())
    if letters & _BE_ONLY:
        return "be"
    if letters & _RU_ONLY:
        return "ru"
    return ""


def is_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def words_of(text: str | None) -> list[str]:
    """The folded words of a text: apostrophes dropped (Dar'ya is darya), split on anything
    that is not a letter or a digit (hyphens, quotes, brackets)."""
    if not text:
        return []
    folded = _APOSTROPHES.sub("", fold(text))
    words, current = [], []
    for char in folded:
        if char.isalnum() and unicodedata.category(char) != "Lm":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return [word for word in words if len(word) <= MAX_WORD]


@lru_cache(maxsize=65536)
def word_spellings(word: str, language: str = "") -> frozenset[str]:
    """The folded Latin spellings of one Cyrillic word (its own folded form included), by
    the systems of ``language`` ("be", "ru"; both when ""). A Latin word is itself."""
    own = frozenset(words_of(word))
    if not is_cyrillic(word):
        return own
    language = language or language_of(word)
    schemas: list[object] = []
    if language in ("be", ""):
        schemas.extend(BELARUSIAN)
    if language in ("ru", ""):
        schemas.extend(RUSSIAN)
    lowered = word.lower()
    found = set(own)
    for schema in schemas:
        latin = schema.translate(lowered)  # type: ignore[attr-defined]
        for spelled in words_of(latin):
            if not is_cyrillic(spelled):  # a schema that leaves a letter as it was
                found.add(spelled)
    return frozenset(found)


def name_words(name: str | None, language: str = "") -> list[frozenset[str]]:
    """Each word of a name with its spellings, in the order of the name."""
    if not name:
        return []
    result = []
    for raw in re.split(r"[\s\-‐–—]+", name):
        for word in _raw_words(raw):
            result.append(word_spellings(word, language))
    return result


def _raw_words(text: str) -> list[str]:
    """The words of ``text`` unfolded (transliteration needs the real letters), apostrophes
    kept inside a word (Дар'я)."""
    words = re.findall(r"[^\W_]+(?:['’ʼ][^\W_]+)*", text)
    return [word for word in words if len(word) <= MAX_WORD]


def search_words(names: Iterable[tuple[str | None, str]]) -> list[str]:
    """Every word of the names with every spelling, folded, each once, in a stable order.

    ``names`` are (name, language) pairs; language "" lets the letters decide.
    """
    seen: dict[str, None] = {}
    for name, language in names:
        for spellings in name_words(name, language):
            for spelled in sorted(spellings):
                seen.setdefault(spelled, None)
    return list(seen)


def prisoner_search_words(
    name_latin: str | None, name_be: str | None, name_ru: str | None, aliases: Iterable[str] | None
) -> list[str]:
    """A prisoner's search words: the Belarusian name by the Belarusian systems, the
    Russian by the Russian ones, the Latin name and aliases as they are (a Cyrillic alias by
    the systems its letters suggest)."""
    return search_words(
        [
            (name_latin, ""),
            (name_be, "be"),
            (name_ru, "ru"),
            *((alias, "") for alias in aliases or []),
        ]
    )
