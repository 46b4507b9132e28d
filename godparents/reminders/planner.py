"""Planning: which reminders fall due from ``start`` to ``today``, and to whom. Reads only.

A reminder is due when its send date (the event's date minus the rule's offset) lies in
the window. Dated events (birthdays, anniversaries, milestones, key dates, the expected
release, campaign days) are never reminded once they have passed; the welcome, the
follow-up, the nudge and the digest are about the present, so a missed day still sends
them as long as they hold (the pairing is active, still nothing logged, the same week).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Text, bindparam, select, type_coerce

from godparents.actions import outcomes
from godparents.auth.models import Role, User
from godparents.reminders import events
from godparents.reminders.defaults import PERSONAL_LEAD_TEMPLATES
from godparents.reminders.events import Event
from godparents.reminders.models import ReminderRule, Trigger, UndeliverableAddress
from godparents.sponsors.models import Delegation, Sponsor

DATED = frozenset(
    {
        Trigger.BIRTHDAY,
        Trigger.DETENTION_ANNIVERSARY,
        Trigger.DETENTION_MILESTONE,
        Trigger.KEY_DATE,
        Trigger.CAMPAIGN_DAY,
    }
)
DIGEST_WEEKDAY = 0  # Monday
# Triggers whose day, once planned, need not be planned again (see ``plan``).
PLANNED_ONCE = frozenset(
    {
        Trigger.BIRTHDAY,
        Trigger.DETENTION_ANNIVERSARY,
        Trigger.DETENTION_MILESTONE,
        Trigger.INACTIVITY,
    }
)


@dataclass(frozen=True)
class Recipient:
    """Who gets a reminder: the few facts planning needs, read as plain columns (loading
    thousands of accounts as ORM objects was most of a day's planning time)."""

    user_id: int
    email: str
    locale: str
    opt_outs: frozenset[str] = frozenset()
    card_days: int = 30  # their own lead time for the birthday card
    sponsor_id: int | None = None  # set when they are the godparent themselves

    @classmethod
    def of(cls, user: User, email: str | None = None, sponsor: Sponsor | None = None) -> Recipient:
        return cls(
            user.id,
            email or user.email,
            user.locale,
            frozenset(user.reminder_opt_outs or ()),
            user.birthday_card_days,
            sponsor.id if sponsor is not None else None,
        )

    def wants(self, trigger: Trigger) -> bool:
        return trigger.value not in self.opt_outs


@dataclass(frozen=True)
class Due:
    """One reminder to one person: becomes one outbox message."""

    rule: ReminderRule
    recipient: Recipient
    event: Event
    send_on: date
    # What the outbox is unique over (occurrence, rule, recipient, subject): the same
    # reminder never twice. Set once when made: every reminder planned is told apart by it.
    key: tuple[date, int, int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "key",
            (self.event.on, self.rule.id, self.recipient.user_id, self.event.subject_ref),
        )


@dataclass
class Teams:
    """Who hears about a godparent's godchildren, loaded once per plan."""

    sponsors: dict[int, Recipient] = field(default_factory=dict)
    delegates: dict[int, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    coordinators: list[Recipient] = field(default_factory=list)
    # Addresses that bounced for good (lower-cased): nothing is planned for them.
    undeliverable: frozenset[str] = frozenset()

    def for_event(self, rule: ReminderRule, event: Event) -> list[Recipient]:
        trigger = rule.trigger
        if trigger is Trigger.COORDINATOR_DIGEST:
            return list(self.coordinators) if rule.to_coordinators else []
        team_ids = [event.sponsor_id] if event.sponsor_id is not None else list(self.sponsors)
        to_sponsor, to_delegates = rule.to_sponsor, rule.to_delegates
        sponsors, delegates = self.sponsors, self.delegates
        found = []
        for sponsor_id in team_ids:
            if to_sponsor and sponsor_id in sponsors:
                found.append(sponsors[sponsor_id])
            if to_delegates and sponsor_id in delegates:
                found.extend(delegates[sponsor_id])
        if rule.to_coordinators:
            found.extend(self.coordinators)
        kind = trigger.value  # as ``Recipient.wants``, once per event instead of per person
        if self.undeliverable:
            return [
                recipient
                for recipient in found
                if kind not in recipient.opt_outs
                and recipient.email.lower() not in self.undeliverable
            ]
        return [recipient for recipient in found if kind not in recipient.opt_outs]


# The opt-outs as the JSON text they are stored as: a handful of distinct values, each
# decoded once (``_opt_outs``) rather than once per row, thousands of rows a day.
_RECIPIENT_COLUMNS = (
    User.id,
    User.email,
    User.locale,
    type_coerce(User.reminder_opt_outs, Text).label("reminder_opt_outs"),
    User.birthday_card_days,
)


@lru_cache(maxsize=256)
def _decoded_opt_outs(stored: str) -> frozenset[str]:
    return frozenset(json.loads(stored) or ())


def _opt_outs(stored: Any) -> frozenset[str]:
    """The stored opt-outs as a set: JSON text on SQLite, already a list on PostgreSQL,
    whose driver decodes JSON columns itself."""
    if isinstance(stored, str):
        return _decoded_opt_outs(stored)
    return frozenset(stored or ())


def _recipient(
    user_id: int,
    email: str,
    locale: str,
    opt_outs: Any,
    card_days: int,
    *,
    contact: str | None = None,
    sponsor_id: int | None = None,
) -> Recipient:
    """A recipient from the values of ``_RECIPIENT_COLUMNS`` (taken from the rows as
    tuples: reading a row's values by name cost more than the rest of the work)."""
    return Recipient(user_id, contact or email, locale, _opt_outs(opt_outs), card_days, sponsor_id)


@cache
def _team_statements(chosen: bool) -> tuple[Any, Any]:
    """The godparents' own logins and their delegates': of the chosen godparents (their
    ids given at execution as ``sponsors``), or of all active ones. Built once."""
    sponsors = (
        select(Sponsor.id.label("sponsor_id"), Sponsor.email.label("contact"), *_RECIPIENT_COLUMNS)
        .join(User, User.id == Sponsor.user_id)
        .where(Sponsor.is_active.is_(True), User.is_active.is_(True))
    )
    delegates = (
        select(Delegation.sponsor_id, *_RECIPIENT_COLUMNS)
        .join(User, User.id == Delegation.user_id)
        .join(Sponsor, Sponsor.id == Delegation.sponsor_id)
        .where(Sponsor.is_active.is_(True), User.is_active.is_(True))
    )
    if chosen:
        wanted = bindparam("sponsors", expanding=True, type_=Sponsor.id.type)
        sponsors = sponsors.where(Sponsor.id.in_(wanted))
        delegates = delegates.where(Delegation.sponsor_id.in_(wanted))
    return sponsors, delegates


@cache
def _coordinators_statement() -> Any:
    return (
        select(*_RECIPIENT_COLUMNS)
        .where(User.role == Role.COORDINATOR, User.is_active.is_(True))
        .order_by(User.id)
    )


def load_teams(sponsor_ids: Iterable[int] | None, coordinators: bool = True) -> Teams:
    """The active logins of these godparents' teams (all active godparents if None), and
    of the coordinators if asked."""
    teams = Teams()
    sponsors, delegates = _team_statements(sponsor_ids is not None)
    values = {} if sponsor_ids is None else {"sponsors": sorted(set(sponsor_ids))}
    for sponsor_id, contact, *user in events.columns(sponsors, values):
        teams.sponsors[sponsor_id] = _recipient(*user, contact=contact, sponsor_id=sponsor_id)
    for sponsor_id, *user in events.columns(delegates, values):
        teams.delegates[sponsor_id].append(_recipient(*user))
    if coordinators:
        teams.coordinators = [
            _recipient(*user) for user in events.columns(_coordinators_statement())
        ]
    teams.undeliverable = frozenset(
        email.lower() for email in events.columns(_undeliverable_statement()).scalars()
    )
    return teams


@cache
def _undeliverable_statement() -> Any:
    return select(UndeliverableAddress.email)


def _leads(rule: ReminderRule) -> list[int]:
    """The lead times in play: the rule's, or every recipient's own birthday-card setting."""
    if rule.template not in PERSONAL_LEAD_TEMPLATES:
        return [rule.offset_days]
    return _personal_leads() or [rule.offset_days]


def _personal_leads() -> list[int]:
    return sorted(set(events.columns(_personal_leads_statement()).scalars()))


@cache
def _personal_leads_statement() -> Any:
    return (
        select(User.birthday_card_days)
        .distinct()
        .where(User.is_active.is_(True), User.role.in_([Role.SPONSOR, Role.DELEGATE]))
    )


def _lead_for(rule: ReminderRule, recipient: Recipient) -> int:
    if rule.template in PERSONAL_LEAD_TEMPLATES:
        return recipient.card_days
    return rule.offset_days


def _event_range(rule: ReminderRule, start: date, today: date) -> events.Range | None:
    """The days the rule's events can fall on for a send date from start to today."""
    if rule.trigger in DATED:
        leads = _leads(rule)
        first = max(start + timedelta(days=min(leads)), today)  # never what is past
        last = today + timedelta(days=max(leads))
        return (first, last) if first <= last else None
    if rule.trigger is Trigger.SPONSORSHIP_START:
        after = timedelta(days=max(-rule.offset_days, 0))
        return start - after, today - after
    return start, today


_FINDERS = {
    Trigger.BIRTHDAY: events.birthdays,
    Trigger.DETENTION_ANNIVERSARY: events.detention_anniversaries,
    Trigger.DETENTION_MILESTONE: events.detention_milestones,
    Trigger.CAMPAIGN_DAY: events.campaign_days,
}


def _events(
    trigger: Trigger, rules: list[ReminderRule], start: date, today: date
) -> Iterator[tuple[ReminderRule, Event]]:
    """Each rule's events whose send date can fall from start to today; one query for all
    the rules of a trigger where one does (the card and the greeting read birthdays once)."""
    ranges: dict[int, events.Range] = {}
    for rule in rules:
        if (span := _event_range(rule, start, today)) is not None:
            ranges[rule.id] = span
    wanted = [rule for rule in rules if rule.id in ranges]
    if not wanted:
        return
    spans = sorted({ranges[rule.id] for rule in wanted})

    def within(rule: ReminderRule, found: Iterable[Event]) -> Iterator[tuple[ReminderRule, Event]]:
        first, last = ranges[rule.id]
        return ((rule, event) for event in found if first <= event.on <= last)

    if trigger in _FINDERS:
        found = _FINDERS[trigger](spans)
        for rule in wanted:
            yield from within(rule, found)
    elif trigger is Trigger.KEY_DATE:
        everything = any(not rule.key_date_kinds for rule in wanted)
        kinds = [] if everything else sorted({k for rule in wanted for k in rule.key_date_kinds})
        found = events.key_dates(spans, kinds)
        for rule in wanted:
            chosen = set(rule.key_date_kinds)
            yield from within(
                rule, [event for event in found if not chosen or event.kind in chosen]
            )
    elif trigger is Trigger.SPONSORSHIP_START:
        for follow_up in (False, True):
            group = [rule for rule in wanted if (rule.offset_days < 0) is follow_up]
            if group:
                found = events.pairing_starts(
                    sorted({ranges[rule.id] for rule in group}), without_actions=follow_up
                )
                for rule in group:
                    yield from within(rule, found)
    elif trigger is Trigger.INACTIVITY:
        for rule in wanted:
            found = events.quiet_pairings(start, today, max(-rule.offset_days, 1))
            yield from ((rule, event) for event in found)
    elif trigger is Trigger.COORDINATOR_DIGEST:
        # This week's Monday, if it is in the window: the digest is good all week.
        monday = today - timedelta(days=(today.weekday() - DIGEST_WEEKDAY) % 7)
        if monday >= start:
            for rule in wanted:
                yield rule, Event(monday, "campaign")
    elif trigger is Trigger.LETTER_OUTCOMES:
        # Monday's question, good all week, to each team with a letter to ask about.
        monday = today - timedelta(days=(today.weekday() - DIGEST_WEEKDAY) % 7)
        if monday >= start:
            for sponsor_id in outcomes.teams_with_unanswered(monday):
                event = Event(monday, f"letters:{sponsor_id}", sponsor_id=sponsor_id)
                for rule in wanted:
                    yield rule, event
    elif trigger.is_notice:
        return  # written when the change is saved (notices.py), never planned
    else:
        raise ValueError(trigger)


def _send_on(rule: ReminderRule, event: Event, recipient: Recipient) -> date:
    if rule.trigger in DATED:
        return event.on - timedelta(days=_lead_for(rule, recipient))
    if rule.trigger is Trigger.SPONSORSHIP_START:
        return event.on + timedelta(days=max(-rule.offset_days, 0))
    return event.on  # the nudge's day, the digest's Monday


def plan(
    rules: Iterable[ReminderRule], start: date, today: date, planned_before: date | None = None
) -> list[Due]:
    """Every reminder of these rules due from ``start`` to ``today`` (the campaign's days).

    ``planned_before`` is a day an earlier run planned already. It is looked at again for
    what people type in during a day and can be due the same day (a hearing entered in the
    afternoon, a pairing made, a campaign day added); the prisoners' own dates and the nudge
    skip it, as nothing typed in later changes them.
    """
    by_trigger: dict[Trigger, list[ReminderRule]] = defaultdict(list)
    for rule in rules:
        by_trigger[rule.trigger].append(rule)
    found: list[tuple[ReminderRule, Event]] = []
    for trigger, group in by_trigger.items():
        first = start
        if trigger in PLANNED_ONCE and planned_before == start and start < today:
            first = start + timedelta(days=1)
        found.extend(_events(trigger, group, first, today))
    if not found:
        return []
    everyone = any(
        event.sponsor_id is None and rule.trigger is Trigger.CAMPAIGN_DAY for rule, event in found
    )
    teams = load_teams(
        None if everyone else (event.sponsor_id for _rule, event in found if event.sponsor_id),
        coordinators=any(rule.to_coordinators for rule, _event in found),
    )
    due: dict[tuple[date, int, int, str], Due] = {}
    for rule, event in found:
        if rule.trigger in DATED and event.on < today:
            continue  # never a reminder for something that already happened
        recipients = teams.for_event(rule, event)
        if not recipients:
            continue
        # The send date depends on the person only for a lead time of their own.
        same = (
            None
            if rule.template in PERSONAL_LEAD_TEMPLATES
            else _send_on(rule, event, recipients[0])
        )
        for recipient in recipients:
            send_on = same or _send_on(rule, event, recipient)
            if not start <= send_on <= today:
                continue
            item = Due(rule, recipient, event, send_on)
            due.setdefault(item.key, item)  # one message even if two pairings lead to it
    order = {rule: rule.id for rule, _event in found}
    return sorted(due.values(), key=lambda item: (item.send_on, order[item.rule], item.key))
