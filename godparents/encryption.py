"""Secrets at rest: values encrypted with a key kept outside the database.

The TOTP keys of the second factor are stored encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256, from the ``cryptography`` package), so that a database dump or a stolen
backup alone cannot make codes. The key comes from ``GODPARENTS_ENCRYPTION_KEY`` or from
``instance/encryption.key``: several keys may be given (separated by spaces, commas or
lines); the first encrypts, all of them decrypt, so that a key can be changed without a
moment in which stored values cannot be read (``flask --app godparents secrets rotate``).

Outside development and tests the app refuses to start without a key, as it does without
a secret key. The development server generates one into the instance folder.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Dialect, String
from sqlalchemy.types import TypeDecorator

from godparents.config import ConfigurationError

KEY_FILE = "encryption.key"
_EXTENSION = "godparents.encryption"
# Values written before encryption came: base32 TOTP keys. Fernet tokens start "gAAAAA".
_PLAIN = re.compile(r"[A-Z2-7]+=*")


class EncryptionKeyError(ConfigurationError):
    """No usable key, or a stored value that none of the keys opens."""


def parse_keys(text: str) -> list[str]:
    return [key for key in re.split(r"[\s,]+", text.strip()) if key]


def new_key() -> str:
    return Fernet.generate_key().decode()


def key_id(key: str) -> str:
    """A short name for a key, safe to print and log."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _configured_keys(app: Flask) -> list[str]:
    configured = app.config.get("ENCRYPTION_KEY")
    if configured:
        return parse_keys(str(configured))
    path = Path(app.instance_path) / KEY_FILE
    if path.exists():
        return parse_keys(path.read_text())
    if app.testing:
        return [new_key()]
    if app.debug:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = new_key()
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return [key]
    raise EncryptionKeyError(
        "No encryption key for the secrets stored in the database (the two-factor keys): set "
        "GODPARENTS_ENCRYPTION_KEY, or put one in instance/encryption.key (mode 600). Make "
        "one with `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'` and keep it apart from the database and "
        "its backups: a backup without the key cannot make codes, one with it can."
    )


def init_app(app: Flask) -> None:
    keys = _configured_keys(app)
    try:
        app.extensions[_EXTENSION] = (MultiFernet([Fernet(key) for key in keys]), keys)
    except (ValueError, TypeError) as error:
        raise EncryptionKeyError(
            "An encryption key is not a Fernet key (32 bytes, URL-safe base64)."
        ) from error


def _fernet() -> MultiFernet:
    return current_app.extensions[_EXTENSION][0]


def keys() -> list[str]:
    return list(current_app.extensions[_EXTENSION][1])


def is_plain(stored: str) -> bool:
    return bool(_PLAIN.fullmatch(stored))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if is_plain(stored):  # from before encryption; `secrets rotate` encrypts it
        return stored
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise EncryptionKeyError(
            "A stored secret cannot be decrypted with the configured encryption key(s): "
            "is GODPARENTS_ENCRYPTION_KEY (or instance/encryption.key) the right one?"
        ) from error


def rotated(stored: str) -> str:
    """The stored value encrypted with the first key (a value from before encryption is
    encrypted now)."""
    if is_plain(stored):
        return encrypt(stored)
    try:
        return _fernet().rotate(stored.encode()).decode()
    except InvalidToken as error:
        raise EncryptionKeyError(
            "A stored secret cannot be decrypted with the configured encryption key(s)."
        ) from error


class Encrypted(TypeDecorator[str]):
    """A text column stored encrypted: plain text in Python, a Fernet token in the database."""

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


# `flask --app godparents secrets ...` ---------------------------------------------------------

secrets_cli = AppGroup("secrets", help="The key that encrypts secrets stored in the database.")
# Every column that holds an encrypted value (table, primary key, column).
ENCRYPTED_COLUMNS = (("users", "id", "totp_key"), ("user_sessions", "id", "pending_totp_key"))


@secrets_cli.command("new-key")
def print_new_key() -> None:
    """Print a fresh key (to put first in GODPARENTS_ENCRYPTION_KEY, then `secrets rotate`)."""
    click.echo(new_key())


@secrets_cli.command("rotate")
def rotate() -> None:
    """Encrypt every stored secret again with the first configured key.

    To change the key: make one (`secrets new-key`), configure it first with the old one
    after it ("NEW OLD"), restart, run this, then remove the old key. Values stored before
    encryption existed are encrypted too.
    """
    from godparents.audit.services import record  # the command line needs the models
    from godparents.extensions import db

    changed = 0
    for table_name, key_name, column_name in ENCRYPTED_COLUMNS:
        table = sa.table(table_name, sa.column(key_name), sa.column(column_name, sa.String))
        key, column = table.c[key_name], table.c[column_name]
        for row_id, stored in db.session.execute(
            sa.select(key, column).where(column.is_not(None))
        ).all():
            db.session.execute(
                table.update().where(key == row_id).values({column_name: rotated(stored)})
            )
            changed += 1
    record(None, "encryption_key_rotated", changes={"key": key_id(keys()[0]), "values": changed})
    db.session.commit()
    click.echo(
        f"{changed} secret(s) encrypted with key {key_id(keys()[0])}; "
        f"{len(keys()) - 1} older key(s) configured, no longer needed by any of them."
    )
