"""Which sponsors a user acts for, and what they see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus


def sponsor_ids_for(user: User) -> Select[tuple[int]]:
    """The sponsors this user acts for: their own record, or those they are delegate of."""
    if user.role is Role.SPONSOR:
        return select(Sponsor.id).where(Sponsor.user_id == user.id)
    if user.role is Role.DELEGATE:
        return select(Delegation.sponsor_id).where(Delegation.user_id == user.id)
    return select(Sponsor.id).where(False)


@dataclass(frozen=True)
class Godchildren:
    sponsors: list[Sponsor]
    current: list[Sponsorship]
    former: list[Sponsorship]


def godchildren(user: User) -> Godchildren:
    """Current and former pairings of the sponsors the user acts for, in three queries."""
    sponsors = db.session.scalars(
        select(Sponsor).where(Sponsor.id.in_(sponsor_ids_for(user))).order_by(Sponsor.full_name)
    ).all()
    pairings = db.session.scalars(
        select(Sponsorship)
        .join(Sponsorship.prisoner)
        .where(Sponsorship.sponsor_id.in_([s.id for s in sponsors]))
        .where(Sponsorship.status != SponsorshipStatus.PROPOSED)
        .options(selectinload(Sponsorship.prisoner).selectinload(Prisoner.addresses))
        .order_by(Prisoner.name_latin, Sponsorship.id)
    ).all()
    current = [p for p in pairings if p.is_active and p.prisoner.is_held]
    former = [p for p in pairings if p not in current]
    return Godchildren(list(sponsors), current, former)
