"""The prisoner registry as CSV: the import format, and the exports.

The import format is described in DESIGN.md ("Prisoner CSV"). Importing is three steps, so
that a file with any bad row changes nothing and a coordinator can look before writing,
each in a module of its own:

1. ``import_read.read_prisoners`` parses and checks every row and collects every error;
2. ``import_plan.plan_import`` compares the rows with the registry by ``external_id``;
3. ``import_apply.apply_import`` creates and updates; the caller commits once.

``write_prisoners`` writes the import format back, so an export imports again unchanged. The
other exports (godparents, pairings, actions) are plain tables for spreadsheets.

Plain functions: no request, an explicit ``today``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from enum import Enum
from typing import Any, TextIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from godparents import spreadsheets
from godparents.actions.models import Action
from godparents.prisoners.models import Prisoner, PrisonerAddress
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

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
LIST_SEPARATOR = ";"
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


def cell(value: Any) -> str:
    """A value as the import format writes it (lists joined with ``;``, booleans yes/no)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


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


def _write_table(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A plain table, every cell guarded against formula injection; the number of rows."""
    writer = _writer(stream)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(spreadsheets.safe_row(cell(value) for value in row))
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
    return _write_table(stream, SPONSOR_HEADER, _sponsor_rows(session))


SPONSORSHIP_HEADER = (
    "id",
    "sponsor_id",
    "sponsor_name",
    "parliament",
    "country",
    "prisoner_id",
    "prisoner_external_id",
    "prisoner_name",
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
            Sponsor.id,
            Sponsor.full_name,
            Sponsor.body,
            Sponsor.country,
            Prisoner.id,
            Prisoner.external_id,
            Prisoner.name_latin,
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
    return _write_table(stream, SPONSORSHIP_HEADER, session.execute(query))


ACTION_HEADER = (
    "id",
    "sponsorship_id",
    "occurred_on",
    "kind",
    "sponsor_id",
    "sponsor_name",
    "parliament",
    "country",
    "prisoner_id",
    "prisoner_external_id",
    "prisoner_name",
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
            Sponsor.id,
            Sponsor.full_name,
            Sponsor.body,
            Sponsor.country,
            Prisoner.id,
            Prisoner.external_id,
            Prisoner.name_latin,
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
    return _write_table(stream, ACTION_HEADER, session.execute(query))


# The exports by the name in their URL and file name.
EXPORTS: dict[str, Callable[[Session, TextIO], int]] = {
    "prisoners": export_prisoners,
    "sponsors": export_sponsors,
    "sponsorships": export_sponsorships,
    "actions": export_actions,
}
