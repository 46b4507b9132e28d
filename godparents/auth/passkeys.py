"""Passkeys (WebAuthn) as the preferred second factor, with the ``webauthn`` library.

A passkey answers a challenge with a signature that names the site it was made for: a
phishing site on another address gets nothing it can relay, as it could with a TOTP code.
The relying party is this site's host as in ``BASE_URL`` (WebAuthn refuses IP addresses:
serve on a name, ``localhost`` for development). Passkeys come on top of the code from the
app, which stays the fallback (with the recovery codes): they can be added once two
factors are on, and they go when two factors are turned off.

The challenge of a login is kept as a hash on the user's row and claimed with one
conditional UPDATE, so an answer works once, however many times it is sent. Plain
functions; the caller commits.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from godparents.audit.services import record
from godparents.auth.models import Passkey, User
from godparents.extensions import db

MAX_PASSKEYS = 10
MAX_CREDENTIAL_LENGTH = 20_000  # characters of the browser's JSON; real ones are < 2,000


class PasskeyError(ValueError):
    """A passkey that cannot be added or used; the message is for the user."""


def relying_party() -> tuple[str, str]:
    """(the relying party id, the origin) from BASE_URL: this site's host, and its address."""
    parts = urlsplit(current_app.config["BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def passkeys_of(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            select(Passkey)
            .where(Passkey.user_id == user.id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id))
        for passkey in passkeys_of(user)
    ]


def registration_options(user: User) -> tuple[str, bytes]:
    """The options for the browser's ``navigator.credentials.create`` (JSON) and the
    challenge they carry (to keep until the answer comes)."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["TOTP_ISSUER"],
        user_name=user.email,
        user_id=str(user.id).encode(),
        user_display_name=user.email,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return options_to_json(options), options.challenge


def _credential(data: str) -> str:
    if not data or len(data) > MAX_CREDENTIAL_LENGTH:
        raise PasskeyError(_("The browser sent no passkey. Please try again."))
    try:
        json.loads(data)
    except ValueError as error:
        raise PasskeyError(_("The browser sent no passkey. Please try again.")) from error
    return data


def register(
    user: User, name: str, credential: str, challenge: bytes | None, now: datetime
) -> Passkey:
    """Check the browser's answer to ``registration_options`` and keep the passkey."""
    if not user.has_two_factors:
        raise PasskeyError(
            _("Turn on two factors first: the code from the app stays your fallback.")
        )
    if len(passkeys_of(user)) >= MAX_PASSKEYS:
        raise PasskeyError(
            _(
                "You have %(count)d passkeys, the most there can be. Remove one first.",
                count=MAX_PASSKEYS,
            )
        )
    if challenge is None:
        raise PasskeyError(_("The form has expired. Please try again."))
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=_credential(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except WebAuthnException as error:
        raise PasskeyError(_("This passkey could not be checked. Please try again.")) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError(_("This passkey is registered already."))
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        created_at=now,
    )
    db.session.add(passkey)
    db.session.flush()
    record(user, "passkey_added", user, {"passkey": name})
    return passkey


def login_options(user: User) -> str | None:
    """The options for ``navigator.credentials.get`` at the second step of logging in, if
    the user has passkeys; the challenge is remembered (hashed) on the user's row."""
    descriptors = _descriptors(user)
    if not descriptors:
        return None
    rp_id, _origin = relying_party()
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        allow_credentials=descriptors,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    user.passkey_challenge_hash = _challenge_hash(challenge)
    return options_to_json(options)


def _answered_challenge(credential: str) -> bytes | None:
    """The challenge the browser signed, read from its client data (checked afterwards by
    the library against what we offered)."""
    try:
        client_data = json.loads(
            base64url_to_bytes(json.loads(credential)["response"]["clientDataJSON"])
        )
        return base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        return None


def verify_login(user: User, credential: str, now: datetime) -> Passkey | None:
    """The user's passkey that answered the challenge offered last, once; else None."""
    try:
        credential = _credential(credential)
    except PasskeyError:
        return None
    challenge = _answered_challenge(credential)
    if challenge is None or user.passkey_challenge_hash is None:
        return None
    try:
        credential_id = str(json.loads(credential).get("id", ""))[:1400]
    except (AttributeError, ValueError):
        return None
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.user_id == user.id, Passkey.credential_id == credential_id)
    )
    if passkey is None:
        return None
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except WebAuthnException:
        return None
    # The challenge is good once: claimed by one conditional UPDATE (two answers sent at
    # the same moment: the database lets one through).
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.passkey_challenge_hash == _challenge_hash(challenge))
        .values(passkey_challenge_hash=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    return passkey


def rename(passkey: Passkey, name: str, actor: User) -> None:
    old, passkey.name = passkey.name, name
    record(actor, "passkey_renamed", actor, {"passkey": [old, name]})


def remove(passkey: Passkey, actor: User) -> None:
    db.session.delete(passkey)
    record(actor, "passkey_removed", actor, {"passkey": passkey.name})
