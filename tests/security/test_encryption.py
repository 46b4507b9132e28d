"""The two-factor keys at rest: encrypted with a key kept outside the database, so that a
dump of the database alone cannot make codes; and the key can be changed."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from godparents import create_app, encryption
from godparents.auth.models import User
from godparents.extensions import db
from tests.conftest import ENCRYPTION_KEY
from tests.factories import make_coordinator

SECRET = pyotp.random_base32()


def _dump(url: str) -> str:
    """The whole database as text, as a backup holds it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database) as connection:
            return "\n".join(connection.iterdump())
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(
        [pg_dump, "--data-only", plain],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def test_a_dump_without_the_key_cannot_make_codes(app: Flask, config) -> None:
    coordinator = make_coordinator(totp_secret=SECRET)
    dump = _dump(config["SQLALCHEMY_DATABASE_URI"])
    assert coordinator.email in dump  # the dump is real: the account is in it
    assert SECRET not in dump and SECRET.lower() not in dump
    stored = db.session.scalar(
        text("SELECT totp_key FROM users WHERE id = :id"), {"id": coordinator.id}
    )
    assert stored in dump
    with pytest.raises(InvalidToken):  # any other key opens nothing
        Fernet(Fernet.generate_key()).decrypt(stored.encode())
    # With the key (outside the database), the app reads it and codes work.
    assert Fernet(ENCRYPTION_KEY).decrypt(stored.encode()).decode() == SECRET
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).totp_secret == SECRET


def test_rotating_the_key(config, app: Flask) -> None:
    user_id = make_coordinator(totp_secret=SECRET).id
    new_key = encryption.new_key()
    rotated = create_app({**config, "ENCRYPTION_KEY": f"{new_key} {ENCRYPTION_KEY}"})
    with rotated.app_context():  # (a command runs in the app whose context is current)
        result = rotated.test_cli_runner().invoke(args=["secrets", "rotate"])
        db.session.remove()
    assert result.exit_code == 0, result.output
    assert f"encrypted with key {encryption.key_id(new_key)}; 1 older key" in result.output
    db.session.expire_all()
    stored = db.session.scalar(text("SELECT totp_key FROM users WHERE id = :id"), {"id": user_id})
    assert Fernet(new_key).decrypt(stored.encode()).decode() == SECRET
    only_new = create_app({**config, "ENCRYPTION_KEY": new_key})
    with only_new.app_context():
        assert db.session.get(User, user_id).totp_secret == SECRET
        db.session.remove()
    with rotated.app_context():
        db.engine.dispose()
    with only_new.app_context():
        db.engine.dispose()


def test_a_wrong_key_is_said_plainly(config, app: Flask) -> None:
    coordinator = make_coordinator(totp_secret=SECRET)
    stored = db.session.scalar(
        text("SELECT totp_key FROM users WHERE id = :id"), {"id": coordinator.id}
    )
    wrong = create_app({**config, "ENCRYPTION_KEY": encryption.new_key()})
    with wrong.app_context(), pytest.raises(encryption.EncryptionKeyError, match="right one"):
        encryption.decrypt(stored)


def test_new_key_prints_a_usable_key(runner) -> None:
    result = runner.invoke(args=["secrets", "new-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip())
