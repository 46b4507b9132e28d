"""Pairing godparents with prisoners, ending and handing over pairings, recording releases.

Plain functions; the caller commits. Ended pairings are never deleted: they are the history
that the godparent's and the prisoner's pages show. Changes are audited by the flush hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, joinedload

from godparents.extensions import db
from godparents.labels import label
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import (
    DETENTION_ENDED,
    EndReason,
    Sponsorship,
    SponsorshipStatus,
)

OPEN_STATUSES = (SponsorshipStatus.ACTIVE, SponsorshipStatus.PROPOSED)
RELEASE_STATUSES = (
    PrisonerStatus.RELEASED,
    PrisonerStatus.PARDONED,
    PrisonerStatus.DEPORTED,
    PrisonerStatus.DIED,
)
# Why the prisoner's pairings end, by the way the detention ended.
RELEASE_REASONS = {
    PrisonerStatus.DIED: EndReason.DIED,
    PrisonerStatus.PARDONED: EndReason.PARDONED,
    PrisonerStatus.DEPORTED: EndReason.DEPORTED,
}


class SponsorshipError(ValueError):
    """Input that cannot be saved: every ``(field, message)`` found, ``field`` being the form
    field the message belongs to; ``field`` and the text are the first's."""

    def __init__(self, message: str, field: str, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems = [(field, message), *(more or [])]


def get_pairing(sponsorship_id: int) -> Sponsorship | None:
    return db.session.get(
        Sponsorship,
        sponsorship_id,
        options=[joinedload(Sponsorship.sponsor), joinedload(Sponsorship.prisoner)],
    )


def open_pairing(sponsor_id: int, prisoner_id: int) -> Sponsorship | None:
    """The active or proposed pairing of this godparent with this prisoner, if any."""
    return db.session.scalar(
        select(Sponsorship)
        .where(
            Sponsorship.sponsor_id == sponsor_id,
            Sponsorship.prisoner_id == prisoner_id,
            Sponsorship.status.in_(OPEN_STATUSES),
        )
        .limit(1)
    )


def already_paired_message(sponsor: Sponsor, prisoner: Prisoner) -> str:
    return _(
        "%(sponsor)s is already godparent of %(prisoner)s.",
        sponsor=sponsor.full_name,
        prisoner=prisoner.name_latin,
    )


def _check_new(
    sponsor: Sponsor | None,
    prisoner: Prisoner | None,
    started_on: date,
    today: date,
    date_field: str,
) -> tuple[Sponsor, Prisoner]:
    """Refuse a pairing that cannot start; the error names every field to correct (the
    godparent, the prisoner and the date are judged each on their own)."""
    problems: list[tuple[str, str]] = []
    if sponsor is None:
        problems.append(("sponsor_id", _("Choose a godparent.")))
    elif not sponsor.is_active:
        problems.append(
            (
                "sponsor_id",
                _(
                    "%(name)s is inactive: reactivate them first, or choose another godparent.",
                    name=sponsor.full_name,
                ),
            )
        )
    if prisoner is None:
        problems.append(("prisoner_id", _("Choose a prisoner.")))
    elif not prisoner.is_held:
        problems.append(
            (
                "prisoner_id",
                _(
                    "%(name)s is no longer held (%(status)s).",
                    name=prisoner.name_latin,
                    status=label(prisoner.status),
                ),
            )
        )
    elif sponsor is not None and sponsor.is_active:
        existing = open_pairing(sponsor.id, prisoner.id)
        if existing is not None:
            message = (
                already_paired_message(sponsor, prisoner)
                if existing.is_active
                else _("This pairing is already proposed: activate it from the list of pairings.")
            )
            problems.append(("prisoner_id", message))
    if started_on > today:
        problems.append((date_field, _("This date is in the future.")))
    if problems or sponsor is None or prisoner is None:
        (field, message), *more = problems
        raise SponsorshipError(message, field, more)
    return sponsor, prisoner


def pair(
    sponsor: Sponsor | None,
    prisoner: Prisoner | None,
    status: SponsorshipStatus,
    started_on: date,
    has_public_consent: bool,
    today: date,
) -> Sponsorship:
    """A new pairing, active or merely proposed."""
    if status not in OPEN_STATUSES:
        raise SponsorshipError(_("Choose active or proposed."), "status")
    sponsor, prisoner = _check_new(sponsor, prisoner, started_on, today, "started_on")
    pairing = Sponsorship(
        sponsor=sponsor,
        prisoner=prisoner,
        status=status,
        started_on=started_on,
        has_public_consent=has_public_consent,
    )
    db.session.add(pairing)
    db.session.flush()
    return pairing


def activate(pairing: Sponsorship, today: date) -> None:
    """A proposed pairing becomes active from today (or its planned start, if earlier)."""
    if pairing.status is not SponsorshipStatus.PROPOSED:
        raise SponsorshipError(_("Only a proposed pairing can be activated."), "status")
    if not pairing.sponsor.is_active:
        raise SponsorshipError(
            _("%(name)s is inactive.", name=pairing.sponsor.full_name), "sponsor_id"
        )
    if not pairing.prisoner.is_held:
        raise SponsorshipError(
            _("%(name)s is no longer held.", name=pairing.prisoner.name_latin), "prisoner_id"
        )
    active = db.session.scalar(
        select(func.count())
        .select_from(Sponsorship)
        .where(
            Sponsorship.sponsor_id == pairing.sponsor_id,
            Sponsorship.prisoner_id == pairing.prisoner_id,
            Sponsorship.status == SponsorshipStatus.ACTIVE,
        )
    )
    if active:
        raise SponsorshipError(
            already_paired_message(pairing.sponsor, pairing.prisoner), "prisoner_id"
        )
    pairing.status = SponsorshipStatus.ACTIVE
    if pairing.started_on is None or pairing.started_on > today:
        pairing.started_on = today


def _check_end(pairing: Sponsorship, ended_on: date, today: date, date_field: str) -> None:
    if pairing.status is SponsorshipStatus.ENDED:
        raise SponsorshipError(_("This godparenthood has already ended."), date_field)
    if ended_on > today:
        raise SponsorshipError(_("This date is in the future."), date_field)
    if pairing.started_on is not None and ended_on < pairing.started_on:
        raise SponsorshipError(
            _(
                "The godparenthood began on %(date)s; choose that day or later.",
                date=format_date(pairing.started_on),
            ),
            date_field,
        )


def _close(pairing: Sponsorship, ended_on: date, reason: EndReason) -> None:
    pairing.status = SponsorshipStatus.ENDED
    pairing.ended_on = ended_on
    pairing.end_reason = reason


def end_pairing(pairing: Sponsorship, ended_on: date, reason: EndReason, today: date) -> None:
    _check_end(pairing, ended_on, today, "ended_on")
    _close(pairing, ended_on, reason)


def hand_over(
    pairing: Sponsorship, new_sponsor: Sponsor | None, on: date, reason: EndReason, today: date
) -> Sponsorship:
    """End this pairing and pair the same prisoner with another godparent from the same day.

    Everything is checked before anything changes, so a refusal leaves both as they were.
    """
    if new_sponsor is not None and new_sponsor.id == pairing.sponsor_id:
        raise SponsorshipError(_("Choose another godparent."), "sponsor_id")
    _check_end(pairing, on, today, "on")
    new_sponsor, prisoner = _check_new(new_sponsor, pairing.prisoner, on, today, "on")
    _close(pairing, on, reason)
    successor = Sponsorship(
        sponsor=new_sponsor, prisoner=prisoner, status=SponsorshipStatus.ACTIVE, started_on=on
    )
    db.session.add(successor)
    db.session.flush()
    return successor


def open_pairings_of(prisoner: Prisoner) -> list[Sponsorship]:
    return list(
        db.session.scalars(
            select(Sponsorship)
            .join(Sponsorship.sponsor)
            .where(Sponsorship.prisoner_id == prisoner.id, Sponsorship.status.in_(OPEN_STATUSES))
            .options(contains_eager(Sponsorship.sponsor))
            .order_by(func.lower(Sponsor.full_name), Sponsorship.id)
        )
    )


def record_release(
    prisoner: Prisoner,
    status: PrisonerStatus,
    released_on: date,
    pairings: list[Sponsorship],
    today: date,
) -> None:
    """The prisoner is free (or died): set the status and end the chosen pairings that day."""
    if problems := release_problems(prisoner, status, released_on, pairings, today):
        (field, message), *more = problems
        raise SponsorshipError(message, field, more)
    prisoner.status = status
    prisoner.released_on = released_on
    reason = RELEASE_REASONS.get(status, EndReason.RELEASED)
    for pairing in pairings:
        _close(pairing, released_on, reason)


def release_problems(
    prisoner: Prisoner,
    status: PrisonerStatus | None,
    released_on: date | None,
    pairings: list[Sponsorship],
    today: date,
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops a release being recorded, all at once; a value
    the form refused itself is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if status is not None and status not in RELEASE_STATUSES:
        problems.append(("status", _("Choose how the detention ended.")))
    if any(
        pairing.prisoner_id != prisoner.id or pairing.status is SponsorshipStatus.ENDED
        for pairing in pairings
    ):
        problems.append(("pairing_ids", _("Choose among the godparenthoods listed.")))
    if released_on is None:
        return problems
    if released_on > today:
        problems.append(("released_on", _("This date is in the future.")))
    elif prisoner.detained_on is not None and released_on < prisoner.detained_on:
        problems.append(
            (
                "released_on",
                _(
                    "The detention began on %(date)s; choose that day or later.",
                    date=format_date(prisoner.detained_on),
                ),
            )
        )
    else:
        for pairing in pairings:
            if pairing.started_on is not None and released_on < pairing.started_on:
                message = _(
                    "The godparenthood of %(name)s began on %(date)s, after this date.",
                    name=pairing.sponsor.full_name,
                    date=format_date(pairing.started_on),
                )
                problems.append(("released_on", message))
                break
    return problems


def close_for_release(
    pairing: Sponsorship, status: PrisonerStatus, released_on: date, today: date
) -> None:
    """End one pairing because the detention ended (an import's status change): with the
    reason the release screen gives, on the day of the release, but never before the pairing
    began nor after today."""
    ended_on = min(released_on, today)
    if pairing.started_on is not None:
        ended_on = max(ended_on, pairing.started_on)
    _close(pairing, ended_on, RELEASE_REASONS.get(status, EndReason.RELEASED))


@dataclass(frozen=True)
class FreedSponsor:
    sponsor: Sponsor
    active_pairings: int


def freed_sponsors(prisoner: Prisoner) -> list[FreedSponsor]:
    """The active godparents whose pairing ended with this prisoner's release, and how many
    godchildren each still has: the ones to offer a new godchild first."""
    counts = (
        select(Sponsorship.sponsor_id, func.count().label("active_pairings"))
        .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
        .group_by(Sponsorship.sponsor_id)
        .subquery()
    )
    freed = select(Sponsorship.sponsor_id).where(
        Sponsorship.prisoner_id == prisoner.id,
        Sponsorship.status == SponsorshipStatus.ENDED,
        Sponsorship.end_reason.in_(DETENTION_ENDED),
    )
    if prisoner.released_on is not None:
        freed = freed.where(Sponsorship.ended_on == prisoner.released_on)
    rows = db.session.execute(
        select(Sponsor, func.coalesce(counts.c.active_pairings, 0))
        .outerjoin(counts, counts.c.sponsor_id == Sponsor.id)
        .where(Sponsor.id.in_(freed), Sponsor.is_active)
        .order_by(func.lower(Sponsor.full_name), Sponsor.id)
    ).all()
    return [FreedSponsor(sponsor, active) for sponsor, active in rows]


@dataclass(frozen=True)
class PairingFilters:
    status: SponsorshipStatus | None = None
    started_from: date | None = None
    started_to: date | None = None


def pairing_list_query(filters: PairingFilters) -> Select[Sponsorship]:
    """All pairings, newest first, with their godparent and prisoner in the same query."""
    query = (
        select(Sponsorship)
        .join(Sponsorship.sponsor)
        .join(Sponsorship.prisoner)
        .options(contains_eager(Sponsorship.sponsor), contains_eager(Sponsorship.prisoner))
    )
    if filters.status is not None:
        query = query.where(Sponsorship.status == filters.status)
    if filters.started_from is not None:
        query = query.where(Sponsorship.started_on >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(Sponsorship.started_on <= filters.started_to)
    return query.order_by(Sponsorship.started_on.desc().nulls_last(), Sponsorship.id.desc())
