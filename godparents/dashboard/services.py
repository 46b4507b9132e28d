"""The coordinator's numbers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus


@dataclass(frozen=True)
class Counts:
    prisoners: int
    prisoners_held: int
    sponsors: int
    sponsors_active: int
    pairings_active: int


def counts() -> Counts:
    """All the landing page's counts in one query."""
    row = db.session.execute(
        select(
            select(func.count()).select_from(Prisoner).scalar_subquery(),
            select(func.count())
            .select_from(Prisoner)
            .where(Prisoner.status.in_(HELD_STATUSES))
            .scalar_subquery(),
            select(func.count()).select_from(Sponsor).scalar_subquery(),
            select(func.count()).select_from(Sponsor).where(Sponsor.is_active).scalar_subquery(),
            select(func.count())
            .select_from(Sponsorship)
            .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
            .scalar_subquery(),
        )
    ).one()
    return Counts(*row)
