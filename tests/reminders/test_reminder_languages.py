"""Every email speaks one language: its reader's. Salutations name people as they asked;
office staff are told whose office they work for; data chosen from a list (campaign days,
parliaments) is in the reader's language.

Mixed languages are found with the catalog itself: a German email holds no phrase of an
English message whose German differs, an English email no phrase of a German translation.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import lazy_gettext
from sqlalchemy import select

from godparents.auth import services as auth_services
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind, PrisonerAddress, PrisonerStatus
from godparents.reminders.defaults import NEWS_TEMPLATES, TEMPLATES
from godparents.reminders.events import Event
from godparents.reminders.messages import Rendered, url_context
from godparents.reminders.models import OutboxMessage, OutboxStatus, ReminderRule, Trigger
from godparents.reminders.planner import Due
from godparents.reminders.writing import due_again
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.parliaments import ensure_parliaments
from godparents.timeutil import campaign_today
from tests.app.test_translations import _source_messages, _translated
from tests.reminders.test_reminder_messages import (
    BASE,
    TODAY,
    World,
    _flat,
    _render,
    _rendered,
    make_world,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "godparents" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
# Placeholders and punctuation end a phrase: the phrases are the clauses between them.
SPLIT = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|[.,:;!?()“”„\"·–]")
URL = re.compile(r"https?://\S+")
LANGUAGES = ("en", "de")


@pytest.fixture
def world(app: Flask) -> World:
    """The message tests' world: a godparent with an office, a godchild with every kind of
    date, the rules and a campaign day."""
    return make_world()


def _pieces(text: str) -> set[str]:
    """The clauses of a message, of two words or more: short enough to find inside any
    sentence, long enough not to be a name or a loanword."""
    pieces = set()
    for piece in SPLIT.split(text):
        piece = " ".join(piece.split()).strip(" '-")
        if len(piece.split()) >= 2 and len(piece) >= 10:
            pieces.add(piece)
    return pieces


@cache
def _phrases() -> dict[str, frozenset[str]]:
    """By language, the phrases only that language's side of the catalog has."""
    with CATALOG.open("rb") as po:
        catalog = read_po(po, locale="de")
    english: set[str] = set()
    german: set[str] = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or message.fuzzy or not all(strings):
            continue  # untranslated: the catalog's own test reports it
        for text in ids:
            english |= _pieces(text)
        for text in strings:
            german |= _pieces(text)
    both = english & german
    return {"en": frozenset(english - both), "de": frozenset(german - both)}


@cache
def _untranslated() -> tuple[str, ...]:
    """The clauses of source strings the catalog has no German for yet (a branch before its
    catalog is merged): German email shows them in English, which the catalog's own test
    reports. Longest first, so that a clause is taken out before any part of it."""
    with CATALOG.open("rb") as po:
        catalog = read_po(po, locale="de")
    missing = {m for m in _source_messages() if m not in catalog or not _translated(catalog[m])}
    return tuple(sorted({p for m in missing for p in _pieces(m)}, key=len, reverse=True))


def _foreign(rendered: Rendered, locale: str) -> list[str]:
    """The other language's phrases found in the subject or either body."""
    other = "de" if locale == "en" else "en"
    html = re.sub(r"<[^>]+>", " ", rendered.html)
    words = _flat(URL.sub(" ", " ".join((rendered.subject, rendered.text, html))))
    found = sorted(phrase for phrase in _phrases()[other] if phrase in words)
    if found and locale == "de":  # (finding the untranslated strings takes seconds)
        for clause in _untranslated():
            words = words.replace(clause, " ")
        found = sorted(phrase for phrase in found if phrase in words)
    return found


def _notices(world: World) -> list[Due]:
    """A transfer, a sentence, a trial set and a release: the notices' outbox messages,
    as the reminder job reads them again to write them."""
    prisoner = world.prisoner
    prisoner.addresses.append(
        PrisonerAddress(
            facility="ИК-15 (Могилёв)",
            postal_address="212013, г. Могилёв,\nИК-15",
            valid_from=TODAY,
        )
    )
    prisoner.status = PrisonerStatus.PRETRIAL
    db.session.commit()
    prisoner.status = PrisonerStatus.SENTENCED
    # Only a hearing still ahead is news: ahead of the real day the notice is recorded on.
    ahead = campaign_today("Europe/Berlin") + timedelta(days=9)
    db.session.add(KeyDate(prisoner=prisoner, kind=KeyDateKind.TRIAL, occurs_on=ahead))
    db.session.commit()
    prisoner.status = PrisonerStatus.RELEASED
    db.session.commit()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    ).all()
    dues = [due for due in (due_again(row) for row in rows) if due is not None]
    return dues


def _every_kind(world: World) -> list[tuple[str, Due]]:
    """Each dated template for each reader it is written for, each notice, and the Monday
    question about letters."""
    dues = []
    for template in sorted(TEMPLATES):
        readers = ("coordinator",) if template == "coordinator_digest" else ("sponsor", "delegate")
        for who in readers:
            dues.append((f"{template} to {who}", world.due(template, who=who)))
    rule = ReminderRule(
        name="Did your letters arrive?",
        trigger=Trigger.LETTER_OUTCOMES,
        template="letter_outcomes",
        to_sponsor=True,
        to_delegates=True,
    )
    db.session.add(rule)
    db.session.commit()
    sponsor = world.sponsor
    letters = Event(TODAY + timedelta(days=42), f"letters:{sponsor.id}", sponsor_id=sponsor.id)
    for who in ("sponsor", "delegate"):
        dues.append(
            (
                f"letter_outcomes to {who}",
                Due(rule, world.recipient(who), letters, TODAY),
            )
        )
    dues.extend((f"{due.rule.template} to {due.recipient.email}", due) for due in _notices(world))
    return dues


def test_every_kind_of_email_speaks_one_language(world: World) -> None:
    assert len(_phrases()["en"]) > 200 and len(_phrases()["de"]) > 200  # the catalog was read
    assert world.campaign_day is not None
    world.campaign_day.name_de = "Tag der Solidarität mit den politischen Gefangenen in Belarus"
    db.session.commit()
    kinds = _every_kind(world)
    written = {template for name, _due in kinds for template in [name.split(" ")[0]]}
    assert written >= set(TEMPLATES) | set(NEWS_TEMPLATES)  # every kind, none left out
    mixed = {}
    for name, due in kinds:
        for locale in LANGUAGES:
            [outcome] = _render(due, locale=locale)
            assert isinstance(outcome, Rendered), (name, locale, outcome)
            if found := _foreign(outcome, locale):
                mixed[f"{name} in {locale}"] = found
    assert mixed == {}


def test_the_check_finds_a_mixed_email() -> None:
    """The method above does find English in a German email, and German in an English one."""
    german = Rendered("Erinnerung", "Guten Tag,\n\nPlease send a birthday card now.\n", "")
    english = Rendered("Reminder", "Hello,\n\nThe card is posted. Vielen Dank für Ihre Hilfe!", "")
    assert _foreign(german, "de") != []
    assert _foreign(english, "en") != []


def test_a_godparent_is_addressed_as_their_record_says(world: World) -> None:
    """The world's godparent is Dr Anna Beispiel, MdB, addressed as a woman."""
    english = _rendered(world.due("birthday_card"), locale="en")
    german = _rendered(world.due("birthday_card"), locale="de")

    assert english.text.startswith("Dear Dr Beispiel,\n\n")
    assert german.text.startswith("Sehr geehrte Frau Dr. Beispiel,\n\n")
    assert "<p>Sehr geehrte Frau Dr. Beispiel,</p>" in german.html
    # The parliamentary title is no part of a salutation.
    assert "MdB" not in german.text and "MdB" not in english.text


@pytest.mark.parametrize(
    ("form", "title", "locale", "opening"),
    [
        (FormOfAddress.MALE, None, "de", "Sehr geehrter Herr Beispiel,"),
        (FormOfAddress.MALE, None, "en", "Dear Mr Beispiel,"),
        (FormOfAddress.NEUTRAL, None, "de", "Guten Tag Anna Beispiel,"),
        (FormOfAddress.NEUTRAL, None, "en", "Dear Anna Beispiel,"),
        (
            FormOfAddress.FEMALE,
            AcademicTitle.PROF_DR,
            "de",
            "Sehr geehrte Frau Prof. Dr. Beispiel,",
        ),
    ],
)
def test_a_changed_form_of_address_changes_the_email(
    world: World, form: FormOfAddress, title: AcademicTitle | None, locale: str, opening: str
) -> None:
    world.sponsor.form_of_address, world.sponsor.academic_title = form, title
    db.session.commit()
    assert _rendered(world.due("inactivity"), locale=locale).text.startswith(opening + "\n\n")


def test_office_staff_are_addressed_by_their_own_name_and_told_whose_office(
    world: World,
) -> None:
    delegate = world.delegate
    delegate.full_name, delegate.form_of_address = "Alex Weber", FormOfAddress.NEUTRAL
    db.session.commit()
    german = _rendered(world.due("welcome", who="delegate"), locale="de")
    english = _rendered(world.due("welcome", who="delegate"), locale="en")

    assert german.text.startswith("Guten Tag Alex Weber,\n\n")
    assert english.text.startswith("Dear Alex Weber,\n\n")
    # The godparent is named, with the title written as each language writes it.
    assert "Dr. Anna Beispiel" in _flat(german.text)
    assert "Dr Anna Beispiel" in _flat(english.text)
    assert "You work for Dr Anna Beispiel, who is now the godparent of" in _flat(english.text)
    assert "office staff for Dr Anna Beispiel in the godparents campaign" in _flat(english.text)
    assert "A godparent you work for" not in english.text


def test_office_staff_hear_whose_office_on_a_campaign_day_too(world: World) -> None:
    """A campaign day is about no godparent in particular: office staff who work for one
    godparent are still told it is theirs."""
    english = _rendered(world.due("campaign_day", who="delegate"), locale="en")
    assert "office staff for Dr Anna Beispiel in" in _flat(english.text)


def test_a_coordinator_with_a_name_is_addressed_by_it(world: World) -> None:
    world.coordinator.full_name = "Markus Hoffmann"
    world.coordinator.form_of_address = FormOfAddress.MALE
    db.session.commit()
    assert _rendered(world.due("coordinator_digest"), locale="de").text.startswith(
        "Sehr geehrter Herr Hoffmann,\n\n"
    )
    assert _rendered(world.due("coordinator_digest"), locale="en").text.startswith(
        "Dear Mr Hoffmann,\n\n"
    )


def test_a_campaign_day_is_named_in_the_readers_language(world: World) -> None:
    assert world.campaign_day is not None
    world.campaign_day.name = "Human Rights Day"
    world.campaign_day.name_de = "Tag der Menschenrechte"
    db.session.commit()
    german = _rendered(world.due("campaign_day"), locale="de")
    english = _rendered(world.due("campaign_day"), locale="en")

    assert german.subject.startswith("Tag der Menschenrechte")
    assert "Human Rights Day" not in german.subject + german.text + german.html
    assert english.subject.startswith("Human Rights Day on 2 September")
    assert "Menschenrechte" not in english.text


def test_the_digest_names_parliaments_in_the_readers_language(world: World) -> None:
    ensure_parliaments()
    world.sponsor.body = "Austrian National Council"
    db.session.commit()
    # Nothing logged for long: the godparent is on the digest's list of the inactive.
    for action in world.pairing.actions:
        action.occurred_on = date(2025, 1, 1)
    db.session.commit()
    german = _rendered(world.due("coordinator_digest"), locale="de")
    english = _rendered(world.due("coordinator_digest"), locale="en")
    assert "Österreichischer Nationalrat" in german.text
    assert "Austrian National Council" not in german.text
    assert "Austrian National Council" in english.text


@pytest.mark.parametrize("template", ["invitation", "password_reset"])
def test_invitations_and_resets_address_the_person_in_one_language(
    world: World, template: str
) -> None:
    """The emails about logging in: addressed as the record says, in the reader's language
    alone."""
    user = world.sponsor.user
    assert user is not None
    for locale, opening in (("en", "Dear Dr Beispiel,"), ("de", "Sehr geehrte Frau Dr. Beispiel,")):
        user.locale = locale
        db.session.commit()
        with url_context():
            message = auth_services._email(user, lazy_gettext("Subject"), template, link=BASE)
        assert message.body.startswith(opening + "\n\n")
        assert _foreign(Rendered(message.subject, message.body, ""), locale) == []
