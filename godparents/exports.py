"""The coordinators' CSV exports, by the name in their URL and file name. Each feature writes
its own (``<feature>/exports.py``; the prisoners' in the import format, ``prisoners/csvio.py``);
the export page (``prisoners/admin_transfer.py``) serves them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from sqlalchemy.orm import Session

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
