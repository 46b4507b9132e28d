"""Password hashing with argon2id (argon2-cffi), at the cost set in the configuration."""

from __future__ import annotations

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
        return hasher.verify(password_hash or _dummy_hash(), password) \
            and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
