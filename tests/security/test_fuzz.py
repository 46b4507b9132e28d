"""Random input to every form of the app never gets a 500 (property-based, with Hypothesis).

Each test logs one role in once (again only when a form logged it out) and then, for every
example Hypothesis draws, posts to each form-handling route of its group. The fields are
read from the route's form class, so a field added to a form is fuzzed without touching
this file; ``test_every_post_route_is_fuzzed`` and ``test_every_form_class_is_fuzzed`` fail
when a POST route or a form class is added without being listed in ROUTES. The requests
carry the real CSRF token, so that they reach validation, and mix plausible values (to get
past validation into the services and the mail server) with missing fields, random extra
fields, very long values, NUL bytes, Cyrillic, right-to-left text, emoji, numbers as
strings, impossible dates, huge integers and values outside the choices.

The property: the status is never 500 or more. In tests the client raises what a
production server would answer with a 500; each such crash is recorded with the request
that caused it and the line of the app where it happened, the example goes on, and the
test fails at its end listing every distinct crash. Besides: a redirect never leaves the
site, and where a route answers an invalid form by showing it again, an input the form
class itself refuses is answered with that page (200) or a refusal (4xx), never accepted.
After a route that saves, the page it redirects to is opened too (the values are shown).

The crashes found so far are pinned at the end of the file as plain tests.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import re
import struct
import tempfile
import traceback
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select, update
from wtforms import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    FileField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from godparents.account.forms import (
    COORDINATOR_REMINDERS,
    SPONSOR_REMINDERS,
    AccountActionForm,
    CalendarForm,
    CalendarOffForm,
    EmailChangeForm,
    PasskeyAddForm,
    PasskeyRemoveForm,
    PasskeyRenameForm,
    PasswordChangeForm,
    ProfileForm,
    RecoveryCodesForm,
    SignOutEverywhereForm,
    TwoFactorDisableForm,
    TwoFactorEnableForm,
    TwoFactorReplaceForm,
    TwoFactorResetForm,
)
from godparents.actions.forms import ActionForm, DeleteForm, OutcomeForm
from godparents.actions.models import Action, ActionKind
from godparents.auth import tokens
from godparents.auth.forms import (
    InvitationCreateForm,
    LoginForm,
    PasskeyLoginForm,
    PasswordResetRequestForm,
    PasswordSetForm,
    TwoFactorForm,
)
from godparents.auth.models import Passkey, Role, User
from godparents.extensions import db
from godparents.letters.forms import (
    LetterForm,
    LetterTemplateForm,
    SenderAddressForm,
    TemplateDeleteForm,
    TransitTimeForm,
    WatchWordDeleteForm,
    WatchWordForm,
)
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.prisoners.csvio import COLUMNS
from godparents.prisoners.forms import (
    AddressChangeForm,
    FacilityForm,
    ImportConfirmForm,
    ImportForm,
    ImportMappingForm,
    KeyDateAddForm,
    KeyDateDeleteForm,
    MergeForm,
    PhotoUploadForm,
    PrisonerCreateForm,
    PrisonerForm,
)
from godparents.prisoners.models import Facility, KeyDate, KeyDateKind, PrisonerStatus
from godparents.public.forms import PublicSettingsForm
from godparents.reminders.defaults import TEMPLATES_FOR
from godparents.reminders.forms import RuleForm
from godparents.reminders.messages import unsubscribe_token
from godparents.reminders.models import (
    OutboxStatus,
    ReminderRule,
    Trigger,
    UndeliverableAddress,
)
from godparents.sponsors.forms import DelegateInviteForm as TeamInviteForm
from godparents.sponsors.forms import DelegateRemoveForm
from godparents.sponsors.models import Delegation
from godparents.sponsors.registry_forms import (
    ConfirmForm,
    DelegateInviteForm,
    EraseForm,
    SponsorForm,
    SponsorInviteForm,
)
from godparents.sponsorships.forms import (
    BulkConfirmForm,
    BulkUploadForm,
    EndForm,
    HandoverForm,
    PairForm,
    ReleaseForm,
)
from godparents.sponsorships.forms import ConfirmForm as PairingConfirmForm
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from godparents.types import utcnow
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_default_rules,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
    make_user,
)
from tests.helpers import CSRF_PATTERN, Auth, LoginAs, csrf_token, log_in
from tests.world import build_world as build_shared_world

# Hypothesis keeps caches (constants, Unicode tables) in ./.hypothesis unless told
# otherwise: keep them out of the project tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "godparents-hypothesis")
)

# Examples per route and role: the whole file stays well under 90 s on two cores. Set
# GODPARENTS_FUZZ_EXAMPLES to search longer on a workstation.
EXAMPLES = int(os.environ.get("GODPARENTS_FUZZ_EXAMPLES", "12"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,  # and nothing is written to the project tree
    # No shrinking: an example posts to a whole group of routes, and shrinking one takes
    # minutes; the failure names the route and the values it sent, which is enough.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# The limits of logins, codes and reset requests, raised for the tests that fuzz those
# forms (else nearly every example would get the 429 page instead of the form); the
# throttled answers themselves are fuzzed with the real limits.
GENEROUS_LIMITS = pytest.mark.settings(
    LOGIN_LIMIT_PER_ACCOUNT="10000 per minute",
    LOGIN_LIMIT_PER_ADDRESS="10000 per minute",
    TWO_FACTOR_LIMIT_PER_ACCOUNT="10000 per minute",
    TWO_FACTOR_LIMIT_PER_ADDRESS="10000 per minute",
    RESET_LIMIT_PER_ACCOUNT="10000 per minute",
    RESET_LIMIT_PER_ADDRESS="10000 per minute",
)

ANONYMOUS, COORDINATOR, SPONSOR, DELEGATE = "anonymous", "coordinator", "sponsor", "delegate"
LOGGED_IN = (COORDINATOR, SPONSOR, DELEGATE)
TEAM = (SPONSOR, DELEGATE)
# Statuses that are no crash; anything else (a 5xx, or an exception) fails the property.
REFUSALS = frozenset({400, 403, 404, 405, 409, 413, 422, 429})
# 308: Werkzeug merges the slashes of a path such as ./export/%2F%2Fx.csv (on this site).
FINE = frozenset({200, 302, 303, 308} | REFUSALS)


# Values -------------------------------------------------------------------------------------

CHARS = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be encoded
SHORT_TEXT = st.text(CHARS, max_size=40)
WORDS = st.text(st.characters(categories=("L", "Zs", "Nd")), min_size=1, max_size=30)
TODAY = date.today()

ODD_TEXT = (
    "",
    " ",
    "\t",
    "\r\n",
    "\x00",
    "a\x00b",
    "\x7f",
    "\u200b",
    "\ufeff",
    "\u202egnp.exe",
    "Алесь Бяляцкі",
    "Марыя Калеснікава",
    "220030, г. Минск,\nул. Володарского, 2",
    "Łódź, Žižkov, Straße",
    "مريم الخطيب",
    "שלום עולם",
    "👩‍⚖️🇧🇾✊🏽",
    "ǅİﬃ",
    "e\u0301" * 3,
    "0",
    "-1",
    "1e309",
    "NaN",
    "١٢٣",
    "１２３",
    "9" * 30,
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "<script>alert(1)</script>",
    "{{ 7 * 7 }}",
    "%(name)s",
    "%s%n",
    "{0}",
    "' OR '1'='1",
    "\\",
    "%",
    "_",
    "../../etc/passwd",
    "//evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "https://example.org/a?b=c#d",
    "None",
    "null",
    "[]",
    "{}",
)
LONG_PIECES = ("a", "я", "😀", "\x00", "مر", " ", "ab\n", "<b>")
NUMBERS = (
    "0",
    "-0",
    "1",
    "6",
    "7",
    "30",
    "90",
    "91",
    "365",
    "366",
    "-1",
    "+5",
    " 12 ",
    "1e3",
    "1.5",
    "1,5",
    "NaN",
    "inf",
    "٣٠",
    "１２",
    "1_000",
    "0x1F",
    str(2**31 - 1),
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 40,
    "9" * 4300,
    "9" * 4301,
)
ODD_DATES = (
    "2026-02-30",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "2026-13-01",
    "2026-00-10",
    "2026-1-1",
    "20260101",
    "01.02.2026",
    "2026-02-28T10:00",
    " 2026-02-28 ",
    "1970-01-01",
    "1900-01-01",
    "2100-01-01",
    "+2026-01-01",
    "２０２６-０１-０１",
    "2026\u221201\u221201",
    "today",
    "",
    "2024-02-29",
    "2023-02-29",
)
LATIN_NAMES = ("Ales Bialiatski", "Maryja Kalesnikava", "Łukasz Żółć", "O'Neil-Smith Jr.")
BOOLEANS = ("y", "on", "1", "true", "", "0", "false", "n", "off")
NEXT_TARGETS = (
    "/",
    "/account/",
    "/coordinator/",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\t/evil.example",
    "///x",
    "/sponsor/?a=b#c",
    "/%2F%2Fevil.example",
    "\\\\evil.example",
)
STRONG_PASSWORDS = (
    "correct horse battery staple",
    "пароль надёжный и длинный",
    "Sieben Zwerge hinter den Bergen",
    "x" * 12,
    "😀" * 12,
    "a" * 1024,
)
TIMEZONES = ("Europe/Berlin", "UTC", "America/New_York", "Etc/GMT+12", "Pacific/Kiritimati")


# Words that pass a form, now and then with a character that may not pass what is behind
# it (PostgreSQL refuses NUL, a mail header a line break, a page a bidi override).
SPICED_WORDS = st.one_of(
    WORDS,
    st.builds(
        lambda head, spice, tail: head + spice + tail,
        WORDS,
        st.sampled_from(("\x00", "\u202e", "\r\n", "\x7f", "😀", "\u200b", "<b>", "{{ 1 }}")),
        WORDS,
    ),
)


def long_text() -> st.SearchStrategy[str]:
    """Strings of up to about 5,000 characters, made cheaply by repetition."""
    return st.sampled_from(LONG_PIECES).flatmap(
        lambda piece: st.integers(100, 5000 // len(piece)).map(lambda n: piece * n)
    )


WILD_TEXT = st.one_of(
    st.sampled_from(ODD_TEXT), SHORT_TEXT, long_text(), st.integers(-(10**30), 10**30).map(str)
)


def _image(fmt: str, size: tuple[int, int] = (3, 2), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(out, fmt)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims to be ``width`` x ``height`` pixels, without the pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


PNG = _image("PNG")
IMAGES = (
    PNG,
    _image("JPEG"),
    _image("GIF", mode="P"),
    _image("WEBP"),
    _image("PNG", (1, 1), "RGBA"),
    _image("BMP"),
    _image("TIFF"),
)
BROKEN_FILES = (
    b"",
    PNG[:30],
    PNG + b"<?php echo 1; ?>",
    _png_header(10_000, 10_000),
    _png_header(100_000, 100_000),
    _png_header(0, 0),
    b"GIF89a" + b"\x00" * 20,
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"external_id,name_latin\n",
)
FILENAMES = (
    "photo.png",
    "photo.jpg",
    "prisoners.csv",
    "PRISONERS.CSV",
    "",
    "noext",
    "../../etc/passwd.csv",
    "файл.csv",
    "a" * 250 + ".csv",
    "x.csv.exe",
    ".csv",
)


@dataclass(frozen=True)
class Upload:
    """A file to send; made into a fresh stream for every request."""

    content: bytes
    filename: str

    def __repr__(self) -> str:
        return f"Upload({self.content[:40]!r}... {len(self.content)} bytes, {self.filename!r})"


CELLS = {
    "external_id": st.one_of(st.integers(1, 40).map(lambda n: f"fz-{n}"), WILD_TEXT),
    "status": st.one_of(st.sampled_from([s.value for s in PrisonerStatus]), WILD_TEXT),
    "gender": st.sampled_from(["m", "f", "x", "male", "female", "", "?"]),
    "birth_date": st.one_of(
        st.sampled_from((*ODD_DATES, "1980", "1980-05")), st.dates().map(date.isoformat)
    ),
    "can_receive_letters": st.sampled_from(["yes", "no", "1", "0", "true", "", "vielleicht"]),
    "is_public": st.sampled_from(["yes", "no", "1", "0", "", "maybe"]),
}
DATE_CELLS = st.one_of(st.sampled_from(ODD_DATES), st.dates().map(date.isoformat))


def csv_cell(column: str) -> st.SearchStrategy[str]:
    if column in CELLS:
        return CELLS[column]
    if column.endswith("_on"):
        return DATE_CELLS
    return st.one_of(WORDS, WILD_TEXT)


@st.composite
def csv_files(draw, plausible: bool = False) -> bytes:
    """A prisoner CSV file: mostly the real header and rows of odd cells, in odd encodings."""
    if plausible:  # columns whose cells any words fit
        columns = [
            "external_id",
            "name_latin",
            *draw(
                st.lists(
                    st.sampled_from(
                        ("name_be", "name_ru", "aliases", "articles", "sentence", "bio", "status")
                    ),
                    unique=True,
                    max_size=4,
                )
            ),
        ]
    else:
        columns = draw(
            st.one_of(
                st.just(list(COLUMNS)),
                st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8, unique=True),
                st.lists(WORDS, min_size=1, max_size=4),
            )
        )
    rows = draw(
        st.lists(
            st.tuples(*(WORDS for _column in columns)).map(list)
            if plausible
            else st.one_of(
                st.tuples(*(csv_cell(column) for column in columns)).map(list),
                st.lists(WILD_TEXT, max_size=3),
            ),
            min_size=1 if plausible else 0,
            max_size=4,
        )
    )
    if plausible:
        for number, row in enumerate(rows):
            row[:2] = [
                f"fz-{draw(st.integers(1, 10**6))}-{number}",
                draw(st.sampled_from(LATIN_NAMES)),
            ]
            if "status" in columns:
                row[columns.index("status")] = draw(st.sampled_from(("pretrial", "sentenced")))
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([",", ";"]))).writerows([columns, *rows])
    text = out.getvalue()
    if plausible:
        return text.encode()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


FILE_CONTENT = st.one_of(
    st.sampled_from(IMAGES), st.sampled_from(BROKEN_FILES), st.binary(max_size=300), csv_files()
)


# Reading the forms --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    same_as: str | None = None  # an EqualTo validator: sometimes send the same value
    required: bool = False  # a DataRequired or InputRequired validator


def kind_of(form_field: Any) -> str:
    """What to send for a field, from its class (an unknown class gets text)."""
    kinds = (
        (FileField, "file"),
        (BooleanField, "bool"),
        (SelectMultipleField, "multi"),
        (SelectField, "choice"),
        ((DateField, DateTimeField), "date"),
        ((IntegerField, DecimalField, FloatField), "number"),
        (EmailField, "email"),
        (PasswordField, "password"),
        (SubmitField, "submit"),
    )
    return next((kind for cls, kind in kinds if isinstance(form_field, cls)), "text")


def _choice_values(form_field: Any) -> tuple[str, ...]:
    choices = getattr(form_field, "choices", None) or ()
    if isinstance(choices, dict):  # option groups
        choices = [choice for group in choices.values() for choice in group]
    values = []
    for choice in choices:
        value = choice[0] if isinstance(choice, tuple | list) else getattr(choice, "value", choice)
        values.append(str(value))
    return tuple(values)


def form_fields(
    web_app: Flask, make_form: Callable[[str], FlaskForm], role: str
) -> list[FieldSpec]:
    """The fields of the form, as the form class declares them (its CSRF field aside)."""
    with web_app.test_request_context():
        form = make_form(role)
        specs = []
        for form_field in form:
            if form_field.name == form.meta.csrf_field_name:
                continue
            lengths = [
                v.max
                for v in form_field.validators
                if isinstance(v, Length) and v.max is not None and v.max >= 0
            ]
            same = [v.fieldname for v in form_field.validators if isinstance(v, EqualTo)]
            # A browser always sends a select's value: treat it as required too.
            required = kind_of(form_field) == "choice" or any(
                isinstance(v, DataRequired | InputRequired) for v in form_field.validators
            )
            specs.append(
                FieldSpec(
                    form_field.name,
                    kind_of(form_field),
                    _choice_values(form_field),
                    min(lengths) if lengths else None,
                    same[0] if same else None,
                    required,
                )
            )
    return specs


def form_rejects(
    web_app: Flask, make_form: Callable[[str], FlaskForm], role: str, data: dict[str, Any]
) -> bool:
    """Whether the form class alone (its validators, not the view's services) refuses
    these values; the CSRF token is left out of the judgement."""
    with web_app.test_request_context(method="POST", data=data):
        form = make_form(role)
        form.validate()
        return any(name != form.meta.csrf_field_name for name in form.errors)


# The people and things the forms work on ----------------------------------------------------


@dataclass
class World:
    """Made once per test; only ids and strings, so that no stale ORM object is kept."""

    coordinator_id: int
    coordinator_email: str
    sponsor_id: int
    sponsor_user_id: int
    sponsor_email: str
    other_sponsor_id: int
    edited_sponsor_id: int
    delegate_id: int
    delegate_email: str
    prisoner_id: int
    free_prisoner_id: int
    pairing_id: int
    rule_ids: list[int]

    @property
    def emails(self) -> list[str]:
        return [
            self.coordinator_email,
            self.sponsor_email,
            self.delegate_email,
            self.sponsor_email.upper(),
            f"  {self.delegate_email}  ",
        ]


def build_world() -> World:
    """The shared world (its other team is the wrong sponsor a pairing may move to), with a
    godparent without a login to edit, a prisoner nobody sponsors and the reminder rules."""
    shared = build_shared_world(free_prisoner={})
    team, coordinator = shared.team.ids, shared.coordinator
    edited = make_sponsor(with_login=False)
    rules = make_default_rules()
    assert shared.free_prisoner is not None
    return World(
        coordinator_id=coordinator.id,
        coordinator_email=coordinator.email,
        sponsor_id=team.sponsor_id,
        sponsor_user_id=team.sponsor_user_id,
        sponsor_email=team.sponsor_email,
        other_sponsor_id=shared.other_sponsor.id,
        edited_sponsor_id=edited.id,
        delegate_id=team.delegate_id,
        delegate_email=team.delegate_email,
        prisoner_id=team.prisoner_id,
        free_prisoner_id=shared.free_prisoner.id,
        pairing_id=team.pairing_id,
        rule_ids=[rule.id for rule in rules],
    )


def fresh_pairing(sponsor_id: int, status: SponsorshipStatus = SponsorshipStatus.ACTIVE) -> int:
    prisoner = make_prisoner()
    pairing = Sponsorship(
        sponsor_id=sponsor_id, prisoner_id=prisoner.id, status=status, started_on=date(2022, 1, 10)
    )
    db.session.add(pairing)
    db.session.commit()
    return pairing.id


def fresh_key_date(prisoner_id: int) -> int:
    key_date = KeyDate(
        prisoner_id=prisoner_id,
        kind=KeyDateKind.TRIAL,
        occurs_on=TODAY + timedelta(days=20),
        note="Court",
    )
    db.session.add(key_date)
    db.session.commit()
    return key_date.id


def fresh_action(pairing_id: int, user_id: int, kind: ActionKind = ActionKind.LETTER) -> int:
    action = Action(
        sponsorship_id=pairing_id,
        kind=kind,
        occurred_on=date(2025, 1, 10),
        summary="A card for the birthday",
        logged_by_id=user_id,
    )
    db.session.add(action)
    db.session.commit()
    return action.id


def fresh_delegate(sponsor_id: int) -> int:
    user = make_user(Role.DELEGATE)
    db.session.add(Delegation(sponsor_id=sponsor_id, user_id=user.id))
    db.session.commit()
    return user.id


def fresh_message(status: OutboxStatus, rule_id: int | None) -> int:
    message = make_outbox_message(
        db.session.get(ReminderRule, rule_id) if rule_id is not None else None,
        recipient_email="mep@example.org",
        subject_ref=f"prisoner:{os.urandom(8).hex()}",
        occurs_on=TODAY,
        email_subject="Card",
        body_text="Card\n",
        status=status,
        last_error="550 mailbox unavailable" if status is OutboxStatus.FAILED else None,
    )
    return message.id


# The browser --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value known only when the request is made (an id made for this example, the
    visitor's current password, a token signed by the served app)."""

    get: Callable[[Ctx], Any]
    label: str

    def __repr__(self) -> str:
        return f"<{self.label}>"


@dataclass
class Ctx:
    world: World
    visitor: Visitor
    made: dict[str, Any] = field(default_factory=dict)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else f"{text[:300]}... ({len(text)} characters)"


def on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        parts.scheme in ("", "http")
        and parts.netloc in ("", "localhost")
        and not re.match(r"[\s/\\]{2}", location)
    )


class Visitor:
    """One browser: a role, its login (renewed when a form logged it out), its CSRF token."""

    def __init__(self, web_app: Flask, client: FlaskClient, role: str, world: World) -> None:
        self.web_app, self.client, self.role, self.world = web_app, client, role, world
        self.user_id = {
            COORDINATOR: world.coordinator_id,
            SPONSOR: world.sponsor_user_id,
            DELEGATE: world.delegate_id,
        }.get(role)
        self.logged_out = self.user_id is not None
        self.raw: str | None = None
        self.token: str | None = None
        self.saved: dict[str, Any] = {}
        self.findings: dict[tuple[str, ...], str] = {}
        if self.user_id is not None:
            self._remember_account()

    # The account.

    def _remember_account(self) -> None:
        row = db.session.execute(
            select(
                User.email,
                User.password_hash,
                User.totp_secret,
                User.is_active,
                User.role,
            ).where(User.id == self.user_id)
        ).one()
        db.session.rollback()
        self.saved = dict(row._mapping)

    @property
    def email(self) -> str:
        return self.saved["email"]

    def restore(self) -> None:
        """Undo what the forms did to the visitor's own login: a new password or email,
        two factors turned off; the session the visitor holds stays valid."""
        if self.user_id is None:
            return
        with db.engine.begin() as connection:
            connection.execute(update(User).where(User.id == self.user_id).values(**self.saved))

    def fresh_client(self) -> None:
        self.client = self.web_app.test_client()
        self.raw = self.token = None

    def ensure_session(self) -> None:
        # Every way out of a session here ends with a redirect to the login page, which
        # sets the flag (see check()).
        if self.user_id is None or not self.logged_out:
            return
        self.fresh_client()
        log_in(self.client, self.email)  # the login forms have fuzz tests of their own
        self.logged_out = False

    def csrf_token(self) -> str:
        """The token of the current session, read from a page when the session changed."""
        with self.client.session_transaction() as session:
            raw = session.get("csrf_token")
        if self.token is None or raw is None or raw != self.raw:
            # Every page has the language form in its footer; the 404 page is the lightest.
            start = "/no-such-page"
            page = self.client.get(start)
            match = CSRF_PATTERN.search(page.get_data(as_text=True))
            assert match, f"no CSRF token on {start}"
            self.token = match.group(1)
            with self.client.session_transaction() as session:
                self.raw = session.get("csrf_token")
        return self.token

    # Requests.

    def record(
        self, method: str, path: str, data: Any, problem: str, error: BaseException | None = None
    ) -> Problem:
        """Keep one finding per route and kind of failure, then go on with the next route."""
        try:
            endpoint = self.web_app.url_map.bind("localhost").match(path, method)[0]
        except Exception:
            endpoint = path
        where = ""
        if error is not None:
            frames = [
                frame
                for frame in traceback.extract_tb(error.__traceback__)
                if "/godparents/" in frame.filename or "/templates/" in frame.filename
            ]
            if frames:
                frame = frames[-1]
                where = f"{frame.filename.split('/main/')[-1]}:{frame.lineno} in {frame.name}"
            problem = f"{problem}: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "csrf_token"}
        key = (method, endpoint, problem.split(":")[0], where)
        if key not in self.findings:
            self.findings[key] = (
                f"{method} {endpoint} {problem}"
                + (f"\n    at {where}" if where else "")
                + f"\n    e.g. {method} {path[:120]} "
                f"with {_short(data)}"
            )
        return Problem(self.findings[key])

    def check(self, response: Any, method: str, path: str, data: Any) -> None:
        if response.status_code not in FINE:
            raise self.record(method, path, data, f"answered {response.status_code}")
        location = response.headers.get("Location")
        if location:
            if not on_site(location):
                raise self.record(method, path, data, f"redirects off the site: {location!r}")
            if self.user_id is not None and urlsplit(location).path.startswith("/auth/login"):
                self.logged_out = True

    def open(
        self, method: str, path: str, data: dict[str, Any] | None = None, follow: bool = False
    ) -> Any:
        """A request; a crash (a 500 in production: the test client raises it) is recorded
        with what was sent. With ``follow``, the page a redirect leads to is opened too."""
        try:
            response = self.client.open(path, method=method, data=data)
        except Exception as error:
            raise self.record(method, path, data, "raised (a 500)", error) from error
        self.check(response, method, path, data)
        location = response.headers.get("Location")
        if follow and location and not self.logged_out:
            try:
                page = self.client.get(location, follow_redirects=True)
            except Exception as error:
                raise self.record(
                    method, path, data, f"succeeded, but showing {location} raised (a 500)", error
                ) from error
            self.check(page, "GET", location, data)
        return response

    def post(
        self, path: str, values: dict[str, Any], ctx: Ctx, follow: bool = False
    ) -> tuple[Any, dict[str, Any]]:
        sent = {name: resolve(value, ctx) for name, value in values.items()}
        sent = {name: value for name, value in sent.items() if value is not None}
        sent["csrf_token"] = self.csrf_token()
        body = {
            name: (io.BytesIO(value.content), value.filename)
            if isinstance(value, Upload)
            else value
            for name, value in sent.items()
        }
        return self.open("POST", path, body, follow=follow), sent

    def assert_no_findings(self) -> None:
        if self.findings:
            pytest.fail(
                f"{len(self.findings)} problems:\n" + "\n".join(sorted(self.findings.values())),
                pytrace=False,
            )


class Problem(Exception):
    """Raised after a finding is recorded: the example goes on with the next route."""


def resolve(value: Any, ctx: Ctx) -> Any:
    if isinstance(value, Ref):
        return value.get(ctx)
    if isinstance(value, list):
        return [resolve(item, ctx) for item in value]
    return value


# What to send -------------------------------------------------------------------------------

MISSING = object()  # a field left out of the request
SAME = object()  # the value of the field an EqualTo validator compares with


def plausible(spec: FieldSpec, hints: Sequence[Any]) -> st.SearchStrategy[Any]:
    """A value that could pass the form, so that the services behind it are reached; an
    optional field is often left empty (most cross-field checks then have nothing to say)."""
    value = _plausible(spec, hints)
    return value if spec.required else st.one_of(st.just(MISSING), value)


def _plausible(spec: FieldSpec, hints: Sequence[Any]) -> st.SearchStrategy[Any]:
    if hints and spec.kind not in ("email", "text"):  # e.g. choices the view sets
        return st.sampled_from(list(hints))
    if hints:
        return st.one_of(st.sampled_from(list(hints)), _plausible(spec, ()))
    if spec.kind == "choice" and spec.choices:
        return st.sampled_from(spec.choices)
    if spec.kind == "multi":
        return st.lists(st.sampled_from(spec.choices or ("",)), unique=True, max_size=4)
    by_kind: dict[str, st.SearchStrategy[Any]] = {
        "bool": st.sampled_from(("y", MISSING)),
        # Mostly the last two years: pairings start in 2022, dates after today are refused.
        "date": st.one_of(
            st.integers(-800, 0).map(lambda d: (TODAY + timedelta(d)).isoformat()),
            st.dates(date(1950, 1, 1), TODAY + timedelta(400)).map(date.isoformat),
        ),
        "number": st.integers(0, 400).map(str),
        "email": st.one_of(
            st.emails(),
            st.integers(1, 10**9).map(lambda n: f"fz{n}@example.org"),
            st.integers(1, 10**9).map(lambda n: f"jürgen{n}@straße.example"),
        ),
        "password": st.sampled_from(STRONG_PASSWORDS),
        "submit": st.just("Save"),
        "file": st.builds(Upload, st.sampled_from(IMAGES), st.sampled_from(FILENAMES[:4])),
    }
    return by_kind.get(spec.kind, SPICED_WORDS)


def wild(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A value meant to break things."""
    text = [WILD_TEXT]
    if spec.max_length:
        m = spec.max_length
        text.append(st.sampled_from(["x" * m, "ж" * m, "😀" * m, "x" * (m + 1), " " * m + "x"]))
    text_values = st.one_of(*text)
    by_kind: dict[str, st.SearchStrategy[Any]] = {
        "bool": st.one_of(st.sampled_from(BOOLEANS), text_values),
        "date": st.one_of(st.sampled_from(ODD_DATES), st.dates().map(date.isoformat), text_values),
        "number": st.one_of(
            st.sampled_from(NUMBERS), st.integers(-(10**30), 10**30).map(str), text_values
        ),
        "email": st.one_of(
            st.sampled_from(
                (
                    "a@b",
                    "a@b.c",
                    "x" * 250 + "@example.org",
                    "ü@exämple.de",
                    '"a b"@example.org',
                    "user@[127.0.0.1]",
                    "user@localhost",
                    "@example.org",
                    "a@@b.org",
                    "a\x00@b.org",
                    "юзер@пример.рф",
                    "user@example.org\nBcc: x@evil.example",
                )
            ),
            text_values,
        ),
        "choice": st.one_of(
            st.sampled_from(spec.choices or ("",)),
            text_values,
            st.sampled_from(("-1", "0", "99999999", str(2**63), "9" * 30)),
        ),
        "file": st.builds(Upload, FILE_CONTENT, st.one_of(st.sampled_from(FILENAMES), WORDS)),
    }
    if spec.kind == "multi":
        return st.lists(
            st.one_of(
                st.sampled_from(spec.choices or ("",)),
                text_values,
                st.sampled_from(("-1", "9" * 30)),
            ),
            max_size=5,
        )
    strategy = by_kind.get(spec.kind, text_values)
    # The same field twice: the form takes the first value.
    return (
        st.one_of(strategy, st.lists(strategy, min_size=2, max_size=3))
        if spec.kind != "file"
        else strategy
    )


EXTRA_NAMES = (
    "next",
    "locale",
    "List-Unsubscribe",
    "remember",
    "id",
    "role",
    "user_id",
    "is_coordinator",
    "submit",
    "_method",
    "csrf_token2",
    "email",
    "sponsor_id",
)
EXTRAS = st.dictionaries(
    st.one_of(st.sampled_from(EXTRA_NAMES), st.text(CHARS, min_size=1, max_size=20)),
    st.one_of(WILD_TEXT, st.sampled_from(NEXT_TARGETS)),
    max_size=3,
).map(lambda extras: {k: v for k, v in extras.items() if k != "csrf_token"})


def values_strategy(
    specs: list[FieldSpec],
    hints: dict[str, Sequence[Any]],
    extra_fields: dict[str, Sequence[Any]],
    presets: Sequence[dict[str, Any]] = (),
) -> st.SearchStrategy[dict]:
    """The fields of one request: only the required ones, all plausible, all plausible but
    one, or anything; ``presets`` are values that only work together (a trigger and an email
    that fits it), laid over the drawn ones now and then."""
    good = {s.name: plausible(s, hints.get(s.name, ())) for s in specs}
    bad = {s.name: wild(s) for s in specs}
    for name, choices in extra_fields.items():  # read from request.form by the view
        good[name] = st.one_of(st.just(MISSING), st.sampled_from(list(choices)))
        bad[name] = st.one_of(st.sampled_from(list(choices)), WILD_TEXT)
    same = {s.name: s.same_as for s in specs if s.same_as}
    names = sorted(good)

    def or_same(name: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.just(SAME), strategy) if name in same else strategy

    def sometimes_missing(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.integers(0, 9).flatmap(lambda n: st.just(MISSING) if n == 0 else strategy)

    def mixed(name: str) -> st.SearchStrategy[Any]:
        return sometimes_missing(or_same(name, st.one_of(good[name], bad[name])))

    def with_one_bad(values: dict[str, Any]) -> st.SearchStrategy[dict]:
        if not names:
            return st.just(values)
        return st.sampled_from(names).flatmap(
            lambda name: sometimes_missing(bad[name]).map(lambda value: {**values, name: value})
        )

    required = st.fixed_dictionaries(
        {s.name: or_same(s.name, _plausible(s, hints.get(s.name, ()))) for s in specs if s.required}
    )
    good_values = st.fixed_dictionaries({name: or_same(name, good[name]) for name in names})
    fields = st.one_of(
        required,
        good_values,
        good_values.flatmap(with_one_bad),
        st.fixed_dictionaries({name: mixed(name) for name in names}),
    )
    if presets:
        fields = st.tuples(fields, st.one_of(st.just({}), st.sampled_from(list(presets)))).map(
            lambda pair: {**pair[0], **pair[1]}
        )

    def assemble(values: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in extras.items() if k not in values}
        for name, value in values.items():
            if value is SAME:
                value = values.get(same[name], MISSING)
                value = MISSING if value is SAME else value
            if value is not MISSING:
                out[name] = value
        return out

    return st.builds(assemble, fields, st.one_of(st.just({}), EXTRAS))


# The routes ---------------------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass(frozen=True)
class Route:
    endpoint: str
    roles: tuple[str, ...]
    # The path to post to; may make what this example works on (kept in ctx.made).
    path: Callable[[Ctx, Draw], str]
    form: Callable[[str], FlaskForm] | None = None
    hints: Callable[[World], dict[str, Sequence[Any]]] = lambda world: {}
    # Fields the view reads from request.form itself, with plausible values.
    extra_fields: dict[str, Sequence[Any]] = field(default_factory=dict)
    # An invalid form is shown again (200), never accepted (the form class alone decides).
    shows_invalid_form: bool = False
    # Logs the visitor out: one such route (or none) per example, after the others.
    ends_session: bool = False
    # Saves what was sent and redirects to a page that shows it: that page is opened too.
    shows_saved: bool = False
    # Values that only work together (see values_strategy).
    presets: Callable[[World], Sequence[dict[str, Any]]] = lambda world: ()


def fixed(path: str) -> Callable[[Ctx, Draw], str]:
    return lambda ctx, draw: path


def anew(path: str) -> Callable[[Ctx, Draw], str]:
    """``path``, from a new browser (no session, no login left from before)."""

    def new_browser(ctx: Ctx, draw: Draw) -> str:
        ctx.visitor.fresh_client()
        return path

    return new_browser


def _signed(web_app: Flask, make: Callable[[], str]) -> str:
    """A token as the served app signs it (each test app has a key of its own)."""
    with web_app.app_context():
        return make()


def _token_path(prefix: str, purpose: str, password: str | None) -> Callable[[Ctx, Draw], str]:
    def path(ctx: Ctx, draw: Draw) -> str:
        ctx.visitor.fresh_client()
        if draw(st.integers(0, 4)) == 0:  # a made-up token
            return prefix + quote(draw(st.one_of(WILD_TEXT, st.just("a.b.c"))), safe="")
        user_id = make_user(password=password).id

        def make() -> str:
            return tokens.make_token(db.session.get(User, user_id), purpose, utcnow())

        return prefix + _signed(ctx.visitor.web_app, make)

    return path


def _pending_two_factor(ctx: Ctx, draw: Draw) -> str:
    """The code form needs a password typed right a moment ago."""
    visitor = ctx.visitor
    visitor.fresh_client()
    if draw(st.integers(0, 5)) > 0:
        values = {"email": ctx.world.coordinator_email, "password": PASSWORD}
        response, _sent = visitor.post("/auth/login", values, ctx)
        assert response.headers.get("Location") == "/auth/two-factor", response.status_code
    return "/auth/two-factor"


def _pending_passkey(ctx: Ctx, draw: Draw) -> str:
    """The passkey answer needs a password typed right a moment ago, like the code."""
    _pending_two_factor(ctx, draw)
    return "/auth/two-factor/passkey"


def _passkey(suffix: str) -> Callable[[Ctx, Draw], str]:
    """A passkey of the visitor's own, now and then someone else's or none at all."""

    def path(ctx: Ctx, draw: Draw) -> str:
        whose = draw(st.sampled_from(("own", "own", "other", "none")))
        if whose == "none":
            return f"/account/passkeys/{draw(st.sampled_from(IDS))}{suffix}"
        user_id = ctx.visitor.user_id if whose == "own" else ctx.world.coordinator_id
        passkey = Passkey(
            user_id=user_id, credential_id=uuid.uuid4().hex, public_key=b"public key", name="A key"
        )
        db.session.add(passkey)
        db.session.commit()
        passkey_id = passkey.id
        db.session.rollback()
        return f"/account/passkeys/{passkey_id}{suffix}"

    return path


# What a browser's passkey answer might be: nothing, not JSON, JSON of the wrong shape, a
# well-formed answer to a challenge never offered.
PASSKEY_ANSWERS = (
    "",
    "{}",
    "[]",
    "not json",
    '{"id": 1}',
    '{"id": "x", "response": {}}',
    '{"id": "x", "rawId": "x", "type": "public-key", "response": {"clientDataJSON": '
    '"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSJ9", "authenticatorData": "AA",'
    ' "signature": "AA"}}',
)


def _unsubscribe_path(ctx: Ctx, draw: Draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return "/reminders/unsubscribe/" + quote(draw(WILD_TEXT), safe="")
    user_id = ctx.world.sponsor_user_id if kind > 1 else 987_654  # a deleted account
    trigger = draw(st.sampled_from(list(Trigger)))
    return "/reminders/unsubscribe/" + _signed(
        ctx.visitor.web_app, lambda: unsubscribe_token(user_id, trigger)
    )


def _made(key: str) -> Ref:
    return Ref(lambda ctx: ctx.made.get(key), key)


def _prisoner(suffix: str) -> Callable[[Ctx, Draw], str]:
    return lambda ctx, draw: f"/coordinator/prisoners/{ctx.world.prisoner_id}{suffix}"


def _delete_key_date(ctx: Ctx, draw: Draw) -> str:
    pid = ctx.world.prisoner_id
    return f"/coordinator/prisoners/{pid}/key-dates/{fresh_key_date(pid)}/delete"


def _import_confirm(ctx: Ctx, draw: Draw) -> str:
    """A real preview first (its token is then one of the values tried)."""
    upload = Upload(draw(csv_files(plausible=True)), "prisoners.csv")
    response, _sent = ctx.visitor.post("/coordinator/prisoners/import", {"file": upload}, ctx)
    match = re.search(r'<input[^>]*name="token"[^>]*value="([^"]+)"', response.text)
    ctx.made["import_token"] = match.group(1) if match else None
    return "/coordinator/prisoners/import/confirm"


def _merge_path(ctx: Ctx, draw: Draw) -> str:
    """A fresh record merged into the world's prisoner (kept: nothing else loses it)."""
    other = make_prisoner(name_latin="Ales Bialacki", birth_year=1962)
    if draw(st.booleans()):
        db.session.add(
            Sponsorship(
                sponsor_id=ctx.world.sponsor_id,
                prisoner_id=other.id,
                status=SponsorshipStatus.ACTIVE,
                started_on=date(2022, 1, 1),
            )
        )
        db.session.commit()
    ctx.made["merge_other"] = str(other.id)
    return f"/coordinator/prisoners/{ctx.world.prisoner_id}/merge"


BULK_NUMBERS = itertools.count(1)


def _bulk_file(ctx: Ctx, draw: Draw) -> Upload:
    """A file of one to three pairings that would work (fresh prisoner, fresh godparent)."""
    lines = ["external_id,email"]
    for _number in range(draw(st.integers(1, 3))):
        # Not drawn: Hypothesis replays draws, and an external_id must be new each time.
        prisoner = make_prisoner(external_id=f"bulk-{next(BULK_NUMBERS)}")
        lines.append(f"{prisoner.external_id},{make_sponsor().email}")
    return Upload("\r\n".join(lines).encode(), "pairings.csv")


def _bulk(ctx: Ctx, draw: Draw) -> str:
    ctx.made["bulk_file"] = _bulk_file(ctx, draw)
    return "/coordinator/sponsorships/bulk"


def _bulk_confirm(ctx: Ctx, draw: Draw) -> str:
    """A real preview first (its token is then one of the values tried)."""
    response, _sent = ctx.visitor.post(
        "/coordinator/sponsorships/bulk",
        {"file": _bulk_file(ctx, draw), "status": draw(st.sampled_from(["active", "proposed"]))},
        ctx,
    )
    match = re.search(r'<input[^>]*name="token"[^>]*value="([^"]+)"', response.text)
    ctx.made["bulk_token"] = match.group(1) if match else None
    return "/coordinator/sponsorships/bulk/confirm"


def _facility_path(ctx: Ctx, draw: Draw) -> str:
    facility = Facility(name_en=f"Colony {draw(st.integers(1, 10**6))}")
    db.session.add(facility)
    db.session.commit()
    return f"/coordinator/prisoners/facilities/{facility.id}/edit"


def _letter_template(suffix: str) -> Callable[[Ctx, Draw], str]:
    def path(ctx: Ctx, draw: Draw) -> str:
        template = LetterTemplate(
            occasion=Occasion.BIRTHDAY, language=LetterLanguage.RUSSIAN, title="Card", body="{name}"
        )
        db.session.add(template)
        db.session.commit()
        return f"/coordinator/letters/templates/{template.id}{suffix}"

    return path


def _watch_word_delete(ctx: Ctx, draw: Draw) -> str:
    word = WatchWord(phrase=f"слово{draw(st.integers(1, 10**6))}", language="ru", reason="Why")
    db.session.add(word)
    db.session.commit()
    return f"/coordinator/letters/words/{word.id}/delete"


LETTER_TEXTS = ["С днём рождения, {first_name}!", "Дарагі {name}! Ў нас і ў вас", "{unknown}", ""]

MAPPED_HEADINGS = ("ID", "ФИО", "Дата рождения", "Place of detention")
MAPPING_TARGETS = (
    "",
    "full_name",
    "external_id",
    "name_latin",
    "birth_date",
    "facility",
    "status",
    "nonsense",
)


def _import_mapping(ctx: Ctx, draw: Draw) -> str:
    """A file with headings of its own first (its mapping step's token is then tried)."""
    rows = [[f"fz-{draw(st.integers(1, 10**6))}", draw(WORDS), draw(DATE_CELLS), draw(WORDS)]]
    out = io.StringIO()
    csv.writer(out).writerows([MAPPED_HEADINGS, *rows])
    upload = Upload(out.getvalue().encode(), "list.csv")
    response, _sent = ctx.visitor.post("/coordinator/prisoners/import", {"file": upload}, ctx)
    match = re.search(r'<input[^>]*name="token"[^>]*value="([^"]+)"', response.text)
    ctx.made["mapping_token"] = match.group(1) if match else None
    return "/coordinator/prisoners/import/mapping"


def _rule(suffix: str) -> Callable[[Ctx, Draw], str]:
    return lambda ctx, draw: (
        f"/coordinator/reminders/{draw(st.sampled_from(ctx.world.rule_ids))}{suffix}"
    )


def _undeliverable(ctx: Ctx, draw: Draw) -> str:
    """An address that bounced, made afresh (clearing one deletes it)."""
    address = UndeliverableAddress(email=f"gone-{os.urandom(6).hex()}@example.org")
    db.session.add(address)
    db.session.commit()
    return f"/coordinator/reminders/undeliverable/{address.id}/clear"


def _message(suffix: str) -> Callable[[Ctx, Draw], str]:
    def path(ctx: Ctx, draw: Draw) -> str:
        status = draw(st.sampled_from(list(OutboxStatus)))
        return (
            f"/coordinator/reminders/outbox/{fresh_message(status, ctx.world.rule_ids[0])}" + suffix
        )

    return path


def _fresh_sponsor(suffix: str, **fields: Any) -> Callable[[Ctx, Draw], str]:
    def path(ctx: Ctx, draw: Draw) -> str:
        sponsor = make_sponsor(with_login=draw(st.booleans()), **fields)
        if draw(st.booleans()):
            fresh_pairing(sponsor.id)
        ctx.made["sponsor_name"] = sponsor.full_name
        return f"/coordinator/sponsors/{sponsor.id}{suffix}"

    return path


def _registry_remove_delegate(ctx: Ctx, draw: Draw) -> str:
    sid = ctx.world.sponsor_id
    return f"/coordinator/sponsors/{sid}/delegates/{fresh_delegate(sid)}/remove"


def _pairing(
    suffix: str,
    status: SponsorshipStatus = SponsorshipStatus.ACTIVE,
) -> Callable[[Ctx, Draw], str]:
    return lambda ctx, draw: (
        f"/coordinator/sponsorships/{fresh_pairing(ctx.world.sponsor_id, status)}{suffix}"
    )


def _release(ctx: Ctx, draw: Draw) -> str:
    pairing = db.session.get(Sponsorship, fresh_pairing(ctx.world.sponsor_id))
    prisoner_id = pairing.prisoner_id
    ctx.made["pairing_ids"] = [str(pairing.id)]
    if draw(st.booleans()):  # a second godparent
        other = Sponsorship(
            sponsor_id=ctx.world.other_sponsor_id,
            prisoner_id=prisoner_id,
            status=SponsorshipStatus.ACTIVE,
            started_on=date(2023, 5, 1),
        )
        db.session.add(other)
        db.session.commit()
        ctx.made["pairing_ids"].append(str(other.id))
    db.session.rollback()  # end the read: nothing of this session is kept open
    return f"/coordinator/sponsorships/release/{prisoner_id}"


def _own_action(suffix: str, kind: ActionKind = ActionKind.LETTER) -> Callable[[Ctx, Draw], str]:
    return lambda ctx, draw: (
        f"/sponsor/actions/{fresh_action(ctx.world.pairing_id, ctx.visitor.user_id, kind)}{suffix}"
    )


def _account(suffix: str) -> Callable[[Ctx, Draw], str]:
    """Another account (a coordinator with two factors, a godparent, office staff), now and
    then one's own."""

    def path(ctx: Ctx, draw: Draw) -> str:
        whose = draw(st.sampled_from((COORDINATOR, COORDINATOR, SPONSOR, DELEGATE, "self")))
        if whose == "self":
            user_id = ctx.visitor.user_id
        elif whose == COORDINATOR:
            user_id = make_coordinator(is_active=draw(st.booleans())).id
        elif whose == SPONSOR:
            user_id = make_sponsor().user_id
        else:
            user_id = fresh_delegate(ctx.world.sponsor_id)
        return f"/coordinator/accounts/{user_id}{suffix}"

    return path


def _team_remove(ctx: Ctx, draw: Draw) -> str:
    return f"/sponsor/team/{fresh_delegate(ctx.world.sponsor_id)}/remove"


PASSWORD_NOW = Ref(lambda ctx: PASSWORD, "the visitor's password")
IDS = ("1", "2", "3", "0", "-1", "99999", "9" * 30)


def _rule_presets(world: World) -> list[dict[str, Any]]:
    """A trigger with an email that fits it and someone to send it to."""
    presets = []
    for trigger, templates in TEMPLATES_FOR.items():
        for template in templates:
            preset = {"trigger": trigger.value, "template": template, "days": "14"}
            if trigger is Trigger.COORDINATOR_DIGEST:
                preset.update(to_coordinators="y", to_sponsor=MISSING, to_delegates=MISSING)
            else:
                preset["to_sponsor"] = "y"
            presets.append(preset)
    return presets


def _profile_form(role: str) -> FlaskForm:
    kinds = COORDINATOR_REMINDERS if role == COORDINATOR else SPONSOR_REMINDERS
    return ProfileForm(reminder_kinds=kinds)


def _form(cls: type[FlaskForm]) -> Callable[[str], FlaskForm]:
    return lambda role: cls()


ROUTES: tuple[Route, ...] = (
    # Logging in, for everyone.
    Route(
        "auth.login",
        (ANONYMOUS,),
        anew("/auth/login"),
        _form(LoginForm),
        lambda w: {
            "email": w.emails,
            "password": [PASSWORD_NOW, "wrong password"],
            "next": NEXT_TARGETS,
            "remember": ["y"],
        },
        shows_invalid_form=True,
    ),
    Route(
        "auth.two_factor",
        (ANONYMOUS,),
        _pending_two_factor,
        _form(TwoFactorForm),
        lambda w: {"code": ["123456", "000000", " 12345 6", "abcd-efgh", "1" * 40]},
    ),
    Route(
        "auth.two_factor_passkey",
        (ANONYMOUS,),
        _pending_passkey,
        _form(PasskeyLoginForm),
        lambda w: {"credential": PASSKEY_ANSWERS},
    ),
    Route(
        "auth.request_password_reset",
        (ANONYMOUS,),
        anew("/auth/reset"),
        _form(PasswordResetRequestForm),
        lambda w: {"email": w.emails},
        shows_invalid_form=True,
    ),
    Route(
        "auth.reset_password",
        (ANONYMOUS,),
        _token_path("/auth/reset/", tokens.PASSWORD_RESET, PASSWORD),
        _form(PasswordSetForm),
        shows_saved=True,
    ),
    Route(
        "auth.accept_invitation",
        (ANONYMOUS,),
        _token_path("/auth/invitation/", tokens.INVITATION, None),
        _form(PasswordSetForm),
        shows_saved=True,
    ),
    Route(
        "reminders.unsubscribe",
        (ANONYMOUS,),
        _unsubscribe_path,
        extra_fields={"List-Unsubscribe": ["One-Click"]},
    ),
    Route(
        "i18n.set_locale",
        (ANONYMOUS, *LOGGED_IN),
        fixed("/locale"),
        extra_fields={"locale": ["en", "de", "be", "EN", ""], "next": NEXT_TARGETS},
    ),
    # One's own account, for every role.
    Route(
        "account.profile",
        LOGGED_IN,
        fixed("/account/"),
        _profile_form,
        lambda w: {
            "timezone": TIMEZONES,
            "contact_email": w.emails,
            "birthday_card_days": ("7", "30", "90"),
        },
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "account.change_password",
        LOGGED_IN,
        fixed("/account/password"),
        _form(PasswordChangeForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
        shows_invalid_form=True,
    ),
    Route(
        "account.change_email",
        LOGGED_IN,
        fixed("/account/email"),
        _form(EmailChangeForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
        shows_invalid_form=True,
    ),
    Route(
        "account.enable_two_factor",
        LOGGED_IN,
        fixed("/account/two-factor/enable"),
        _form(TwoFactorEnableForm),
        lambda w: {"current_password": [PASSWORD_NOW], "code": ["123456", "000 000"]},
    ),
    Route(
        "account.renew_recovery_codes",
        LOGGED_IN,
        fixed("/account/two-factor/recovery-codes"),
        _form(RecoveryCodesForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
    ),
    Route(
        "account.disable_two_factor",
        LOGGED_IN,
        fixed("/account/two-factor/off"),
        _form(TwoFactorDisableForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
    ),
    Route(
        "account.replace_two_factor",
        LOGGED_IN,
        fixed("/account/two-factor/replace"),
        _form(TwoFactorReplaceForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
    ),
    Route(
        "account.add_passkey",
        LOGGED_IN,
        fixed("/account/passkeys"),
        _form(PasskeyAddForm),
        lambda w: {"current_password": [PASSWORD_NOW], "credential": PASSKEY_ANSWERS},
    ),
    Route("account.rename_passkey", LOGGED_IN, _passkey("/rename"), _form(PasskeyRenameForm)),
    Route(
        "account.remove_passkey",
        LOGGED_IN,
        _passkey("/remove"),
        _form(PasskeyRemoveForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
    ),
    Route("account.rotate_calendar", LOGGED_IN, fixed("/account/calendar"), _form(CalendarForm)),
    Route(
        "account.remove_calendar", LOGGED_IN, fixed("/account/calendar/off"), _form(CalendarOffForm)
    ),
    # These two end the session: last in their group.
    Route(
        "account.sign_out_everywhere",
        LOGGED_IN,
        fixed("/account/sign-out-everywhere"),
        _form(SignOutEverywhereForm),
        ends_session=True,
    ),
    Route("auth.logout", LOGGED_IN, fixed("/auth/logout"), ends_session=True),
    # The coordinators' registry of prisoners.
    Route(
        "prisoners.create",
        (COORDINATOR,),
        fixed("/coordinator/prisoners/new"),
        _form(PrisonerCreateForm),
        lambda w: {
            "source_url": ["https://example.org/x", "http://a.b", "ftp://x"],
            "birth_year": ["1980", "1899", str(TODAY.year + 1)],
            "name_latin": LATIN_NAMES,
        },
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "prisoners.edit",
        (COORDINATOR,),
        _prisoner("/edit"),
        _form(PrisonerForm),
        lambda w: {"source_url": ["https://example.org/x"], "name_latin": LATIN_NAMES},
        shows_saved=True,
    ),
    Route(
        "prisoners.change_address",
        (COORDINATOR,),
        _prisoner("/address"),
        _form(AddressChangeForm),
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "prisoners.add_key_date",
        (COORDINATOR,),
        _prisoner("/key-dates"),
        _form(KeyDateAddForm),
        shows_saved=True,
    ),
    Route("prisoners.delete_key_date", (COORDINATOR,), _delete_key_date, _form(KeyDateDeleteForm)),
    Route(
        "prisoners.upload_photo",
        (COORDINATOR,),
        _prisoner("/photo"),
        _form(PhotoUploadForm),
        shows_saved=True,
    ),
    Route(
        "letters.transit_times",
        (COORDINATOR,),
        fixed("/coordinator/letters/transit-times"),
        _form(TransitTimeForm),
        lambda w: {"country": ["BY", "by ", "Беларусь"], "days": ["21", "0", "121", "-3"]},
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "prisoners.facility_edit",
        (COORDINATOR,),
        _facility_path,
        _form(FacilityForm),
        lambda w: {
            "kind": ["pretrial", "penal_colony", "castle"],
            "postal_address": ["211300, г. Витебск,\nул. Придвинская, 3,\nИК-3", ""],
        },
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "prisoners.merge_records",
        (COORDINATOR,),
        _merge_path,
        _form(MergeForm),
        lambda w: {"other": [_made("merge_other"), str(w.prisoner_id), "99999", "9" * 30]},
        shows_saved=True,
    ),
    Route(
        "prisoners.import_upload",
        (COORDINATOR,),
        fixed("/coordinator/prisoners/import"),
        _form(ImportForm),
    ),
    Route(
        "prisoners.import_confirm",
        (COORDINATOR,),
        _import_confirm,
        _form(ImportConfirmForm),
        lambda w: {"token": [_made("import_token")], "accept": [["fz-1"], [], list(IDS)]},
        shows_saved=True,
    ),
    Route(
        "prisoners.import_mapping_save",
        (COORDINATOR,),
        _import_mapping,
        _form(ImportMappingForm),
        lambda w: {"token": [_made("mapping_token")]},
        extra_fields={f"columns-{n}": MAPPING_TARGETS for n in range(5)},
    ),
    # The register of godparents.
    Route(
        "sponsors.create",
        (COORDINATOR,),
        fixed("/coordinator/sponsors/new"),
        _form(SponsorForm),
        lambda w: {"country": ["DE", " pl ", "lt", "XX", "DEU"]},
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "sponsors.edit",
        (COORDINATOR,),
        lambda ctx, draw: f"/coordinator/sponsors/{ctx.world.edited_sponsor_id}/edit",
        _form(SponsorForm),
        lambda w: {"country": ["DE", "pl"]},
        shows_saved=True,
    ),
    Route(
        "sponsors.invite",
        (COORDINATOR,),
        _fresh_sponsor("/invite"),
        _form(SponsorInviteForm),
        lambda w: {"email": ["", *w.emails]},
        shows_saved=True,
    ),
    Route(
        "sponsors.delegates",
        (COORDINATOR,),
        lambda ctx, draw: f"/coordinator/sponsors/{ctx.world.sponsor_id}/delegates",
        _form(DelegateInviteForm),
        lambda w: {"email": w.emails},
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "sponsors.remove_delegate",
        (COORDINATOR,),
        _registry_remove_delegate,
        _form(ConfirmForm),
    ),
    Route(
        "sponsors.deactivate",
        (COORDINATOR,),
        _fresh_sponsor("/deactivate"),
        _form(ConfirmForm),
    ),
    Route(
        "sponsors.reactivate",
        (COORDINATOR,),
        _fresh_sponsor("/reactivate", is_active=False),
        _form(ConfirmForm),
    ),
    Route(
        "sponsors.erase",
        (COORDINATOR,),
        _fresh_sponsor("/erase"),
        _form(EraseForm),
        lambda w: {"confirm_name": [_made("sponsor_name"), "Sponsor 1"]},
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "auth.invite",
        (COORDINATOR,),
        fixed("/auth/invite"),
        _form(InvitationCreateForm),
        lambda w: {
            "sponsor_id": [str(w.sponsor_id), str(w.other_sponsor_id), *IDS],
            "email": w.emails,
        },
    ),
    # The coordinators' page of accounts.
    Route("account.sign_out", (COORDINATOR,), _account("/sign-out"), _form(AccountActionForm)),
    Route(
        "account.reset_two_factors",
        (COORDINATOR,),
        _account("/reset-two-factors"),
        _form(TwoFactorResetForm),
        lambda w: {"current_password": [PASSWORD_NOW]},
        shows_saved=True,
    ),
    Route("account.set_active", (COORDINATOR,), _account("/active"), _form(AccountActionForm)),
    # Godparenthoods.
    Route(
        "sponsorships.create",
        (COORDINATOR,),
        fixed("/coordinator/sponsorships/new"),
        _form(PairForm),
        lambda w: {
            "sponsor_id": [str(w.sponsor_id), str(w.other_sponsor_id), *IDS],
            "prisoner_id": [str(w.free_prisoner_id), str(w.prisoner_id), *IDS],
        },
        shows_saved=True,
    ),
    Route(
        "sponsorships.bulk",
        (COORDINATOR,),
        _bulk,
        _form(BulkUploadForm),
        lambda w: {"file": [_made("bulk_file")]},
    ),
    Route(
        "sponsorships.bulk_confirm",
        (COORDINATOR,),
        _bulk_confirm,
        _form(BulkConfirmForm),
        lambda w: {"token": [_made("bulk_token")]},
        shows_saved=True,
    ),
    Route(
        "sponsorships.end",
        (COORDINATOR,),
        _pairing("/end"),
        _form(EndForm),
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "sponsorships.handover",
        (COORDINATOR,),
        _pairing("/handover"),
        _form(HandoverForm),
        lambda w: {"sponsor_id": [str(w.other_sponsor_id), str(w.sponsor_id), *IDS]},
        shows_saved=True,
    ),
    Route(
        "sponsorships.release",
        (COORDINATOR,),
        _release,
        _form(ReleaseForm),
        lambda w: {"pairing_ids": [_made("pairing_ids"), [], ["1", "2"]]},
        shows_saved=True,
    ),
    Route(
        "sponsorships.make_public",
        (COORDINATOR,),
        _pairing("/consent"),
        _form(PairingConfirmForm),
        extra_fields={"next": NEXT_TARGETS},
    ),
    Route(
        "sponsorships.make_private",
        (COORDINATOR,),
        _pairing("/consent/withdraw"),
        _form(PairingConfirmForm),
        extra_fields={"next": NEXT_TARGETS},
    ),
    Route(
        "sponsorships.activate",
        (COORDINATOR,),
        _pairing("/activate", SponsorshipStatus.PROPOSED),
        _form(PairingConfirmForm),
        extra_fields={"next": NEXT_TARGETS},
    ),
    # The public pages' switch and contact address.
    Route(
        "public.settings",
        (COORDINATOR,),
        fixed("/coordinator/public/"),
        _form(PublicSettingsForm),
        lambda w: {"contact_email": w.emails, "is_enabled": ["y", MISSING]},
        shows_invalid_form=True,
    ),
    # Reminders and the outbox (last: a run plans from everything fuzzed before).
    Route(
        "reminders.create",
        (COORDINATOR,),
        fixed("/coordinator/reminders/new"),
        _form(RuleForm),
        presets=_rule_presets,
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route(
        "reminders.edit",
        (COORDINATOR,),
        _rule("/edit"),
        _form(RuleForm),
        presets=_rule_presets,
        shows_saved=True,
    ),
    Route("reminders.toggle", (COORDINATOR,), _rule("/toggle")),
    Route(
        "reminders.retry", (COORDINATOR,), _message("/retry"), extra_fields={"next": NEXT_TARGETS}
    ),
    Route(
        "reminders.cancel", (COORDINATOR,), _message("/cancel"), extra_fields={"next": NEXT_TARGETS}
    ),
    Route("reminders.run", (COORDINATOR,), fixed("/coordinator/reminders/run")),
    Route(
        "reminders.retry_failed",
        (COORDINATOR,),
        fixed("/coordinator/reminders/outbox/retry-failed"),
        extra_fields={"next": NEXT_TARGETS},
    ),
    Route(
        "reminders.clear_undeliverable",
        (COORDINATOR,),
        _undeliverable,
        extra_fields={"next": NEXT_TARGETS},
    ),
    # A godparent's team: godparents and their office staff.
    Route(
        "actions.create",
        TEAM,
        lambda ctx, draw: f"/sponsor/prisoners/{ctx.world.prisoner_id}/actions/new",
        _form(ActionForm),
        lambda w: {"link": ["https://example.org/x", "example.org"]},
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route("actions.edit", TEAM, _own_action("/edit"), _form(ActionForm), shows_saved=True),
    Route(
        "actions.outcome",
        TEAM,
        _own_action("/outcome"),
        _form(OutcomeForm),
        shows_invalid_form=True,
        shows_saved=True,
    ),
    Route("actions.delete", TEAM, _own_action("/delete"), _form(DeleteForm)),
    Route(
        "sponsors.team",
        TEAM,
        fixed("/sponsor/team"),
        _form(TeamInviteForm),
        lambda w: {"email": w.emails},
        shows_saved=True,
    ),
    Route("sponsors.remove_team_member", TEAM, _team_remove, _form(DelegateRemoveForm)),
    # The print kit.
    Route(
        "letters.sender",
        TEAM,
        lambda ctx, draw: f"/sponsor/letters/prisoners/{ctx.world.prisoner_id}/sender",
        _form(SenderAddressForm),
        lambda w: {"postal_address": ["Büro\nPlatz der Republik 1\n11011 Berlin", ""]},
    ),
    Route(
        "letters.letter",
        TEAM,
        lambda ctx, draw: f"/sponsor/letters/prisoners/{ctx.world.prisoner_id}/letter",
        _form(LetterForm),
        lambda w: {"text": LETTER_TEXTS, "check": ["1", ""], "submit": ["1", ""]},
    ),
    Route(
        "letters.create_template",
        (COORDINATOR,),
        fixed("/coordinator/letters/templates/new"),
        _form(LetterTemplateForm),
        lambda w: {
            "body": LETTER_TEXTS,
            "occasion": ["birthday", "new_year", "wedding"],
            "submit": ["1"],
        },
    ),
    Route(
        "letters.edit_template",
        (COORDINATOR,),
        _letter_template(""),
        _form(LetterTemplateForm),
        lambda w: {"body": LETTER_TEXTS, "language": ["ru", "be", "de"], "submit": ["1"]},
    ),
    Route(
        "letters.delete_template",
        (COORDINATOR,),
        _letter_template("/delete"),
        _form(TemplateDeleteForm),
    ),
    Route(
        "letters.add_word",
        (COORDINATOR,),
        fixed("/coordinator/letters/words"),
        _form(WatchWordForm),
        lambda w: {"language": ["ru", "be", "de", "en", "fr"]},
    ),
    Route("letters.delete_word", (COORDINATOR,), _watch_word_delete, _form(WatchWordDeleteForm)),
)


# The coordinators' forms on others' accounts (account/admin.py) share the blueprint of
# everyone's own settings.
ACCOUNT_ADMIN = frozenset({"account.set_active", "account.reset_two_factors", "account.sign_out"})


def routes_for(role: str, group: str) -> list[Route]:
    prefixes = {
        "account": ("account.", "i18n.", "auth.logout"),
        "coordinator": (
            "prisoners.",
            "sponsors.",
            "sponsorships.",
            "reminders.",
            "auth.invite",
            "letters.",
        ),
        "team": ("actions.", "sponsors.", "letters."),
        "anonymous": ("",),
    }[group]

    def in_group(endpoint: str) -> bool:
        if endpoint in ACCOUNT_ADMIN:
            return group == "coordinator"
        return endpoint.startswith(prefixes)

    return [route for route in ROUTES if role in route.roles and in_group(route.endpoint)]


def pages_to_look_at(world: World, role: str) -> list[str]:
    """Where the fuzzed values are shown again, after each example."""
    if role == COORDINATOR:
        return [
            f"/coordinator/prisoners/{world.prisoner_id}",
            f"/coordinator/reminders/{world.rule_ids[0]}/preview",
        ]
    if role in TEAM:
        return ["/sponsor/", f"/sponsor/prisoners/{world.prisoner_id}"]
    return []


# The tests ----------------------------------------------------------------------------------


@pytest.fixture
def config(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Uploads wait in this test's own folder, not in the project's instance folder."""
    return {**config, "PRISONER_IMPORT_FOLDER": str(tmp_path / "imports")}


def fuzz_routes(
    web_app: Flask, client: FlaskClient, role: str, routes: list[Route], look_at: bool = True
) -> None:
    """Log in as ``role`` once, then post random input to each route, example after example."""
    world = build_world()
    visitor = Visitor(web_app, client, role, world)
    plans = []
    for route in routes:
        specs = form_fields(web_app, route.form, role) if route.form else []
        plans.append(
            (
                route,
                values_strategy(
                    specs, route.hints(world), route.extra_fields, route.presets(world)
                ),
            )
        )
    pages = pages_to_look_at(world, role) if look_at else []

    @FUZZ
    @given(st.data())
    def examples(data: st.DataObject) -> None:
        last = data.draw(
            st.sampled_from([None, *(r for r, _s in plans if r.ends_session)]), label="then"
        )
        for route, strategy in plans:
            if route.ends_session and route is not last:
                continue
            visitor.ensure_session()
            ctx = Ctx(world, visitor)
            try:
                path = route.path(ctx, data.draw)  # may post already (a login, a preview)
                values = data.draw(strategy, label=f"{role} {route.endpoint}")
                response, sent = visitor.post(path, values, ctx, follow=route.shows_saved)
                if route.shows_invalid_form and route.form and response.status_code not in REFUSALS:
                    plain = {k: v for k, v in sent.items() if not isinstance(v, Upload)}
                    if (
                        form_rejects(web_app, route.form, role, plain)
                        and response.status_code != 200
                    ):
                        raise visitor.record(
                            "POST",
                            path,
                            plain,
                            (
                                f"accepted a form its class refuses: {response.status_code} to "
                                f"{response.headers.get('Location')}"
                            ),
                        )
            except Problem:
                pass
            finally:
                visitor.restore()
        visitor.ensure_session()
        for page in pages:
            with contextlib.suppress(Problem):
                visitor.open("GET", page)

    examples()
    visitor.assert_no_findings()


@GENEROUS_LIMITS
def test_the_public_forms_never_crash(
    web_app: Flask, client: FlaskClient, smtp_server: Any
) -> None:
    fuzz_routes(web_app, client, ANONYMOUS, routes_for(ANONYMOUS, "anonymous"))


@pytest.mark.parametrize("role", LOGGED_IN)
def test_the_account_forms_never_crash(
    web_app: Flask, client: FlaskClient, role: str, smtp_server: Any
) -> None:
    fuzz_routes(web_app, client, role, routes_for(role, "account"), look_at=False)


def test_the_coordinators_forms_never_crash(
    web_app: Flask, client: FlaskClient, smtp_server: Any
) -> None:
    fuzz_routes(web_app, client, COORDINATOR, routes_for(COORDINATOR, "coordinator"))


@pytest.mark.parametrize("role", TEAM)
def test_the_godparents_team_forms_never_crash(
    web_app: Flask, client: FlaskClient, role: str, smtp_server: Any
) -> None:
    fuzz_routes(web_app, client, role, routes_for(role, "team"))


def test_every_post_route_is_fuzzed(web_app: Flask) -> None:
    """A new POST route fails here until it is added to ROUTES (and so is fuzzed)."""
    posted = {
        rule.endpoint for rule in web_app.url_map.iter_rules() if "POST" in (rule.methods or ())
    }
    fuzzed = {route.endpoint for route in ROUTES}
    assert posted == fuzzed
    for route in ROUTES:
        groups = [
            group
            for group in ("anonymous", "account", "coordinator", "team")
            for role in route.roles
            if route in routes_for(role, group)
        ]
        assert groups, f"{route.endpoint} is in no test"


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def test_every_form_class_is_fuzzed(web_app: Flask) -> None:
    """A new form class of the app fails here until a route of ROUTES posts it."""
    with web_app.test_request_context():
        used = {type(route.form(role)) for route in ROUTES if route.form for role in route.roles}
    ours = {cls for cls in _subclasses(FlaskForm) if cls.__module__.startswith("godparents.")}
    unused = {cls.__qualname__ for cls in ours if not any(issubclass(form, cls) for form in used)}
    assert not unused
    for route in ROUTES:  # and their fields can be read
        if route.form is not None:
            assert all(spec.kind for spec in form_fields(web_app, route.form, route.roles[0]))


# Ids and tokens in the path -----------------------------------------------------------------

PATH_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
ID_VALUES = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.integers(0, 10**40),
    st.integers(0, 40),
)


def path_routes(web_app: Flask, role: str) -> list[tuple[str, str, dict[str, str]]]:
    """(method, rule, argument name -> converter) of every route with arguments in its path
    that ``role`` may use."""
    found = []
    for rule in web_app.url_map.iter_rules():
        if not reachable(role, rule.endpoint):
            continue
        arguments = {
            name: converter or "default" for converter, name in PATH_ARGUMENT.findall(rule.rule)
        }
        if not arguments or rule.endpoint == "static":
            continue
        for method in ("GET", "POST"):
            if method in (rule.methods or ()):
                found.append((method, rule.rule, arguments))
    return found


TEAM_ENDPOINTS = ("actions.", "sponsors.")


def reachable(role: str, endpoint: str) -> bool:
    """Whether the role gets past the role check of the endpoint (the public ones: for
    everyone; the coordinators' and the teams' pages: for them)."""
    if role == COORDINATOR:
        return not endpoint.startswith(TEAM_ENDPOINTS)
    return endpoint.startswith(TEAM_ENDPOINTS)


@pytest.mark.parametrize("role", LOGGED_IN)
def test_ids_and_tokens_in_the_path_never_crash(
    web_app: Flask, client: FlaskClient, role: str
) -> None:
    """Every route with an id or a token in its path, with odd and huge ids, for each role
    (the others are refused with 403 before the id is looked at, or should be)."""
    world = build_world()
    visitor = Visitor(web_app, client, role, world)
    routes = path_routes(web_app, role)

    @settings(FUZZ, max_examples=max(4, EXAMPLES // 3))
    @given(st.data())
    def examples(data: st.DataObject) -> None:
        for method, rule, arguments in routes:
            visitor.ensure_session()
            path = rule
            for name, converter in arguments.items():
                value = (
                    str(data.draw(ID_VALUES))
                    if converter == "int"
                    else quote(data.draw(st.one_of(WILD_TEXT, st.just("x"))), safe="") or "x"
                )
                path = re.sub(rf"<(?:[^>:]+:)?{name}>", lambda _m, v=value: v, path)
            data.draw(st.just(path), label=f"{role} {method}")
            try:
                if method == "GET":
                    visitor.open("GET", path, follow=False)
                else:
                    extras = data.draw(st.one_of(st.just({}), EXTRAS))
                    visitor.post(path, extras, Ctx(world, visitor))
            except Problem:
                pass
            finally:
                visitor.restore()

    examples()
    visitor.assert_no_findings()


# Throttled answers --------------------------------------------------------------------------


def test_throttled_forms_answer_429_not_500(web_app: Flask, client: FlaskClient) -> None:
    """With the real limits: wrong passwords, wrong codes and reset requests until the
    limiter answers, and its answer is a 429 page, not a crash."""
    world = build_world()
    visitor = Visitor(web_app, client, ANONYMOUS, world)
    ctx = Ctx(world, visitor)
    statuses: list[int] = []

    @FUZZ
    @given(st.data())
    def examples(data: st.DataObject) -> None:
        visitor.fresh_client()
        login = {
            "email": world.sponsor_email,
            "password": data.draw(WILD_TEXT.filter(bool)),
            "next": data.draw(st.sampled_from(NEXT_TARGETS)),
        }
        code = {"code": data.draw(st.one_of(st.sampled_from(("123456", "000000")), WILD_TEXT))}
        reset = {"email": data.draw(st.sampled_from(world.emails))}
        with contextlib.suppress(Problem):
            statuses.append(visitor.post("/auth/login", login, ctx)[0].status_code)
        visitor.fresh_client()
        with contextlib.suppress(Problem):
            visitor.post(
                "/auth/login", {"email": world.coordinator_email, "password": PASSWORD}, ctx
            )
            statuses.append(visitor.post("/auth/two-factor", code, ctx)[0].status_code)
        with contextlib.suppress(Problem):
            statuses.append(visitor.post("/auth/reset", reset, ctx)[0].status_code)

    examples()
    visitor.assert_no_findings()
    assert 429 in statuses


# The 500s found so far, pinned as plain examples --------------------------------------------

NON_ASCII_EMAIL = "jürgen@beispiel.de"  # valid (RFC 6531): the forms accept it


def test_a_contact_email_with_an_umlaut_does_not_crash_the_reminder_run(
    web_app: Flask, client: FlaskClient
) -> None:
    """Found by the coordinators' fuzzing: a godparent's contact address with a non-ASCII
    local part is accepted (here from the godparent's settings), and writing a reminder
    to it raises UnicodeEncodeError in reminders.messages.compose (only TemplateProblem
    is caught there): POST /coordinator/reminders/run answers 500."""
    make_default_rules()
    sponsor = make_sponsor()
    make_sponsorship(
        sponsor,
        make_prisoner(),  # the welcome is due today
        started_on=campaign_today(web_app.config["TIMEZONE"]),
    )
    coordinator = make_coordinator()
    godparent = web_app.test_client()
    Auth(godparent).login(sponsor.email)
    saved = godparent.post(
        "/account/",
        data={
            "csrf_token": csrf_token(godparent, "/account/"),
            "contact_email": NON_ASCII_EMAIL,
            "locale": "en",
            "timezone": "Europe/Berlin",
            "birthday_card_days": "30",
            "reminders": [kind.value for kind in SPONSOR_REMINDERS],
        },
    )
    assert saved.status_code in (200, 302)
    if saved.status_code == 302:  # accepted (refusing it at the form would do as well)
        Auth(client).login(coordinator.email)
        response = client.post(
            "/coordinator/reminders/run",
            data={"csrf_token": csrf_token(client, "/coordinator/reminders/")},
        )
        assert response.status_code == 302


def test_an_invitation_to_an_address_with_an_umlaut_does_not_crash(
    login_as: LoginAs, client: FlaskClient, smtp_server: Any
) -> None:
    """The same address in the register's invitation form, with a real mail server."""
    sponsor = make_sponsor(with_login=False)
    login_as(make_coordinator().email)
    page = f"/coordinator/sponsors/{sponsor.id}"
    response = client.post(
        f"{page}/invite", data={"csrf_token": csrf_token(client, page), "email": NON_ASCII_EMAIL}
    )
    assert response.status_code in (200, 302)  # refused at the field, or sent (or not)


HUGE = "9" * 30  # beyond any integer column (SQLite: 2**63 - 1; PostgreSQL integer: 2**31 - 1)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/account/", "birthday_card_days"),
        ("/coordinator/reminders/new", "days"),
    ],
)
def test_a_number_beyond_a_float_in_a_range_checked_field_is_refused_not_a_crash(
    login_as: LoginAs, client: FlaskClient, path: str, field: str
) -> None:
    """Found by the account fuzzing: WTForms' NumberRange calls math.isnan() on the
    integer, which raises OverflowError above about 1.8e308 (310 digits; int() takes up
    to 4,300): the form never gets to say "out of range", the request answers 500."""
    login_as(make_coordinator().email)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "name": "Rule",
            "locale": "en",
            "timezone": "Europe/Berlin",
            field: "1" + "0" * 309,
        },
    )
    assert response.status_code in (200, 400)  # the form again, "out of range" at the field


@pytest.mark.parametrize("path", ["/coordinator/sponsorships/new", "handover"])
def test_an_id_beyond_the_database_integers_in_a_pairing_form_is_refused(
    login_as: LoginAs, client: FlaskClient, path: str
) -> None:
    """Found by the coordinators' fuzzing: the godparent and prisoner selects of the pairing
    and handover forms do not check their choices (validate_choice=False), and the views
    look the coerced id up directly: OverflowError on SQLite, DataError (integer out of
    range) on PostgreSQL, a 500 either way."""
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    if path == "handover":
        path = f"/coordinator/sponsorships/{make_sponsorship(sponsor, prisoner).id}/handover"
    login_as(make_coordinator().email)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "sponsor_id": HUGE,
            "prisoner_id": HUGE,
            "started_on": "2025-01-10",
            "on": "2025-01-10",
            "status": "active",
            "end_reason": "other",
        },
    )
    assert response.status_code in (200, 400, 404)  # refused, not a crash


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (ANONYMOUS, f"/photos/{2**63}.jpg"),
        (COORDINATOR, f"/coordinator/prisoners/{2**63}/edit"),
        (SPONSOR, f"/sponsor/actions/{2**63}/edit"),
    ],
)
def test_an_id_beyond_the_database_integers_in_the_path_is_a_404(
    login_as: LoginAs, client: FlaskClient, role: str, path: str
) -> None:
    """Found by the path fuzzing: ``<int:...>`` takes any number of digits, and the lookup
    of an id the database cannot hold raises (OverflowError on SQLite from 2**63,
    DataError on PostgreSQL from 2**31): a 500 on every route with an id, the public
    photos included, instead of a 404."""
    if role == COORDINATOR:
        login_as(make_coordinator().email)
    elif role == SPONSOR:
        login_as(make_sponsor().email)
    assert client.get(path).status_code in (400, 404)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/coordinator/sponsors/new",
            {"full_name": "Anna\x00Nowak", "body": "Sejm", "country": "PL", "language": "en"},
        ),
        ("/auth/login", {"email": "anna\x00@example.org", "password": "correct horse battery"}),
    ],
)
def test_a_nul_byte_in_a_text_field_is_refused_not_a_crash(
    login_as: LoginAs, auth: Auth, client: FlaskClient, path: str, data: dict[str, str]
) -> None:
    """Found by the fuzzing on PostgreSQL: a NUL character passes the forms (none of them
    refuses control characters), and PostgreSQL cannot hold it in text, not even as a query
    parameter: psycopg raises DataError, a 500 on saving a godparent, and on the public
    login page for a typed address with a NUL in it. (SQLite stores it: there this
    passes.)"""
    if path != "/auth/login":
        login_as(make_coordinator().email)
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **data})
    assert response.status_code in (200, 302, 400)


def test_a_prisoner_edit_without_the_list_fields_is_not_a_crash(
    login_as: LoginAs, client: FlaskClient
) -> None:
    """Found by the coordinators' fuzzing: the edit form is filled from the prisoner
    (``obj=``), so a field missing from the request keeps the stored value; for the
    aliases and articles that is a list, which split_list() (re.split) cannot take:
    TypeError, a 500."""
    prisoner = make_prisoner(aliases=["Ales Bialiacki"], articles=["342"])
    login_as(make_coordinator().email)
    path = f"/coordinator/prisoners/{prisoner.id}/edit"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "name_latin": "Ales Bialiatski",
            "status": "sentenced",
            "gender": "",
            "detained_on": "2021-07-14",
        },
    )
    assert response.status_code in (200, 302)
