"""The backup key: a Fernet key from ``GODPARENTS_BACKUP_KEY`` or ``instance/backup_key``.

Backups hold health notes, addresses and the godparents' contacts, so they are encrypted.
Without this key a backup cannot be read: keep a copy of it away from the backups (see the
"What a new host needs" in docs/operations.md), never beside them.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask

from godparents.doctor import FAIL, OK, WARN, Result, is_development

KEY_FILE = "backup_key"


class BackupKeyError(Exception):
    """No usable backup key."""


def key_file(app: Flask) -> Path:
    return Path(app.instance_path) / KEY_FILE


def load_key(app: Flask) -> Fernet:
    """The configured key (``BACKUP_KEY``), else the instance folder's ``backup_key`` file."""
    value = app.config.get("BACKUP_KEY")
    source = "GODPARENTS_BACKUP_KEY"
    if not value:
        path = key_file(app)
        if not path.exists():
            raise BackupKeyError(
                "No backup key: set GODPARENTS_BACKUP_KEY or write one to "
                f"{path} (make one with `flask --app godparents backup new-key`)."
            )
        value, source = path.read_text().strip(), str(path)
    try:
        return Fernet(str(value).encode())
    except (ValueError, TypeError) as error:
        raise BackupKeyError(
            f"The backup key in {source} is not a Fernet key "
            "(32 bytes, url-safe base64, 44 characters)."
        ) from error


def new_key() -> str:
    return Fernet.generate_key().decode()


def check(app: Flask) -> Result:
    """For doctor: a backup key is there and well formed (a missing one is only a warning
    on the development server)."""
    try:
        load_key(app)
    except BackupKeyError as error:
        return Result(WARN if is_development(app) else FAIL, "backup key", str(error))
    where = "GODPARENTS_BACKUP_KEY" if app.config.get("BACKUP_KEY") else str(key_file(app))
    return Result(OK, "backup key", f"from {where}")
