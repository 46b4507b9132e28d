"""Importing prisoners, step 1 of 3: reading and checking a file (CSV or XLSX).

Every row is parsed and every problem collected (up to ``MAX_ERRORS``; a file of nothing
but errors is not read to its end), so that a file with any bad row changes nothing. The
format is DESIGN.md's "Prisoner CSV". A file whose headings are not the format's (a list
from a human-rights group: "ФИО", "Дата рождения", "Place of detention") is read through a
mapping of its headings to the format's columns, chosen by the coordinator once and then
remembered for that set of headings (``import_mapping``). A whole name in one column is
split by ``fullnames``.

Hostile files are refused early with one message: over ``MAX_COLUMNS`` columns, over
``MAX_ROWS`` rows, cells over ``MAX_CELL`` characters, workbooks that unpack to more than
``MAX_UNPACKED_BYTES``.

Each cell is read by its column's parser (``import_cells``). Then ``import_plan`` compares
the rows with the registry and ``import_apply`` writes them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _

from godparents import spreadsheets
from godparents.prisoners.csvio import (
    COLUMNS,
    REQUIRED_COLUMNS,
)
from godparents.prisoners.fullnames import latin_name, split_full_name
from godparents.prisoners.import_cells import PARSERS, CellError, clean
from godparents.prisoners.spellings import is_cyrillic, language_of

MAX_COLUMNS = 200
MAX_ROWS = 50_000
MAX_CELL = 20_000  # characters in one cell (a biography fits; a runaway quote does not)
MAX_ERRORS = 200
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
FULL_NAME = "full_name"  # a mapping target: the whole name in one column, split on reading
IGNORED = ""  # a mapping target: the column is not imported
XLSX_MAGIC = b"PK\x03\x04"


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
    # The file's headings as written (stripped), and whether they need a mapping.
    headings: list[str] = field(default_factory=list)
    needs_mapping: bool = False
    # Reading stopped at MAX_ERRORS problems: there may be more.
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


class FileError(ValueError):
    """The whole file cannot be read; ``error`` says why and where."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


NAME_COLUMNS = ("name_latin", "name_be", "name_ru", FULL_NAME)


# Files: CSV and XLSX as rows of text cells -------------------------------------------------


@dataclass
class Table:
    """A file's headings, and its rows as (line, cells) after them."""

    headings: list[str]
    rows: Iterator[tuple[int, list[str]]]


def _too_wide(count: int) -> FileError:
    return FileError(
        RowError(
            1,
            "",
            _(
                "This file has %(count)d columns; an import reads at most %(limit)d. "
                "Is it the right file? Delete the columns that are not needed and try again.",
                count=count,
                limit=MAX_COLUMNS,
            ),
        )
    )


def _text_of(data: bytes | str) -> str:
    """The file as text without its BOM."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    binary = raw.find(b"\x00")  # UTF-8 text never has one; images and workbooks do
    if binary >= 0:
        raise FileError(
            RowError(
                raw.count(b"\n", 0, binary) + 1,
                "",
                _(
                    "This is not a CSV text file: it contains binary data. In your spreadsheet, "
                    "save it as “CSV UTF-8”, or upload the workbook itself (.xlsx)."
                ),
            )
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError(
            RowError(
                raw.count(b"\n", 0, error.start) + 1,
                "",
                _("This line is not UTF-8 text. Save the file as “CSV UTF-8” and try again."),
            )
        ) from None
    if not text.strip():
        raise FileError(
            RowError(1, "", _("The file is empty: it needs a header row with the column names."))
        )
    return text


def _delimiter(text: str) -> str:
    """Comma or semicolon, whichever the header line has more of (column names have none)."""
    end = text.find("\n")
    header = text[:end] if end >= 0 else text
    return ";" if header.count(";") > header.count(",") else ","


def _unreadable(line: int, problem: csv.Error) -> RowError:
    return RowError(
        line,
        "",
        _(
            "This row cannot be read as CSV (%(detail)s): check its quotation marks.",
            detail=str(problem)[:200],
        ),
    )


def _csv_table(data: bytes | str) -> Table:
    text = _text_of(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        headings = next(reader)
    except csv.Error as problem:
        raise FileError(_unreadable(1, problem)) from None
    if len(headings) > MAX_COLUMNS:
        raise _too_wide(len(headings))

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            line = reader.line_num + 1  # where the next record starts
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as problem:
                raise FileError(_unreadable(line, problem)) from None
            yield line, cells

    return Table([heading.strip() for heading in headings], rows())


def _xlsx_cell(value: Any) -> str:
    """A workbook's cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_table(data: bytes) -> Table:
    import openpyxl  # only for workbooks: a few hundred milliseconds to import

    unreadable = FileError(
        RowError(
            1, "", _("This workbook cannot be read. Save it again as .xlsx, or as “CSV UTF-8”.")
        )
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise unreadable from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileError(
            RowError(
                1,
                "",
                _(
                    "This workbook unpacks to more than %(size)d MB; split it into parts.",
                    size=MAX_UNPACKED_BYTES // 1024 // 1024,
                ),
            )
        )
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        width = sheet.max_column or 0
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        first = next(rows, None)
    except Exception:  # openpyxl raises many kinds for broken workbooks
        raise unreadable from None
    if first is None:
        raise FileError(
            RowError(1, "", _("The file is empty: it needs a header row with the column names."))
        )
    headings = [_xlsx_cell(value).strip() for value in first]
    while headings and not headings[-1]:
        headings.pop()  # formatted but empty columns at the right
    if len(headings) > MAX_COLUMNS or width > MAX_COLUMNS * 50:
        raise _too_wide(max(len(headings), width))

    def cells() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, values in enumerate(rows, start=2):
                row = [_xlsx_cell(value) for value in values]
                while len(row) > len(headings) and not row[-1].strip():
                    row.pop()
                yield line, row + [""] * (len(headings) - len(row))
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile):
            raise unreadable from None
        finally:
            book.close()

    return Table(headings, cells())


def read_table(data: bytes | str, filename: str = "") -> Table:
    """The file's headings and rows; a workbook by its content, whatever its name."""
    if isinstance(data, bytes) and data.startswith(XLSX_MAGIC):
        return _xlsx_table(data)
    return _csv_table(data)


# Headings -----------------------------------------------------------------------------------


def normalised(heading: str) -> str:
    return " ".join(heading.split()).casefold()


def _check_columns(columns: Sequence[str], headings: Sequence[str], mapped: bool) -> list[RowError]:
    """The columns the headings give (``IGNORED`` for a column left out), checked."""
    errors = []
    known = ", ".join(COLUMNS)
    for position, (column, heading) in enumerate(zip(columns, headings, strict=True)):
        shown = heading if mapped else column
        if column == IGNORED and not mapped:
            if not heading:
                errors.append(RowError(1, "", _("A column has no name: delete it or name it.")))
            else:
                errors.append(
                    RowError(
                        1,
                        heading,
                        _("Unknown column. The known columns are: %(known)s.", known=known),
                    )
                )
        elif column != IGNORED and column in columns[:position]:
            errors.append(RowError(1, shown, _("This column appears twice.")))
    present = set(columns)
    # A mapped list may give the name in another column: the Latin one is made from it.
    required = ("external_id",) if mapped else REQUIRED_COLUMNS
    errors.extend(
        RowError(1, name, _("This column is required.")) for name in required if name not in present
    )
    if mapped and not present & set(NAME_COLUMNS):
        errors.append(RowError(1, "name_latin", _("Say which column holds the name.")))
    return errors


def columns_for(
    headings: Sequence[str], mapping: Mapping[str, str] | None
) -> tuple[list[str], bool]:
    """The column each heading gives, and whether a mapping was used for it.

    Headings that are all the format's columns need no mapping. Otherwise ``mapping`` (by
    normalised heading) decides, and a heading it does not name is left out.
    """
    plain = [normalised(heading) for heading in headings]
    if mapping is None or all(name in COLUMNS for name in plain if name):
        return [name if name in COLUMNS else IGNORED for name in plain], False
    targets = set(COLUMNS) | {FULL_NAME}
    return [
        mapping.get(name, IGNORED) if mapping.get(name, IGNORED) in targets else IGNORED
        for name in plain
    ], True


# Rows ---------------------------------------------------------------------------------------


def _cross_check(line: int, values: dict[str, Any]) -> list[RowError]:
    """Rules between cells of one row, for cells that were readable on their own."""
    errors = []
    detained, released = values.get("detained_on"), values.get("released_on")
    if detained and released and released < detained:
        errors.append(
            RowError(
                line,
                "released_on",
                _(
                    "The release (%(released)s) is before the detention (%(detained)s).",
                    released=released.isoformat(),
                    detained=detained.isoformat(),
                ),
            )
        )
    return errors


def _names_from_full(values: dict[str, Any], whole: str) -> None:
    """A whole name's parts into the name columns the file does not fill itself."""
    parts = split_full_name(whole)
    if parts is None:
        return
    if is_cyrillic(whole):
        column = "name_be" if language_of(whole) == "be" else "name_ru"
        values.setdefault(column, parts.name)
        values.setdefault("name_latin", latin_name(parts.name))
    else:
        values.setdefault("name_latin", parts.name)
    if " ".join(whole.split()) != parts.name:  # surname first, a patronymic: searchable
        values["aliases"] = [*values.get("aliases", []), " ".join(whole.split())]


def _parse_row(
    line: int, columns: Sequence[str], cells: list[str]
) -> tuple[PrisonerRow | None, list[RowError]]:
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    whole = ""
    for column, cell in zip(columns, cells, strict=False):
        if column == IGNORED:
            continue
        # Our own exports guard formula-like cells with an apostrophe: take it off again, so
        # that an exported list comes back unchanged (spreadsheets.unguarded).
        text = spreadsheets.unguarded(clean(cell))
        if len(text) > MAX_CELL:
            errors.append(
                RowError(
                    line,
                    column,
                    _(
                        "At most %(limit)d characters (this has %(length)d).",
                        limit=MAX_CELL,
                        length=len(text),
                    ),
                )
            )
            continue
        if column == FULL_NAME:
            whole = text
            continue
        try:
            values[column] = PARSERS[column](text)
        except CellError as error:
            errors.append(RowError(line, column, str(error)))
    if whole:
        if values.get("name_latin") is None:
            values.pop("name_latin", None)
        _names_from_full(values, whole)
        if len(values.get("name_latin") or "") > 200:
            errors.append(
                RowError(
                    line,
                    FULL_NAME,
                    _(
                        "At most %(limit)d characters (this has %(length)d).",
                        limit=200,
                        length=len(values["name_latin"]),
                    ),
                )
            )
    if FULL_NAME in columns or "name_latin" not in columns:
        names = [values.get(name) for name in ("name_latin", "name_be", "name_ru")]
        if not values.get("name_latin") and any(names):
            values["name_latin"] = latin_name(next(name for name in names if name))
        if not values.get("name_latin"):
            errors.append(
                RowError(
                    line,
                    FULL_NAME if FULL_NAME in columns else "name_latin",
                    _("This value is required."),
                )
            )
    errors.extend(_cross_check(line, values))
    if errors:
        return None, errors
    external_id = values.pop("external_id")
    return PrisonerRow(line, external_id, values), []


def read_prisoners(
    data: bytes | str, filename: str = "", mapping: Mapping[str, str] | None = None
) -> ParseResult:
    """Parse and check a whole prisoner file; every problem is collected, none raised.

    ``data`` is a CSV file (UTF-8, with or without BOM, comma or semicolon separated) or an
    XLSX workbook (its first sheet). Line numbers count physical lines, as an editor or a
    spreadsheet shows them: a quoted address spans several lines of a CSV file, so each
    record is numbered by the line it starts on. Headings that are not the format's are read
    through ``mapping`` (normalised heading -> column); without one, the result says that a
    mapping is needed besides listing them as unknown.
    """
    try:
        table = read_table(data, filename)
    except FileError as problem:
        return ParseResult(errors=[problem.error])
    columns, mapped = columns_for(table.headings, mapping)
    result = ParseResult(headings=table.headings)
    result.needs_mapping = not mapped and any(
        normalised(heading) not in COLUMNS for heading in table.headings if heading
    )
    result.errors = _check_columns(columns, table.headings, mapped)
    if result.errors:
        return result
    width = len(table.headings)
    first_line: dict[str, int] = {}
    rows = 0
    try:
        for line, cells in table.rows:
            if len(result.errors) >= MAX_ERRORS:
                result.stopped_early = True
                break
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and rows of empty cells that spreadsheets leave
            rows += 1
            if rows > MAX_ROWS:
                return ParseResult(
                    headings=table.headings,
                    errors=[
                        RowError(
                            line,
                            "",
                            _(
                                "This file has more than %(limit)d rows; split it into parts.",
                                limit=MAX_ROWS,
                            ),
                        )
                    ],
                )
            if len(cells) != width:
                result.errors.append(
                    RowError(
                        line,
                        "",
                        _(
                            "This row has %(cells)d cells; the header has %(columns)d.",
                            cells=len(cells),
                            columns=width,
                        ),
                    )
                )
                continue
            row, errors = _parse_row(line, columns, cells)
            external_id = clean(cells[columns.index("external_id")])
            if external_id in first_line:
                errors.append(
                    RowError(
                        line,
                        "external_id",
                        _(
                            "%(value)s is already on line %(line)d: each external_id only once.",
                            value=external_id,
                            line=first_line[external_id],
                        ),
                    )
                )
            elif external_id:
                first_line[external_id] = line
            result.errors.extend(errors)
            if row is not None and not errors:
                result.rows.append(row)
    except FileError as problem:
        result.errors.append(problem.error)
    del result.errors[MAX_ERRORS:]
    return result
