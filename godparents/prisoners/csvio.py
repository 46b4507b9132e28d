"""The prisoner registry as CSV: the import format, and the exports.

The import format is described in DESIGN.md ("Prisoner CSV"). Importing is three steps, so
that a file with any bad row changes nothing and a coordinator can look before writing,
each in a module of its own:

1. ``import_read.read_prisoners`` parses and checks every row and collects every error;
2. ``import_plan.plan_import`` compares the rows with the registry by ``external_id``;
3. ``import_apply.apply_import`` creates and updates; the caller commits once.

``write_prisoners`` writes the import format back, so an export imports again unchanged. The
other features' exports (godparents, pairings, actions) are plain tables in their own
packages (``exports.py``); ``godparents.exports`` lists them all by name.

Plain functions: no request, an explicit ``today``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from godparents import spreadsheets
from godparents.prisoners.models import Prisoner, PrisonerAddress
from godparents.spreadsheets import cell

COLUMNS: tuple[str, ...] = (
    "external_id",
    "name_latin",
    "name_be",
    "name_ru",
    "aliases",
    "gender",
    "birth_date",
    "status",
    "detained_on",
    "released_on",
    "articles",
    "sentence",
    "expected_release_on",
    "facility",
    "postal_address",
    "can_receive_letters",
    "source_url",
    "is_public",
    "bio",
)
# Any other column may be left out: new prisoners then get the default, existing ones keep
# what they have. That lets a coordinator send, say, only external_id, name_latin and status.
REQUIRED_COLUMNS: tuple[str, ...] = ("external_id", "name_latin")
# The columns of the current address (a facility may come without its postal address).
ADDRESS_COLUMNS: tuple[str, ...] = ("facility", "postal_address")

# The Prisoner attribute behind each column that is stored as it is. The others:
# external_id is the key, birth_date fills birth_date or birth_year, and facility with
# postal_address make the current PrisonerAddress.
ATTRIBUTES: dict[str, str] = {
    "name_latin": "name_latin",
    "name_be": "name_be",
    "name_ru": "name_ru",
    "aliases": "aliases",
    "gender": "gender",
    "status": "status",
    "detained_on": "detained_on",
    "released_on": "released_on",
    "articles": "articles",
    "sentence": "sentence",
    "expected_release_on": "expected_release_on",
    "can_receive_letters": "can_receive_letters",
    "source_url": "source_url",
    "is_public": "has_public_consent",
    "bio": "public_bio",
}

BOM = "\ufeff"
LIST_SEPARATOR = spreadsheets.LIST_SEPARATOR
TRUE_WORDS = frozenset({"yes", "true", "1"})
FALSE_WORDS = frozenset({"no", "false", "0"})
# Rows per database round trip when comparing and writing: bounded memory, few queries.
CHUNK = 1000

# The columns of a prisoner that the export writes (and the import compares).
_PRISONER_COLUMNS = (
    Prisoner.id,
    Prisoner.external_id,
    Prisoner.birth_date,
    Prisoner.birth_year,
    *(getattr(Prisoner, attribute) for attribute in ATTRIBUTES.values()),
)


# Exports --------------------------------------------------------------------------------------


def neutralised(text: str) -> str:
    """A cell a spreadsheet will show as text, in either dialect (``spreadsheets``)."""
    return spreadsheets.safe_cell(text)


def _writer(stream: TextIO) -> Any:
    # Every cell quoted, after a BOM (Excel reads UTF-8 only with it; LibreOffice and the
    # import here accept it as well).
    return spreadsheets.csv_writer(stream)


def write_prisoners(prisoners: Iterable[Any], stream: TextIO) -> int:
    """Write prisoners in the import format; the number written.

    ``prisoners`` are rows of ``prisoner_rows``: a prisoner's columns with the facility and
    postal address of the current address. Cells are guarded against formulas like every
    export's: the data may come from an imported file, and a file that is opened in a
    spreadsheet must not run what it holds. A cell that needed the guard (a formula, or a
    bio starting with "-") comes back from an import with its apostrophe, unless the import
    takes it away (``spreadsheets.unguarded``).
    """
    writer = _writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for prisoner in prisoners:
        values = {column: getattr(prisoner, attribute) for column, attribute in ATTRIBUTES.items()}
        values.update(
            external_id=prisoner.external_id,
            birth_date=prisoner.birth_date or prisoner.birth_year,
            facility=prisoner.facility,
            postal_address=prisoner.postal_address,
        )
        writer.writerow(spreadsheets.safe_row(cell(values[column]) for column in COLUMNS))
        count += 1
    return count


def prisoner_rows(session: Session) -> Iterable[Any]:
    """Every prisoner's columns and current address, streamed from one query.

    Columns rather than ORM objects with their address lists: 15,000 of those would take
    about 80 MB more while the export is written.
    """
    current = (
        select(PrisonerAddress.id)
        .where(PrisonerAddress.prisoner_id == Prisoner.id)
        .order_by(PrisonerAddress.valid_from.desc(), PrisonerAddress.id.desc())
        .limit(1)
        .correlate(Prisoner)
        .scalar_subquery()
    )
    query = (
        select(*_PRISONER_COLUMNS, PrisonerAddress.facility, PrisonerAddress.postal_address)
        .outerjoin(PrisonerAddress, PrisonerAddress.id == current)
        .order_by(Prisoner.external_id.is_(None), Prisoner.external_id, Prisoner.id)
    )
    return session.execute(query.execution_options(yield_per=CHUNK))


def export_prisoners(session: Session, stream: TextIO) -> int:
    """Every prisoner, in the import format."""
    return write_prisoners(prisoner_rows(session), stream)
