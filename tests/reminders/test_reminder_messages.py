"""Every reminder email written out, in English and in German, for realistic data: a one-line
subject with the prisoner's name, the date and the links in both bodies, the exact Cyrillic
address in every email about writing, HTML that escapes what people typed, coordinators
without a log link, and a broken template that fails its own message and nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from flask import Flask
from flask_babel import force_locale, gettext
from markupsafe import escape

from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind, Prisoner
from godparents.reminders.defaults import TEMPLATES
from godparents.reminders.events import Event
from godparents.reminders.messages import Rendered, envelope_address, unsubscribe_token
from godparents.reminders.models import (
    CampaignDay,
    OutboxStatus,
    ReminderRule,
    Trigger,
)
from godparents.reminders.planner import Due, Recipient, plan
from godparents.reminders.writing import render_due
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsorships.models import Sponsorship
from tests.factories import (
    make_default_rules,
    make_outbox_message,
    make_prisoner,
    make_sponsorship,
)
from tests.world import TeamSpec, build_world, extend
from tests.world import World as SharedWorld

BASE = "http://godparents.test"
TODAY = date(2026, 8, 26)  # a Wednesday
MONDAY = date(2026, 8, 24)
ADDRESS = "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"
LETTERS = ("birthday_card", "inactivity", "welcome", "welcome_followup")
UNDATED = ("inactivity", "welcome", "coordinator_digest")  # about now, not about a day ahead


@dataclass
class World(SharedWorld):
    """A godparent with an office and a godchild with every kind of date, and a coordinator;
    the reminder rules and a campaign day."""

    rules: dict[str, ReminderRule] = field(default_factory=dict)
    campaign_day: CampaignDay | None = None
    key_dates: dict[str, KeyDate] = field(default_factory=dict)

    def recipient(self, who: str = "sponsor") -> Recipient:
        if who == "delegate":
            return Recipient.of(self.delegate, self.delegate.email)
        if who == "coordinator":
            return Recipient.of(self.coordinator, self.coordinator.email)
        return Recipient.of(self.sponsor.user, self.sponsor.email, self.sponsor)

    def event(
        self, template: str, prisoner: Prisoner | None = None, pairing: Sponsorship | None = None
    ) -> Event:
        """The event each template is written for, as the planner finds it."""
        held = prisoner or self.prisoner
        pair = pairing or self.pairing
        ids = {"sponsor_id": pair.sponsor_id, "prisoner_id": held.id, "sponsorship_id": pair.id}
        trial, release = self.key_dates["trial"], self.key_dates["release"]
        day = self.campaign_day
        assert day is not None
        return {
            "birthday_card": Event(date(2026, 9, 25), f"prisoner:{held.id}", number=46, **ids),
            "birthday": Event(TODAY, f"prisoner:{held.id}", number=46, **ids),
            "detention_anniversary": Event(
                date(2026, 9, 2), f"prisoner:{held.id}", number=5, **ids
            ),
            "detention_milestone": Event(
                date(2026, 8, 29), f"prisoner:{held.id}", number=1500, **ids
            ),
            "key_date": Event(
                trial.occurs_on, f"key_date:{trial.id}", kind="trial", note=trial.note, **ids
            ),
            "expected_release": Event(
                release.occurs_on, f"key_date:{release.id}", kind="expected_release", **ids
            ),
            "campaign_day": Event(
                date(2026, 9, 2), f"campaign_day:{day.id}", campaign_day_id=day.id, note=day.name
            ),
            "inactivity": Event(TODAY, f"sponsorship:{pair.id}", number=60, **ids),
            "welcome": Event(TODAY, f"sponsorship:{pair.id}", **ids),
            "welcome_followup": Event(pair.started_on, f"sponsorship:{pair.id}", **ids),
            "coordinator_digest": Event(MONDAY, "campaign"),
            "reminder": Event(
                trial.occurs_on, f"key_date:{trial.id}", kind="trial", note=trial.note, **ids
            ),
        }[template]

    def due(self, template: str, who: str | None = None, **event: object) -> Due:
        if who is None:
            who = "coordinator" if template == "coordinator_digest" else "sponsor"
        return Due(self.rules[template], self.recipient(who), self.event(template, **event), TODAY)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def make_world() -> World:
    """The world these tests write emails for (the language tests use it too)."""
    shared = build_world(
        TeamSpec(
            sponsor={
                "full_name": "Anna Beispiel",
                "title": "MdB",
                "academic_title": AcademicTitle.DR,
                "form_of_address": FormOfAddress.FEMALE,
            },
            prisoner={
                "name_latin": "Ihar Kavalenka",
                "name_ru": "Игорь Коваленко",
                "name_be": "Ігар Каваленка",
                "birth_date": date(1980, 9, 25),
                "birth_year": 1980,
                "detained_on": date(2021, 9, 2),
                "has_public_consent": True,
            },
            pairing={"started_on": date(2026, 8, 12)},
        ),
        with_other=False,
    )
    rules: dict[str, ReminderRule] = {}
    for rule in make_default_rules():
        rules.setdefault(rule.template, rule)
    rules["reminder"] = ReminderRule(
        name="Any date",
        trigger=Trigger.KEY_DATE,
        offset_days=7,
        template="reminder",
        to_delegates=True,
    )
    prisoner = shared.prisoner
    key_dates = {
        "trial": KeyDate(
            prisoner=prisoner,
            kind=KeyDateKind.TRIAL,
            occurs_on=date(2026, 9, 2),
            note="Minsk City Court, room 5, 10:00",
        ),
        "release": KeyDate(
            prisoner=prisoner, kind=KeyDateKind.EXPECTED_RELEASE, occurs_on=date(2026, 9, 9)
        ),
        # In the digest's week.
        "hearing": KeyDate(
            prisoner=prisoner,
            kind=KeyDateKind.HEARING,
            occurs_on=date(2026, 8, 28),
            note="Pre-trial hearing",
        ),
    }
    campaign_day = CampaignDay(
        name="Day of Solidarity with Belarusian Political Prisoners", month=9, day=2
    )
    db.session.add_all([rules["reminder"], *key_dates.values(), campaign_day])
    db.session.commit()
    return extend(shared, World, rules=rules, campaign_day=campaign_day, key_dates=key_dates)


def _render(*items: Due, locale: str = "en") -> list[Rendered | str]:
    for item in items:
        db.session.get(User, item.recipient.user_id).locale = locale
    written = render_due(list(items), TODAY)
    return [written[item.key] for item in items]


def _rendered(item: Due, locale: str = "en") -> Rendered:
    [outcome] = _render(item, locale=locale)
    assert isinstance(outcome, Rendered), outcome
    return outcome


def _flat(text: str) -> str:
    """The words as a reader sees them: plain text is wrapped at 76 characters."""
    return " ".join(text.split())


def _long_date(day: date, locale: str) -> str:
    return format_date(day, _pattern("EEEE d MMMM y", locale), locale=locale)


def _pattern(english: str, locale: str) -> str:
    """A date pattern as the catalog gives it for ``locale`` ("d. MMM" in German)."""
    with force_locale(locale):
        return gettext(english)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_says_what_when_and_where_to_act(world, template):
    for locale in ("en", "de"):  # German reads as English until the catalog has the strings
        _says_what_when_and_where_to_act(world, world.due(template), locale)


def _says_what_when_and_where_to_act(world: World, item: Due, locale: str) -> None:
    template, user = item.rule.template, db.session.get(User, item.recipient.user_id)

    message = _rendered(item, locale)

    subject, text, html = message.subject, message.text, message.html
    assert subject.strip() and "\n" not in subject
    if template == "coordinator_digest":
        assert format_date(MONDAY, _pattern("d MMM", locale), locale=locale) in subject
        assert f"{BASE}/coordinator/\n" in text and f'href="{BASE}/coordinator/"' in html
    elif template == "campaign_day":
        assert world.campaign_day.name in subject
    else:
        assert "Ihar Kavalenka" in subject
        assert "Ihar Kavalenka" in _flat(text) and "Ihar Kavalenka" in html
    if template not in UNDATED:
        day = _long_date(item.event.on, locale)
        assert day in _flat(text) and day in html
    if template not in ("coordinator_digest", "campaign_day"):
        log = f"{BASE}/sponsor/prisoners/{world.prisoner.id}/actions/new"
        assert log in text and f'href="{log}' in html
    elif template == "campaign_day":
        assert f"{BASE}/\n" in text and f'href="{BASE}/"' in html
    unsubscribe = f"{BASE}/reminders/unsubscribe/{unsubscribe_token(user.id, item.rule.trigger)}"
    assert unsubscribe in text and f'href="{unsubscribe}"' in html
    assert f"{BASE}/account/#reminders" in text and f"{BASE}/account/#reminders" in html
    # Plain text: clean paragraphs, no markup, no entities.
    assert not re.search(r"&(lt|gt|amp|quot|#\d+);|</?p>|<a ", text)
    assert "\n\n\n" not in text and not re.search(r" +$", text, re.MULTILINE)
    # HTML: a whole document in the reader's language, nothing from another host.
    assert html.startswith("<!doctype html>") and f'<html lang="{locale}">' in html
    assert f"<title>{escape(subject)}</title>" in html
    assert all(link.startswith(BASE) for link in re.findall(r'(?:href|src)="([^"]*)"', html))
    assert not re.search(r"<(script|img|link|iframe)\b|style=", html, re.IGNORECASE)


def test_the_date_is_said_as_people_say_it(world):
    card = _rendered(world.due("birthday_card"))
    greeting = _rendered(world.due("birthday"))

    assert card.subject == "Birthday card for Ihar Kavalenka: turns 46 on 25 September"
    assert card.text.startswith("Dear Dr Beispiel,\n\n")
    assert (
        "Ihar Kavalenka (Игорь Коваленко) turns 46 in 30 days, on Friday 25 September 2026."
        in _flat(card.text)
    )
    assert greeting.subject == "Ihar Kavalenka turns 46 today"
    assert "turns 46 today, Wednesday 26 August 2026." in _flat(greeting.text)
    assert '<time datetime="2026-09-25">in 30 days, on Friday 25 September 2026</time>' in card.html


@pytest.mark.parametrize("template", LETTERS)
def test_emails_about_writing_carry_the_exact_cyrillic_address(world, template):
    envelope = envelope_address(world.prisoner)
    assert envelope == ADDRESS + "\nИгорь Коваленко, 1980 г.р."

    message = _rendered(world.due(template))

    assert f"\n{envelope}\n" in message.text  # line by line, as it goes on the envelope
    assert f'<pre lang="ru">{escape(envelope)}</pre>' in message.html
    for words in ("Russian or Belarusian", "two to five weeks", "Keep to personal things"):
        assert words in _flat(message.text) and words in message.html


def test_a_date_to_act_on_carries_the_address_while_letters_get_through(world):
    message = _rendered(world.due("detention_anniversary"))

    assert f"\n{envelope_address(world.prisoner)}\n" in message.text
    assert '<pre lang="ru">' in message.html


def test_without_an_address_ask_the_coordinators_and_without_letters_speak_up(world):
    unknown = make_prisoner(name_latin="Unknown Address", address=None)
    silenced = make_prisoner(name_latin="No Letters", can_receive_letters=False)
    items = [
        world.due("welcome", prisoner=held, pairing=make_sponsorship(world.sponsor, held))
        for held in (unknown, silenced)
    ]

    no_address, no_letters = _render(*items)

    assert "does not know a postal address" in _flat(no_address.text)
    assert "ask the campaign's coordinators" in _flat(no_address.text)
    assert "<pre" not in no_address.html and "does not know a postal address" in no_address.html
    assert "Letters are not known to get through" in _flat(no_letters.text)
    assert "Public support helps instead" in no_letters.html
    assert ADDRESS not in no_letters.text and "<pre" not in no_letters.html


def test_html_escapes_what_people_typed_and_plain_text_keeps_it(world):
    evil = make_prisoner(name_latin="<b>Evil</b> & Co", name_ru="Злой <i>")
    pairing = make_sponsorship(world.sponsor, evil)
    world.campaign_day.name = "Freedom & <Day>"
    db.session.commit()

    card, day = _render(
        world.due("birthday_card", prisoner=evil, pairing=pairing), world.due("campaign_day")
    )

    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in card.html
    assert "<b>Evil" not in card.html and "<i>" not in card.html
    assert "Злой &lt;i&gt;" in card.html
    assert "Freedom &amp; &lt;Day&gt;" in day.html and "<Day>" not in day.html
    assert "<b>Evil</b> & Co" in card.subject and "<b>Evil</b> & Co" in card.text
    assert "Freedom & <Day>" in day.text


def test_line_breaks_in_the_data_stay_out_of_the_subject_line(world):
    odd = make_prisoner(name_latin="Ales\r\nBcc: spy@example.org")
    item = world.due("inactivity", prisoner=odd, pairing=make_sponsorship(world.sponsor, odd))

    message = _rendered(item)

    assert message.subject == "Ales Bcc: spy@example.org: nothing logged for 2 months"
    assert message.text.startswith("Dear Dr Beispiel,\n\n")


def test_a_coordinator_gets_the_registry_page_and_no_log_link(world):
    message = _rendered(world.due("key_date", who="coordinator"))

    assert "/actions/new" not in message.text and "/actions/new" not in message.html
    assert f"{BASE}/coordinator/prisoners/{world.prisoner.id}" in message.text
    assert message.text.startswith("Hello,\n\n")
    assert "because you are a coordinator" in _flat(message.text)


def test_office_staff_are_told_why_they_get_it(world):
    message = _rendered(world.due("welcome", who="delegate"))

    assert message.text.startswith("Hello,\n\n")
    assert "You work for Dr Anna Beispiel, who is now the godparent of" in _flat(message.text)
    assert "because you are office staff for Dr Anna Beispiel in" in message.html
    assert f"{BASE}/sponsor/prisoners/{world.prisoner.id}/actions/new?kind=letter" in message.text


def test_the_digest_counts_lists_and_says_how_many_more(world):
    for held in (
        make_prisoner(
            name_latin="Week Prisoner", birth_date=date(1990, 8, 27), detained_on=date(2022, 8, 30)
        ),
        make_prisoner(name_latin="Milestone Prisoner", detained_on=date(2023, 11, 29)),
    ):
        make_sponsorship(world.sponsor, held)
    for number in range(25):
        make_outbox_message(
            recipient_email=f"mp{number}@example.org",
            subject_ref="prisoner:1",
            occurs_on=TODAY,
            status=OutboxStatus.FAILED,
            last_error="550 5.1.1 <nobody>: Recipient address rejected",
            email_subject=f"Birthday card number {number}",
            body_text="",
        )

    message = _rendered(world.due("coordinator_digest"))

    text = _flat(message.text)
    assert "4 dates this week" in text
    assert (
        "- Tue 25 Aug · 1,000 days in detention · Milestone Prisoner "
        "- Thu 27 Aug · Birthday (turns 36) · Week Prisoner "
        "- Fri 28 Aug · Hearing · Pre-trial hearing · Ihar Kavalenka "
        "- Sun 30 Aug · 4 years in detention · Week Prisoner"
    ) in text
    assert "25 emails failed" in text and "… and 5 more." in text
    assert (
        "Birthday card number 24 · mp24@example.org · The mail server does not know this "
        "address. It will not be tried again; retry it once the cause is fixed."
    ) in text
    assert "The mail server does not know this address." in message.html
    assert "nobody" not in message.html  # the server's reply is on the outbox page
    assert "1 godparent with nothing logged in 60 days" in text
    assert "Anna Beispiel · Bundestag · nothing logged yet" in text


def test_the_days_plan_renders_in_full(world):
    planned = plan(list(world.rules.values()), MONDAY, TODAY)

    written = render_due(planned, TODAY)

    templates = {item.rule.template for item in planned}
    assert {
        "birthday_card",
        "detention_anniversary",
        "key_date",
        "expected_release",
        "campaign_day",
        "welcome_followup",
        "coordinator_digest",
        "reminder",
    } <= templates
    assert all(isinstance(outcome, Rendered) for outcome in written.values()), written


def test_a_broken_template_gives_its_reason_and_the_others_are_written(world, monkeypatch):
    monkeypatch.setattr(world.rules["birthday_card"], "template", "no_such_template")

    broken, fine = _render(world.due("birthday_card"), world.due("birthday"))

    assert isinstance(broken, str) and "TemplateNotFound" in broken
    assert isinstance(fine, Rendered) and "Ihar Kavalenka" in fine.subject


def test_the_day_before_says_tomorrow(world):
    item = world.due("key_date")
    day_before = Due(item.rule, item.recipient, item.event, item.event.on - timedelta(days=1))

    written = render_due([day_before], item.event.on - timedelta(days=1))[day_before.key]

    assert "is tomorrow, Wednesday 2 September 2026." in _flat(written.text)
