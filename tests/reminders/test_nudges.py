"""The inactivity nudge says how long it has been, changes its words from the first to
the last, and the last one also goes to the coordinators' Monday digest."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask

from godparents.reminders import nudges
from godparents.reminders.digest import digest
from godparents.reminders.events import MAX_NUDGES
from godparents.reminders.messages import Rendered
from godparents.reminders.models import ReminderRule, Trigger
from godparents.reminders.planner import Due, plan
from godparents.reminders.writing import render_due
from tests.factories import make_default_rules
from tests.world import TeamSpec, World, build_world, make_action

STARTED = date(2026, 1, 5)  # a Monday; the default nudge comes every 60 days


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(
        TeamSpec(
            prisoner={"name_latin": "Ihar Kavalenka", "can_receive_letters": True},
            pairing={"started_on": STARTED},
        ),
        with_other=False,
    )


@pytest.fixture
def nudge_rule(world: World) -> ReminderRule:
    return next(rule for rule in make_default_rules() if rule.trigger is Trigger.INACTIVITY)


def _nudges(rule: ReminderRule, today: date) -> list[Due]:
    return [due for due in plan([rule], today, today) if due.recipient.sponsor_id is not None]


def _written(rule: ReminderRule, today: date) -> Rendered:
    (due,) = _nudges(rule, today)
    (written,) = render_due([due], today).values()
    assert isinstance(written, Rendered), written
    return written


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_first_nudge_says_how_long_it_has_been(nudge_rule: ReminderRule) -> None:
    message = _written(nudge_rule, STARTED + timedelta(days=60))
    assert message.subject == "Ihar Kavalenka: nothing logged for 2 months"
    body = _flat(message.text)
    assert (
        "It has been 2 months since the godparenthood for Ihar Kavalenka began, and nothing "
        "has been logged yet." in body
    )
    assert "reminder 1 of" not in body and "last reminder" not in body
    assert "A short letter now would mean a lot." in body


def test_a_later_nudge_counts_and_names_the_last_thing_logged(
    world: World, nudge_rule: ReminderRule
) -> None:
    make_action(world.pairing, world.sponsor.user, occurred_on=STARTED + timedelta(days=10))
    today = STARTED + timedelta(days=10 + 120)
    message = _written(nudge_rule, today)
    assert message.subject == "Ihar Kavalenka: still nothing logged, 4 months now"
    body = _flat(message.text)
    assert (
        "It has been 4 months since your team last logged something for Ihar Kavalenka, on "
        "15 January 2026." in body
    )
    assert f"this is reminder 2 of {MAX_NUDGES}." in body
    assert "We wrote to you about this before" in _flat(message.html)


def test_the_last_nudge_says_so_and_that_the_coordinators_know(
    nudge_rule: ReminderRule,
) -> None:
    today = STARTED + timedelta(days=60 * MAX_NUDGES)
    message = _written(nudge_rule, today)
    assert message.subject == "Last reminder: nothing logged for Ihar Kavalenka in 1 year"
    assert "This is the last reminder we send about it." in _flat(message.text)
    assert "coordinators have been told" in _flat(message.html)
    # and none after it
    assert _nudges(nudge_rule, today + timedelta(days=60)) == []


def test_no_two_nudges_use_the_same_words(nudge_rule: ReminderRule) -> None:
    subjects = [
        _written(nudge_rule, STARTED + timedelta(days=60 * count)).subject
        for count in range(1, MAX_NUDGES + 1)
    ]
    assert len(set(subjects)) == MAX_NUDGES


def test_nudge_for_a_retried_message_counts_from_the_actions(
    world: World, nudge_rule: ReminderRule
) -> None:
    (due,) = _nudges(nudge_rule, STARTED + timedelta(days=180))
    rebuilt = type(due.event)(
        due.event.on,
        due.event.subject_ref,
        due.event.sponsor_id,
        due.event.prisoner_id,
        due.event.sponsorship_id,
    )  # as events.rebuild makes it: no number
    nudge = nudges.nudge_for(nudge_rule, rebuilt)
    assert (nudge.count, nudge.quiet_days, nudge.stage) == (3, 180, "again")
    assert nudge.since == STARTED and not nudge.logged_before


def test_the_digest_lists_the_pairings_whose_last_nudge_went_last_week(
    world: World, nudge_rule: ReminderRule
) -> None:
    last_nudge = STARTED + timedelta(days=60 * MAX_NUDGES)  # a Wednesday
    monday = last_nudge + timedelta(days=7 - last_nudge.weekday())
    found = digest(monday, monday)
    assert found.last_nudged_count == 1
    (row,) = found.last_nudged
    assert (row.sponsor.id, row.prisoner.id, row.on) == (
        world.sponsor.id,
        world.prisoner.id,
        last_nudge,
    )
    # The week after, it is not news any more; a pairing with something logged never was.
    assert digest(monday, monday + timedelta(days=7)).last_nudged_count == 0
    make_action(world.pairing, world.sponsor.user, occurred_on=last_nudge - timedelta(days=1))
    assert digest(monday, monday).last_nudged_count == 0


def test_the_digest_email_names_them(world: World, nudge_rule: ReminderRule) -> None:
    last_nudge = STARTED + timedelta(days=60 * MAX_NUDGES)
    monday = last_nudge + timedelta(days=7 - last_nudge.weekday())
    rule = next(r for r in make_default_rules() if r.trigger is Trigger.COORDINATOR_DIGEST)
    (due,) = [d for d in plan([rule], monday, monday) if d.recipient.user_id]
    (written,) = render_due([due], monday).values()
    assert isinstance(written, Rendered), written
    text = _flat(written.text)
    assert "1 godparenthood had its last reminder last week: please get in touch" in text
    assert f"{world.sponsor.full_name} · Ihar Kavalenka · nothing logged for 1 year" in text
