"""The letter check: where a text holds words that get letters withheld.

It advises and never blocks: the writer sees each match highlighted with the reason a
coordinator gave, and decides. A listed word matches whole words, ignoring case, and "е"
and "ё" alike; ending in "*" it is a stem and matches whatever follows, so that one entry
("свобод*") finds every ending ("свобода", "свободы", "свободе"), while "war" alone does
not find "warm".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_E = re.compile("[её]", re.IGNORECASE)


@dataclass(frozen=True)
class Word:
    phrase: str
    reason: str


@dataclass(frozen=True)
class Segment:
    """A piece of the text; ``reason`` is set for a piece that matched a listed word."""

    text: str
    reason: str | None = None
    phrase: str | None = None


def _pattern(phrase: str) -> str:
    stem = phrase.rstrip().endswith("*")
    words = [re.escape(word) for word in phrase.strip().rstrip("*").split()]
    escaped = _E.sub("[её]", r"\s+".join(words))
    return escaped + (r"\w*" if stem else r"(?!\w)")


def compile_words(words: Iterable[Word]) -> tuple[re.Pattern[str], list[Word]] | None:
    """One pattern for every listed word, longest first (so "the war" wins over "war");
    None when the list is empty."""
    usable = sorted(
        (word for word in words if word.phrase.strip().rstrip("*").strip()),
        key=lambda word: len(word.phrase),
        reverse=True,
    )
    if not usable:
        return None
    groups = "|".join(f"(?P<w{index}>{_pattern(w.phrase)})" for index, w in enumerate(usable))
    return re.compile(rf"(?<!\w)(?:{groups})", re.IGNORECASE), usable


def check(text: str, words: Sequence[Word]) -> list[Segment]:
    """The text cut into plain and matched pieces, in order; joined they are the text."""
    compiled = compile_words(words)
    if compiled is None or not text:
        return [Segment(text)] if text else []
    pattern, usable = compiled
    segments: list[Segment] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            segments.append(Segment(text[position : match.start()]))
        group = match.lastgroup or ""
        word = usable[int(group[1:])] if group.startswith("w") else None
        segments.append(
            Segment(
                match.group(0),
                word.reason if word else "",
                word.phrase if word else None,
            )
        )
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def matches(segments: Sequence[Segment]) -> list[Segment]:
    return [segment for segment in segments if segment.reason is not None]
