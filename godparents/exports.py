"""The coordinators' exports, by the name in their URL and file name. Each feature writes
its own as CSV (``<feature>/exports.py``; the prisoners' in the import format,
``prisoners/csvio.py``); the export page (``prisoners/admin_transfer.py``) serves each of
them in every flavour of ``spreadsheets.FLAVOURS``.

Every export is written once, as the comma-separated CSV whose cells ``safe_cell`` guarded;
the other flavours are that file's cells written again: with semicolons, or as a workbook
whose cells are all text. So the formula guard is the same in every flavour, and a new
export needs nothing but its CSV.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.orm import Session

from godparents import spreadsheets
from godparents.actions.exports import export_actions
from godparents.prisoners.csvio import export_prisoners
from godparents.sponsors.exports import export_sponsors
from godparents.sponsorships.exports import export_sponsorships

EXPORTS: dict[str, Callable[[Session, TextIO], int]] = {
    "prisoners": export_prisoners,
    "sponsors": export_sponsors,
    "sponsorships": export_sponsorships,
    "actions": export_actions,
}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    mimetype: str
    extension: str


def export_file(session: Session, kind: str, flavour: str) -> ExportFile:
    """The export ``kind`` (a key of ``EXPORTS``) in ``flavour`` (one of ``FLAVOURS``)."""
    buffer = io.StringIO()
    rows = EXPORTS[kind](session, buffer)
    text = buffer.getvalue()
    if flavour == spreadsheets.WORKBOOK:
        content = spreadsheets.workbook_from_csv(text, kind)
        return ExportFile(content, rows, spreadsheets.XLSX_MIMETYPE, "xlsx")
    if flavour == spreadsheets.SEMICOLON:
        text = spreadsheets.with_separator(text, ";")
    elif flavour != spreadsheets.COMMA:
        raise ValueError(flavour)
    return ExportFile(text.encode("utf-8"), rows, "text/csv", "csv")
