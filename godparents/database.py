"""Binding the database: engine settings, migrations and SQLite's foreign keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Engine, Result, event, text

from godparents import models  # noqa: F401  (every model registered before Alembic looks)
from godparents.extensions import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# SQLite's own page cache per connection, in KiB (negative: a size, not a page count).
# The default, 2 MiB, holds less than the indexes the reminder job reads every day at ten
# times the campaign's size, so each day read them from the operating system anew. The
# cache only ever holds pages of the database file, so it never grows past the file's
# size, and it is as current as the database: SQLite drops what another connection
# changed before it reads again.
SQLITE_CACHE_KIB = 64 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys only when asked, on every connection; and it runs in
    write-ahead-log mode, where readers (the web pages) never wait for a writer (the
    reminder job) and a commit costs one flush to disk instead of three. Its page cache
    is made big enough for the reminder job's indexes (``SQLITE_CACHE_KIB``)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()


def begin_write() -> None:
    """Start a transaction that will write, taking SQLite's write lock at once.

    SQLite's default (deferred) transaction takes the lock at its first write; when two
    processes both read and then write, one of them fails at once with "database is
    locked" instead of waiting. BEGIN IMMEDIATE waits its turn (up to the busy timeout).
    Call it before changing anything in the session. PostgreSQL needs nothing of the kind.
    """
    if db.engine.dialect.name == "sqlite":
        with db.session.no_autoflush:
            db.session.execute(text("BEGIN IMMEDIATE"))


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE (without RETURNING) run by the session changed.

    The session returns a CursorResult for those, but its type says Result, since other
    statements may return other results (SQLAlchemy's typing issue 12913).
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count: {type(result).__name__}")
    return result.rowcount


def schema_revisions() -> tuple[set[str], set[str]]:
    """The migrations' revisions the database is at, and the heads the code knows.

    Equal when the database is at head. Code run against a database that is behind (no
    ``db upgrade`` yet) or ahead (an older release still running) may misread it.
    """
    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, heads
