"""``flask --app godparents doctor``: all green on a good configuration, and red, on the
right line, for each thing a deployer gets wrong. Start-up errors: one line, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import delete

from godparents import create_app
from godparents.auth.models import User
from godparents.extensions import db
from tests.conftest import FAST_HASHING, SERVER_URL, Databases
from tests.factories import make_coordinator
from tests.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 64
REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="module")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database brought to the migrations' head by the real command, once for the file."""
    made = Databases(tmp_path_factory.mktemp("doctor"))
    url = made.create()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
    yield url
    made.drop_all()


@pytest.fixture
def good(
    migrated_url: str, smtp_server: SMTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A production configuration that passes every check (and an empty instance folder)."""
    monkeypatch.setenv("GODPARENTS_INSTANCE_PATH", str(tmp_path / "instance"))
    return {
        "TESTING": True,
        **FAST_HASHING,
        "SECRET_KEY": GOOD_KEY,
        "BACKUP_KEY": Fernet.generate_key().decode(),
        "SQLALCHEMY_DATABASE_URI": migrated_url,
        "BASE_URL": "https://godparents.example.org",
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "RATELIMIT_STORAGE_URI": REDIS,
    }


def doctor(config: dict[str, Any], *args: str) -> tuple[int, dict[str, str]]:
    """Run doctor; its exit code and its lines by check name."""
    app: Flask = create_app(config)
    result = app.test_cli_runner().invoke(args=["doctor", *args])
    with app.app_context():
        db.engine.dispose()
    lines = {}
    for line in result.output.splitlines():
        status, _, rest = line.partition("  ")
        name, _, detail = rest.strip().partition(": ")
        lines[name] = f"{status.strip()} {detail}"
    return result.exit_code, lines


def test_a_good_configuration_passes_every_check(good: dict[str, Any]) -> None:
    code, lines = doctor(good, "--workers", "3")
    assert set(lines) >= {
        "secret key",
        "backup key",
        "base url",
        "mail server",
        "database",
        "throttling storage",
        "time zone",
        "catalogs",
    }, lines
    assert all(line.startswith("ok ") for line in lines.values()), lines
    assert code == 0
    assert "https://godparents.example.org/sponsor/" in lines["base url"]
    assert "shared by 3 workers" in lines["throttling storage"]


@pytest.mark.parametrize(
    ("change", "check", "says"),
    [
        ({"SECRET_KEY": "short"}, "secret key", "only 5 characters"),
        ({"BACKUP_KEY": None}, "backup key", "No backup key"),
        ({"BACKUP_KEY": "not-a-fernet-key"}, "backup key", "not a Fernet key"),
        ({"BASE_URL": "http://godparents.example.org"}, "base url", "plain http"),
        ({"BASE_URL": "https://127.0.0.1:5000"}, "base url", "points at this machine"),
        ({"BASE_URL": "https://localhost"}, "base url", "points at this machine"),
        (
            {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "<free port>"},
            "mail server",
            "does not answer",
        ),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "throttling storage", "counts per process"),
        ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:<free port>"}, "throttling storage", ""),
    ],
)
def test_each_misconfiguration_fails_its_own_line(
    good: dict[str, Any], change: dict[str, Any], check: str, says: str
) -> None:
    port = free_port()  # nothing listens there
    config = {**good}
    for key, value in change.items():
        config[key] = (
            port
            if value == "<free port>"
            else value.replace("<free port>", str(port))
            if isinstance(value, str)
            else value
        )
    code, lines = doctor(config, "--workers", "3")
    assert code == 1
    assert lines[check].startswith("FAIL"), lines
    assert says in lines[check]
    others = {name: line for name, line in lines.items() if name != check}
    assert all(line.startswith("ok ") for line in others.values()), others


def test_plain_http_on_this_machine_is_fine_for_the_development_server(
    good: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")  # what `flask --debug` sets
    code, lines = doctor({**good, "BASE_URL": "http://127.0.0.1:5000"})
    assert lines["base url"].startswith("ok "), lines
    assert code == 0


def test_one_worker_may_count_in_memory(good: dict[str, Any]) -> None:
    code, lines = doctor({**good, "RATELIMIT_STORAGE_URI": "memory://"}, "--workers", "1")
    assert lines["throttling storage"].startswith("ok "), lines
    assert code == 0


def test_the_worker_count_comes_from_gunicorns_variable(
    good: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    code, lines = doctor({**good, "RATELIMIT_STORAGE_URI": "memory://"})
    assert code == 1 and "2 workers" in lines["throttling storage"], lines


def test_a_database_behind_the_migrations_fails(good: dict[str, Any], databases: Databases) -> None:
    behind = databases.create()  # migrated to a revision before the head
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": behind})
    assert app.test_cli_runner().invoke(args=["db", "upgrade", "8e3b1c7d2a55"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()
    code, lines = doctor({**good, "SQLALCHEMY_DATABASE_URI": behind})
    assert code == 1
    assert lines["database"].startswith("FAIL") and "db upgrade" in lines["database"], lines


def test_a_database_that_does_not_answer_fails(good: dict[str, Any], tmp_path: Path) -> None:
    if SERVER_URL:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    else:
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'app.db'}"
    code, lines = doctor({**good, "SQLALCHEMY_DATABASE_URI": url})
    assert code == 1
    assert lines["database"].startswith("FAIL") and "does not answer" in lines["database"], lines


def test_uncompiled_catalogs_fail(good: dict[str, Any], tmp_path: Path) -> None:
    source = ROOT / "godparents" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    copy = tmp_path / "de" / "LC_MESSAGES" / "messages.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(source, copy)
    code, lines = doctor({**good, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path)})
    assert code == 1
    assert lines["catalogs"].startswith("FAIL") and "messages.mo" in lines["catalogs"], lines


def _flask(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.prefix) / "bin" / "flask"), "--app", "godparents", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "GODPARENTS_INSTANCE_PATH": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.one_database("settings checked before any database is opened")
@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "No secret key"),
        (
            {"GODPARENTS_SECRET_KEY": GOOD_KEY, "GODPARENTS_TIMEZONE": "Mars/Olympus"},
            "'Mars/Olympus' is not a time zone",
        ),
        (
            {"GODPARENTS_SECRET_KEY": GOOD_KEY, "GODPARENTS_BASE_URL": "godparents.example.org"},
            "is not an http(s) address",
        ),
        ({"GODPARENTS_SECRET_KEY": GOOD_KEY, "GODPARENTS_MAIL_PORT": "smtp"}, "not a port number"),
    ],
)
def test_a_configuration_error_is_one_line_not_a_traceback(
    env: dict[str, str], says: str, tmp_path: Path
) -> None:
    result = _flask(["doctor"], env, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.stderr


@pytest.mark.one_database("gunicorn stops before any database is opened")
@pytest.mark.slow
def test_gunicorn_stops_with_one_line_on_a_configuration_error(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [
            str(Path(sys.prefix) / "bin" / "gunicorn"),
            "--no-control-socket",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "GODPARENTS_INSTANCE_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "godparents: configuration error: No secret key" in output
    assert "Worker failed to boot" in output  # gunicorn gives up instead of respawning


def test_a_backup_key_in_the_instance_folder_is_found(good: dict[str, Any]) -> None:
    folder = Path(os.environ["GODPARENTS_INSTANCE_PATH"])
    folder.mkdir(parents=True)
    (folder / "backup_key").write_text(Fernet.generate_key().decode() + "\n")
    code, lines = doctor({**good, "BACKUP_KEY": None})
    assert code == 0 and str(folder / "backup_key") in lines["backup key"], lines


def test_an_encryption_key_that_does_not_open_the_stored_keys_fails(good: dict[str, Any]) -> None:
    """The key of another installation: the app starts, but no coordinator could log in."""
    mine = Fernet.generate_key().decode()
    app = create_app({**good, "ENCRYPTION_KEY": mine})
    with app.app_context():
        user = make_coordinator(email=f"doctor-{os.urandom(4).hex()}@example.org")
        user_id = user.id
        db.session.remove()
    code, lines = doctor({**good, "ENCRYPTION_KEY": Fernet.generate_key().decode()})
    assert code == 1 and lines["encryption key"].startswith("FAIL"), lines
    code, lines = doctor({**good, "ENCRYPTION_KEY": mine})
    assert lines["encryption key"].startswith("ok") and "open the stored" in lines["encryption key"]
    with app.app_context():
        db.session.execute(delete(User).where(User.id == user_id))
        db.session.commit()
        db.engine.dispose()
