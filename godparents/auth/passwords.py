"""Password hashing with argon2id (argon2-cffi), at the cost set in the configuration, and
the list of common passwords no account may use.

The list is Django's (``django/contrib/auth/common-passwords.txt.gz``, BSD licence): 19,640
passwords most often found in breaches, lower-cased.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

_EXTENSION = "godparents.password_hasher"


def init_app(app: Flask) -> None:
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    app.extensions[_EXTENSION] = hasher


def _hasher() -> PasswordHasher:
    return current_app.extensions[_EXTENSION]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that answer takes as long as a real
    one. Made on first use: hashing costs memory and time that app start-up need not pay."""
    key = _EXTENSION + ".dummy"
    if key not in current_app.extensions:
        current_app.extensions[key] = _hasher().hash("no such user")
    return current_app.extensions[key]


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; a missing hash still costs one verification."""
    hasher = _hasher()
    try:
        hasher.verify(password_hash or _dummy_hash(), password)  # raises unless it matches
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """On the list, or one short piece repeated ("abcabcabcabc", "aaaaaaaaaaaa")."""
    lowered = password.lower()
    if lowered in _common_passwords():
        return True
    return any(
        len(lowered) % size == 0 and lowered == lowered[:size] * (len(lowered) // size)
        for size in range(1, 5)
    )
