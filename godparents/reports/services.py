"""The impact report's figures for a period, in a fixed number of aggregate queries.

Every figure counts what happened between ``start`` and ``end``, both included:

- **Actions** by the day they happened (``occurred_on``), by kind, by the godparent's
  parliament and by the godparent's country; one grouped query gives all three.
- **Letters**: the letters, cards and parcels of the period (the kinds whose outcome is
  asked, ``outcomes.MAIL_KINDS``) by what became of them, with each outcome's share; from
  the same query as the actions.
- **Godparenthoods started** (``started_on`` in the period) **and ended** (``ended_on`` in
  it), the ended ones by their reason. A proposal that never started is not counted.
- **Prisoners released while they had a godparent**: released (``released_on``) in the
  period while one of their godparenthoods had started and not yet ended (a godparenthood
  that ended on the day of the release counts: the release ends it).
- **Days waited for a godparent**: for each prisoner whose first godparenthood started in
  the period, the days from the later of their detention and the campaign's start
  (``CAMPAIGN_STARTED_ON``) to that start; the median of them. Counting from the detention
  alone would make a prisoner held since 2011 "wait" for a campaign that began in 2020;
  counting from the day the record was made would measure the registry's data entry, not
  the prisoner's wait. Prisoners without a detention date are left out, and counted.
- **Godparents who logged an action**, per parliament: godparents with at least one action
  in the period, beside those with a godparenthood that ran during the period.

``impact_report`` takes a session and the dates, nothing from a request; the figures are
plain values. The page, the PDF and the workbook all show ``tables(report)``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.actions.outcomes import MAIL_KINDS
from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus


@dataclass(frozen=True)
class Parliament:
    body: str
    country: str


@dataclass(frozen=True)
class Waiting:
    prisoners: int  # first paired in the period, with a detention date
    median_days: float | None
    without_detention_date: int


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    campaign_started_on: date
    actions_by_kind: dict[ActionKind, int]  # most first
    actions_by_parliament: dict[Parliament, int]  # most first
    actions_by_country: dict[str, int]  # most first
    letters: dict[LetterOutcome | None, int]  # None: no outcome recorded
    pairings_started: int
    pairings_ended: dict[EndReason | None, int]
    released_with_godparent: int
    waiting: Waiting
    # Per parliament: (godparents who logged an action, godparents with a godparenthood
    # during the period).
    godparents_active: dict[Parliament, tuple[int, int]]

    @property
    def actions(self) -> int:
        return sum(self.actions_by_kind.values())

    @property
    def letters_total(self) -> int:
        return sum(self.letters.values())

    @property
    def pairings_ended_total(self) -> int:
        return sum(self.pairings_ended.values())


def _most_first(counts: dict[Any, int]) -> dict[Any, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))))


def _in_period(start: date, end: date) -> Any:
    return Action.occurred_on.between(start, end)


def _actions(
    session: Session, start: date, end: date
) -> dict[tuple[ActionKind, LetterOutcome | None, str, str], int]:
    """The period's actions counted by kind, outcome, parliament and country.

    Counted per godparenthood first (an index range scan of the actions), so that only
    those counts, not every action, are joined to the godparenthoods and godparents: a
    year at ten times the campaign's size is 110,000 actions but 20,000 godparenthoods.
    """
    per_pairing = (
        select(
            Action.sponsorship_id,
            Action.kind,
            Action.letter_outcome,
            func.count(Action.id).label("actions"),
        )
        .where(_in_period(start, end))
        .group_by(Action.sponsorship_id, Action.kind, Action.letter_outcome)
        .subquery()
    )
    query = (
        select(
            per_pairing.c.kind,
            per_pairing.c.letter_outcome,
            Sponsor.body,
            Sponsor.country,
            func.sum(per_pairing.c.actions),
        )
        .join(Sponsorship, Sponsorship.id == per_pairing.c.sponsorship_id)
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .group_by(per_pairing.c.kind, per_pairing.c.letter_outcome, Sponsor.body, Sponsor.country)
    )
    return {
        (ActionKind(kind), LetterOutcome(outcome) if outcome else None, body, country): int(n)
        for kind, outcome, body, country, n in session.execute(query)
    }


def _pairings(session: Session, start: date, end: date) -> tuple[int, dict[EndReason | None, int]]:
    started = select(func.count(Sponsorship.id)).where(Sponsorship.started_on.between(start, end))
    ended = (
        select(Sponsorship.end_reason, func.count(Sponsorship.id))
        .where(Sponsorship.ended_on.between(start, end))
        .group_by(Sponsorship.end_reason)
    )
    return session.scalar(started) or 0, _most_first(
        {reason: n for reason, n in session.execute(ended)}
    )


def _ran_during(start: date, end: date) -> Any:
    """A godparenthood that had started by ``end`` and not ended before ``start``."""
    return and_(
        Sponsorship.status != SponsorshipStatus.PROPOSED,
        Sponsorship.started_on <= end,
        or_(Sponsorship.ended_on.is_(None), Sponsorship.ended_on >= start),
    )


def _released_with_godparent(session: Session, start: date, end: date) -> int:
    query = (
        select(func.count(func.distinct(Prisoner.id)))
        .join(Sponsorship, Sponsorship.prisoner_id == Prisoner.id)
        .where(
            Prisoner.released_on.between(start, end),
            Sponsorship.status != SponsorshipStatus.PROPOSED,
            Sponsorship.started_on <= Prisoner.released_on,
            or_(Sponsorship.ended_on.is_(None), Sponsorship.ended_on >= Prisoner.released_on),
        )
    )
    return session.scalar(query) or 0


def _waiting(session: Session, start: date, end: date, campaign_start: date) -> Waiting:
    first = (
        select(
            Sponsorship.prisoner_id.label("prisoner_id"),
            func.min(Sponsorship.started_on).label("started_on"),
        )
        .where(Sponsorship.started_on.is_not(None))
        .group_by(Sponsorship.prisoner_id)
        .having(func.min(Sponsorship.started_on).between(start, end))
        .subquery()
    )
    query = select(Prisoner.detained_on, first.c.started_on).join(
        first, first.c.prisoner_id == Prisoner.id
    )
    days, unknown = [], 0
    for detained_on, started_on in session.execute(query):
        if detained_on is None:
            unknown += 1
            continue
        days.append(max((started_on - max(detained_on, campaign_start)).days, 0))
    median = statistics.median(days) if days else None
    return Waiting(len(days), median, unknown)


def _godparents_active(
    session: Session, start: date, end: date
) -> dict[Parliament, tuple[int, int]]:
    pairings = select(Action.sponsorship_id).where(_in_period(start, end)).distinct().subquery()
    acted = (
        select(Sponsor.body, Sponsor.country, func.count(func.distinct(Sponsor.id)))
        .join(Sponsorship, Sponsorship.sponsor_id == Sponsor.id)
        .join(pairings, pairings.c.sponsorship_id == Sponsorship.id)
        .group_by(Sponsor.body, Sponsor.country)
    )
    paired = (
        select(Sponsor.body, Sponsor.country, func.count(func.distinct(Sponsor.id)))
        .join(Sponsorship, Sponsorship.sponsor_id == Sponsor.id)
        .where(_ran_during(start, end))
        .group_by(Sponsor.body, Sponsor.country)
    )
    acting = {Parliament(b, c): n for b, c, n in session.execute(acted)}
    with_godchild = {Parliament(b, c): n for b, c, n in session.execute(paired)}
    both = {
        parliament: (acting.get(parliament, 0), with_godchild.get(parliament, 0))
        for parliament in acting.keys() | with_godchild.keys()
    }
    return dict(sorted(both.items(), key=lambda item: (-item[1][0], -item[1][1], item[0].body)))


def impact_report(session: Session, start: date, end: date, campaign_started_on: date) -> Report:
    """The figures of ``start`` to ``end`` (both included): seven queries, whatever the size."""
    actions = _actions(session, start, end)
    by_kind: dict[ActionKind, int] = {}
    by_parliament: dict[Parliament, int] = {}
    by_country: dict[str, int] = {}
    letters: dict[LetterOutcome | None, int] = {}
    for (kind, outcome, body, country), count in actions.items():
        by_kind[kind] = by_kind.get(kind, 0) + count
        if kind in MAIL_KINDS:
            letters[outcome] = letters.get(outcome, 0) + count
        parliament = Parliament(body, country)
        by_parliament[parliament] = by_parliament.get(parliament, 0) + count
        by_country[country] = by_country.get(country, 0) + count
    started, ended = _pairings(session, start, end)
    return Report(
        start=start,
        end=end,
        campaign_started_on=campaign_started_on,
        actions_by_kind=_most_first(by_kind),
        actions_by_parliament=dict(
            sorted(by_parliament.items(), key=lambda item: (-item[1], item[0].body))
        ),
        actions_by_country=_most_first(by_country),
        letters={o: letters[o] for o in [*LetterOutcome, None] if letters.get(o)},
        pairings_started=started,
        pairings_ended=ended,
        released_with_godparent=_released_with_godparent(session, start, end),
        waiting=_waiting(session, start, end, campaign_started_on),
        godparents_active=_godparents_active(session, start, end),
    )
