"""Where an uploaded list waits between its preview and its confirmation.

The file waits in the instance folder (or ``PRISONER_IMPORT_FOLDER``) under a random name,
mode 600, and goes after the import or after ``KEEP_SECONDS``. The pages carry only a signed
token (``token``) with that name, the SHA-256 of the content, the uploader and the mapping:
the client can neither swap the file nor point at another one. For the import views
(``admin_transfer.py``): it reads the logged-in user and the app's settings.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import abort, current_app
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer

TOKEN_SALT = "godparents.import"  # noqa: S105  (a namespace, no secret)  # nosec B105


KEEP_SECONDS = 3600  # how long a previewed file waits for its confirmation


_KEPT_NAME = re.compile(r"[0-9a-f]{32}")


def folder() -> Path:
    configured = current_app.config.get("PRISONER_IMPORT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remove_stale(where: Path) -> None:
    """Previews nobody confirmed: their files go after KEEP_SECONDS."""
    cutoff = time.time() - KEEP_SECONDS
    for path in where.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another request removed it first
            continue


def keep(data: bytes) -> str:
    """Store the upload under a new random name, readable by this user account only."""
    kept_in = folder()
    kept_in.mkdir(mode=0o700, parents=True, exist_ok=True)
    remove_stale(kept_in)
    name = secrets.token_hex(16)
    descriptor = os.open(kept_in / f"{name}.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(data)
    return name


def token(name: str, data: bytes, filename: str, mapping: dict[str, str] | None) -> str:
    return _serializer().dumps(
        {
            "file": name,
            "sha256": _sha256(data),
            "user": current_user.id,
            "name": filename[:200],
            "mapping": mapping,
        }
    )


def claim(token: str) -> dict[str, Any] | None:
    """The signed claim of a form if it is intact, recent and this user's."""
    claim = _serializer().loads(token, max_age=KEEP_SECONDS)
    if (
        not isinstance(claim, dict)
        or claim.get("user") != current_user.id
        or not _KEPT_NAME.fullmatch(str(claim.get("file", "")))
        or not isinstance(claim.get("mapping") or {}, dict)
    ):
        return None
    return claim


def kept_path(claim: dict[str, Any]) -> Path:
    """Where the file a claim names waits (``claim`` checks its name)."""
    return folder() / f"{claim['file']}.csv"


def kept_file(claim: dict[str, Any]) -> bytes | None:
    """The file a claim names, if it is still there and unchanged (400 if changed)."""
    path = kept_path(claim)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if _sha256(data) != claim.get("sha256"):
        abort(400)
    return data
