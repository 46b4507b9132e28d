"""Planning reminders: the right people, on the right day, once; missed days caught up,
nothing for what is past, 29 February, the campaign's midnight, and the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from godparents.actions.models import Action, ActionKind
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind, PrisonerStatus
from godparents.reminders import runner as job
from godparents.reminders.models import (
    CampaignDay,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    Trigger,
)
from godparents.reminders.planner import Due, plan
from godparents.sponsorships.models import SponsorshipStatus
from godparents.timeutil import campaign_today
from tests.conftest import ENCRYPTION_KEY
from tests.factories import (
    make_coordinator,
    make_default_rules,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture
def rules(app: Flask) -> dict[str, ReminderRule]:
    """The seeded rules by name."""
    return {rule.name: rule for rule in make_default_rules()}


def _pair(**prisoner: object):
    sponsor = make_sponsor()
    held = make_prisoner(**prisoner)
    return sponsor, held, make_sponsorship(sponsor, held)


def _due(rule: ReminderRule, day: date, start: date | None = None) -> list[Due]:
    return plan([rule], start or day, day)


def _emails(items: list[Due]) -> list[str]:
    return sorted(item.recipient.email for item in items)


def test_birthday_card_goes_30_days_ahead_to_the_godparent_and_the_office(rules):
    sponsor, _prisoner, _pairing = _pair(birth_date=date(1980, 12, 26))
    delegate = make_delegate(sponsor)
    card = rules["Birthday card"]

    due = _due(card, date(2026, 11, 26))

    assert _emails(due) == sorted([sponsor.email, delegate.email])
    assert {item.event.on for item in due} == {date(2026, 12, 26)}
    assert due[0].event.number == 46
    assert _due(card, date(2026, 11, 25)) == []
    assert _due(card, date(2026, 11, 27)) == []


def test_each_recipient_chooses_their_own_birthday_card_lead_time(rules):
    sponsor, _prisoner, _pairing = _pair(birth_date=date(1980, 12, 26))
    sponsor.user.birthday_card_days = 45
    delegate = make_delegate(sponsor)  # keeps the default, 30
    db.session.commit()
    card = rules["Birthday card"]

    assert _emails(_due(card, date(2026, 11, 11))) == [sponsor.email]
    assert _emails(_due(card, date(2026, 11, 26))) == [delegate.email]


def test_29_february_is_28_february_in_common_years(rules):
    _pair(birth_date=date(2000, 2, 29))
    greeting, card = rules["Birthday greeting"], rules["Birthday card"]

    assert [item.event.on for item in _due(greeting, date(2027, 2, 28))] == [date(2027, 2, 28)]
    assert _due(greeting, date(2027, 3, 1)) == []
    assert [item.event.on for item in _due(card, date(2027, 1, 29))] == [date(2027, 2, 28)]
    # In a leap year the birthday is the 29th, and the 28th is an ordinary day.
    assert _due(greeting, date(2028, 2, 28)) == []
    assert [item.event.number for item in _due(greeting, date(2028, 2, 29))] == [28]


@pytest.mark.parametrize(
    "change", ["released", "ended", "inactive_user", "opted_out", "inactive_sponsor"]
)
def test_nothing_for_released_prisoners_ended_pairings_or_people_who_said_no(rules, change):
    sponsor, prisoner, pairing = _pair(birth_date=date(1980, 12, 26))
    greeting = rules["Birthday greeting"]
    assert len(_due(greeting, date(2026, 12, 26))) == 1
    if change == "released":
        prisoner.status = PrisonerStatus.RELEASED
    elif change == "ended":
        pairing.status, pairing.ended_on = SponsorshipStatus.ENDED, date(2026, 12, 1)
    elif change == "inactive_user":
        sponsor.user.is_active = False
    elif change == "opted_out":
        sponsor.user.reminder_opt_outs = [Trigger.BIRTHDAY.value]
    else:
        sponsor.is_active = False
    db.session.commit()

    assert _due(greeting, date(2026, 12, 26)) == []


def test_an_opt_out_of_one_kind_keeps_the_others(rules):
    sponsor, _prisoner, _pairing = _pair(
        birth_date=date(1980, 12, 26), detained_on=date(2021, 12, 3)
    )
    sponsor.user.reminder_opt_outs = [Trigger.BIRTHDAY.value]
    db.session.commit()

    assert _due(rules["Birthday card"], date(2026, 11, 26)) == []
    assert len(_due(rules["Detention anniversary, a week before"], date(2026, 11, 26))) == 1


def test_detention_anniversaries_and_milestones(rules):
    detained = date(2021, 12, 3)
    _pair(detained_on=detained)
    week_before = rules["Detention anniversary, a week before"]
    on_the_day = rules["Detention anniversary, on the day"]
    milestone = rules["Days in detention"]

    assert [item.event.number for item in _due(week_before, date(2026, 11, 26))] == [5]
    assert [item.event.on for item in _due(on_the_day, date(2026, 12, 3))] == [date(2026, 12, 3)]
    thousand_five_hundred = detained + timedelta(days=1500)
    due = _due(milestone, thousand_five_hundred - timedelta(days=3))
    assert [(item.event.on, item.event.number) for item in due] == [(thousand_five_hundred, 1500)]
    assert _due(milestone, thousand_five_hundred - timedelta(days=2)) == []


def test_trials_and_hearings_a_week_and_a_day_before_and_the_release_two_weeks(rules):
    _sponsor, prisoner, _pairing = _pair(expected_release_on=date(2027, 3, 1))
    trial = KeyDate(
        prisoner=prisoner,
        kind=KeyDateKind.TRIAL,
        occurs_on=date(2026, 12, 10),
        note="Minsk city court",
    )
    db.session.add(trial)
    db.session.commit()

    week = _due(rules["Trial or hearing, a week before"], date(2026, 12, 3))
    assert [(item.event.subject_ref, item.event.note) for item in week] == [
        (f"key_date:{trial.id}", "Minsk city court")
    ]
    assert len(_due(rules["Trial or hearing, the day before"], date(2026, 12, 9))) == 1
    assert _due(rules["Expected release"], date(2026, 12, 3)) == []
    release = _due(rules["Expected release"], date(2027, 2, 15))
    assert [item.event.subject_ref for item in release] == [f"release:{prisoner.id}"]


def test_campaign_days_go_to_every_active_godparent(rules):
    paired, _prisoner, _pairing = _pair()
    unpaired = make_sponsor()
    make_sponsor(is_active=False)
    make_sponsor(with_login=False)
    db.session.add(CampaignDay(name="Day of solidarity with Belarus", month=8, day=9))
    db.session.commit()

    due = _due(rules["Campaign day"], date(2027, 8, 2))

    assert _emails(due) == sorted([paired.email, unpaired.email])


def _log(pairing, on: date) -> None:
    db.session.add(
        Action(sponsorship=pairing, kind=ActionKind.LETTER, occurred_on=on, summary="A letter")
    )
    db.session.commit()


def test_a_nudge_after_60_quiet_days_and_every_60_days_after(rules):
    _sponsor, _prisoner, pairing = _pair()
    _log(pairing, date(2026, 6, 1))
    nudge = rules["Nothing logged for a while"]
    sixty = date(2026, 6, 1) + timedelta(days=60)

    assert [item.event.number for item in _due(nudge, sixty)] == [60]
    assert _due(nudge, sixty + timedelta(days=30)) == []
    assert [item.event.number for item in _due(nudge, sixty + timedelta(days=60))] == [120]
    _log(pairing, sixty + timedelta(days=10))
    assert _due(nudge, sixty + timedelta(days=60)) == []


def test_a_pairing_with_nothing_logged_is_quiet_since_its_start(rules):
    _sponsor, _prisoner, pairing = _pair()
    started = pairing.started_on

    assert len(_due(rules["Nothing logged for a while"], started + timedelta(days=60))) == 1


def test_welcome_on_the_start_and_a_follow_up_only_if_nothing_was_logged(rules):
    _sponsor, _prisoner, pairing = _pair()
    pairing.started_on = date(2026, 11, 26)
    quiet_sponsor, _other, quiet = _pair()
    quiet.started_on = date(2026, 11, 26)
    db.session.commit()
    _log(pairing, date(2026, 11, 30))

    welcome = _due(rules["Welcome"], date(2026, 11, 26))
    follow_up = _due(rules["First steps, two weeks later"], date(2026, 12, 10))

    assert len(welcome) == 2
    assert _emails(follow_up) == [quiet_sponsor.email]


def test_the_weekly_digest_goes_to_coordinators_on_monday_and_late_within_the_week(rules):
    coordinator = make_coordinator()
    make_coordinator(is_active=False)
    _pair()
    digest = rules["Weekly digest"]
    monday = date(2026, 11, 30)

    assert _emails(_due(digest, monday)) == [coordinator.email]
    assert _due(digest, monday + timedelta(days=1)) == []  # the run on Monday sent it
    missed = _due(digest, monday + timedelta(days=2), start=monday - timedelta(days=1))
    assert [item.event.on for item in missed] == [monday]


def _run(day: date, dry_run: bool = False) -> job.RunReport:
    return job.run(day, NOW, dry_run=dry_run)


def _outbox_keys() -> list[tuple[date, int, int, str]]:
    return sorted(
        tuple(row)
        for row in db.session.execute(
            select(
                OutboxMessage.occurs_on,
                OutboxMessage.rule_id,
                OutboxMessage.recipient_user_id,
                OutboxMessage.subject_ref,
            )
        )
    )


def test_two_runs_on_one_day_plan_each_reminder_once(rules):
    _pair(birth_date=date(1980, 12, 26))

    first = _run(date(2026, 11, 26))
    second = _run(date(2026, 11, 26))

    assert len(first.planned.new) == 1
    assert first.delivered.sent == 1
    assert len(second.planned.due) == 1 and second.planned.new == []
    assert second.delivered.attempted == 0
    [row] = db.session.scalars(select(OutboxMessage)).all()
    # Stored as the models read them back, whichever way the rows went in.
    assert (row.occurs_on, row.created_at, row.status) == (
        date(2026, 12, 26),
        NOW,
        OutboxStatus.SENT,
    )


def test_missed_days_are_caught_up_but_nothing_past_is_reminded(rules):
    _sponsor, prisoner, _pairing = _pair(birth_date=date(1980, 12, 28))
    db.session.add(
        KeyDate(prisoner=prisoner, kind=KeyDateKind.HEARING, occurs_on=date(2026, 11, 28))
    )
    db.session.commit()
    _run(date(2026, 11, 26))
    assert _outbox_keys() == []

    # No run on the 27th, 28th and 29th. The card (due on the 28th, birthday on 28 Dec) is
    # still useful; the hearing of the 28th (reminded the day before) is over.
    report = _run(date(2026, 11, 30))

    assert report.planned.start == date(2026, 11, 26)
    assert [(item.rule.template, item.send_on) for item in report.planned.new] == [
        ("birthday_card", date(2026, 11, 28))
    ]
    assert report.delivered.sent == 1


def test_the_grace_window_limits_how_far_back_a_run_catches_up(rules):
    _pair(birth_date=date(1980, 12, 20))  # card due on 20 November
    late = make_prisoner(birth_date=date(1980, 12, 25))  # card due on 25 November
    make_sponsorship(make_sponsor(), late)
    _run(date(2026, 11, 1))

    report = _run(date(2026, 11, 30))

    assert report.planned.start == date(2026, 11, 23)  # seven days back, not to the 1st
    assert [item.event.on for item in report.planned.new] == [date(2026, 12, 25)]


def test_a_run_just_before_and_just_after_midnight_in_the_campaigns_time_zone(rules):
    _pair(birth_date=date(1980, 12, 26))
    # 23:59 in Berlin on 25 December is 22:59 UTC; a minute later it is the 26th there.
    before = datetime(2026, 12, 25, 22, 59, tzinfo=UTC)
    after = datetime(2026, 12, 25, 23, 0, tzinfo=UTC)

    assert campaign_today("Europe/Berlin", before) == date(2026, 12, 25)
    early = job.run(campaign_today("Europe/Berlin", before), before)
    assert [item.rule.template for item in early.planned.new] == []
    late = job.run(campaign_today("Europe/Berlin", after), after)
    assert [item.rule.template for item in late.planned.new] == ["birthday"]


def test_a_dry_run_prints_the_plan_and_writes_and_sends_nothing(
    rules, runner: FlaskCliRunner, smtp_server
):
    _pair(birth_date=date(1980, 12, 26))

    result = runner.invoke(args=["reminders", "run", "--today", "2026-11-26", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "would plan: 2026-11-26" in result.output
    assert "1 new of 1 due (dry run: nothing written, nothing sent)" in result.output
    assert _outbox_keys() == []
    assert db.session.scalar(select(func.count()).select_from(ReminderRun)) == 0
    assert smtp_server.inbox.messages == []


def test_the_command_plans_and_sends(rules, runner: FlaskCliRunner, smtp_server):
    sponsor, _prisoner, _pairing = _pair(birth_date=date(1980, 12, 26))
    email = sponsor.email  # the command closes the session it shares with the test

    result = runner.invoke(args=["reminders", "run", "--today", "2026-11-26"])

    assert result.exit_code == 0, result.output
    assert "planned: 2026-11-26" in result.output
    assert "written 1, could not write 0" in result.output
    assert "sent 1, to retry 0, failed 0" in result.output
    assert [message["To"] for message in smtp_server.inbox.messages] == [email]
    again = runner.invoke(args=["reminders", "run", "--today", "2026-11-26"])
    assert "already planned" in again.output and "0 new of 1 due" in again.output
    assert len(smtp_server.inbox.messages) == 1


def test_the_command_refuses_a_date_that_is_not_one(runner: FlaskCliRunner):
    result = runner.invoke(args=["reminders", "run", "--today", "2026-02-30"])

    assert result.exit_code == 2
    assert "2026-02-30" in result.output


def test_the_worker_runs_on_a_loop_until_told_to_stop(rules, smtp_server, database_url):
    """The real command in a process of its own, as a host without cron would run it: it
    plans and sends, waits, and ends cleanly on SIGTERM."""
    today = campaign_today("Europe/Berlin")  # the worker's today: the real one
    born = today.replace(year=1980, day=28 if (today.month, today.day) == (2, 29) else today.day)
    sponsor, _prisoner, _pairing = _pair(birth_date=born)
    email = sponsor.email
    root = Path(__file__).resolve().parents[2]
    env = {
        "GODPARENTS_SECRET_KEY": "x" * 40,
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": database_url,
        "GODPARENTS_MAIL_SERVER": smtp_server.host,
        "GODPARENTS_MAIL_PORT": str(smtp_server.port),
        "GODPARENTS_BASE_URL": "http://godparents.test",
        "PATH": str(Path(sys.executable).parent),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "godparents",
            "reminders",
            "worker",
            "--interval",
            "30",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = worker.stdout.readline()  # the run's summary line, after the first run
        assert "finished; planned 1, written 1" in first and "sent 1" in first, first
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        errors = worker.stderr.read()
    finally:
        worker.kill()
        worker.stdout.close()
        worker.stderr.close()
    assert worker.returncode == 0, errors
    assert [message["To"] for message in smtp_server.inbox.messages] == [email]
