"""What people type is shown as text and never runs.

Every free-text column of every model (found by looking at the models, so that a new column
fails the coverage test until it is given a payload) is filled through the factories, past
the forms, with a script payload. Every page that shows a field must show it escaped, no HTML
page may carry live markup from the data, an inline script, a ``style=`` or an ``on*=``
attribute, or a ``javascript:`` link, and every page carries the strict Content Security
Policy. The forms refuse script links. No line break in a name, a note or an address reaches
an email header, from the reminders or from the account emails, on a real SMTP server.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_mail import BadHeaderError, Message
from markupsafe import escape
from sqlalchemy import JSON, Enum, String, func, select
from werkzeug.exceptions import HTTPException

from godparents.account import services as account_services
from godparents.actions.models import Action
from godparents.audit.models import AuditEvent
from godparents.auth import services as accounts
from godparents.auth.models import Passkey, Role, User, UserSession
from godparents.extensions import db
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.mailer import send_email
from godparents.prisoners.import_read import read_prisoners
from godparents.prisoners.models import (
    Facility,
    ImportMapping,
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
)
from godparents.reminders import runner as reminders
from godparents.reminders.models import (
    Bounce,
    BounceKind,
    CampaignDay,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    RunStatus,
    Trigger,
    UndeliverableAddress,
)
from godparents.timeutil import campaign_today
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_default_rules,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
    make_user,
)
from tests.helpers import Auth, LoginAs, csrf_token
from tests.world import TeamSpec, build_world, extend
from tests.world import World as SharedWorld

# The payloads of the issue. All in lower case, so that an email address keeps its exact
# text (the app stores login emails lower-cased).
SVG = '"><svg onload=alert(1)>'
SCRIPT = "<script>alert(1)</script>"
IMG = "'\"><img src=x onerror=alert(1)>"
SCRIPT_URL = 'javascript:alert(1)"><svg onload=alert(1)>'
PAYLOADS = (SVG, SCRIPT, IMG, SCRIPT_URL)
# Live markup if it were in a page as it is.
LIVE = ("<svg onload=alert(1)>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>")

# String, Text and JSON columns that are not free text somebody types, and why.
NOT_TYPED = {
    "Prisoner.search_text": "derived from the names for searching; never shown",
    "Sponsor.search_text": "derived from the name for searching; never shown",
    "SearchWord.word": "the words of the search keys, for typos; never shown",
    "ImportMapping.headings_key": "a SHA-256 of a file's headings",
    "PrisonerPhoto.mimetype": "set by the app when it re-encodes a photo",
    "OutboxContent.body_html": "the email's own HTML, shown only in the sandboxed frame, "
    "whose markup is checked on the frames",
    "OutboxMessage.locale": "a language code the app chooses",
    "ReminderRule.template": "chosen from the app's list of templates",
    "ReminderRule.key_date_kinds": "chosen from the kinds of key date",
    "Sponsor.country": "two capital letters (the form's pattern): no room for a payload",
    "TransitTime.country": "two letters (the form's pattern): no room for a payload",
    "ChangeNotice.kind": "one of four words the app chooses",
    "ChangeNotice.fingerprint": "a SHA-256 the app computes",
    "ChangeNotice.details": "copies of an address and a sentence as stored, shown only in "
    "the notice emails, whose escaping tests/reminders/test_change_notices.py checks",
    "Sponsor.language": "chosen from en and de",
    "PublicSettings.contact_email": "an address the form checks (fields.checked_email: letters, "
    "digits and . _ + ' - before the @); shown autoescaped, its link percent-encoded "
    "(tests/public/test_public.py)",
    "User.password_hash": "a secret hash",
    "FormSubmission.token": "a random token the app puts in its own forms; never shown",
    "FormSubmission.location": "a path on this site taken from the app's own redirect; "
    "only ever sent back as a redirect",
    "User.totp_secret": "always empty: the key in clear, from before it was encrypted",
    "User.calendar_token_hash": "a secret hash",
    "User.locale": "chosen from the languages",
    "User.timezone": "chosen from the time zones",
    "User.reminder_opt_outs": "chosen from the kinds of reminder",
    "UserSession.token_hash": "a secret hash",
    "UserSession.pending_totp_secret": "always empty: see User.totp_secret",
    "User.passkey_challenge_hash": "a hash",
    "Passkey.credential_id": "the authenticator's id, base64url-encoded by the app",
    "RecoveryCode.code_hash": "a secret hash",
    "Bounce.status_code": "three numbers the reader takes from a report by a pattern",
    "OutboxMessage.claimed_by": "a random name a runner gives itself",
    "OutboxMessage.email_message_id": "made by the app when it composes the email",
    "ReminderRun.error": "the job's own words; shown on no page",
    "WatchWord.language": "chosen from ru, be, de and en",
    "Parliament.name_en": "the maintained list (migration, demo seed); no form types it",
    "Parliament.name_de": "the maintained list (migration, demo seed); no form types it",
    "Parliament.country": "the maintained list (migration, demo seed); no form types it",
    "CampaignDay.name_de": "set by the migration and the demo seed; no form types it",
}

CSV_KINDS = ("prisoners", "sponsors", "sponsorships", "actions")


@pytest.fixture
def config(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Uploads wait in this test's own folder, not in the project's instance folder."""
    return {**config, "PRISONER_IMPORT_FOLDER": str(tmp_path / "imports")}


# The stored payloads.


@dataclass
class Texts:
    """Each payload by "Model.column" (a "#..." suffix for a second row of the same table).
    Each is unique: a number, then one of the payloads in turn."""

    values: dict[str, str] = field(default_factory=dict)

    def __call__(self, key: str, before: str = "", after: str = "") -> str:
        number = len(self.values)
        value = f"{before}q{number:02d}{PAYLOADS[number % len(PAYLOADS)]}{after}"
        assert key not in self.values, key
        self.values[key] = value
        return value

    @property
    def columns(self) -> set[str]:
        return {key.partition("#")[0] for key in self.values}


@dataclass
class World(SharedWorld):
    """The shared world's one team (no other), the objects only this file makes, and the
    payloads by key: ``world["Prisoner.name_latin"]``."""

    today: date = date.min
    texts: Texts = field(default_factory=Texts)
    rule: ReminderRule | None = None
    campaign_day: CampaignDay | None = None
    failed: OutboxMessage | None = None
    run: ReminderRun | None = None
    letter_template: LetterTemplate | None = None

    def __getitem__(self, key: str) -> str:
        return self.texts.values[key]


def _not_leap_day(day: date) -> date:
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


@pytest.fixture
def world(app: Flask) -> World:
    """One of everything, every free-text field holding a payload; the reminders have run."""
    now = datetime.now(UTC)
    today = campaign_today(app.config["TIMEZONE"], now)
    text = Texts()

    card_day = today + timedelta(days=30)  # the birthday card is due today
    # The payloads are numbered in the order they are asked for: first the prisoner's ...
    prisoner_fields = {
        "address": None,
        "name_latin": text("Prisoner.name_latin"),
        "name_be": text("Prisoner.name_be", before="Алесь "),
        "name_ru": text("Prisoner.name_ru", before="Алесь "),
        "aliases": [text("Prisoner.aliases")],
        "articles": [text("Prisoner.articles")],
        "sentence": text("Prisoner.sentence"),
        "health_notes": text("Prisoner.health_notes", before="Asthma.\n"),
        "public_bio": text("Prisoner.public_bio", before="Human rights defender.\n"),
        "notes": text("Prisoner.notes", before="Internal.\n"),
        "source_url": text("Prisoner.source_url", before="https://example.org/"),
        "external_id": text("Prisoner.external_id"),
        "former_external_ids": [text("Prisoner.former_external_ids")],
        "birth_date": date(1980, card_day.month, card_day.day),
        "birth_year": 1980,
        "detained_on": date(2021, 7, 14),
    }
    old_address = PrisonerAddress(
        facility=text("PrisonerAddress.facility#old"),
        postal_address=text("PrisonerAddress.postal_address#old", before="210000, Витебск\n"),
        valid_from=date(2021, 7, 14),
    )
    facility = Facility(
        name_en=text("Facility.name_en"),
        name_de=text("Facility.name_de"),
        name_ru=text("Facility.name_ru", before="ИК "),
        name_be=text("Facility.name_be"),
        postcode=text("Facility.postcode"),
        region=text("Facility.region"),
        town=text("Facility.town"),
        street=text("Facility.street"),
        institution=text("Facility.institution"),
        postal_address=text("Facility.postal_address", before="211300, Витебск\n"),
    )
    new_address = PrisonerAddress(
        facility=text("PrisonerAddress.facility"),
        facility_record=facility,
        postal_address=text("PrisonerAddress.postal_address", before="220030, г. Минск,\n"),
        valid_from=date(2023, 3, 1),
    )
    prisoner_fields["addresses"] = [old_address, new_address]
    db.session.add(
        ImportMapping(headings_key="0" * 64, columns={"фио": text("ImportMapping.columns")})
    )
    prisoner_fields["key_dates"] = [
        KeyDate(
            kind=KeyDateKind.TRIAL, occurs_on=today + timedelta(days=7), note=text("KeyDate.note")
        )
    ]
    day = _not_leap_day(today + timedelta(days=7))
    campaign_day = CampaignDay(name=text("CampaignDay.name"), month=day.month, day=day.day)
    db.session.add(campaign_day)
    # ... then the godparent's, the office's and the action's.
    sponsor_fields = {
        "full_name": text("Sponsor.full_name"),
        "title": text("Sponsor.title"),
        "body": text("Sponsor.body"),
        "party": text("Sponsor.party"),
        "email": text("Sponsor.email", after="@example.org"),
        "phone": text("Sponsor.phone"),
        "public_quote": text("Sponsor.public_quote", before="Free them all.\n"),
        "notes": text("Sponsor.notes", before="Met in Vilnius.\n"),
        "postal_address": text("Sponsor.postal_address", before="Büro\n"),
        "mandate_ends_on": today + timedelta(days=20),  # on the dashboard's list of mandates
    }
    delegate_email = text("User.email", after="@example.org")
    action_fields = {
        "occurred_on": today,
        "summary": text("Action.summary", before="Card posted.\n"),
        "link": text("Action.link", before="https://example.org/"),
        "outcome_on": today,
    }
    shared = build_world(
        TeamSpec(
            sponsor=sponsor_fields,
            login_email="godparent@example.org",
            delegate={"email": delegate_email, "full_name": text("User.full_name")},
            prisoner=prisoner_fields,
            pairing={"started_on": today},
            action=action_fields,
            action_by="delegate",
        ),
        with_other=False,
        coordinator={"email": "coordinator@example.org"},
    )
    coordinator, sponsor = shared.coordinator, shared.sponsor

    make_default_rules()
    rule = ReminderRule(
        name=text("ReminderRule.name"),
        trigger=Trigger.KEY_DATE,
        offset_days=7,
        template="key_date",
        to_sponsor=True,
        to_delegates=True,
        to_coordinators=True,
    )
    db.session.add(rule)
    db.session.add(
        AuditEvent(
            action=text("AuditEvent.action"),
            object_type=text("AuditEvent.object_type"),
            ip=text("AuditEvent.ip"),
            changes={"note": text("AuditEvent.changes")},
        )
    )
    db.session.add(
        Passkey(
            user_id=coordinator.id,
            credential_id="Y3JlZGVudGlhbA",
            public_key=b"key",
            name=text("Passkey.name"),
        )
    )
    db.session.add(
        UserSession(
            token_hash="0" * 64,
            user=sponsor.user,
            generation=99,
            created_at=now,
            last_seen_at=now,
            ip=text("UserSession.ip"),
            user_agent=text("UserSession.user_agent"),
        )
    )
    db.session.commit()

    # The reminders write their emails from all this (nothing leaves: TESTING suppresses
    # sending) ...
    reminders.run(today, now)
    # ... and one message that failed, every column of it a payload.
    failed = OutboxMessage(
        rule=rule,
        recipient_user_id=sponsor.user.id,
        recipient_email=text("OutboxMessage.recipient_email", after="@example.org"),
        subject_ref=text("OutboxMessage.subject_ref"),
        occurs_on=today,
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error=text("OutboxMessage.last_error", before="550 "),
        email_subject=text("OutboxMessage.email_subject"),
    )
    failed.body_text = text("OutboxContent.body_text", before="Hello,\n\n")
    failed.body_html = "<p>Hello</p>"
    db.session.add(failed)
    # A bounce comes from far away: its words are nobody's to trust.
    bounce = Bounce(
        message=failed,
        email=text("Bounce.email", after="@example.org"),
        kind=BounceKind.HARD,
        status_code="5.1.1",
        diagnostic=text("Bounce.diagnostic", before="smtp; 550 "),
        report_id=text("Bounce.report_id"),
    )
    db.session.add(
        UndeliverableAddress(
            email=text("UndeliverableAddress.email", after="@example.org"), bounce=bounce
        )
    )
    run = ReminderRun(status=RunStatus.FINISHED, planned_for=today, window_start=today)
    db.session.add(run)
    db.session.commit()
    letter_template = LetterTemplate(
        occasion=Occasion.BIRTHDAY,
        language=LetterLanguage.RUSSIAN,
        title=text("LetterTemplate.title"),
        body=text("LetterTemplate.body", before="Дорогой {first_name}!\n"),
        translation_de=text("LetterTemplate.translation_de"),
        translation_en=text("LetterTemplate.translation_en"),
    )
    watch_word = WatchWord(
        phrase=text("WatchWord.phrase"), language="ru", reason=text("WatchWord.reason")
    )
    db.session.add_all([letter_template, watch_word])
    db.session.commit()
    return extend(
        shared,
        World,
        today=today,
        texts=text,
        rule=rule,
        campaign_day=campaign_day,
        failed=failed,
        run=run,
        letter_template=letter_template,
    )


def _text_columns() -> set[str]:
    """Every String, Text and JSON column of every model ("Model.column"); enums excepted."""
    found = set()
    for mapper in db.Model.registry.mappers:
        for column in mapper.columns:
            kind = column.type
            if (isinstance(kind, String) and not isinstance(kind, Enum)) or isinstance(kind, JSON):
                found.add(f"{mapper.class_.__name__}.{column.key}")
    return found


def _stored_values(key: str) -> list[Any]:
    """What the column of ``key`` holds in every row (the items of lists and mappings)."""
    model_name, _dot, rest = key.partition(".")
    column = rest.partition("#")[0]
    model = next(m.class_ for m in db.Model.registry.mappers if m.class_.__name__ == model_name)
    rows = db.session.scalars(select(getattr(model, column))).all()
    return [
        value
        for row in rows
        for value in (
            row if isinstance(row, list) else row.values() if isinstance(row, dict) else [row]
        )
    ]


def test_every_free_text_column_of_every_model_holds_a_payload(world: World) -> None:
    columns = _text_columns()
    uncovered = columns - world.texts.columns - NOT_TYPED.keys()
    assert not uncovered, (
        f"new text columns: give each a payload in the world fixture and say where it is "
        f"shown in the page tests' `expected`, or say in NOT_TYPED why it is not free text: "
        f"{sorted(uncovered)}"
    )
    assert not (NOT_TYPED.keys() - columns), "NOT_TYPED names columns that are gone"
    assert not (NOT_TYPED.keys() & world.texts.columns)
    for key, value in world.texts.values.items():  # stored exactly as typed, and fits
        assert value in _stored_values(key), (key, value, _stored_values(key))
        model_name, _dot, column = key.partition("#")[0].partition(".")
        model = next(m for m in db.Model.registry.mappers if m.class_.__name__ == model_name)
        length = getattr(model.columns[column].type, "length", None)
        assert length is None or len(value) <= length, (key, len(value), length)


# Looking at the pages.

URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "srcdoc",
        "data",
        "poster",
        "background",
        "xlink:href",
        "ping",
        "cite",
    }
)


def _runs_script(url: str) -> bool:
    """Browsers ignore control characters and spaces inside a scheme: so must we."""
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    return cleaned.startswith(("javascript:", "vbscript:", "data:text/html"))


class _Markup(HTMLParser):
    """What in a page could run: inline scripts and styles, handlers, script links."""

    def __init__(self, frame: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.frame = frame
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>: an event handler attribute")
            elif name == "style":
                self.problems.append(f"<{tag} style={value!r}>: an inline style attribute")
            elif name in URL_ATTRIBUTES and value and _runs_script(value):
                self.problems.append(f"<{tag} {name}={value!r}>: a script URL")
        if tag == "script":
            self.in_script = True
            if not named.get("src"):
                self.problems.append("<script> without src: an inline script")
        elif tag == "style" and not self.frame:
            self.problems.append("<style>: an inline style sheet")
        elif tag == "iframe" and "sandbox" not in named:
            self.problems.append(f"<iframe src={named.get('src')!r}> without sandbox")
        elif tag in ("object", "embed", "base"):
            self.problems.append(f"<{tag}>: never part of this app's pages")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"inline script content {data.strip()[:60]!r}")


def _directives(policy: str) -> dict[str, list[str]]:
    return {
        parts[0].lower(): parts[1:] for parts in (d.split() for d in policy.split(";")) if parts
    }


def _policy_problems(policy: str, frame: bool) -> list[str]:
    found = _directives(policy)
    problems = []
    if "'unsafe-eval'" in policy or "script-src" in found:
        problems.append(f"the policy lets scripts in: {policy!r}")
    if not frame:
        if found.get("default-src") != ["'self'"] or "'unsafe-inline'" in policy:
            problems.append(f"not the strict policy: {policy!r}")
        return problems
    # An email body in its frame: nothing loads, nothing runs, only its own <style>.
    unsafe = [name for name, values in found.items() if "'unsafe-inline'" in values]
    if found.get("default-src") != ["'none'"] or unsafe not in ([], ["style-src"]):
        problems.append(f"not the frame's strict policy: {policy!r}")
    if "sandbox" not in found or any(v.startswith("allow-scripts") for v in found["sandbox"]):
        problems.append(f"the frame is not sandboxed without scripts: {policy!r}")
    return problems


class Visitor:
    """Fetches pages as one user and checks each: the type, the headers, the markup."""

    def __init__(self, client: FlaskClient, who: str) -> None:
        self.client = client
        self.who = who
        self.pages: dict[str, str] = {}
        self.problems: list[str] = []
        self.endpoints: set[str] = set()

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"[{self.who}] {path}: {text}")

    def _seen(self, path: str) -> None:
        try:
            endpoint, _values = self.client.application.url_map.bind("localhost").match(
                path.partition("?")[0]
            )
        except HTTPException:
            return
        self.endpoints.add(endpoint)

    def unvisited(self, prefixes: tuple[str, ...], *, besides: Iterable[str] = ()) -> list[str]:
        """The pages under these paths that nobody looked at: a new page must be added to
        the test (with where it shows what)."""
        rules = self.client.application.url_map.iter_rules()
        every = {
            rule.endpoint
            for rule in rules
            if "GET" in rule.methods and rule.rule.startswith(prefixes)
        }
        return [
            f"[{self.who}] the page {endpoint} is not visited by this test"
            for endpoint in sorted(every - self.endpoints - set(besides))
        ]

    def page(
        self, path: str, *, frame: bool = False, status: int | tuple[int, ...] = 200, **options: Any
    ) -> str:
        """The page's text if it answered 200; an error page (one of ``status``) is checked
        all the same, as an ordinary page, and gives ""."""
        response = self.client.get(path, **options)
        self._seen(path)
        if response.status_code not in (status if isinstance(status, tuple) else (status,)):
            self.problem(path, f"answered {response.status_code}, not {status}")
            return ""
        frame = frame and response.status_code == 200
        body = response.get_data(as_text=True)
        self.pages[path] = body
        if response.mimetype != "text/html":
            self.problem(path, f"served as {response.mimetype}, not text/html")
        for text in _policy_problems(response.headers.get("Content-Security-Policy", ""), frame):
            self.problem(path, text)
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            self.problem(path, "no X-Content-Type-Options: nosniff")
        for live in LIVE:
            at = body.find(live)
            if at >= 0:
                self.problem(path, f"unescaped {live!r}: …{body[max(at - 80, 0) : at + 40]!r}…")
        scanner = _Markup(frame)
        scanner.feed(body)
        scanner.close()
        for text in scanner.problems:
            self.problem(path, text)
        return body if response.status_code == 200 else ""

    def download(self, path: str, mimetype: str, disposition: str, binary: bool = False) -> Any:
        """The file's text (its bytes when ``binary``), its headers checked."""
        response = self.client.get(path)
        self._seen(path)
        if response.status_code != 200:
            self.problem(path, f"answered {response.status_code}")
            return ""
        if response.mimetype != mimetype:
            self.problem(path, f"served as {response.mimetype}, not {mimetype}")
        if not response.headers.get("Content-Disposition", "").startswith(disposition):
            self.problem(
                path,
                f"Content-Disposition is "
                f"{response.headers.get('Content-Disposition')!r}, not "
                f"{disposition}",
            )
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            self.problem(path, "no X-Content-Type-Options: nosniff")
        return response.get_data(as_text=not binary)


def _missing(
    world: World, visitor: Visitor, expected: dict[str, list[str | tuple[str, ...]]]
) -> list[str]:
    """The fields not shown, escaped, where they should be: a page, or any page of a group."""
    found = []
    for key, places in expected.items():
        shown = str(escape(world[key]))
        for place in places:
            paths = place if isinstance(place, tuple) else (place,)
            if not any(shown in visitor.pages.get(path, "") for path in paths):
                where = place if isinstance(place, str) else f"any of {paths[0]} … {paths[-1]}"
                found.append(f"{key} not shown escaped ({shown[:50]!r}…) on {where}")
    return found


def _report(*lists: list[str]) -> str:
    lines = [line for found in lists for line in found]
    return f"{len(lines)} problems:\n" + "\n".join(lines)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_stored_payloads_are_escaped_on_every_coordinator_page(
    login_as: LoginAs, world: World, auth: Auth, client: FlaskClient
) -> None:
    """Every coordinator page (lists, details, edit forms, the audit log, the reminders'
    rules, previews and outbox, and the emails' HTML in their frames), then the downloads."""
    login_as(world.coordinator.email)
    visit = Visitor(client, "coordinator")
    p, s, pair = world.prisoner.id, world.sponsor.id, world.pairing.id
    pages = {
        "dashboard": "/coordinator/",
        "prisoners": "/coordinator/prisoners/",
        "prisoner": f"/coordinator/prisoners/{p}",
        "prisoner edit": f"/coordinator/prisoners/{p}/edit",
        "address": f"/coordinator/prisoners/{p}/address",
        "new prisoner": "/coordinator/prisoners/new",
        "export": "/coordinator/prisoners/export",
        "facilities": "/coordinator/prisoners/facilities/",
        "transit times": "/coordinator/letters/transit-times",
        "merge": f"/coordinator/prisoners/{world.prisoner.id}/merge?other={world.prisoner.id}",
        "facility": f"/coordinator/prisoners/facilities/{world.prisoner.addresses[0].facility_id}"
        "/edit",
        "import": "/coordinator/prisoners/import",
        "godparents": "/coordinator/sponsors/",
        "godparent": f"/coordinator/sponsors/{s}",
        "godparent edit": f"/coordinator/sponsors/{s}/edit",
        "office staff": f"/coordinator/sponsors/{s}/delegates",
        "erase": f"/coordinator/sponsors/{s}/erase",
        "new godparent": "/coordinator/sponsors/new",
        "pairings": "/coordinator/sponsorships/",
        "pair many": "/coordinator/sponsorships/bulk",
        "pair": f"/coordinator/sponsorships/new?prisoner_id={p}&sponsor_id={s}",
        "end": f"/coordinator/sponsorships/{pair}/end",
        "handover": f"/coordinator/sponsorships/{pair}/handover",
        "release": f"/coordinator/sponsorships/release/{p}",
        "released": f"/coordinator/sponsorships/release/{p}/done",
        "actions": "/coordinator/actions/",
        "rules": "/coordinator/reminders/",
        "public pages": "/coordinator/public/",
        "rule edit": f"/coordinator/reminders/{world.rule.id}/edit",
        "new rule": "/coordinator/reminders/new",
        "outbox": "/coordinator/reminders/outbox",
        "failed message": f"/coordinator/reminders/outbox/{world.failed.id}",
        "run": f"/coordinator/reminders/runs/{world.run.id}",
        "invite": "/auth/invite",
        "accounts": "/coordinator/accounts/",
        "settings": "/account/",
        "two factors": "/account/two-factor",
        "passkeys": "/account/passkeys",
        "letters": "/coordinator/letters/",
        "letter template": f"/coordinator/letters/templates/{world.letter_template.id}",
        "new letter template": "/coordinator/letters/templates/new",
        "letter batch": "/coordinator/letters/batch",
        "report": "/coordinator/reports/?period=dates&from=2000-01-01&to=2199-12-31",
    }
    for path in pages.values():
        visit.page(path)
    audit = tuple(
        f"/coordinator/audit/?page={number}"
        for number in range(
            1, 1 + math.ceil(db.session.scalar(select(func.count()).select_from(AuditEvent)) / 50)
        )
    )
    messages = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    assert len(messages) >= 5, "the reminders planned too little to look at"
    message_pages = tuple(f"/coordinator/reminders/outbox/{m}" for m in messages)
    rules = db.session.scalars(select(ReminderRule.id).order_by(ReminderRule.id)).all()
    previews = tuple(f"/coordinator/reminders/{r}/preview" for r in rules)
    for path in (*audit, *message_pages, *previews):
        visit.page(path)
    message_frames = tuple(f"/coordinator/reminders/outbox/{m}.html" for m in messages)
    for path in message_frames:  # each email's HTML, in its sandboxed frame
        visit.page(path, frame=True)
    # A rule's sample email, if the coming days hold one (404 if not).
    frames = [
        visit.page(f"/coordinator/reminders/{r}/preview.html", frame=True, status=(200, 404))
        for r in rules
    ]
    assert sum(1 for frame in frames if frame) >= 3, "too few previews wrote an email out"

    own_preview = f"/coordinator/reminders/{world.rule.id}/preview"
    own_frame = f"{own_preview}.html"
    everywhere_names = [
        pages[name]
        for name in (
            "prisoners",
            "prisoner",
            "prisoner edit",
            "address",
            "pairings",
            "pair",
            "end",
            "handover",
            "release",
            "released",
            "actions",
            "dashboard",
            "godparent",
        )
    ]
    godparent_pages = [
        pages[name]
        for name in (
            "godparents",
            "godparent",
            "godparent edit",
            "office staff",
            "erase",
            "pairings",
            "pair",
            "end",
            "handover",
            "release",
            "actions",
            "prisoner",
            "dashboard",
            "invite",
        )
    ]
    prisoner, edit, godparent, godparent_edit = (
        pages["prisoner"],
        pages["prisoner edit"],
        pages["godparent"],
        pages["godparent edit"],
    )
    failed = pages["failed message"]
    expected: dict[str, list[str | tuple[str, ...]]] = {
        "Prisoner.name_latin": [
            *everywhere_names,
            pages["outbox"],
            message_pages,
            own_preview,
            message_frames,
            own_frame,
            audit,
        ],
        "Prisoner.name_be": [pages["prisoners"], prisoner, edit, audit],
        "Prisoner.name_ru": [
            pages["prisoners"],
            prisoner,
            edit,
            pages["pair"],
            message_pages,
            audit,
        ],
        "Prisoner.aliases": [prisoner, edit],
        "Prisoner.articles": [prisoner, edit],
        "Prisoner.sentence": [prisoner, edit, audit],
        "Prisoner.health_notes": [prisoner, edit, audit],
        "Prisoner.public_bio": [prisoner, edit, audit],
        "Prisoner.notes": [prisoner, edit, audit],
        "Prisoner.source_url": [prisoner, edit, audit],
        "Prisoner.external_id": [prisoner, edit, pages["merge"], audit],
        "Prisoner.former_external_ids": [prisoner, audit],
        "PrisonerAddress.facility": [prisoner, audit],
        "PrisonerAddress.postal_address": [
            prisoner,
            pages["address"],
            message_pages,
            message_frames,
            audit,
        ],
        "PrisonerAddress.facility#old": [prisoner, audit],
        "Facility.name_en": [prisoner, pages["facilities"], pages["facility"], audit],
        "Facility.name_de": [pages["facilities"], pages["facility"], audit],
        "Facility.name_ru": [pages["facilities"], pages["facility"], audit],
        "Facility.name_be": [pages["facilities"], pages["facility"], audit],
        "Facility.postcode": [pages["facility"], audit],
        "Facility.region": [pages["facility"], audit],
        "Facility.town": [pages["facility"], audit],
        "Facility.street": [pages["facility"], audit],
        "Facility.institution": [pages["facility"], audit],
        "Facility.postal_address": [pages["facilities"], pages["facility"], audit],
        "ImportMapping.columns": [],
        "PrisonerAddress.postal_address#old": [prisoner, audit],
        "KeyDate.note": [
            prisoner,
            pages["dashboard"],
            message_pages,
            own_preview,
            message_frames,
            own_frame,
            audit,
        ],
        "CampaignDay.name": [pages["dashboard"], message_pages, message_frames, audit],
        "Sponsor.full_name": [*godparent_pages, message_pages, message_frames, audit],
        "User.full_name": [message_pages, message_frames, audit],  # office staff's salutation
        "Sponsor.title": [pages["godparents"], godparent, godparent_edit, audit],
        "Sponsor.body": [
            pages["report"],
            pages["godparents"],
            godparent,
            godparent_edit,
            prisoner,
            pages["actions"],
            pages["dashboard"],
            pages["pair"],
            pages["invite"],
            audit,
        ],
        "Sponsor.party": [pages["godparents"], godparent, godparent_edit, audit],
        "Sponsor.email": [godparent, godparent_edit, pages["outbox"], audit],
        "Sponsor.phone": [godparent, godparent_edit, audit],
        "Sponsor.public_quote": [godparent, godparent_edit, audit],
        "Sponsor.notes": [godparent, godparent_edit, audit],
        "Sponsor.postal_address": [audit],  # coordinators see it only in the log
        "LetterTemplate.title": [pages["letters"], pages["letter template"], pages["letter batch"]],
        "LetterTemplate.body": [pages["letter template"]],
        "LetterTemplate.translation_de": [pages["letter template"]],
        "LetterTemplate.translation_en": [pages["letter template"]],
        "WatchWord.phrase": [pages["letters"]],
        "WatchWord.reason": [pages["letters"]],
        "User.email": [
            godparent,
            pages["office staff"],
            pages["actions"],
            pages["outbox"],
            pages["accounts"],
            audit,
        ],
        "Action.summary": [pages["actions"], godparent, audit],
        "Action.link": [audit],
        "ReminderRule.name": [
            pages["rules"],
            pages["rule edit"],
            pages["outbox"],
            failed,
            own_preview,
            audit,
        ],
        "AuditEvent.action": [audit],
        "AuditEvent.object_type": [audit],
        "AuditEvent.ip": [audit],
        "AuditEvent.changes": [audit],
        "OutboxMessage.recipient_email": [pages["outbox"], failed, pages["dashboard"]],
        "OutboxMessage.subject_ref": [failed],
        "OutboxMessage.last_error": [pages["outbox"], failed, pages["dashboard"]],
        "OutboxMessage.email_subject": [pages["outbox"], failed, pages["dashboard"]],
        "OutboxContent.body_text": [failed],
        # Shown nowhere; were they ever, the check of every page would find them raw.
        "UserSession.ip": [],
        "Bounce.email": [],
        "Bounce.report_id": [],
        "Bounce.diagnostic": [pages["dashboard"]],
        "UndeliverableAddress.email": [pages["dashboard"]],
        "UserSession.user_agent": [],
        "Passkey.name": [pages["passkeys"], audit],
    }
    assert expected.keys() == world.texts.values.keys(), "say where each field is shown"

    # The downloads: not HTML, so the payloads are there as typed, in files to save.
    exports = {
        kind: _csv_cells(
            visit.download(f"/coordinator/prisoners/export/{kind}.csv", "text/csv", "attachment")
        )
        for kind in CSV_KINDS
    }
    in_csv = {
        "prisoners": [
            "Prisoner.name_latin",
            "Prisoner.name_be",
            "Prisoner.name_ru",
            "Prisoner.aliases",
            "Prisoner.articles",
            "Prisoner.sentence",
            "Prisoner.public_bio",
            "Prisoner.source_url",
            "Prisoner.external_id",
            "PrisonerAddress.facility",
            "PrisonerAddress.postal_address",
        ],
        "sponsors": [
            "Sponsor.full_name",
            "Sponsor.title",
            "Sponsor.body",
            "Sponsor.party",
            "Sponsor.email",
            "Sponsor.phone",
        ],
        "sponsorships": [
            "Sponsor.full_name",
            "Sponsor.body",
            "Prisoner.name_latin",
            "Prisoner.external_id",
        ],
        "actions": ["Action.summary", "Action.link", "Sponsor.full_name", "Prisoner.name_latin"],
    }
    # The same as workbooks: every cell text, the payloads as in the CSV files.
    workbooks = {}
    for kind in CSV_KINDS:
        path = f"/coordinator/prisoners/export/{kind}.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(visit.download(path, XLSX, "attachment", True)))
        cells = [cell for row in book.active.iter_rows() for cell in row]
        if any(cell.data_type == "f" for cell in cells):
            visit.problem(path, "a cell is a formula")
        workbooks[kind] = [str(cell.value) for cell in cells if cell.value is not None]
    not_exported = [
        f"{key} not in {kind}.{suffix}"
        for kind, keys in in_csv.items()
        for key in keys
        for suffix, files in (("csv", exports), ("xlsx", workbooks))
        if not any(world[key].replace("\r", "\n") in cell for cell in files[kind])
        and not any(world[key] in cell for cell in files[kind])
    ]
    # The report's downloads (their text is tested in tests/reports).
    report = "period=dates&from=2000-01-01&to=2199-12-31"
    visit.download(
        f"/coordinator/reports/report.pdf?{report}", "application/pdf", "attachment", True
    )
    visit.download(f"/coordinator/reports/report.xlsx?{report}", XLSX, "attachment", True)
    personal = visit.download(
        f"/coordinator/sponsors/{s}/personal-data", "application/json", "attachment"
    )
    if personal and json.loads(personal)["sponsor"]["full_name"] != world["Sponsor.full_name"]:
        not_exported.append("Sponsor.full_name not in the personal data export")

    unvisited = visit.unvisited(
        ("/coordinator/", "/account/", "/auth/invite"),
        # The app's own JPEG; PDFs (no markup; their text is tested in test_letters_pdf.py).
        besides=["prisoners.photo", "letters.batch_labels", "letters.batch_letters"],
    )
    assert not visit.problems and not not_exported and not unvisited, _report(
        visit.problems, not_exported, unvisited
    )
    missing = _missing(world, visit, expected)
    assert not missing, _report(missing)


def test_stored_payloads_are_escaped_on_the_godparent_and_office_pages(
    world: World, login_as: LoginAs, client: FlaskClient, web_app: Flask
) -> None:
    """The godparent's home, godchild, team, settings and action pages, the same for office
    staff whose login email is a payload, and the calendar feed."""
    p = world.prisoner.id
    login_as(world.sponsor.user.email)
    godparent = Visitor(client, "godparent")
    pages = {
        "home": "/sponsor/",
        "godchild": f"/sponsor/prisoners/{p}",
        "team": "/sponsor/team",
        "settings": "/account/",
        "two factors": "/account/two-factor",
        "passkeys": "/account/passkeys",
        "log": f"/sponsor/prisoners/{p}/actions/new",
        "action edit": f"/sponsor/actions/{world.action.id}/edit",
        "outcome": f"/sponsor/actions/{world.action.id}/outcome",
        "envelope": f"/sponsor/letters/prisoners/{p}/envelope",
        "letter": f"/sponsor/letters/prisoners/{p}/letter?template={world.letter_template.id}",
    }
    for path in pages.values():
        godparent.page(path)

    # The office staff member logs in with the payload as the login email (the login form
    # takes any text): it is in the menu of every page.
    staff_client = web_app.test_client()
    Auth(staff_client).login(world.delegate.email)
    staff = Visitor(staff_client, "office staff")
    staff_pages = {
        "staff home": "/sponsor/",
        "staff godchild": f"/sponsor/prisoners/{p}",
        "staff settings": "/account/",
    }
    for path in staff_pages.values():
        staff.page(path)

    # The calendar feed: plain iCalendar, the names as they are, no HTML to interpret.
    with_token = account_services.new_calendar_token(world.sponsor.user)
    db.session.commit()
    calendar = Visitor(web_app.test_client(), "calendar")
    feed = calendar.download(f"/calendar/{with_token}.ics", "text/calendar", "inline")
    godparent.endpoints |= calendar.endpoints
    unfolded = feed.replace("\r\n ", "")
    not_in_feed = [
        f"{key} not in the calendar feed"
        for key in ("Prisoner.name_latin", "CampaignDay.name")
        if world[key] not in unfolded
    ]
    leaked = [
        f"{key} in the calendar feed: it carries names and dates only"
        for key in ("KeyDate.note", "PrisonerAddress.postal_address")
        if world[key] in unfolded
    ]

    home, godchild = pages["home"], pages["godchild"]
    expected: dict[str, list[str]] = {
        "Prisoner.name_latin": [
            home,
            godchild,
            pages["log"],
            pages["action edit"],
            pages["outcome"],
        ],
        "Prisoner.name_be": [home, godchild],
        "Prisoner.name_ru": [home, godchild],
        "Prisoner.articles": [godchild],
        "Prisoner.sentence": [godchild],
        "Prisoner.public_bio": [godchild],
        # The current address is linked to the facility registry, whose name is shown.
        "PrisonerAddress.facility": [],
        "Facility.name_en": [home, godchild],
        "PrisonerAddress.postal_address": [home, godchild],
        "PrisonerAddress.facility#old": [godchild],
        "PrisonerAddress.postal_address#old": [godchild],
        "KeyDate.note": [home, godchild],
        "CampaignDay.name": [home],
        "Sponsor.full_name": [home],
        "Sponsor.title": [pages["settings"]],
        "Sponsor.phone": [pages["settings"]],
        "Sponsor.email": [pages["settings"]],
        "User.email": [pages["team"], godchild],
        "Action.summary": [home, godchild, pages["action edit"], pages["outcome"]],
        "Action.link": [godchild, pages["action edit"]],
        "Sponsor.postal_address": [pages["envelope"]],
        "LetterTemplate.title": [pages["letter"]],
        "LetterTemplate.translation_de": [pages["letter"]],
        "LetterTemplate.translation_en": [pages["letter"]],
    }
    staff_expected: dict[str, list[str]] = {
        "Prisoner.name_latin": [staff_pages["staff home"], staff_pages["staff godchild"]],
        "Sponsor.full_name": [staff_pages["staff home"]],  # "You act for: ..."
        "PrisonerAddress.postal_address": [staff_pages["staff godchild"]],
        "User.email": list(staff_pages.values()),  # the menu, and "You log in as ..."
    }
    for visitor in (godparent, staff):
        for path in visitor.pages:
            # Coordinators' notes never reach the godparent's pages, escaped or not.
            for key in ("Prisoner.health_notes", "Prisoner.notes", "Sponsor.notes"):
                if str(escape(world[key])) in visitor.pages[path]:
                    leaked.append(f"{key} shown to {visitor.who} on {path}")
    missing = [*_missing(world, godparent, expected), *_missing(world, staff, staff_expected)]
    unvisited = godparent.unvisited(
        ("/sponsor/", "/account/", "/calendar/"),
        # The app's own JPEG; a PDF (no markup; its text is tested in test_letters_pdf.py).
        besides=["prisoners.godchild_photo", "letters.envelope_pdf"],
    )
    assert (
        not godparent.problems
        and not staff.problems
        and not not_in_feed
        and not leaked
        and not calendar.problems
        and not unvisited
    ), _report(
        godparent.problems, staff.problems, calendar.problems, not_in_feed, leaked, unvisited
    )
    assert not missing, _report(missing)


def test_what_a_request_carries_is_escaped_where_a_page_repeats_it(
    login_as: LoginAs, app: Flask, auth: Auth, client: FlaskClient, web_app: Flask
) -> None:
    """Search boxes, filters, sort links, the language form's return address and the
    public pages that take a token from the address: nothing of the request runs."""
    coordinator = make_coordinator()
    sponsor = make_sponsor()
    make_sponsorship(sponsor, make_prisoner())
    anonymous = Visitor(web_app.test_client(), "anonymous")
    for payload in (SVG, IMG):
        token = quote(payload, safe="")
        for page in (
            anonymous.page(f"/auth/login?next={token}"),  # the form's next field
            # Sent as it is, as old browsers did: the language form repeats it.
            anonymous.page("/auth/login", environ_overrides={"QUERY_STRING": payload}),
        ):
            if str(escape(payload)) not in page:
                anonymous.problem("/auth/login", f"{payload!r} is not repeated, escaped")
        anonymous.page(f"/auth/reset?email={token}")
        anonymous.page(f"/auth/reset/{token}", status=404)
        anonymous.page(f"/auth/invitation/{token}", status=404)
        anonymous.page(f"/reminders/unsubscribe/{token}", status=404)
        anonymous.page(f"/no/such/page/{token}", status=404)
    login_as(coordinator.email)
    visit = Visitor(client, "coordinator")
    echoed = []
    for payload in (SVG, IMG):  # out of a double-quoted and a single-quoted attribute
        q = quote(payload, safe="")
        searches = {
            f"/coordinator/prisoners/?q={q}": True,
            f"/coordinator/prisoners/?status={q}&godparent={q}&letters={q}&sort={q}&x={q}": False,
            f"/coordinator/sponsors/?q={q}": True,
            f"/coordinator/sponsors/?body={q}&country={q}&active={q}&sort={q}&x={q}": False,
            f"/coordinator/sponsorships/?status={q}&from={q}&to={q}&x={q}": False,
            f"/coordinator/actions/?q={q}": True,
            f"/coordinator/actions/?kind={q}&outcome={q}&body={q}&from={q}&to={q}": False,
            f"/coordinator/audit/?actor={q}": True,
            f"/coordinator/audit/?action={q}&object={q}&from={q}&to={q}&x={q}": False,
            f"/coordinator/reminders/outbox?q={q}": True,
            f"/coordinator/accounts/?q={q}&role={q}": True,
            f"/coordinator/reminders/outbox?status={q}&x={q}": False,
            f"/coordinator/sponsorships/new?prisoner_id={q}&sponsor_id={q}": False,
            f"/coordinator/sponsorships/new?prisoner_q={q}&sponsor_q={q}": True,
            f"/coordinator/sponsorships/new?sponsor_q={q}&part=sponsors": True,
        }
        for path, repeats in searches.items():
            page = visit.page(path)
            if repeats and str(escape(payload)) not in page:
                echoed.append(f"{path}: the search is not shown back, escaped")
        page = visit.page("/coordinator/", environ_overrides={"QUERY_STRING": payload})
        if f'name="next" value="/coordinator/?{escape(payload)}"' not in page:
            echoed.append(f"the query {payload!r} is not in the language form, escaped")
    # Elsewhere: the code form, the invitation; the job's status is JSON, never HTML
    # (tests/reminders/test_reminder_faults.py checks it tells nothing without the token).
    unvisited = anonymous.unvisited(
        ("/auth/", "/reminders/"),
        besides=["auth.two_factor", "auth.invite", "reminders.status"],
    )
    assert not anonymous.problems and not visit.problems and not echoed and not unvisited, _report(
        anonymous.problems, visit.problems, echoed, unvisited
    )


URL_ERROR = "Enter a web address starting with https:// or http://."
SCRIPT_LINKS = (
    "javascript:alert(1)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "JAVASCRIPT:alert(1)//https://example.org",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/x",
    "https:alert(1)",
)


class Forms:
    """Posts forms as a browser would, with the session's CSRF token (read once)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def post(self, path: str, **data: Any) -> Any:
        if self.token is None:
            self.token = csrf_token(self.client, path)
        response = self.client.post(path, data={"csrf_token": self.token, **data})
        response.close()  # as a server does once the reply has gone: what waits for it runs
        return response


def test_forms_refuse_script_links_and_show_typed_payloads_escaped(
    app: Flask, login_as: LoginAs, client: FlaskClient, web_app: Flask
) -> None:
    today = campaign_today(app.config["TIMEZONE"])
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner, started_on=today - timedelta(days=3))
    login_as(make_coordinator().email)
    coordinator, visit = Forms(client), Visitor(client, "coordinator")
    problems: list[str] = []

    def count(model: type) -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count()).select_from(model))

    def refused(response: Any) -> bool:
        return response.status_code == 200 and URL_ERROR in html.unescape(response.text)

    # A prisoner's source: on the new and the edit form, and in an import.
    new = "/coordinator/prisoners/new"
    fields = {
        "name_latin": f"Maria {SVG}",
        "status": "sentenced",
        "gender": "",
        "valid_from": today,
    }
    for link in SCRIPT_LINKS:
        if not refused(coordinator.post(new, **fields, source_url=link)) or count(Prisoner) != 1:
            problems.append(f"a new prisoner's source {link!r} was not refused")
        response = coordinator.post(
            f"/coordinator/prisoners/{prisoner.id}/edit",
            name_latin="Ihar",
            status="sentenced",
            gender="",
            source_url=link,
            version=prisoner.version,
        )
        db.session.refresh(prisoner)
        if not refused(response) or prisoner.source_url is not None:
            problems.append(f"the source {link!r} was not refused on the edit form")
        if read_prisoners(f"external_id,name_latin,source_url\r\nx-1,Name,{link}\r\n".encode()).ok:
            problems.append(f"an import would take the source {link!r}")

    # What is typed comes back escaped: the message after saving, the page, the lists.
    good = f"https://example.org/{SVG}"
    typed = {
        new: ({**fields, "source_url": good}, [fields["name_latin"], good]),
        "/coordinator/sponsors/new": (
            {
                "full_name": f"Anna {IMG}",
                "body": SCRIPT,
                "country": "DE",
                "language": "en",
                "is_active": "y",
            },
            [f"Anna {IMG}", SCRIPT],
        ),
        "/coordinator/reminders/new": (
            {
                "name": f"Rule {SVG}",
                "trigger": "birthday",
                "template": "birthday_card",
                "days": 30,
                "to_sponsor": "y",
                "is_active": "y",
            },
            [f"Rule {SVG}"],
        ),
    }
    for path, (data, shown) in typed.items():
        saved = coordinator.post(path, **data)
        page = visit.page(saved.headers.get("Location", f"{path} (not saved)"))
        problems += [
            f"{text!r} not shown escaped after saving {path}"
            for text in shown
            if str(escape(text)) not in page
        ]
    upload = "/coordinator/prisoners/import"
    preview = coordinator.post(
        upload,
        file=(
            io.BytesIO(f"external_id,name_latin\r\nx-9,Ihar {SCRIPT}\r\n".encode()),
            "list<svg onload=alert(1)>.csv",
        ),
    )
    visit.pages[upload] = preview.get_data(as_text=True)
    for shown in (f"Ihar {SCRIPT}", "list<svg onload=alert(1)>.csv"):
        if str(escape(shown)) not in visit.pages[upload]:
            problems.append(f"the import preview does not show {shown!r} escaped")
    visit.page(upload)

    # The godparent's own forms: the link of an action, new and edited.
    godparent_client = web_app.test_client()
    Auth(godparent_client).login(sponsor.email)
    godparent, seen = Forms(godparent_client), Visitor(godparent_client, "godparent")
    log = f"/sponsor/prisoners/{prisoner.id}/actions/new"
    action = {"kind": "letter", "occurred_on": today}
    for link in SCRIPT_LINKS:
        if (
            not refused(godparent.post(log, **action, summary="A card", link=link))
            or count(Action) != 0
        ):
            problems.append(f"the action's link {link!r} was not refused")
    saved = godparent.post(log, **action, summary=f"Card {SCRIPT}", link=good)
    page = seen.page(saved.headers.get("Location", "/not-saved").partition("#")[0])
    problems += [
        f"{text!r} not shown escaped after logging the action"
        for text in (f"Card {SCRIPT}", good)
        if str(escape(text)) not in page
    ]
    logged = db.session.scalars(select(Action)).one()
    for link in SCRIPT_LINKS:
        response = godparent.post(
            f"/sponsor/actions/{logged.id}/edit",
            **action,
            summary="A card",
            link=link,
            version=logged.version,
        )
        db.session.refresh(logged)
        if not refused(response) or logged.link != good:
            problems.append(f"the edited action's link {link!r} was not refused")
    assert not visit.problems and not seen.problems and not problems, _report(
        visit.problems, seen.problems, problems
    )


# Line breaks and email headers, on the real SMTP server.

BCC = "\r\nBcc: evil@example.org"
EVIL = "evil@example.org"
# Every header a message of the app may have at its top.
HEADERS = frozenset(
    {
        "content-type",
        "mime-version",
        "content-transfer-encoding",
        "subject",
        "from",
        "to",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "sender",
        "reply-to",
    }
)


def _header_problems(raw: bytes, rcpt_tos: list[str], intended: set[str]) -> list[str]:
    """Whatever is wrong with one message as the server received it."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii", "replace")
    problems = []
    names = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            continue  # a folded header line
        name = line.partition(":")[0].strip().lower()
        names.append(name)
        if name not in HEADERS:
            problems.append(f"a header line {line!r}")
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        problems.append(f"headers twice: {sorted(duplicated)}")
    if len(rcpt_tos) != 1 or rcpt_tos[0] not in intended:
        problems.append(f"delivered to {rcpt_tos}")
    return problems


def _messages(inbox: Any) -> Iterator[tuple[EmailMessage, Any]]:
    yield from zip(inbox.messages, inbox.envelopes, strict=True)


def _check_inbox(inbox: Any, intended: set[str]) -> list[str]:
    """Every message received: its raw header lines, its parsed headers, its envelope."""
    problems = []
    for message, envelope in _messages(inbox):
        where = f"message {message['Subject']!r} to {envelope.rcpt_tos}"
        problems += [
            f"{where}: {p}" for p in _header_problems(envelope.content, envelope.rcpt_tos, intended)
        ]
        for name, value in message.items():
            if "\r" in value or "\n" in value or (name.lower() != "subject" and EVIL in value):
                problems.append(f"{where}: header {name}: {value!r}")
        if message["Bcc"] is not None or message["To"] != envelope.rcpt_tos[0]:
            problems.append(f"{where}: To {message['To']!r}, Bcc {message['Bcc']!r}")
        if EVIL in envelope.rcpt_tos:
            problems.append(f"{where}: sent to {EVIL}")
    return problems


REMINDER_DAY = date(2026, 11, 26)  # a Thursday
DIGEST_DAY = date(2026, 11, 30)  # the Monday after: the coordinators' digest


def test_line_breaks_in_names_never_reach_a_reminder_header(
    app: Flask, smtp_server: Any, runner: FlaskCliRunner, web_app: Flask
) -> None:
    """Names in every script, a title, a key date's note, an address and a campaign day's
    name with "\r\nBcc: ...", and three recipients whose address has one (a godparent's
    contact email, an office staff member's and a coordinator's login): the reminders and
    the weekly digest go through the real command to the real SMTP server."""
    make_default_rules()
    make_coordinator(email="coordinator@example.org")
    boss = make_coordinator(email="boss@example.org" + BCC)  # a login email the CLI took
    prisoner = make_prisoner(
        name_latin="Ales" + BCC,
        name_be="Алесь" + BCC,
        name_ru="Алесь" + BCC,
        birth_date=date(1962, 12, 26),
        birth_year=1962,  # the card: due on REMINDER_DAY
        address="220030, г. Минск" + BCC,
    )
    prisoner.addresses[0].facility = "SIZO-1" + BCC
    prisoner.key_dates.append(
        KeyDate(
            kind=KeyDateKind.TRIAL, occurs_on=REMINDER_DAY + timedelta(days=7), note="Room 3" + BCC
        )
    )
    later = REMINDER_DAY + timedelta(days=7)
    db.session.add(CampaignDay(name="Solidarity Day" + BCC, month=later.month, day=later.day))
    db.session.commit()
    sponsor = make_sponsor(full_name="Anna" + BCC, title="Dr." + BCC, email="godparent@example.org")
    staff = make_delegate(sponsor, email="staff@example.org" + BCC)
    other = make_sponsor(with_login=False, full_name="Ben", email="ben@example.org" + BCC)
    other.user = make_user(Role.SPONSOR, email="ben-login@example.org")
    db.session.commit()
    make_sponsorship(sponsor, prisoner, started_on=REMINDER_DAY)
    make_sponsorship(other, prisoner, started_on=REMINDER_DAY)
    godparent_id, refused = sponsor.user.id, {staff.email, other.email, boss.email}

    # The command runs in the test's app context, and closes its session at the end.
    outputs = [
        runner.invoke(args=["reminders", "run", "--today", day.isoformat()])
        for day in (REMINDER_DAY, DIGEST_DAY)
    ]

    crashed = [
        f"the run crashed: {result.output}\n{result.exception!r}"
        for result in outputs
        if result.exit_code != 0
    ]
    intended = {"godparent@example.org", "coordinator@example.org"}
    problems = _check_inbox(smtp_server.inbox, intended)
    delivered = {m["Subject"] for m in smtp_server.inbox.messages}
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    for row in rows:
        broken = "\r" in row.recipient_email or "\n" in row.recipient_email
        if broken and (
            row.status is not OutboxStatus.FAILED or "line break" not in (row.last_error or "")
        ):
            problems.append(f"to {row.recipient_email!r}: {row.status}, {row.last_error!r}")
        if "\r" in row.email_subject or "\n" in row.email_subject:
            problems.append(f"a subject with a line break: {row.email_subject!r}")
    expected_subjects = ["Ales Bcc: evil@example.org", "Solidarity Day Bcc: evil@example.org"]
    for part in expected_subjects:
        if not any(part in subject for subject in delivered):
            problems.append(f"no delivered subject has {part!r} (on one line): {delivered}")
    if len(smtp_server.inbox.messages) < 5:
        problems.append(f"only {len(smtp_server.inbox.messages)} messages were delivered")
    for name, recipient in (
        ("godparent", "godparent@example.org"),
        ("coordinators' digest", "coordinator@example.org"),
    ):
        if not any(e.rcpt_tos == [recipient] for e in smtp_server.inbox.envelopes):
            problems.append(f"nothing delivered to the {name}")

    # The calendar feed of the same godparent: a line break cannot start a property.
    token = account_services.new_calendar_token(db.session.get(User, godparent_id))
    db.session.commit()
    feed = web_app.test_client().get(f"/calendar/{token}.ics").get_data(as_text=True)
    injected = [
        line for line in feed.replace("\r\n ", "").split("\r\n") if line.lower().startswith("bcc")
    ]
    assert "BEGIN:VCALENDAR" in feed and "Ales" in feed
    written_to = {row.recipient_email for row in rows}
    if not refused <= written_to:
        problems.append(f"no reminder was even planned for {refused - written_to}")

    assert not crashed and not problems and not injected, _report(
        crashed, problems, [f"calendar line {line!r}" for line in injected]
    )


def _attempt(message: Message) -> str:
    """Send as the app does; what became of it (the app must never send it as it is)."""
    try:
        return "sent" if send_email(message) else "not sent"
    except BadHeaderError:
        return "refused: a header would hold a line break"


def test_account_emails_go_to_their_one_recipient_and_nobody_else(
    login_as: LoginAs, app: Flask, smtp_server: Any, auth: Auth, client: FlaskClient, web_app: Flask
) -> None:
    """Invitation, password reset and the email-changed notice, to an address with
    "\r\nBcc: ..." stored past the forms (the command line checks nothing) or typed into
    the forms: nothing reaches a second recipient, and the pages do not crash."""
    now = datetime.now(UTC)
    coordinator = make_coordinator(email="coordinator@example.org")
    sponsor = make_sponsor(
        with_login=False, full_name="Anna" + BCC, title="Dr." + BCC, email="anna@example.org" + BCC
    )
    plain = make_user(Role.SPONSOR, email="plain@example.org")
    # A login email with a line break, as the command line stores what it is given.
    broken = make_user(Role.SPONSOR, email="victim@example.org" + BCC)
    problems: list[str] = []
    outcomes: dict[str, str] = {}

    # The services, straight: an invitation to such an address is refused before any
    # account exists; a password reset and the email-changed notice are never sent.
    with pytest.raises(accounts.AccountError, match="Enter an email address such as"):
        accounts.invite("invitee@example.org" + BCC, Role.SPONSOR, sponsor, coordinator, now)
    db.session.rollback()
    reset = accounts.password_reset_token(broken.email, now)
    assert reset is not None
    with app.test_request_context():
        outcomes["password reset"] = _attempt(accounts.password_reset_email(*reset))
        outcomes["email changed"] = _attempt(
            account_services.email_changed_notice(plain, "victim@example.org" + BCC)
        )
    problems += [
        f"{name} email with a line break in the address: {outcome}"
        for name, outcome in outcomes.items()
        if outcome == "sent"
    ]

    # The pages: whatever is typed, no extra recipient and no crash.
    for path, data in [
        ("/auth/reset", {"email": "plain@example.org" + BCC}),
        ("/auth/reset", {"email": broken.email}),
        ("/auth/reset", {"email": "plain@example.org"}),  # the one email that goes
    ]:
        response = Forms(web_app.test_client()).post(path, **data)
        if response.status_code >= 500:
            problems.append(f"{path} with {data!r} answered {response.status_code}")
    login_as(coordinator.email)
    forms = Forms(client)
    other = make_sponsor(with_login=False, email="new@example.org")
    for path, data in [
        (
            "/auth/invite",
            {"email": "new@example.org" + BCC, "role": "sponsor", "sponsor_id": other.id},
        ),
        (f"/coordinator/sponsors/{other.id}/invite", {"email": "new@example.org" + BCC}),
        (f"/coordinator/sponsors/{sponsor.id}/invite", {"email": ""}),  # the stored one
        (f"/coordinator/sponsors/{other.id}/delegates", {"email": "x@example.org" + BCC}),
        (f"/coordinator/sponsors/{other.id}/invite", {"email": ""}),  # this one goes
    ]:
        response = forms.post(path, **data)
        if response.status_code >= 500:
            problems.append(f"{path} with {data!r} answered {response.status_code}")
    made = db.session.scalars(select(User.email).where(User.email.contains("\n"))).all()
    if sorted(made) != [broken.email]:
        problems.append(f"accounts made with a line break in the email: {made}")
    # The owner of the broken address logs in with it (the login form takes any text) and
    # changes it: the notice to the old address must not go out as it is, nor crash.
    owner = web_app.test_client()
    Auth(owner).login(broken.email)
    try:
        changed = owner.post(
            "/account/email",
            data={
                "csrf_token": csrf_token(owner, "/account/"),
                "email": "fixed@example.org",
                "current_password": PASSWORD,
            },
        )
    except BadHeaderError:  # the test client re-raises what would be a 500
        db.session.expire_all()
        problems.append(
            "POST /account/email: send_email() let flask_mail.BadHeaderError out of the "
            "email-changed notice to the old address (a 500 in production) instead of "
            "answering False, after the change was committed (the login email is now "
            f"{db.session.get(User, broken.id).email!r})"
        )
    else:
        if changed.status_code >= 500:
            problems.append(f"changing the broken login email answered {changed.status_code}")

    problems += _check_inbox(smtp_server.inbox, {"plain@example.org", "new@example.org"})
    received = sorted(e.rcpt_tos for e in smtp_server.inbox.envelopes)
    if received != [["new@example.org"], ["plain@example.org"]]:
        problems.append(
            "expected exactly the reset to plain@example.org and the invitation "
            f"to new@example.org, got {received}"
        )
    assert not problems, _report(problems)
