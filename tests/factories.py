"""Functions that make test data, committed so the app's own requests see it."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pyotp
from sqlalchemy import select

from godparents.auth.models import Role, User
from godparents.auth.passwords import hash_password
from godparents.extensions import db
from godparents.prisoners.models import Prisoner, PrisonerAddress, PrisonerStatus
from godparents.reminders.defaults import default_rules
from godparents.reminders.models import OutboxMessage, OutboxStatus, ReminderRule
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def make_user(
    role: Role = Role.SPONSOR,
    email: str | None = None,
    password: str | None = PASSWORD,
    **fields: Any,
) -> User:
    user = User(email=email or f"user{next(_numbers)}@example.org", role=role, **fields)
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_coordinator(**fields: Any) -> User:
    """A coordinator with two factors set up (they may not work without); pass
    ``totp_secret=None`` for one who has not set them up yet."""
    fields.setdefault("totp_secret", pyotp.random_base32())
    return make_user(Role.COORDINATOR, **fields)


def make_sponsor(with_login: bool = True, **fields: Any) -> Sponsor:
    number = next(_numbers)
    values = {
        "full_name": f"Sponsor {number}",
        "body": "Bundestag",
        "country": "DE",
        "email": f"sponsor{number}@example.org",
        **fields,
    }
    sponsor = Sponsor(**values)
    if with_login:
        sponsor.user = make_user(Role.SPONSOR, email=values["email"])
    db.session.add(sponsor)
    db.session.commit()
    return sponsor


def make_delegate(sponsor: Sponsor, **fields: Any) -> User:
    user = make_user(Role.DELEGATE, **fields)
    db.session.add(Delegation(sponsor=sponsor, user=user))
    db.session.commit()
    return user


def make_prisoner(
    address: str | None = "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1", **fields: Any
) -> Prisoner:
    number = next(_numbers)
    values = {
        "name_latin": f"Prisoner {number}",
        "status": PrisonerStatus.SENTENCED,
        "detained_on": date(2021, 7, 14),
        # The tests' godchildren get letters, as before the flag could be "not known".
        "can_receive_letters": True,
        **fields,
    }
    prisoner = Prisoner(**values)
    if address:
        prisoner.addresses.append(
            PrisonerAddress(
                facility="SIZO No. 1 (Minsk)", postal_address=address, valid_from=date(2021, 7, 14)
            )
        )
    db.session.add(prisoner)
    db.session.commit()
    return prisoner


def make_sponsorship(sponsor: Sponsor, prisoner: Prisoner, **fields: Any) -> Sponsorship:
    values = {"status": SponsorshipStatus.ACTIVE, "started_on": date(2022, 1, 10), **fields}
    pairing = Sponsorship(sponsor=sponsor, prisoner=prisoner, **values)
    db.session.add(pairing)
    db.session.commit()
    return pairing


def make_default_rules() -> list[ReminderRule]:
    """The rules the migrations seed (the test database is built from the models)."""
    rules = default_rules()
    db.session.add_all(rules)
    db.session.commit()
    return rules


def make_outbox_message(
    rule: ReminderRule | None = None, recipient: User | None = None, **fields: Any
) -> OutboxMessage:
    """An outbox message as the job would leave it (written out, waiting by default); the
    rule and the recipient are made when not given (every message has both)."""
    number = next(_numbers)
    if rule is None:
        rule = (
            db.session.scalar(select(ReminderRule).order_by(ReminderRule.id).limit(1))
            or make_default_rules()[0]
        )
    if recipient is None and "recipient_user_id" not in fields:
        recipient = make_user(email=f"to{number}@example.org", password=None)
    values: dict[str, Any] = {
        "recipient_email": recipient.email if recipient else f"to{number}@example.org",
        "subject_ref": f"prisoner:{number}",
        "occurs_on": date(2026, 12, 26),
        "email_subject": f"Subject {number}",
        "body_text": f"Body {number}\n",
        "status": OutboxStatus.PENDING,
        **fields,
    }
    if recipient is not None:
        values["recipient_user_id"] = recipient.id
    message = OutboxMessage(rule=rule, **values)
    db.session.add(message)
    db.session.commit()
    return message
