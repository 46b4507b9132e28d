"""One search key for names written in several scripts and spellings."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Letters that Unicode does not decompose into a base letter plus a mark.
_FOLD = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ı": "i",
        "ё": "е",
        "’": "'",
        "ʼ": "'",
    }
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and fold the letters NFKD leaves alone.

    The result is what search compares: "Białacki" and "bialacki" fold alike, and so do
    "Беляцкий" and "беляцкий" (SQLite's lower() only folds ASCII, so this runs in Python).
    Belarusian ў and й keep their breve: they are letters of their own, not accented ones.
    """
    text = text.casefold().translate(_FOLD)
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            base = kept[-1] if kept else ""
            if base in "уи" and char == "\u0306":  # ў, й
                kept.append(char)
            continue
        kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def search_key(names: Iterable[str | None]) -> str:
    """All of a prisoner's spellings, folded, one per line (so a match never spans two)."""
    seen: dict[str, None] = {}
    for name in names:
        if name and (folded := fold(name)):
            seen.setdefault(folded, None)
    return "\n".join(seen)
