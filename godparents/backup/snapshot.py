"""A consistent copy of the database into an archive, and back into an empty database.

SQLite: the online backup API (one step, so the copy is one consistent read of the file,
while the app goes on writing in WAL mode); a file copy of a live WAL database can pass
``integrity_check`` and still lack committed transactions. PostgreSQL: ``pg_dump`` in the
custom format, run on a snapshot exported from a repeatable-read transaction in which the
rows are also counted, so the counts in the metadata are exactly those of the dump.
Plaintext never leaves a private temporary folder (mode 0700, in the instance folder), and
is deleted as soon as it has been encrypted or restored.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection

from godparents.backup.archive import ArchiveError, ArchiveWriter, read_archive
from godparents.extensions import db

FORMAT = 1
# A line of `pg_restore --list`: "3345; 0 16390 TABLE DATA public actions postgres".
TABLE_DATA = re.compile(r" TABLE DATA \S+ (\S+)")
READ_SIZE = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def table_names() -> list[str]:
    """The app's tables (the models') and Alembic's record of the migrations."""
    return sorted([table.name for table in db.metadata.sorted_tables] + ["alembic_version"])


@contextmanager
def private_folder(app: Flask) -> Iterator[Path]:
    """A temporary folder only this user can read, for plaintext on its way in or out."""
    parent = Path(app.config.get("BACKUP_TEMP_FOLDER") or app.instance_path)
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".backup-", dir=parent))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the app's (those present), on this connection's view of the data."""
    present = set(inspect(connection).get_table_names())
    return {
        name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in table_names()
        if name in present
    }


def _counts_sqlite(path: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return _counts(connection)
    finally:
        engine.dispose()


def _revision_sqlite(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump's connection arguments, with the password in the environment, not argv."""
    arguments = [f"--dbname={url.database}"]
    if url.host:
        arguments.append(f"--host={url.host}")
    if url.port:
        arguments.append(f"--port={url.port}")
    if url.username:
        arguments.append(f"--username={url.username}")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return arguments, env


def _metadata(kind: str, counts: dict[str, int], revision: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "database": kind,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": revision,
        "counts": counts,
    }


def create(app: Flask, stream: IO[bytes], fernet: Fernet) -> dict[str, Any]:
    """Write an encrypted copy of the app's database to ``stream``; its metadata."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return _create_sqlite(app, _sqlite_path(url), stream, fernet)
    if url.get_backend_name() == "postgresql":
        return _create_postgresql(app, url, stream, fernet)
    raise BackupError(f"no backup for {url.get_backend_name()} databases")


def _create_sqlite(app: Flask, source: Path, stream: IO[bytes], fernet: Fernet) -> dict[str, Any]:
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    with private_folder(app) as folder:
        copy = folder / "copy.db"
        live = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            live.backup(target)  # pages=-1: all in one step, one consistent read
            revision = _revision_sqlite(target)
        finally:
            target.close()
            live.close()
        counts = _counts_sqlite(copy)
        metadata = _metadata("sqlite", counts, revision)
        with ArchiveWriter(stream, fernet, metadata) as archive, copy.open("rb") as plain:
            while block := plain.read(READ_SIZE):
                archive.write(block)
    return metadata


def _create_postgresql(app: Flask, url: URL, stream: IO[bytes], fernet: Fernet) -> dict[str, Any]:
    arguments, env = _libpq(url)
    with db.engine.connect() as connection:
        # The dump and the counts see the same snapshot: the transaction that exported it
        # stays open until pg_dump is done.
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        present = set(inspect(connection).get_table_names())
        counts = _counts(connection)
        revision = (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if "alembic_version" in present
            else None
        )
        metadata = _metadata("postgresql", counts, revision)
        command = [
            app.config["BACKUP_PG_DUMP"],
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            *arguments,
        ]
        with subprocess.Popen(  # noqa: S603  # nosec B603
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as dump:
            if dump.stdout is None or dump.stderr is None:  # pipes were asked for
                raise BackupError("pg_dump gave no output")
            with ArchiveWriter(stream, fernet, metadata) as archive:
                while block := dump.stdout.read(READ_SIZE):
                    archive.write(block)
                errors = dump.stderr.read().decode(errors="replace")
                if dump.wait() != 0:
                    raise BackupError(f"pg_dump failed ({dump.returncode}): {errors.strip()}")
        connection.rollback()
    return metadata


def decrypt_to(path: Path, fernet: Fernet, target: Path) -> dict[str, Any]:
    """Decrypt the backup at ``path`` into ``target``, checking every frame; its metadata."""
    try:
        with path.open("rb") as stream, target.open("wb") as plain:
            metadata, payload = read_archive(stream, fernet)
            for block in payload:
                plain.write(block)
    except ArchiveError as error:
        raise BackupError(f"{path}: {error}") from error
    if metadata.get("format") != FORMAT or metadata.get("database") not in ("sqlite", "postgresql"):
        raise BackupError(
            f"{path}: an unknown backup format ({metadata.get('format')!r}, "
            f"{metadata.get('database')!r})"
        )
    return metadata


def verify(app: Flask, path: Path, fernet: Fernet) -> dict[str, Any]:
    """Decrypt and check the whole backup without touching any database: every frame
    authentic and in order; SQLite: ``integrity_check`` and the counts; PostgreSQL: the
    archive's table of contents has every table's data."""
    with private_folder(app) as folder:
        plain = folder / "plain"
        metadata = decrypt_to(path, fernet, plain)
        if metadata["database"] == "sqlite":
            connection = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
            try:
                check = connection.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                connection.close()
            counts = _counts_sqlite(plain)
            if check != "ok":
                raise BackupError(f"{path}: the database copy is damaged: {check}")
            if counts != metadata["counts"]:
                raise BackupError(
                    f"{path}: the copy's counts {counts} differ from the "
                    f"metadata's {metadata['counts']}"
                )
        else:
            listing = subprocess.run(  # noqa: S603  # nosec B603
                [app.config["BACKUP_PG_RESTORE"], "--list", str(plain)],
                capture_output=True,
                text=True,
                check=False,
            )
            if listing.returncode != 0:
                raise BackupError(
                    f"{path}: pg_restore cannot read the dump: {listing.stderr.strip()}"
                )
            dumped = set(TABLE_DATA.findall(listing.stdout))
            missing = sorted(set(metadata["counts"]) - dumped)
            if missing:
                raise BackupError(f"{path}: the dump lacks the data of {', '.join(missing)}")
    return metadata


def count_rows() -> dict[str, int]:
    with db.engine.connect() as connection:
        return _counts(connection)


def restore(app: Flask, path: Path, fernet: Fernet) -> dict[str, Any]:
    """Restore the backup at ``path`` into the app's database, which must be empty; the
    whole file is decrypted and checked before the database is touched, and the restored
    rows are counted against the metadata after."""
    url = db.engine.url
    kind = url.get_backend_name()
    present = inspect(db.engine).get_table_names()
    if present:
        raise BackupError(
            f"{url.render_as_string(hide_password=True)} is not empty "
            f"({len(present)} tables): restore only into a new, empty database"
        )
    with private_folder(app) as folder:
        plain = folder / "plain"
        metadata = decrypt_to(path, fernet, plain)
        if metadata["database"] != kind:
            raise BackupError(f"{path} is a {metadata['database']} backup; this database is {kind}")
        db.engine.dispose()
        if kind == "sqlite":
            copy = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
            target_path = _sqlite_path(url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(target_path)
            try:
                copy.backup(target)
            finally:
                target.close()
                copy.close()
        else:
            arguments, env = _libpq(url)
            result = subprocess.run(  # noqa: S603  # nosec B603
                [
                    app.config["BACKUP_PG_RESTORE"],
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    *arguments,
                    str(plain),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(
                    f"pg_restore failed ({result.returncode}): {result.stderr.strip()}"
                )
    counts = count_rows()
    if counts != metadata["counts"]:
        raise BackupError(
            f"restored, but the counts {counts} differ from the backup's {metadata['counts']}"
        )
    return metadata
