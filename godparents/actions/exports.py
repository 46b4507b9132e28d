"""The actions as a table for spreadsheets (the coordinators' export)."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from godparents.actions.models import Action
from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.exports import PAIRING_COLUMNS, PAIRING_HEADER
from godparents.sponsorships.models import Sponsorship
from godparents.spreadsheets import write_table

ACTION_HEADER = (
    "id",
    "sponsorship_id",
    "occurred_on",
    "kind",
    *PAIRING_HEADER,
    "summary",
    "link",
    "letter_outcome",
    "outcome_on",
    "is_public",
)


def export_actions(session: Session, stream: TextIO) -> int:
    query = (
        select(
            Action.id,
            Action.sponsorship_id,
            Action.occurred_on,
            Action.kind,
            *PAIRING_COLUMNS,
            Action.summary,
            Action.link,
            Action.letter_outcome,
            Action.outcome_on,
            Action.is_public,
        )
        .join(Sponsorship, Action.sponsorship)
        .join(Sponsor, Sponsorship.sponsor)
        .join(Prisoner, Sponsorship.prisoner)
        .order_by(Action.id)
    )
    return write_table(stream, ACTION_HEADER, session.execute(query))
