"""What became of letters: the last twelve months' figures per prisoner and per facility,
the letters still waiting for an answer, and the ones that came back or were censored.

The figures stand beside the coordinators' own word on whether letters get through
(``Prisoner.can_receive_letters``: yes, no, or not known), so that a godparent sees both
("3 of 5 letters since June arrived, 1 returned").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.extensions import db
from godparents.prisoners.models import Facility, Prisoner, PrisonerAddress
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship
from godparents.timeutil import local_today

PERIOD_DAYS = 365
MAIL_KINDS = (ActionKind.LETTER, ActionKind.CARD, ActionKind.PARCEL)
ARRIVED = frozenset({LetterOutcome.DELIVERED, LetterOutcome.REPLY_RECEIVED})
CAME_BACK = frozenset({LetterOutcome.RETURNED, LetterOutcome.CENSORED})
# Answers offered for a letter that has none yet, in the weekly question.
ANSWERS = (
    LetterOutcome.DELIVERED,
    LetterOutcome.REPLY_RECEIVED,
    LetterOutcome.RETURNED,
    LetterOutcome.CENSORED,
    LetterOutcome.UNKNOWN,
)
# A letter is asked about from six weeks after it was posted, for so many weeks.
ASK_WEEKS = 8


@dataclass(frozen=True)
class Figures:
    """Letters, cards and parcels of a period and what became of them."""

    since: date  # the first one's day
    total: int
    arrived: int
    returned: int
    censored: int

    @property
    def waiting(self) -> int:
        return self.total - self.arrived - self.returned - self.censored


def _since(today: date) -> date:
    return today - timedelta(days=PERIOD_DAYS)


def _figures(rows: Iterable[tuple[Any, ...]]) -> dict[int, Figures]:
    """(key, outcome, count, first day) rows into figures per key."""
    counts: dict[int, dict[LetterOutcome | None, int]] = {}
    first: dict[int, date] = {}
    for key, outcome, count, earliest in rows:
        counts.setdefault(key, {})[outcome] = count
        first[key] = min(first.get(key, earliest), earliest)
    return {
        key: Figures(
            first[key],
            sum(found.values()),
            sum(found.get(o, 0) for o in ARRIVED),
            found.get(LetterOutcome.RETURNED, 0),
            found.get(LetterOutcome.CENSORED, 0),
        )
        for key, found in counts.items()
    }


def for_prisoners(prisoner_ids: list[int], today: date) -> dict[int, Figures]:
    """Each prisoner's last twelve months, whoever wrote: one grouped query."""
    if not prisoner_ids:
        return {}
    return _figures(
        db.session.execute(
            select(
                Sponsorship.prisoner_id,
                Action.letter_outcome,
                func.count(),
                func.min(Action.occurred_on),
            )
            .join(Sponsorship, Sponsorship.id == Action.sponsorship_id)
            .where(
                Sponsorship.prisoner_id.in_(sorted(set(prisoner_ids))),
                Action.kind.in_(MAIL_KINDS),
                Action.occurred_on >= _since(today),
            )
            .group_by(Sponsorship.prisoner_id, Action.letter_outcome)
        )
    )


def _facility_when_posted() -> Any:
    """The facility of the address the prisoner had when the letter was posted."""
    address = aliased(PrisonerAddress)
    return (
        select(address.facility_id)
        .where(
            address.prisoner_id == Sponsorship.prisoner_id,
            address.valid_from <= Action.occurred_on,
        )
        .order_by(address.valid_from.desc(), address.id.desc())
        .limit(1)
        .correlate(Sponsorship, Action)
        .scalar_subquery()
    )


def for_facilities(facility_ids: list[int], today: date) -> dict[int, Figures]:
    """Each facility's last twelve months: letters to whoever was held there when they were
    posted. One grouped query."""
    if not facility_ids:
        return {}
    posted_to = _facility_when_posted().label("facility_id")
    letters = (
        select(posted_to, Action.letter_outcome.label("outcome"), Action.occurred_on)
        .join(Sponsorship, Sponsorship.id == Action.sponsorship_id)
        .where(Action.kind.in_(MAIL_KINDS), Action.occurred_on >= _since(today))
        .subquery()
    )
    return _figures(
        db.session.execute(
            select(
                letters.c.facility_id,
                letters.c.outcome,
                func.count(),
                func.min(letters.c.occurred_on),
            )
            .where(letters.c.facility_id.in_(sorted(set(facility_ids))))
            .group_by(letters.c.facility_id, letters.c.outcome)
        )
    )


def reader_today() -> date:
    """Today for the logged-in reader (their time zone, else the campaign's)."""
    return local_today(getattr(current_user, "timezone", None), current_app.config["TIMEZONE"])


def for_prisoner(prisoner_id: int) -> Figures | None:
    """One prisoner's figures as the reader sees them today (for the coordinator's page)."""
    return for_prisoners([prisoner_id], reader_today()).get(prisoner_id)


def ask_after_days() -> int:
    return int(current_app.config["LETTER_OUTCOME_ASK_DAYS"])


def unanswered(sponsor_ids: list[int], today: date) -> list[Action]:
    """Letters of these teams still only "sent" six weeks (configurable) after posting, for
    a few weeks more (then nobody is asked again): the weekly question's list."""
    if not sponsor_ids:
        return []
    newest = today - timedelta(days=ask_after_days())
    oldest = newest - timedelta(weeks=ASK_WEEKS)
    return list(
        db.session.scalars(
            select(Action)
            .join(Sponsorship, Sponsorship.id == Action.sponsorship_id)
            .join(Prisoner, Prisoner.id == Sponsorship.prisoner_id)
            .where(
                Sponsorship.sponsor_id.in_(sponsor_ids),
                Action.kind.in_(MAIL_KINDS),
                Action.letter_outcome == LetterOutcome.SENT,
                Action.occurred_on.between(oldest, newest),
            )
            .order_by(Action.occurred_on, Action.id)
        )
    )


def teams_with_unanswered(today: date) -> list[int]:
    """The sponsors with a letter to ask about (one query)."""
    newest = today - timedelta(days=ask_after_days())
    oldest = newest - timedelta(weeks=ASK_WEEKS)
    return list(
        db.session.scalars(
            select(Sponsorship.sponsor_id)
            .join(Action, Action.sponsorship_id == Sponsorship.id)
            .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
            .where(
                Sponsor.is_active.is_(True),
                Action.kind.in_(MAIL_KINDS),
                Action.letter_outcome == LetterOutcome.SENT,
                Action.occurred_on.between(oldest, newest),
            )
            .distinct()
            .order_by(Sponsorship.sponsor_id)
        )
    )


@dataclass(frozen=True)
class CameBack:
    """A letter returned or censored, for the coordinators' work list and digest."""

    action_id: int
    outcome: LetterOutcome
    outcome_on: date | None
    occurred_on: date
    prisoner_id: int
    prisoner_name: str
    sponsor_name: str
    facility: str | None


def came_back(today: date, days: int = 30, limit: int = 20) -> tuple[int, list[CameBack]]:
    """Letters marked returned or censored in the last ``days``: how many, and the newest
    (two queries)."""
    recent = and_(
        Action.letter_outcome.in_(CAME_BACK),
        Action.outcome_on >= today - timedelta(days=days),
    )
    count = db.session.scalar(select(func.count()).select_from(Action).where(recent)) or 0
    facility = _facility_when_posted()
    rows = db.session.execute(
        select(
            Action.id,
            Action.letter_outcome,
            Action.outcome_on,
            Action.occurred_on,
            Prisoner.id,
            Prisoner.name_latin,
            Sponsor.full_name,
            select(func.coalesce(Facility.name_en, Facility.name_de, Facility.name_ru))
            .where(Facility.id == facility)
            .scalar_subquery(),
        )
        .join(Sponsorship, Sponsorship.id == Action.sponsorship_id)
        .join(Prisoner, Prisoner.id == Sponsorship.prisoner_id)
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .where(recent)
        .order_by(Action.outcome_on.desc(), Action.id.desc())
        .limit(limit)
    )
    return count, [CameBack(*row) for row in rows]


def questions(sponsor_id: int, monday: date, url: Callable[..., str]) -> list[dict[str, Any]]:
    """The weekly question's letters, each with a link per answer (``url`` builds an
    absolute link): the link opens the confirmation form, which saves only when posted."""
    return [
        {
            "action": action,
            "prisoner": action.sponsorship.prisoner,
            "answers": [
                (answer, url("actions.outcome", action_id=action.id, answer=answer.value))
                for answer in ANSWERS
            ],
        }
        for action in unanswered([sponsor_id], monday)
    ]
