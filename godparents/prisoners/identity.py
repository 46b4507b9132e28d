"""Whether two records are the same person: names in any script and spelling, birth, gender.

A person's name is compared word by word: each word with every spelling generated from it
(``spellings``), the words of the Latin, Belarusian and Russian forms and the aliases merged
where they are spellings of each other, so that "Andrei", "Андрэй" and "Andrej" are one
word. Two names are the same person's when two of their words match (or all, for a name of
one word): "Pavel Zhuk" is 'Pavel "Pasha" Zhuk' and "Павел Жук"; "Andrei Zhuk" is not.

Used by the import (is this row the prisoner its external_id names, or someone else?) and
by the duplicate check (is this new prisoner already in the registry under another id?).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from godparents.prisoners.models import Gender, Prisoner
from godparents.prisoners.spellings import name_words
from godparents.search import near_words, within_one_edit

Word = frozenset[str]  # one word of a name, with all its spellings and their stems
STEM_LENGTH = 6
FUZZY_LENGTH = 4  # words at least this long may differ in one letter and still match
_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """A long word without its last vowel: the Belarusian and Russian forms of a surname
    often differ only there (Vasilenka, Vasilenko), and so do feminine forms in lists."""
    if len(word) >= STEM_LENGTH and word[-1] in _VOWELS:
        return word[:-1]
    return word


def name_forms(
    name_latin: str | None, name_be: str | None, name_ru: str | None, aliases: Iterable[str] | None
) -> list[tuple[str | None, str]]:
    """A prisoner's names with the language their systems are chosen by."""
    return [
        (name_latin, ""),
        (name_be, "be"),
        (name_ru, "ru"),
        *((alias, "") for alias in aliases or []),
    ]


def positions(names: Iterable[tuple[str | None, str]]) -> list[Word]:
    """The words of all of a person's names, spellings of one word merged into one.

    A word that is no spelling of any word so far joins the word in its place when its name
    has as many words as there are so far: the Belarusian and Russian forms of one name
    (Ігар, Игорь) are often no spelling of each other, but they stand in the same place.
    """
    merged: list[set[str]] = []
    for name, language in names:
        words = [
            spellings | {stem(spelled) for spelled in spellings}
            for spellings in name_words(name, language)
        ]
        aligned = len(words) == len(merged)
        for index, spellings in enumerate(words):
            target = next((word for word in merged if word & spellings), None)
            if target is None and aligned:
                target = merged[index]
            if target is None:
                merged.append(set(spellings))
            else:
                target.update(spellings)
    return [frozenset(word) for word in merged]


def _needed(words: Sequence[Word]) -> int:
    return min(2, len(words))


def _similar(a: Word, b: Word) -> bool:
    """One spelling in common, or two spellings one letter apart (Paval, Pavel)."""
    if a & b:
        return True
    return any(
        len(x) >= FUZZY_LENGTH and abs(len(x) - len(y)) <= 1 and within_one_edit(x, y)
        for x in a
        for y in b
    )


def names_match(a: Sequence[Word], b: Sequence[Word]) -> bool:
    """Whether two words of one match two words of the other (all, for one word)."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    used: set[int] = set()  # words of the longer name matched
    done: set[int] = set()  # words of the shorter name matched
    for exact in (True, False):  # spellings in common first, then one letter apart
        for position, word in enumerate(short):
            if position in done:
                continue
            for index, other in enumerate(long):
                if index not in used and ((word & other) if exact else _similar(word, other)):
                    used.add(index)
                    done.add(position)
                    break
            if len(used) >= _needed(short):
                return True
    return False


def births_differ(new: date | int | None, old_date: date | None, old_year: int | None) -> bool:
    """Both known and not the same (a year alone agrees with a date in that year)."""
    if new is None:
        return False
    if isinstance(new, date):
        if old_date is not None:
            return old_date != new
        return old_year is not None and old_year != new.year
    year = old_date.year if old_date is not None else old_year
    return year is not None and year != new


def genders_differ(new: Gender | None, old: Gender | None) -> bool:
    return new is not None and old is not None and new != old


def birth_year_of(value: date | int | None) -> int | None:
    return value.year if isinstance(value, date) else value


@dataclass(frozen=True)
class Candidate:
    """A prisoner in the registry who may be the same person."""

    id: int
    external_id: str | None
    name_latin: str
    birth_year: int | None


def _same_year(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def possible_duplicates(
    session: Session,
    names: Iterable[tuple[str | None, str]],
    birth_year: int | None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """Prisoners whose names match these and whose birth year is the same (or unknown on
    either side), in one query."""
    words = positions(names)
    if not words:
        return []
    # A spelling one letter from another (Olena, Alena) counts too, as in names_match.
    near = near_words(session, {spelled for word in words for spelled in word})
    words = [
        word | {other for other in near if any(within_one_edit(other, spelled) for spelled in word)}
        for word in words
    ]
    matched = [
        case(
            (
                or_(
                    *(
                        Prisoner.search_text.like(
                            f"% {spelled}%"
                            if spelled == stem(spelled) and len(spelled) >= STEM_LENGTH - 1
                            else f"% {spelled} %"
                        )
                        for spelled in sorted(word)
                    )
                ),
                1,
            ),
            else_=0,
        )
        for word in words
    ]
    query: Select[*tuple[Any, ...]] = (
        select(Prisoner.id, Prisoner.external_id, Prisoner.name_latin, Prisoner.birth_year)
        .where(sum(matched[1:], matched[0]) >= _needed(words))
        .order_by(Prisoner.id)
        .limit(limit)
    )
    if birth_year is not None:
        query = query.where(or_(Prisoner.birth_year.is_(None), Prisoner.birth_year == birth_year))
    if exclude_id is not None:
        query = query.where(Prisoner.id != exclude_id)
    return [Candidate(*row) for row in session.execute(query)]


def duplicates_in_registry(
    session: Session,
    people: Sequence[tuple[str, list[tuple[str | None, str]], int | None]],
    limit: int = 5,
) -> dict[str, list[Candidate]]:
    """For many new people at once (key, names, birth year): the registry's prisoners who
    may be the same, by key.

    The registry is read once, as keys only, and each key's words are looked up in the
    words the new people have; candidates then need two matching words (intersections of
    sets, not a loop over the registry per person). Each person's words are worked out
    twice rather than kept: 15,000 new rows' spellings would cost some 60 MB.
    """
    if not people:
        return {}
    wanted: set[str] = set()
    for _key, names, _year in people:
        for spellings in positions(names):
            wanted.update(spellings)
    postings: dict[str, set[int]] = defaultdict(set)
    found: dict[int, Candidate] = {}
    query = select(
        Prisoner.id,
        Prisoner.external_id,
        Prisoner.name_latin,
        Prisoner.birth_year,
        Prisoner.search_text,
    )
    for row in session.execute(query.execution_options(yield_per=2000)):
        words = (row.search_text or "").split()
        hits = wanted.intersection([*words, *(stem(word) for word in words)])
        if hits:
            for word in hits:
                postings[word].add(row.id)
            found[row.id] = Candidate(row.id, row.external_id, row.name_latin, row.birth_year)
    result: dict[str, list[Candidate]] = {}
    if not found:
        return result
    for key, names, year in people:
        words = positions(names)
        holders = [set().union(*(postings.get(spelled, ()) for spelled in word)) for word in words]
        holders = [ids for ids in holders if ids]
        if len(holders) < _needed(words) or not holders:
            continue
        if _needed(words) == 1:
            ids = holders[0]
        else:
            ids = set().union(
                *(
                    holders[i] & holders[j]
                    for i in range(len(holders))
                    for j in range(i + 1, len(holders))
                )
            )
        matches = sorted(
            (found[i] for i in ids if _same_year(found[i].birth_year, year)),
            key=lambda candidate: candidate.id,
        )
        if matches:
            result[key] = matches[:limit]
    return result
