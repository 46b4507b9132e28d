"""Two factors: TOTP (RFC 6238, with pyotp) and one-time recovery codes.

A code is accepted for the current 30-second step or the one on either side, and only for
a step newer than the last one accepted: a code seen once (over a shoulder, in a phishing
proxy's log) cannot be used again. Recovery codes are random, shown once and stored as
hashes; each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from godparents.audit.services import record
from godparents.auth import sessions
from godparents.auth.models import Passkey, RecoveryCode, User
from godparents.extensions import db

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: the codes are read off paper.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=email, issuer_name=current_app.config["TOTP_ISSUER"]
    )


def qr_code_data_uri(uri: str) -> str:
    """The key as a QR code, drawn here as SVG: the key never goes to another service."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The key in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, now: datetime, after: int | None = None) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side), if any is newer
    than ``after``."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(user: User, code: str, now: datetime) -> bool:
    """True once per code: the step is remembered, so the same code fails next time.

    The step is claimed by one conditional UPDATE, not read and then written: of two
    logins sent at the same moment with the same code, the database lets one claim it.
    """
    if user.totp_secret is None:
        return False
    step = matching_step(user.totp_secret, code, now, after=user.totp_last_step)
    if step is None:
        return False
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _code_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes, replacing any the user had; returned once, stored hashed."""
    codes = [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(code)) for code in codes)
    return codes


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """True if ``code`` is one of the user's unused codes, which is then used up."""
    if len(code) > 40:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return used.rowcount == 1  # type: ignore[attr-defined]


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def enable(user: User, secret: str, step: int) -> list[str]:
    """Turn two factors on with a confirmed key; returns the recovery codes."""
    user.totp_secret = secret
    user.totp_last_step = step
    return new_recovery_codes(user)


def forget(user: User) -> None:
    """Forget the key, the recovery codes and the passkeys (the caller ends the sessions
    and records)."""
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    user.passkey_challenge_hash = None


def turn_off(user: User, actor: User | None, action: str) -> None:
    """Forget the key and the recovery codes and end every session of the user, recorded
    as ``action`` by ``actor`` (None: the command line)."""
    forget(user)
    sessions.end_all(user)
    record(actor, action, user)
