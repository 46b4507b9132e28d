"""The godparents as a table for spreadsheets (the coordinators' export)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from godparents.spreadsheets import write_table

SPONSOR_HEADER = (
    "id",
    "full_name",
    "title",
    "parliament",
    "country",
    "party",
    "email",
    "phone",
    "language",
    "mandate_ends_on",
    "is_active",
    "has_public_consent",
    "public_quote",
    "has_login",
    "active_godchildren",
)


def _sponsor_rows(session: Session) -> Iterator[tuple[Any, ...]]:
    # Internal notes stay out, and so does everything about the login but that there is one.
    active = (
        select(func.count(Sponsorship.id))
        .where(Sponsorship.sponsor_id == Sponsor.id, Sponsorship.status == SponsorshipStatus.ACTIVE)
        .correlate(Sponsor)
        .scalar_subquery()
    )
    query: Select[*tuple[Any, ...]] = select(
        Sponsor.id,
        Sponsor.full_name,
        Sponsor.title,
        Sponsor.body,
        Sponsor.country,
        Sponsor.party,
        Sponsor.email,
        Sponsor.phone,
        Sponsor.language,
        Sponsor.mandate_ends_on,
        Sponsor.is_active,
        Sponsor.has_public_consent,
        Sponsor.public_quote,
        Sponsor.user_id,
        active,
    ).order_by(Sponsor.id)
    for row in session.execute(query):
        *values, user_id, godchildren = row
        yield (*values, user_id is not None, godchildren)


def export_sponsors(session: Session, stream: TextIO) -> int:
    return write_table(stream, SPONSOR_HEADER, _sponsor_rows(session))
