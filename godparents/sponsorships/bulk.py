"""Pairing many at once from a CSV file of ``external_id`` and godparent email.

A campaign day brings dozens of pledges at once. The file is read and checked like the
prisoner import (every problem listed by line, nothing written while any is left, at most
``MAX_ROWS`` rows), shown as a preview, and paired on confirmation, through the same checks
as the pairing form (``services.pair``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.import_read import RowError
from godparents.prisoners.models import Prisoner
from godparents.sponsors.models import Sponsor
from godparents.sponsorships import services
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

COLUMNS = ("external_id", "email")
MAX_ROWS = 2000
MAX_BYTES = 200 * 1024  # 2,000 rows of id and email fit easily; the preview carries it signed


@dataclass(frozen=True)
class BulkPair:
    line: int
    external_id: str
    email: str
    prisoner_id: int
    prisoner_name: str
    sponsor_id: int
    sponsor_name: str


@dataclass
class BulkPlan:
    pairs: list[BulkPair] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.pairs)


def _rows(data: bytes) -> tuple[list[tuple[int, list[str]]], list[RowError]]:
    if len(data) > MAX_BYTES or b"\x00" in data:
        return [], [
            RowError(1, "", _("This is not a small CSV text file of external_id and email."))
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "", _("The file is not UTF-8 text. Save it as “CSV UTF-8”."))]
    first = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ","
    )
    rows: list[tuple[int, list[str]]] = []
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if header != list(COLUMNS):
            return [], [RowError(1, "", _("The header must be: external_id, email."))]
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, [cell.strip() for cell in cells]))
            if len(rows) > MAX_ROWS:
                return [], [
                    RowError(
                        reader.line_num,
                        "",
                        _("At most %(limit)d pairings in one file.", limit=MAX_ROWS),
                    )
                ]
    except csv.Error:
        return [], [RowError(reader.line_num, "", _("This row cannot be read as CSV."))]
    return rows, []


def plan(data: bytes) -> BulkPlan:
    """Every row checked: a known prisoner still held, an active godparent by email, not
    paired yet, each pair once. Three queries, whatever the number of rows."""
    rows, errors = _rows(data)
    result = BulkPlan(errors=errors)
    if errors:
        return result
    external_ids = {cells[0] for _line, cells in rows if cells}
    emails = {cells[1].lower() for _line, cells in rows if len(cells) > 1}
    prisoners = (
        {
            row.external_id: row
            for row in db.session.execute(
                select(
                    Prisoner.id, Prisoner.external_id, Prisoner.name_latin, Prisoner.status
                ).where(Prisoner.external_id.in_(external_ids))
            )
        }
        if external_ids
        else {}
    )
    sponsors: dict[str, tuple[int, str, bool]] = {}
    if emails:
        for sponsor_id, name, active, email, login in db.session.execute(
            select(
                Sponsor.id,
                Sponsor.full_name,
                Sponsor.is_active,
                func.lower(Sponsor.email),
                User.email,
            )
            .outerjoin(User, User.id == Sponsor.user_id)
            .where((func.lower(Sponsor.email).in_(emails)) | (User.email.in_(emails)))
        ):
            for address in (email, login):
                if address:
                    sponsors.setdefault(address, (sponsor_id, name, active))
    open_pairs = (
        set(
            db.session.execute(
                select(Sponsorship.sponsor_id, Sponsorship.prisoner_id).where(
                    Sponsorship.status.in_(services.OPEN_STATUSES),
                    Sponsorship.prisoner_id.in_([p.id for p in prisoners.values()]),
                )
            ).all()
        )
        if prisoners
        else set()
    )
    seen: dict[tuple[int, int], int] = {}
    for line, cells in rows:
        if len(cells) != len(COLUMNS):
            result.errors.append(
                RowError(line, "", _("Each row has an external_id and an email, nothing else."))
            )
            continue
        external_id, email = cells[0], cells[1].lower()
        prisoner = prisoners.get(external_id)
        sponsor = sponsors.get(email)
        if prisoner is None:
            result.errors.append(
                RowError(line, "external_id", _("No prisoner has this external_id."))
            )
        elif not prisoner.status.is_held:
            result.errors.append(
                RowError(
                    line, "external_id", _("%(name)s is no longer held.", name=prisoner.name_latin)
                )
            )
        if sponsor is None:
            result.errors.append(RowError(line, "email", _("No godparent has this email.")))
        elif not sponsor[2]:
            result.errors.append(
                RowError(line, "email", _("%(name)s is inactive.", name=sponsor[1]))
            )
        if prisoner is None or sponsor is None or not prisoner.status.is_held or not sponsor[2]:
            continue
        key = (sponsor[0], prisoner.id)
        if key in open_pairs:
            result.errors.append(
                RowError(
                    line,
                    "",
                    _(
                        "%(sponsor)s is already godparent of %(prisoner)s (or proposed).",
                        sponsor=sponsor[1],
                        prisoner=prisoner.name_latin,
                    ),
                )
            )
        elif key in seen:
            result.errors.append(
                RowError(
                    line, "", _("The same pairing is already on line %(line)d.", line=seen[key])
                )
            )
        else:
            seen[key] = line
            result.pairs.append(
                BulkPair(
                    line,
                    external_id,
                    email,
                    prisoner.id,
                    prisoner.name_latin,
                    sponsor[0],
                    sponsor[1],
                )
            )
    return result


def apply(bulk: BulkPlan, status: SponsorshipStatus, today: date) -> int:
    """Pair every planned pair from today, through the pairing form's checks."""
    for pair in bulk.pairs:
        services.pair(
            db.session.get(Sponsor, pair.sponsor_id),
            db.session.get(Prisoner, pair.prisoner_id),
            status,
            today,
            False,
            today,
        )
    return len(bulk.pairs)
