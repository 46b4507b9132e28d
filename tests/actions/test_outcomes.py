"""What became of letters (actions/outcomes.py): figures per prisoner and per facility,
warning colours, the one-click answer that only opens a confirmation, the coordinators'
work list."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from godparents.actions import outcomes
from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.extensions import db
from godparents.prisoners.models import Facility, PrisonerAddress
from godparents.reminders.digest import digest
from godparents.reminders.events import Event
from godparents.reminders.messages import Rendered
from godparents.reminders.models import ReminderRule, Trigger
from godparents.reminders.planner import Due, Recipient, plan
from godparents.reminders.writing import render_due
from godparents.sponsorships.models import Sponsorship
from godparents.timeutil import campaign_today
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, csrf_token

TODAY = date(2026, 12, 3)


def _today() -> date:
    return campaign_today("Europe/Berlin")


def letter(
    pairing: Sponsorship,
    occurred_on: date,
    outcome: LetterOutcome = LetterOutcome.SENT,
    kind: ActionKind = ActionKind.LETTER,
    outcome_on: date | None = None,
) -> Action:
    action = Action(
        sponsorship=pairing,
        kind=kind,
        occurred_on=occurred_on,
        summary="Letter",
        letter_outcome=outcome,
        outcome_on=outcome_on or occurred_on,
    )
    db.session.add(action)
    db.session.commit()
    return action


def test_a_prisoner_s_figures_count_the_last_twelve_months_of_every_team(app: Flask) -> None:
    prisoner = make_prisoner()
    first = make_sponsorship(make_sponsor(), prisoner)
    second = make_sponsorship(make_sponsor(), prisoner)
    letter(first, date(2026, 6, 2), LetterOutcome.DELIVERED)
    letter(first, date(2026, 7, 1), LetterOutcome.REPLY_RECEIVED, kind=ActionKind.CARD)
    letter(second, date(2026, 8, 1), LetterOutcome.DELIVERED, kind=ActionKind.PARCEL)
    letter(second, date(2026, 9, 1), LetterOutcome.RETURNED)
    letter(second, date(2026, 10, 1))
    letter(first, date(2025, 11, 1), LetterOutcome.CENSORED)  # more than a year ago
    statement = Action(
        sponsorship=first, kind=ActionKind.STATEMENT, occurred_on=date(2026, 9, 9), summary="x"
    )
    db.session.add(statement)
    db.session.commit()
    figures = outcomes.for_prisoners([prisoner.id], TODAY)[prisoner.id]
    assert figures == outcomes.Figures(date(2026, 6, 2), 5, 3, 1, 0)
    assert figures.waiting == 1
    assert outcomes.for_prisoners([make_prisoner().id], TODAY) == {}


def test_a_facility_s_figures_follow_where_the_prisoner_was_when_the_letter_went(
    app: Flask,
) -> None:
    colony = Facility(name_en="Penal colony No. 4", postal_address="246035, г. Гомель")
    prison = Facility(name_en="Prison No. 8", postal_address="222163, г. Жодино")
    db.session.add_all([colony, prison])
    prisoner = make_prisoner(address=None)
    prisoner.addresses.append(
        PrisonerAddress(facility_record=colony, facility="IK-4", valid_from=date(2025, 1, 1))
    )
    prisoner.addresses.append(
        PrisonerAddress(facility_record=prison, facility="Prison 8", valid_from=date(2026, 9, 1))
    )
    db.session.commit()
    pairing = make_sponsorship(make_sponsor(), prisoner)
    letter(pairing, date(2026, 6, 1), LetterOutcome.DELIVERED)
    letter(pairing, date(2026, 7, 1), LetterOutcome.CENSORED)
    letter(pairing, date(2026, 10, 1), LetterOutcome.RETURNED)
    figures = outcomes.for_facilities([colony.id, prison.id], TODAY)
    assert figures[colony.id] == outcomes.Figures(date(2026, 6, 1), 2, 1, 0, 1)
    assert figures[prison.id] == outcomes.Figures(date(2026, 10, 1), 1, 0, 1, 0)


def test_the_facilities_page_shows_each_facility_s_figures(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    prisoner = make_prisoner()
    facility = Facility(name_en="SIZO No. 1 (Minsk)")
    prisoner.addresses[0].facility_record = facility
    db.session.commit()
    pairing = make_sponsorship(make_sponsor(), prisoner)
    facility_id = facility.id
    letter(pairing, _today() - timedelta(days=60), LetterOutcome.DELIVERED)
    letter(pairing, _today() - timedelta(days=50), LetterOutcome.RETURNED)
    auth.login(make_coordinator().email)
    page = client.get("/coordinator/prisoners/facilities/").text
    cell = re.search(rf'data-facility-letters="{facility_id}">(.*?)</td>', page, re.S).group(1)
    assert "1 of 2 letters since" in cell and "1 returned" in cell


def test_the_home_and_the_godchild_page_show_the_figures_beside_the_flag(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    pairing = make_sponsorship(sponsor, prisoner)
    start = _today() - timedelta(days=100)
    for number, outcome in enumerate(
        [
            LetterOutcome.DELIVERED,
            LetterOutcome.DELIVERED,
            LetterOutcome.REPLY_RECEIVED,
            LetterOutcome.RETURNED,
            LetterOutcome.SENT,
        ]
    ):
        letter(pairing, start + timedelta(days=number), outcome)
    auth.login(sponsor.email)
    month = start.strftime("%B %Y")
    for page in (
        client.get("/sponsor/").text,
        client.get(f"/sponsor/prisoners/{prisoner.id}").text,
    ):
        assert f"3 of 5 letters since {month} arrived" in page
        assert "1 returned" in page
        assert "Letters are known to get through." in page


def test_returned_and_censored_letters_show_in_warning_colours(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    pairing = make_sponsorship(sponsor, prisoner)
    letter(pairing, _today() - timedelta(days=40), LetterOutcome.RETURNED)
    letter(pairing, _today() - timedelta(days=30), LetterOutcome.CENSORED)
    letter(pairing, _today() - timedelta(days=20), LetterOutcome.DELIVERED)
    auth.login(sponsor.email)
    for path in ("/sponsor/", f"/sponsor/prisoners/{prisoner.id}"):
        page = client.get(path).text
        assert 'class="badge text-bg-warning" data-outcome="returned"' in page
        assert 'class="badge text-bg-danger" data-outcome="censored"' in page
        assert 'class="badge text-bg-success" data-outcome="delivered"' in page


# The one-click answer ----------------------------------------------------------------------


@pytest.mark.parametrize("answer", [o.value for o in outcomes.ANSWERS])
def test_an_answer_link_opens_a_confirmation_and_only_the_post_saves_it(
    app: Flask, auth: Auth, client: FlaskClient, answer: str
) -> None:
    sponsor = make_sponsor()
    pairing = make_sponsorship(sponsor, make_prisoner())
    action = letter(pairing, _today() - timedelta(days=45))
    auth.login(sponsor.email)
    path = f"/sponsor/actions/{action.id}/outcome?answer={answer}"
    page = client.get(path).text
    assert "data-confirm-answer" in page
    assert re.search(rf'<option selected value="{answer}">|<option value="{answer}" selected', page)
    db.session.expire_all()
    assert db.session.get(Action, action.id).letter_outcome is LetterOutcome.SENT  # a GET: no
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={"letter_outcome": answer, "outcome_on": _today().isoformat(), "csrf_token": token},
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Action, action.id)
    assert (saved.letter_outcome.value, saved.outcome_on) == (answer, _today())


def test_an_answer_without_the_form_s_token_changes_nothing(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    action = letter(make_sponsorship(sponsor, make_prisoner()), _today() - timedelta(days=45))
    auth.login(sponsor.email)
    response = client.post(
        f"/sponsor/actions/{action.id}/outcome?answer=returned",
        data={"letter_outcome": "returned", "outcome_on": _today().isoformat()},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Action, action.id).letter_outcome is LetterOutcome.SENT


def test_an_answer_link_works_only_for_the_letter_s_team(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    action = letter(make_sponsorship(make_sponsor(), make_prisoner()), _today())
    path = f"/sponsor/actions/{action.id}/outcome?answer=returned"
    assert client.get(path).status_code == 302  # to the login
    auth.login(make_sponsor().email)
    assert client.get(path).status_code == 404
    auth.logout()
    auth.login(make_coordinator().email)
    assert client.get(path).status_code == 403


def test_a_made_up_answer_is_ignored(app: Flask, auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    action = letter(make_sponsorship(sponsor, make_prisoner()), _today())
    auth.login(sponsor.email)
    page = client.get(f"/sponsor/actions/{action.id}/outcome?answer=<script>").text
    assert "<script>" not in page
    assert re.search(r'<option selected value="sent">|<option value="sent" selected', page)


# Coordinators hear of letters that came back -----------------------------------------------


def test_the_dashboard_lists_letters_returned_or_censored(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    prisoner = make_prisoner(name_latin="Ihar Losik")
    pairing = make_sponsorship(sponsor, prisoner)
    letter(pairing, _today() - timedelta(days=50), LetterOutcome.RETURNED, outcome_on=_today())
    letter(pairing, _today() - timedelta(days=49), LetterOutcome.CENSORED, outcome_on=_today())
    letter(pairing, _today() - timedelta(days=48), LetterOutcome.DELIVERED, outcome_on=_today())
    old = _today() - timedelta(days=90)
    letter(pairing, old, LetterOutcome.RETURNED, outcome_on=old)
    auth.login(make_coordinator().email)
    page = client.get("/coordinator/").text
    card = re.search(r'data-card="letters-back">(.*?)</section>', page, re.S).group(1)
    assert card.count("<li") == 2
    assert 'data-outcome="returned"' in card and 'data-outcome="censored"' in card
    assert "Ihar Losik" in card and "Anna Schmidt" in card
    assert 'badge text-bg-warning">2<' in card


# The weekly question -----------------------------------------------------------------------


def _question_rule() -> ReminderRule:
    rule = ReminderRule(
        name="Did your letters arrive?",
        trigger=Trigger.LETTER_OUTCOMES,
        template="letter_outcomes",
        to_sponsor=True,
        to_delegates=True,
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def test_letters_without_an_outcome_after_six_weeks_are_asked_about_on_monday(
    app: Flask,
) -> None:
    monday = date(2026, 11, 30)
    rule = _question_rule()
    sponsor = make_sponsor()
    german = make_delegate(sponsor, locale="de")
    pairing = make_sponsorship(sponsor, make_prisoner(name_latin="Ihar Losik"))
    asked = letter(pairing, monday - timedelta(days=45))
    letter(pairing, monday - timedelta(days=20))  # too early to ask
    letter(pairing, monday - timedelta(days=50), LetterOutcome.DELIVERED)  # answered
    letter(pairing, monday - timedelta(days=200))  # asked long enough
    quiet = make_sponsorship(make_sponsor(), make_prisoner())
    letter(quiet, monday - timedelta(days=10))
    due = plan([rule], monday, monday + timedelta(days=2))
    assert sorted(d.recipient.email for d in due) == sorted([sponsor.email, german.email])
    assert {d.event.subject_ref for d in due} == {f"letters:{sponsor.id}"}
    written = render_due(due, monday)
    english = written[next(d.key for d in due if d.recipient.email == sponsor.email)]
    assert isinstance(english, Rendered), english
    assert english.subject == "Did your letter arrive?"
    links = re.findall(
        r"http://godparents.test/sponsor/actions/(\d+)/outcome\?answer=(\w+)", english.text
    )
    assert {int(action) for action, _answer in links} == {asked.id}
    assert [answer for _action, answer in links] == [a.value for a in outcomes.ANSWERS]
    assert "Returned" in english.html and "Censored" in english.html
    deutsch = written[next(d.key for d in due if d.recipient.email == german.email)]
    assert isinstance(deutsch, Rendered) and "Guten Tag," in deutsch.text


def test_the_weekly_question_can_be_switched_off(app: Flask) -> None:
    monday = date(2026, 11, 30)
    rule = _question_rule()
    sponsor = make_sponsor()
    sponsor.user.reminder_opt_outs = [Trigger.LETTER_OUTCOMES.value]
    db.session.commit()
    letter(make_sponsorship(sponsor, make_prisoner()), monday - timedelta(days=45))
    assert plan([rule], monday, monday) == []


def test_the_coordinators_digest_lists_letters_that_came_back(app: Flask) -> None:
    monday = date(2026, 11, 30)
    pairing = make_sponsorship(
        make_sponsor(full_name="Anna Schmidt"), make_prisoner(name_latin="Ihar Losik")
    )
    letter(
        pairing,
        monday - timedelta(days=50),
        LetterOutcome.CENSORED,
        outcome_on=monday - timedelta(days=2),
    )
    letter(
        pairing,
        monday - timedelta(days=60),
        LetterOutcome.RETURNED,
        outcome_on=monday - timedelta(days=30),
    )
    weekly = digest(monday, monday)
    assert weekly.letters_back_count == 1
    rule = ReminderRule(
        name="Weekly digest",
        trigger=Trigger.COORDINATOR_DIGEST,
        template="coordinator_digest",
        to_sponsor=False,
        to_coordinators=True,
    )
    db.session.add(rule)
    db.session.commit()
    coordinator = make_coordinator()
    due = Due(rule, Recipient.of(coordinator), Event(monday, "campaign"), monday)
    written = render_due([due], monday)[due.key]
    assert isinstance(written, Rendered), written
    assert "1 letter returned or censored in the last 7 days" in written.text
    assert "CENSORED · Ihar Losik · Anna Schmidt" in written.text
    assert "<strong>Censored</strong> · Ihar Losik" in written.html
