"""The inactivity nudge counts: how long it has been, which nudge of how many this is
(the words change from the first to the last), and the pairings whose last nudge went
out, for the coordinators' digest: after it, a person decides what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from godparents.actions.models import Action
from godparents.extensions import db
from godparents.prisoners.models import Prisoner
from godparents.reminders import events
from godparents.reminders.models import ReminderRule, Trigger
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship


@dataclass(frozen=True)
class Nudge:
    """One inactivity nudge: the ``count``-th of ``total``, ``quiet_days`` after ``since``
    (the last thing logged, or the start when nothing was)."""

    count: int
    total: int
    quiet_days: int
    since: date | None
    logged_before: bool

    @property
    def stage(self) -> str:
        """ "first", "again" or "last": which words the email uses."""
        if self.count >= self.total:
            return "last"
        return "first" if self.count <= 1 else "again"

    @property
    def quiet(self) -> timedelta:
        return timedelta(days=self.quiet_days)


def period_of(rule: ReminderRule) -> int:
    """Days between nudges: the rule's offset ("60 days after the last action")."""
    return max(-rule.offset_days, 1)


def nudge_for(rule: ReminderRule, event: events.Event) -> Nudge:
    """The nudge ``rule`` sends on ``event.on`` for the event's pairing, read from the
    pairing's actions (so a retried message, whose event is rebuilt without its number,
    says the same)."""
    period = period_of(rule)
    last_on = (
        db.session.scalar(
            select(func.max(Action.occurred_on)).where(
                Action.sponsorship_id == event.sponsorship_id, Action.occurred_on <= event.on
            )
        )
        if event.sponsorship_id is not None
        else None
    )
    started = (
        db.session.scalar(
            select(Sponsorship.started_on).where(Sponsorship.id == event.sponsorship_id)
        )
        if event.sponsorship_id is not None
        else None
    )
    logged_before = last_on is not None and (started is None or last_on >= started)
    since = last_on if logged_before else started
    if event.number is not None:
        quiet_days = event.number
    elif since is not None:
        quiet_days = (event.on - since).days
    else:
        quiet_days = period
    count = min(max(round(quiet_days / period), 1), events.MAX_NUDGES)
    return Nudge(count, events.MAX_NUDGES, quiet_days, since, logged_before)


@dataclass(frozen=True)
class LastNudge:
    """A pairing whose last nudge went out in the week before the digest."""

    on: date
    sponsor: Sponsor
    prisoner: Prisoner
    quiet_days: int

    @property
    def quiet(self) -> timedelta:
        return timedelta(days=self.quiet_days)


def last_nudges(monday: date, limit: int) -> tuple[int, list[LastNudge]]:
    """The pairings that got their last nudge from the Monday before ``monday`` to the
    Sunday before it (each switched-on inactivity rule's last), how many and the first
    ``limit``: their godparents have been told for the last time, and a coordinator
    should get in touch."""
    start, end = monday - timedelta(days=7), monday - timedelta(days=1)
    found: dict[int, events.Event] = {}
    rules = db.session.scalars(
        select(ReminderRule).where(
            ReminderRule.trigger == Trigger.INACTIVITY, ReminderRule.is_active.is_(True)
        )
    )
    for period in sorted({period_of(rule) for rule in rules}):
        for event in events.quiet_pairings(start, end, period):
            if event.number == period * events.MAX_NUDGES and event.sponsorship_id:
                found.setdefault(event.sponsorship_id, event)
    chosen = sorted(found.values(), key=lambda e: (e.on, e.sponsorship_id or 0))[:limit]
    sponsors = {
        s.id: s
        for s in db.session.scalars(
            select(Sponsor).where(Sponsor.id.in_({e.sponsor_id for e in chosen}))
        )
    }
    prisoners = {
        p.id: p
        for p in db.session.scalars(
            select(Prisoner).where(Prisoner.id.in_({e.prisoner_id for e in chosen}))
        )
    }
    rows = [
        LastNudge(event.on, sponsors[event.sponsor_id], prisoners[event.prisoner_id], event.number)
        for event in chosen
        if event.sponsor_id in sponsors
        and event.prisoner_id in prisoners
        and event.number is not None
    ]
    return len(found), rows
