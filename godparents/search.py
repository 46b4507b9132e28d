"""Finding people by name: any spelling, the words in any order, prefixes, one typo.

Every searchable model keeps a ``search_text``: the folded words of its names, and for a
prisoner every generated spelling of every Cyrillic word (``prisoners.spellings``), each
once, between spaces (" andrei andrej vasilenka wasilenka ... "). A query matches when
each of its words (at most ``MAX_QUERY_WORDS``) begins one of those words: "Vasilenka
Andrei" and "Andrei V" both find Andrei Vasilenka. A query word of ``MIN_TYPO_LENGTH``
letters or more also matches a whole word one edit away (a letter wrong, missing, added,
or two letters swapped): "Vasilneka" finds Vasilenka.

The typo's candidates come from the vocabulary (``search_words``: every word any
``search_text`` holds, added as they appear): on PostgreSQL from pg_trgm's trigram index
(``word % 'vasilneka'``, with a similarity threshold low enough for any one-edit
neighbour of six letters or more), on SQLite by looking up every string one edit away.
Both are then checked here with the same edit distance, so both databases give the same
result. The LIKEs on ``search_text`` are answered by a pg_trgm GIN index on PostgreSQL;
on SQLite they scan the table (15,000 prisoners in a few milliseconds).
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    DDL,
    ColumnElement,
    Index,
    String,
    and_,
    event,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from godparents.extensions import Model, db
from godparents.prisoners.spellings import is_cyrillic, word_spellings, words_of

MAX_QUERY_WORDS = 8
MIN_TYPO_LENGTH = 6
MAX_TYPO_WORDS = 20  # one-edit neighbours taken per query word
# pg_trgm's similarity of a word of six letters and a neighbour one edit away can be as
# low as 0.27 (a swap of two letters); below this threshold nothing is one edit away.
TRIGRAM_THRESHOLD = 0.2
WORD_LENGTH = 64
LATIN = string.ascii_lowercase
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюяіўґ"

# pg_trgm is trusted since PostgreSQL 13: the database's owner can create it. The
# migration creates it too; this is for databases made from the models (tests).
event.listen(
    db.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class SearchWord(Model):
    """The vocabulary of every search_text, for finding the words a typo was meant as."""

    __tablename__ = "search_words"
    __table_args__ = (
        # PostgreSQL's trigram index; on SQLite the index is partial and empty (WHERE 0):
        # SQLite looks words up by the primary key instead.
        Index(
            "ix_search_words_trigrams",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
    )

    word: Mapped[str] = mapped_column(String(WORD_LENGTH), primary_key=True)


def trigram_index(name: str, column: str) -> Index:
    """A pg_trgm GIN index for ``column LIKE '%...%'`` on PostgreSQL; empty on SQLite."""
    return Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        sqlite_where=text("0"),
    )


def key_text(words: Iterable[str]) -> str:
    """The stored form: each word once, between spaces, so that " word" marks its start."""
    unique = list(dict.fromkeys(word[:WORD_LENGTH] for word in words if word))
    return f" {' '.join(unique)} " if unique else ""


def key_words(search_text: str | None) -> list[str]:
    return (search_text or "").split()


def remember_words(session: Session, words: Iterable[str]) -> None:
    """Add words to the vocabulary; those it has already are left alone."""
    rows = [{"word": word} for word in sorted({w[:WORD_LENGTH] for w in words if w})]
    if not rows:
        return
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SearchWord.__table__).on_conflict_do_nothing(index_elements=["word"])
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start : start + 5000])


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter changed, removed, added, or two neighbours
    swapped (the optimal string alignment distance is at most 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) == len(b):
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one letter changed
        return (
            start + 1 < len(a)
            and a[start] == b[start + 1]
            and a[start + 1] == b[start]
            and a[start + 2 :] == b[start + 2 :]
        )  # two swapped
    return a[start:] == b[start + 1 :]  # one letter added


def one_edit_away(word: str) -> set[str]:
    """Every string one edit from ``word`` in its own alphabet (Latin or Cyrillic)."""
    alphabet = CYRILLIC if is_cyrillic(word) else LATIN
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {left + right[1:] for left, right in splits if right}
    found |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    found |= {left + letter + right[1:] for left, right in splits if right for letter in alphabet}
    found |= {left + letter + right for left, right in splits for letter in alphabet}
    found.discard(word)
    return found


def typo_words(session: Session, word: str) -> list[str]:
    """The vocabulary's words one edit from ``word`` (none for words under six letters)."""
    if len(word) < MIN_TYPO_LENGTH:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(text("set_config('pg_trgm.similarity_threshold', :limit, true)")).params(
                limit=str(TRIGRAM_THRESHOLD)
            )
        )
        candidates = session.scalars(
            select(SearchWord.word).where(SearchWord.word.op("%")(word), SearchWord.word != word)
        )
    else:
        candidates = session.scalars(
            select(SearchWord.word).where(SearchWord.word.in_(sorted(one_edit_away(word))))
        )
    return sorted(c for c in candidates if c != word and within_one_edit(word, c))[:MAX_TYPO_WORDS]


def near_words(session: Session, words: Iterable[str], min_length: int = 5) -> set[str]:
    """The vocabulary's words one edit from any of ``words`` (those of ``min_length`` or
    more), in one query: pg_trgm on PostgreSQL, the strings one edit away on SQLite."""
    wanted = sorted({word for word in words if len(word) >= min_length})
    if not wanted:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(text("set_config('pg_trgm.similarity_threshold', :limit, true)")).params(
                limit=str(TRIGRAM_THRESHOLD)
            )
        )
        candidates = session.scalars(
            select(SearchWord.word).where(or_(*(SearchWord.word.op("%")(word) for word in wanted)))
        )
    else:
        edits = set().union(*(one_edit_away(word) for word in wanted)) - set(wanted)
        candidates = session.scalars(
            select(SearchWord.word).where(SearchWord.word.in_(sorted(edits)))
        )
    return {
        candidate
        for candidate in candidates
        if candidate not in wanted and any(within_one_edit(word, candidate) for word in wanted)
    }


def query_words(query: str | None) -> list[str]:
    return list(dict.fromkeys(words_of(query)))[:MAX_QUERY_WORDS]


def matches(
    column: Any, query: str | None, session: Session | None = None
) -> ColumnElement[bool] | None:
    """The condition that ``column`` (a search_text) matches every word of ``query``: None
    for a blank query, nothing for one without a letter or digit ("%").

    A Cyrillic query word also matches the whole Latin spellings generated from it.
    """
    if not (query or "").strip():
        return None
    words = query_words(query)
    if not words:
        return false()
    session = session or db.session()
    contains = _contains(session)
    conditions = []
    # The longest word first: it narrows most, and the others are tried on fewer rows.
    for word in sorted(words, key=len, reverse=True):
        alternatives = [contains(column, f" {word}")]
        whole = set(typo_words(session, word))
        if is_cyrillic(word):
            whole |= word_spellings(word) - {word}
        alternatives.extend(contains(column, f" {other} ") for other in sorted(whole))
        conditions.append(or_(*alternatives))
    return and_(*conditions)


def _contains(session: Session) -> Any:
    """``column`` holds ``text``: a LIKE on PostgreSQL, which its trigram index answers; on
    SQLite ``instr()``, which compares bytes (the key is folded already) and scans the
    table several times faster than LIKE, which folds case as it goes."""
    if session.get_bind().dialect.name == "postgresql":
        # The planner prices the trigram index's bitmap scans too high and reads the whole
        # table instead (32 ms instead of 10 for three words at 15,000 prisoners): for this
        # transaction, a sequential scan is the last resort. It stays possible where no
        # index serves, and the setting ends with the request's transaction.
        session.execute(select(text("set_config('enable_seqscan', 'off', true)")))
        return lambda column, text: column.like(f"%{text}%")
    return lambda column, text: func.instr(column, text) > 0


# Keeping search_text current ------------------------------------------------------------------

_PENDING = "godparents.search.new_words"
_REMOVED = "godparents.search.removed_words"


def _searchable() -> list[Any]:
    """The models with a search key."""
    return [
        mapper.class_
        for mapper in Model.registry.mappers
        if hasattr(mapper.class_, "refresh_search_text")
    ]


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, flush_context: object, instances: object) -> None:
    """Every new or changed object with a ``refresh_search_text`` gets its key now; the
    words of changed keys join the vocabulary after the flush, and words no key holds any
    more leave it (an erased godparent's name must not stay behind)."""
    pending: set[str] = session.info.setdefault(_PENDING, set())
    removed: set[str] = session.info.setdefault(_REMOVED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        refresh = getattr(obj, "refresh_search_text", None)
        if refresh is None:
            continue
        before = obj.search_text
        if obj in session.deleted:
            removed.update(key_words(before))
            continue
        refresh()
        if obj.search_text != before:
            pending.update(key_words(obj.search_text))
            removed.update(set(key_words(before)) - set(key_words(obj.search_text)))


@event.listens_for(Session, "after_flush")
def _update_vocabulary(session: Session, flush_context: object) -> None:
    words = session.info.pop(_PENDING, set())
    gone = session.info.pop(_REMOVED, set()) - words
    if words:
        remember_words(session, words)
    if gone:
        forget_unused_words(session, gone)


def forget_unused_words(session: Session, words: Iterable[str]) -> None:
    """Remove these words from the vocabulary unless some search key still holds them."""
    connection = session.connection()
    for word in sorted(words):
        used = [
            select(model.id).where(model.search_text.like(f"% {word} %")).exists()
            for model in _searchable()
        ]
        connection.execute(
            SearchWord.__table__.delete().where(SearchWord.word == word, ~or_(*used))
        )
