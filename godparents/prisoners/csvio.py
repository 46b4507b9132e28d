"""The prisoner registry as CSV: reading and checking an import file, the upsert, the exports.

The import format is described in DESIGN.md ("Prisoner CSV"). Importing is three steps, so
that a file with any bad row changes nothing and a coordinator can look before writing:

1. ``read_prisoners`` parses and checks every row and collects every error;
2. ``plan_import`` compares the rows with the registry by ``external_id``;
3. ``apply_import`` creates and updates; the caller commits once.

``write_prisoners`` writes the import format back, so an export imports again unchanged. The
other exports (godparents, pairings, actions) are plain tables for spreadsheets.

Plain functions: no request, an explicit ``today``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.orm import Session

from godparents.actions.models import Action
from godparents.audit.models import AuditEvent
from godparents.auth.models import User
from godparents.prisoners.models import Gender, Prisoner, PrisonerAddress, PrisonerStatus
from godparents.prisoners.spellings import prisoner_search_words
from godparents.search import key_text, key_words, remember_words
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from godparents.types import utcnow

COLUMNS: tuple[str, ...] = (
    "external_id", "name_latin", "name_be", "name_ru", "aliases", "gender", "birth_date",
    "status", "detained_on", "released_on", "articles", "sentence", "expected_release_on",
    "facility", "postal_address", "can_receive_letters", "source_url", "is_public", "bio",
)
# Any other column may be left out: new prisoners then get the default, existing ones keep
# what they have. That lets a coordinator send, say, only external_id, name_latin and status.
REQUIRED_COLUMNS: tuple[str, ...] = ("external_id", "name_latin")
# The current address is one thing: a facility alone cannot be compared or stored.
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
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
T = TypeVar("T")


# Reading -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file: the physical line where its record starts, the column."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"line {self.line}, column {self.column}: {self.message}"
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class PrisonerRow:
    """A checked row: the parsed value of every column the file has (but external_id)."""

    line: int
    external_id: str
    values: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.values["name_latin"])


@dataclass
class ParseResult:
    rows: list[PrisonerRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


class CellError(ValueError):
    """A cell that cannot be used; the message says how to write it."""


def _text(limit: int, required: bool = False) -> Callable[[str], str | None]:
    def parse(cell: str) -> str | None:
        if not cell:
            if required:
                raise CellError(_("This value is required."))
            return None
        if len(cell) > limit:
            raise CellError(_("At most %(limit)d characters (this has %(length)d).",
                              limit=limit, length=len(cell)))
        return cell

    return parse


def _long_text(cell: str) -> str | None:
    return cell or None


def _list(cell: str) -> list[str]:
    items = [item.strip() for item in cell.split(LIST_SEPARATOR)]
    return [item for item in items if item]


def _gender(cell: str) -> Gender | None:
    if not cell:
        return None
    try:
        return Gender(cell.lower())
    except ValueError:
        raise CellError(_("Use m, f or x, or leave the cell empty.")) from None


def _real_date(cell: str) -> date:
    try:
        return date(int(cell[:4]), int(cell[5:7]), int(cell[8:10]))
    except ValueError:
        raise CellError(_("There is no such date: %(value)s.", value=cell)) from None


def _date(cell: str) -> date | None:
    if not cell:
        return None
    if not _DATE.fullmatch(cell):
        raise CellError(_("Write the date as YYYY-MM-DD, for example 2021-07-14."))
    return _real_date(cell)


def _birth(cell: str) -> date | int | None:
    """A full date, a year alone (an int) or nothing."""
    if not cell:
        return None
    if _YEAR.fullmatch(cell) and int(cell) > 0:
        return int(cell)
    if not _DATE.fullmatch(cell):
        raise CellError(_("Write the date as YYYY-MM-DD, or the year alone as YYYY."))
    return _real_date(cell)


def _status(cell: str) -> PrisonerStatus:
    try:
        return PrisonerStatus(cell.lower())
    except ValueError:
        choices = ", ".join(status.value for status in PrisonerStatus)
        if not cell:
            raise CellError(_("This value is required: one of %(choices)s.",
                              choices=choices)) from None
        raise CellError(_("Unknown status “%(value)s”: use one of %(choices)s.",
                          value=cell, choices=choices)) from None


def _boolean(default: bool) -> Callable[[str], bool]:
    def parse(cell: str) -> bool:
        word = cell.lower()
        if not word:
            return default
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(_("Unknown value “%(value)s”: use yes or no (or true/false, 1/0).",
                          value=cell))

    return parse


def _url(cell: str) -> str | None:
    if not cell:
        return None
    parts = urlsplit(cell)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CellError(_("Use a web address starting with https:// or http://."))
    return _text(500)(cell)


# Limits are the columns' lengths in the database (PostgreSQL refuses longer strings).
PARSERS: dict[str, Callable[[str], Any]] = {
    "external_id": _text(100, required=True),
    "name_latin": _text(200, required=True),
    "name_be": _text(200),
    "name_ru": _text(200),
    "aliases": _list,
    "gender": _gender,
    "birth_date": _birth,
    "status": _status,
    "detained_on": _date,
    "released_on": _date,
    "articles": _list,
    "sentence": _text(500),
    "expected_release_on": _date,
    "facility": _text(300),
    "postal_address": _long_text,
    "can_receive_letters": _boolean(default=True),
    "source_url": _url,
    "is_public": _boolean(default=False),
    "bio": _long_text,
}


def _clean(cell: str) -> str:
    """Outer spaces off, line breaks as ``\\n`` (spreadsheets on Windows write ``\\r\\n``)."""
    if "\r" in cell:
        cell = cell.replace("\r\n", "\n").replace("\r", "\n")
    return cell.strip()


def _text_of(data: bytes | str) -> tuple[str, RowError | None]:
    """The file as text without its BOM, or the error that makes the whole file unreadable."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    binary = raw.find(b"\x00")  # UTF-8 text never has one; images and workbooks do
    if binary >= 0:
        return "", RowError(raw.count(b"\n", 0, binary) + 1, "", _(
            "This is not a CSV text file: it contains binary data. In your spreadsheet, "
            "save it as “CSV UTF-8”."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return "", RowError(raw.count(b"\n", 0, error.start) + 1, "", _(
            "This line is not UTF-8 text. Save the file as “CSV UTF-8” and try again."))
    if not text.strip():
        return "", RowError(1, "", _(
            "The file is empty: it needs a header row with the column names."))
    return text, None


def _delimiter(text: str) -> str:
    """Comma or semicolon, whichever the header line has more of (column names have none)."""
    end = text.find("\n")
    header = text[:end] if end >= 0 else text
    return ";" if header.count(";") > header.count(",") else ","


def _check_header(names: list[str]) -> list[RowError]:
    errors = []
    known = ", ".join(COLUMNS)
    for position, name in enumerate(names):
        if not name:
            errors.append(RowError(1, "", _("A column has no name: delete it or name it.")))
        elif name not in COLUMNS:
            errors.append(RowError(1, name, _(
                "Unknown column. The known columns are: %(known)s.", known=known)))
        elif name in names[:position]:
            errors.append(RowError(1, name, _("This column appears twice.")))
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(RowError(1, name, _("This column is required.")))
    present = [name for name in ADDRESS_COLUMNS if name in names]
    if len(present) == 1:
        missing = next(name for name in ADDRESS_COLUMNS if name not in names)
        errors.append(RowError(1, missing, _(
            "facility and postal_address go together: add this column too.")))
    return errors


def _cross_check(line: int, values: dict[str, Any]) -> list[RowError]:
    """Rules between cells of one row, for cells that were readable on their own."""
    errors = []
    detained, released = values.get("detained_on"), values.get("released_on")
    if detained and released and released < detained:
        errors.append(RowError(line, "released_on", _(
            "The release (%(released)s) is before the detention (%(detained)s).",
            released=released.isoformat(), detained=detained.isoformat())))
    if values.get("facility") and not values.get("postal_address"):
        errors.append(RowError(line, "postal_address", _(
            "The facility needs its postal address.")))
    return errors


def _parse_row(line: int, columns: Sequence[str],
               cells: list[str]) -> tuple[PrisonerRow | None, list[RowError]]:
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column, cell in zip(columns, cells, strict=True):
        try:
            values[column] = PARSERS[column](_clean(cell))
        except CellError as error:
            errors.append(RowError(line, column, str(error)))
    errors.extend(_cross_check(line, values))
    if errors:
        return None, errors
    return PrisonerRow(line, values.pop("external_id"), values), []


def read_prisoners(data: bytes | str) -> ParseResult:
    """Parse and check a whole prisoner CSV file; every problem is collected, none raised.

    ``data`` is the file's content, with or without a UTF-8 BOM, comma or semicolon
    separated. Line numbers count physical lines, as an editor shows them: a quoted address
    spans several, so each record is numbered by the line it starts on.
    """
    text, error = _text_of(data)
    if error is not None:
        return ParseResult(errors=[error])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        names = [name.strip().lower() for name in next(reader)]
    except csv.Error as problem:
        return ParseResult(errors=[RowError(1, "", _(
            "This row cannot be read as CSV (%(detail)s): check its quotation marks.",
            detail=str(problem)))])
    result = ParseResult(errors=_check_header(names))
    if result.errors:
        return result
    first_line: dict[str, int] = {}
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as problem:
            result.errors.append(RowError(line, "", _(
                "This row cannot be read as CSV (%(detail)s): check its quotation marks.",
                detail=str(problem))))
            break
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, and rows of empty cells that spreadsheets leave
        if len(cells) != len(names):
            result.errors.append(RowError(line, "", _(
                "This row has %(cells)d cells; the header has %(columns)d.",
                cells=len(cells), columns=len(names))))
            continue
        row, errors = _parse_row(line, names, cells)
        external_id = _clean(cells[names.index("external_id")])
        if external_id in first_line:
            errors.append(RowError(line, "external_id", _(
                "%(value)s is already on line %(line)d: each external_id only once.",
                value=external_id, line=first_line[external_id])))
        elif external_id:
            first_line[external_id] = line
        result.errors.extend(errors)
        if row is not None and not errors:
            result.rows.append(row)
    return result


# Comparing and writing ------------------------------------------------------------------------

@dataclass(slots=True)
class Change:
    """An existing prisoner whose row differs: column -> (value now, value in the file)."""

    row: PrisonerRow
    current: Any  # the stored columns compared with (a row of _PRISONER_COLUMNS)
    fields: dict[str, tuple[Any, Any]]

    @property
    def prisoner_id(self) -> int:
        return int(self.current.id)

    @property
    def new_address(self) -> bool:
        return any(column in self.fields for column in ADDRESS_COLUMNS)

    def shown(self) -> list[tuple[str, str, str]]:
        """Column, old and new value as the file writes them, in the file's column order."""
        return [(column, cell(self.fields[column][0]), cell(self.fields[column][1]))
                for column in COLUMNS if column in self.fields]


@dataclass
class ImportPlan:
    created: list[PrisonerRow] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # external ids

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.changed)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.changed)} changed, "
                f"{len(self.unchanged)} unchanged")


def _chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _same(old: Any, new: Any) -> bool:
    """Whether a stored value equals a parsed one: "" is nothing, line breaks are ``\\n``.

    Parsed values are in that form already; stored ones may come from a form.
    """
    if isinstance(new, list):
        return [item for item in (_clean(str(item)) for item in old or []) if item] == new
    if isinstance(old, str):
        return (_clean(old) or None) == new
    return bool(old == new)


_PRISONER_COLUMNS = (Prisoner.id, Prisoner.external_id, Prisoner.birth_date, Prisoner.birth_year,
             *(getattr(Prisoner, attribute) for attribute in ATTRIBUTES.values()))


def _current_addresses(session: Session, prisoner_ids: list[int]) -> dict[int, Any]:
    """Each prisoner's current (newest) facility and postal address, in one query."""
    if not prisoner_ids:
        return {}
    current: dict[int, Any] = {}
    for address in session.execute(
        select(PrisonerAddress.prisoner_id, PrisonerAddress.facility,
               PrisonerAddress.postal_address)
        .where(PrisonerAddress.prisoner_id.in_(prisoner_ids))
        .order_by(PrisonerAddress.prisoner_id, PrisonerAddress.valid_from.desc(),
                  PrisonerAddress.id.desc())
    ):
        current.setdefault(address.prisoner_id, address)
    return current


def _differences(row: PrisonerRow, current: Any, address: Any) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for column, new in row.values.items():
        if column in ATTRIBUTES:
            old = getattr(current, ATTRIBUTES[column])
        elif column == "birth_date":
            old = current.birth_date or current.birth_year
        else:
            continue
        if not _same(old, new):
            changes[column] = (old, new)
    postal = row.values.get("postal_address")
    if postal is not None:  # an empty address leaves the history as it is
        old_facility = address.facility if address else None
        old_postal = address.postal_address if address else None
        new_facility = row.values.get("facility")
        if not _same(old_facility, new_facility):
            changes["facility"] = (old_facility, new_facility)
        if not _same(old_postal, postal):
            changes["postal_address"] = (old_postal, postal)
    return changes


def plan_import(rows: Iterable[PrisonerRow], session: Session) -> ImportPlan:
    """What importing ``rows`` would do, matching prisoners by external_id; writes nothing.

    Two queries per thousand rows: the prisoners with those external ids (columns only, no
    ORM objects, to keep 15,000 rows light) and their current addresses.
    """
    plan = ImportPlan()
    for chunk in _chunks(rows):
        external_ids = [row.external_id for row in chunk]
        existing = {found.external_id: found for found in session.execute(
            select(*_PRISONER_COLUMNS).where(Prisoner.external_id.in_(external_ids)))}
        addresses = _current_addresses(session, [found.id for found in existing.values()])
        for row in chunk:
            current = existing.get(row.external_id)
            if current is None:
                plan.created.append(row)
                continue
            changes = _differences(row, current, addresses.get(current.id))
            if changes:
                plan.changed.append(Change(row, current, changes))
            else:
                plan.unchanged.append(row.external_id)
    return plan


def _stored(column: str, value: Any) -> dict[str, Any]:
    """The Prisoner attributes a column's value sets."""
    if column in ATTRIBUTES:
        return {ATTRIBUTES[column]: value}
    if column == "birth_date":
        full = isinstance(value, date)
        return {"birth_date": value if full else None,
                "birth_year": value.year if full else value}
    return {}  # facility and postal_address belong to the address


# What a new prisoner gets for a column the file leaves out (the model's defaults; a status
# is required, and "unknown" is the honest one).
_NEW_PRISONER: dict[str, Any] = {
    "name_be": None, "name_ru": None, "aliases": [], "gender": None, "birth_date": None,
    "birth_year": None, "status": PrisonerStatus.UNKNOWN, "detained_on": None,
    "released_on": None, "articles": [], "sentence": None, "expected_release_on": None,
    "can_receive_letters": True, "source_url": None, "has_public_consent": False,
    "public_bio": None,
}
_NAMES = ("name_latin", "name_be", "name_ru", "aliases")
_UNAUDITED = frozenset({"search_text", "created_at", "updated_at"})  # as audit.tracking


def _search_text(names: dict[str, Any]) -> str:
    """What the model's flush hook would store; bulk statements do not run that hook."""
    return key_text(prisoner_search_words(names["name_latin"], names["name_be"],
                                          names["name_ru"], names["aliases"]))


def _audited(value: Any) -> Any:
    """A value as the audit log keeps it (JSON), the way ``audit.tracking`` writes it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class _Writes:
    """The statements' parameters for one chunk, and the audit events that go with them."""

    actor_id: int | None
    ip: str | None
    now: datetime = field(default_factory=utcnow)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)  # of new search keys, for the vocabulary

    def address(self, prisoner_id: int, row: PrisonerRow, today: date) -> None:
        # A new entry, never an edit: the address history shows where the prisoner was.
        self.addresses.append({"prisoner_id": prisoner_id, "facility": row.values.get("facility"),
                               "postal_address": row.values["postal_address"],
                               "valid_from": today})

    def event(self, action: str, prisoner_id: int, changes: dict[str, Any]) -> None:
        self.events.append({"actor_id": self.actor_id, "action": action,
                            "object_type": "Prisoner", "object_id": prisoner_id,
                            "changes": changes, "ip": self.ip, "created_at": self.now})

    def flush(self, session: Session) -> None:
        remember_words(session, self.words)
        if self.addresses:
            session.execute(insert(PrisonerAddress).execution_options(render_nulls=True),
                            self.addresses)
        if self.events:
            session.execute(insert(AuditEvent), self.events)


def _new_prisoner(row: PrisonerRow, now: datetime) -> dict[str, Any]:
    values = {**_NEW_PRISONER, "external_id": row.external_id, "created_at": now,
              "updated_at": now}
    for column, value in row.values.items():
        values.update(_stored(column, value))
    values["search_text"] = _search_text(values)
    return values


def _create(session: Session, rows: list[PrisonerRow], today: date, writes: _Writes) -> None:
    """Insert new prisoners, their addresses and audit events: four statements per chunk.

    The new ids are read back by external_id rather than with RETURNING: in the order of the
    rows, SQLite would return them one INSERT per row.
    """
    values = [_new_prisoner(row, writes.now) for row in rows]
    session.execute(insert(Prisoner).execution_options(render_nulls=True),  # one executemany
                    values)
    ids = dict(session.execute(select(Prisoner.external_id, Prisoner.id).where(
        Prisoner.external_id.in_([row.external_id for row in rows]))).all())
    for row, stored in zip(rows, values, strict=True):
        writes.words.update(key_words(stored["search_text"]))
        prisoner_id = ids[row.external_id]
        changes = {key: _audited(value) for key, value in stored.items()
                   if key not in _UNAUDITED and value not in (None, [], "")}
        if row.values.get("postal_address"):
            writes.address(prisoner_id, row, today)
            changes.update(facility=row.values.get("facility"),
                           postal_address=row.values["postal_address"])
        writes.event("create", prisoner_id, changes)
    writes.flush(session)


def _update(session: Session, changes: list[Change], today: date, writes: _Writes) -> None:
    """Update changed prisoners by primary key, add their new addresses and audit events."""
    updates = []
    for change in changes:
        new: dict[str, Any] = {}
        for column in change.fields:
            new.update(_stored(column, change.row.values[column]))
        old = {attribute: getattr(change.current, attribute) for attribute in new}
        audited = {attribute: [_audited(old[attribute]), _audited(value)]
                   for attribute, value in new.items() if old[attribute] != value}
        if new:
            if any(name in new for name in _NAMES):
                new["search_text"] = _search_text(
                    {name: new.get(name, getattr(change.current, name)) for name in _NAMES})
                writes.words.update(key_words(new["search_text"]))
            updates.append({"id": change.prisoner_id, **new, "updated_at": writes.now})
        if change.new_address:
            writes.address(change.prisoner_id, change.row, today)
            audited.update({column: list(change.fields[column])
                            for column in ADDRESS_COLUMNS if column in change.fields})
        writes.event("update", change.prisoner_id, audited)
    if updates:
        # Grouped by the set of changed columns, one executemany per group.
        session.execute(update(Prisoner), updates)
    writes.flush(session)


def apply_import(plan: ImportPlan, session: Session, today: date, actor: User | None = None,
                 ip: str | None = None, progress: Callable[[int], object] | None = None) -> None:
    """Create and update what ``plan`` lists, a thousand rows at a time; the caller commits.

    Bulk statements, not ORM objects: through the ORM and its audit hook, 15,000 rows took
    about 25 s. So this writes what the hook would have, one audit event per created or changed
    prisoner with the fields and their old and new values, by ``actor`` from ``ip`` (a new
    address is part of the prisoner's event), and keeps search_text current itself.
    A changed facility or postal address is added as a new address valid from ``today``;
    the old one stays in the history. ``progress`` is called with the number of rows
    written after each chunk.
    """
    actor_id = actor.id if actor is not None else None
    for created in _chunks(plan.created):
        _create(session, created, today, _Writes(actor_id, ip))
        if progress:
            progress(len(created))
    for changed in _chunks(plan.changed):
        _update(session, changed, today, _Writes(actor_id, ip))
        if progress:
            progress(len(changed))


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
    """A cell a spreadsheet will show as text: formulas get a leading apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _writer(stream: TextIO) -> Any:
    # The BOM makes Excel read the file as UTF-8 (without it, Cyrillic turns to mojibake);
    # LibreOffice and the import here accept it as well.
    stream.write(BOM)
    return csv.writer(stream, lineterminator="\r\n")


def write_prisoners(prisoners: Iterable[Any], stream: TextIO) -> int:
    """Write prisoners in the import format; the number written.

    ``prisoners`` are rows of ``prisoner_rows``: a prisoner's columns with the facility and
    postal address of the current address. Unlike the other exports, cells are written
    exactly, without the formula guard: this file exists to be imported again, and an
    apostrophe before a bio starting with "-" would come back as a change. (Prisoner data is
    written by coordinators only.)
    """
    writer = _writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for prisoner in prisoners:
        values = {column: getattr(prisoner, attribute)
                  for column, attribute in ATTRIBUTES.items()}
        values.update(external_id=prisoner.external_id,
                      birth_date=prisoner.birth_date or prisoner.birth_year,
                      facility=prisoner.facility, postal_address=prisoner.postal_address)
        writer.writerow([cell(values[column]) for column in COLUMNS])
        count += 1
    return count


def _write_table(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A plain table, every cell guarded against formula injection; the number of rows."""
    writer = _writer(stream)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([neutralised(cell(value)) for value in row])
        count += 1
    return count


def prisoner_rows(session: Session) -> Iterable[Any]:
    """Every prisoner's columns and current address, streamed from one query.

    Columns rather than ORM objects with their address lists: 15,000 of those would take
    about 80 MB more while the export is written.
    """
    current = (select(PrisonerAddress.id)
               .where(PrisonerAddress.prisoner_id == Prisoner.id)
               .order_by(PrisonerAddress.valid_from.desc(), PrisonerAddress.id.desc())
               .limit(1).correlate(Prisoner).scalar_subquery())
    query = (
        select(*_PRISONER_COLUMNS, PrisonerAddress.facility, PrisonerAddress.postal_address)
        .outerjoin(PrisonerAddress, PrisonerAddress.id == current)
        .order_by(Prisoner.external_id.is_(None), Prisoner.external_id, Prisoner.id)
    )
    return session.execute(query.execution_options(yield_per=CHUNK))


def export_prisoners(session: Session, stream: TextIO) -> int:
    """Every prisoner, in the import format."""
    return write_prisoners(prisoner_rows(session), stream)


SPONSOR_HEADER = ("id", "full_name", "title", "parliament", "country", "party", "email",
                  "phone", "language", "mandate_ends_on", "is_active", "has_public_consent",
                  "public_quote", "has_login", "active_godchildren")


def _sponsor_rows(session: Session) -> Iterator[tuple[Any, ...]]:
    # Internal notes stay out, and so does everything about the login but that there is one.
    active = (select(func.count(Sponsorship.id))
              .where(Sponsorship.sponsor_id == Sponsor.id,
                     Sponsorship.status == SponsorshipStatus.ACTIVE)
              .correlate(Sponsor).scalar_subquery())
    query: Select[Any] = select(
        Sponsor.id, Sponsor.full_name, Sponsor.title, Sponsor.body, Sponsor.country,
        Sponsor.party, Sponsor.email, Sponsor.phone, Sponsor.language, Sponsor.mandate_ends_on,
        Sponsor.is_active, Sponsor.has_public_consent, Sponsor.public_quote, Sponsor.user_id,
        active,
    ).order_by(Sponsor.id)
    for row in session.execute(query):
        *values, user_id, godchildren = row
        yield (*values, user_id is not None, godchildren)


def export_sponsors(session: Session, stream: TextIO) -> int:
    return _write_table(stream, SPONSOR_HEADER, _sponsor_rows(session))


SPONSORSHIP_HEADER = ("id", "sponsor_id", "sponsor_name", "parliament", "country",
                      "prisoner_id", "prisoner_external_id", "prisoner_name", "status",
                      "started_on", "ended_on", "end_reason", "has_public_consent",
                      "announced_on")


def export_sponsorships(session: Session, stream: TextIO) -> int:
    query = (
        select(Sponsorship.id, Sponsor.id, Sponsor.full_name, Sponsor.body, Sponsor.country,
               Prisoner.id, Prisoner.external_id, Prisoner.name_latin, Sponsorship.status,
               Sponsorship.started_on, Sponsorship.ended_on, Sponsorship.end_reason,
               Sponsorship.has_public_consent, Sponsorship.announced_on)
        .join(Sponsor, Sponsorship.sponsor)
        .join(Prisoner, Sponsorship.prisoner)
        .order_by(Sponsorship.id)
    )
    return _write_table(stream, SPONSORSHIP_HEADER, session.execute(query))


ACTION_HEADER = ("id", "sponsorship_id", "occurred_on", "kind", "sponsor_id", "sponsor_name",
                 "parliament", "country", "prisoner_id", "prisoner_external_id",
                 "prisoner_name", "summary", "link", "letter_outcome", "outcome_on",
                 "is_public")


def export_actions(session: Session, stream: TextIO) -> int:
    query = (
        select(Action.id, Action.sponsorship_id, Action.occurred_on, Action.kind, Sponsor.id,
               Sponsor.full_name, Sponsor.body, Sponsor.country, Prisoner.id,
               Prisoner.external_id, Prisoner.name_latin, Action.summary, Action.link,
               Action.letter_outcome, Action.outcome_on, Action.is_public)
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
