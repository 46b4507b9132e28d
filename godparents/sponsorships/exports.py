"""The godparenthoods as a table for spreadsheets (the coordinators' export)."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship
from godparents.spreadsheets import write_table

# Who a pairing joins, as the pairings' and the actions' exports both show it.
PAIRING_HEADER = (
    "sponsor_id",
    "sponsor_name",
    "parliament",
    "country",
    "prisoner_id",
    "prisoner_external_id",
    "prisoner_name",
)
PAIRING_COLUMNS = (
    Sponsor.id,
    Sponsor.full_name,
    Sponsor.body,
    Sponsor.country,
    Prisoner.id,
    Prisoner.external_id,
    Prisoner.name_latin,
)

SPONSORSHIP_HEADER = (
    "id",
    *PAIRING_HEADER,
    "status",
    "started_on",
    "ended_on",
    "end_reason",
    "has_public_consent",
    "announced_on",
)


def export_sponsorships(session: Session, stream: TextIO) -> int:
    query = (
        select(
            Sponsorship.id,
            *PAIRING_COLUMNS,
            Sponsorship.status,
            Sponsorship.started_on,
            Sponsorship.ended_on,
            Sponsorship.end_reason,
            Sponsorship.has_public_consent,
            Sponsorship.announced_on,
        )
        .join(Sponsor, Sponsorship.sponsor)
        .join(Prisoner, Sponsorship.prisoner)
        .order_by(Sponsorship.id)
    )
    return write_table(stream, SPONSORSHIP_HEADER, session.execute(query))
