"""Queries about prisoners' addresses that several pages share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select

from godparents.prisoners.models import HELD_STATUSES, Facility, Prisoner, PrisonerAddress


def current_address_ids() -> Select[*tuple[Any, ...]]:
    """Each prisoner's current (newest) address: prisoner_id, address_id, facility_id and
    whether a postal address is known (its own or its facility's), in one window query."""
    newest = func.row_number().over(
        partition_by=PrisonerAddress.prisoner_id,
        order_by=(PrisonerAddress.valid_from.desc(), PrisonerAddress.id.desc()),
    )
    ranked = (
        select(
            PrisonerAddress.prisoner_id,
            PrisonerAddress.id.label("address_id"),
            PrisonerAddress.facility_id,
            or_(
                PrisonerAddress.postal_address.is_not(None), Facility.postal_address.is_not(None)
            ).label("has_postal"),
            newest.label("rank"),
        )
        .outerjoin(Facility, Facility.id == PrisonerAddress.facility_id)
        .subquery()
    )
    return select(
        ranked.c.prisoner_id, ranked.c.address_id, ranked.c.facility_id, ranked.c.has_postal
    ).where(ranked.c.rank == 1)


def held_without_postal_address() -> Select[*tuple[Any, ...]]:
    """Held prisoners with no address at all, or whose current one has no postal address,
    longest held first: a select of (id, name_latin, detained_on, facility)."""
    current = current_address_ids().subquery()
    return (
        select(
            Prisoner.id,
            Prisoner.name_latin,
            Prisoner.detained_on,
            func.coalesce(
                Facility.name_en, Facility.name_de, Facility.name_ru, Facility.name_be
            ).label("facility"),
        )
        .outerjoin(current, current.c.prisoner_id == Prisoner.id)
        .outerjoin(Facility, Facility.id == current.c.facility_id)
        .where(
            Prisoner.status.in_(HELD_STATUSES),
            or_(current.c.prisoner_id.is_(None), ~current.c.has_postal),
        )
        .order_by(Prisoner.detained_on.is_(None), Prisoner.detained_on, Prisoner.id)
    )
