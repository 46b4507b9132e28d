"""Backups: the encrypted format refuses tampering, retention keeps what it says, restore
refuses a database with data, and the restore drill (a real concurrent writer, a new host,
two-factor login) on SQLite and, with GODPARENTS_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from godparents import create_app
from godparents.actions.models import Action
from godparents.auth.models import Role
from godparents.backup import archive, retention
from godparents.extensions import db
from tests.conftest import FAST_HASHING, Databases
from tests.factories import PASSWORD, make_prisoner, make_sponsor, make_sponsorship, make_user
from tests.helpers import CSRF_PATTERN

ROOT = Path(__file__).resolve().parents[2]


# The file format -------------------------------------------------------------------------


def _archive(fernet: Fernet, payload: bytes, chunk: int = 10) -> bytes:
    stream = io.BytesIO()
    original = archive.CHUNK
    archive.CHUNK = chunk
    try:
        with archive.ArchiveWriter(stream, fernet, {"database": "sqlite"}) as out:
            out.write(payload)
    finally:
        archive.CHUNK = original
    return stream.getvalue()


def _read(fernet: Fernet, data: bytes) -> tuple[dict[str, Any], bytes]:
    metadata, payload = archive.read_archive(io.BytesIO(data), fernet)
    return metadata, b"".join(payload)


def _frames(data: bytes) -> list[bytes]:
    body, frames = data[len(archive.MAGIC) :], []
    while body:
        length = int.from_bytes(body[:4], "big")
        frames.append(body[: 4 + length])
        body = body[4 + length :]
    return frames


def test_an_archive_reads_back_what_was_written_and_hides_it() -> None:
    fernet = Fernet(Fernet.generate_key())
    payload = "Беляцкий, SIZO-1, health notes".encode() * 20
    data = _archive(fernet, payload)
    assert _read(fernet, data) == ({"database": "sqlite"}, payload)
    assert b"SIZO" not in data and "Беляцкий".encode() not in data


@pytest.mark.parametrize(
    "damage",
    ["wrong key", "cut off", "frames swapped", "frame dropped", "byte flipped", "not a backup"],
)
def test_a_tampered_or_incomplete_archive_is_refused(damage: str) -> None:
    fernet = Fernet(Fernet.generate_key())
    data = _archive(fernet, bytes(range(256)) * 4)
    frames = _frames(data)
    assert len(frames) > 4
    if damage == "wrong key":
        fernet = Fernet(Fernet.generate_key())
    elif damage == "cut off":
        data = archive.MAGIC + b"".join(frames[:-1])
    elif damage == "frames swapped":
        data = archive.MAGIC + b"".join([frames[0], frames[2], frames[1], *frames[3:]])
    elif damage == "frame dropped":
        data = archive.MAGIC + b"".join([frames[0], *frames[2:]])
    elif damage == "byte flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    else:
        data = b"SQLite format 3\x00" + data
    with pytest.raises(archive.ArchiveError):
        _read(fernet, data)


# Retention -------------------------------------------------------------------------------


def test_retention_keeps_the_newest_of_each_recent_day_and_week(tmp_path: Path) -> None:
    start = datetime(2026, 9, 1, 2, 30, tzinfo=UTC)
    # Ninety days of nightly backups, with a second one on the last day.
    taken = [start + timedelta(days=n) for n in range(90)] + [start + timedelta(days=89, hours=12)]
    for when in taken:
        (tmp_path / retention.file_name(when)).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a backup: never touched")

    deleted = retention.prune(tmp_path, daily=7, weekly=8)

    kept = sorted(when for when, _path in retention.backups(tmp_path))
    newest = max(taken)
    assert newest in kept
    days = {when.date() for when in kept}
    assert {(newest - timedelta(days=n)).date() for n in range(7)} <= days
    weeks = {when.isocalendar()[:2] for when in kept}
    assert len(weeks) == 8
    assert len({when.date() for when in kept if when.date() == newest.date()}) == 1
    assert len(kept) == len(set(kept)) and len(kept) + len(deleted) == len(taken)
    assert len(kept) <= 7 + 8
    assert (tmp_path / "notes.txt").exists()
    assert all(retention.taken_at(path) not in kept for path in deleted)


# Commands ------------------------------------------------------------------------------


@pytest.fixture
def backup_key() -> str:
    return Fernet.generate_key().decode()


def test_backup_without_a_key_says_how_to_make_one(runner: Any, web_app: Flask) -> None:
    result = runner.invoke(args=["backup", "create"])
    assert result.exit_code == 1
    assert "No backup key" in result.output and "backup new-key" in result.output


def test_restore_refuses_a_database_that_is_not_empty(
    app: Flask, tmp_path: Path, backup_key: str
) -> None:
    make_prisoner()
    # The commands run in the test's own app context, so they use this app's configuration.
    app.config.update(
        BACKUP_KEY=backup_key, BACKUP_FOLDER=str(tmp_path), BACKUP_TEMP_FOLDER=str(tmp_path)
    )
    cli = app.test_cli_runner()
    made = cli.invoke(args=["backup", "create"])
    assert made.exit_code == 0, made.output
    path = next(tmp_path.glob("godparents-*.backup"))
    result = cli.invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 1 and "is not empty" in result.output
    verified = cli.invoke(args=["backup", "verify", "--latest"])  # as the timer runs it
    assert verified.exit_code == 0 and "prisoners 1" in verified.output, verified.output
    assert str(path) in verified.output


def test_new_key_prints_a_usable_key(runner: Any) -> None:
    key = runner.invoke(args=["backup", "new-key"]).output.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"ok")) == b"ok"


# The restore drill -----------------------------------------------------------------------


def _committed(log: Path) -> list[tuple[int, float]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(int(i), float(t)) for i, t in (line.split() for line in lines if line.count(" ") == 1)]


def _wait_for(log: Path, count: int, writer: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while len(_committed(log)) < count:
        assert writer.poll() is None, "the writer died"
        assert time.monotonic() < deadline, f"the writer committed {len(_committed(log))}"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.xdist_group("serial")
def test_restore_drill_write_while_backing_up_then_restore_on_a_new_host(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {
        "SECRET_KEY": "drill-" + "s" * 58,
        "BACKUP_KEY": Fernet.generate_key().decode(),
        # The key of the two-factor keys: without it the new host cannot check codes.
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    old_host, new_host = tmp_path / "old", tmp_path / "new"
    old_url, new_url = databases.create(), databases.create()

    # The old host: a migrated database, a coordinator with two factors, a pairing.
    monkeypatch.setenv("GODPARENTS_INSTANCE_PATH", str(old_host / "instance"))
    old = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": old_url,
            **keys,
            **FAST_HASHING,
            "BACKUP_FOLDER": str(old_host / "backups"),
        }
    )
    assert old.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    secret = pyotp.random_base32()
    with old.app_context():
        make_user(Role.COORDINATOR, email="drill@example.org", totp_secret=secret)
        pairing = make_sponsorship(make_sponsor(), make_prisoner())
        pairing_id = pairing.id
        db.session.remove()
        db.engine.dispose()

    # A real writer in its own process, committing actions before, during and after.
    log, stop = tmp_path / "committed.log", tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.backup_writer",
            old_url,
            str(pairing_id),
            str(log),
            str(stop),
        ],
        cwd=ROOT,
        env={**os.environ, "GODPARENTS_INSTANCE_PATH": str(old_host)},
    )
    try:
        _wait_for(log, 30, writer)
        began = time.time()
        before = {i for i, _t in _committed(log)}
        made = old.test_cli_runner().invoke(args=["backup", "create"])
        ended = time.time()
        assert made.exit_code == 0, made.output
        _wait_for(log, len(_committed(log)) + 20, writer)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    committed = _committed(log)
    during = [i for i, t in committed if began <= t <= ended]
    path = next((old_host / "backups").glob("godparents-*.backup"))
    counts = {name: int(n) for name, n in re.findall(r"(\w+) (\d+)[,)]", made.output)}
    with old.app_context():
        db.session.remove()
        db.engine.dispose()

    # The new host: an empty database, a new instance folder, the same keys.
    monkeypatch.setenv("GODPARENTS_INSTANCE_PATH", str(new_host / "instance"))
    new = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": new_url, **keys, **FAST_HASHING})
    assert Path(new.instance_path) == new_host / "instance"
    cli = new.test_cli_runner()
    verified = cli.invoke(args=["backup", "verify", str(path)])
    assert verified.exit_code == 0, verified.output
    restored = cli.invoke(args=["backup", "restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "row counts match the backup" in restored.output

    with new.app_context():
        ids = set(db.session.scalars(select(Action.id)))
        assert before <= ids, f"{len(before - ids)} actions committed before the backup are lost"
        assert len(ids) == counts["actions"]
        assert len(ids) < len(committed), "the writer went on after the backup"
        assert ids <= {i for i, _t in committed} | set()
        db.session.remove()
        db.engine.dispose()
    print(
        f"restore drill: {len(before)} actions before the backup, {len(during)} committed "
        f"while it ran ({ended - began:.2f} s), {len(ids)} restored of {len(committed)}"
    )

    # Log in on the new host with both factors.
    client = new.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = CSRF_PATTERN.search(page).group(1)
    response = client.post(
        "/auth/login",
        data={"email": "drill@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/auth/two-factor"
    page = client.get("/auth/two-factor").get_data(as_text=True)
    token = CSRF_PATTERN.search(page).group(1)
    response = client.post(
        "/auth/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/coordinator/").status_code == 200
    with new.app_context():
        db.session.remove()
        db.engine.dispose()
