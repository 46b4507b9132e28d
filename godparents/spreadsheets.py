"""Cells for spreadsheets: text that no spreadsheet program will run as a formula.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and
LibreOffice (CSV injection: ``=HYPERLINK(...)`` sends data away, ``=cmd|...`` once ran
programs). Looking at a cell's first character is not enough: a file written with commas
and opened where the list separator is ``;`` (German Excel) is split at every semicolon
inside a cell too, so ``Postcard sent;=cmd|' /C calc'!A0`` becomes a second cell that
starts with ``=``; the same goes the other way round, and for line breaks.

So ``safe_cell`` guards every place where a spreadsheet could start a cell: the start of
the text and every place after a comma, semicolon, tab or line break (spaces and quotes
skipped), putting an apostrophe before a formula character there. Spreadsheets show such
a cell as text, apostrophe included. ``unguarded`` takes exactly those apostrophes away
again, for a file that comes back to be imported. ``csv_writer`` quotes every cell, so a
separator inside one never splits it in the dialect it was written for.

One function for every export: CSV with commas or semicolons, and spreadsheets written
another way (a library that writes .xlsx takes a leading ``=`` as a formula as well).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, TextIO

# What makes a spreadsheet read a cell as a formula; the full-width forms too (East Asian
# input methods type them, and some spreadsheets take them for the ASCII ones).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# At the very start of a cell, a tab or carriage return also leads to a formula in some
# programs (OWASP's list).
FIRST_CHARACTER_STARTS = FORMULA_STARTS | frozenset("\t\r")
# Where a spreadsheet may start a new cell inside our text, in one dialect or the other.
SEPARATORS = frozenset(",;\t\r\n")
_SKIPPED = frozenset(' "')
_APOSTROPHE = "'"
# Excel reads the file as UTF-8 only with it (without it, Cyrillic turns to mojibake).
BOM = "\ufeff"
LIST_SEPARATOR = ";"  # between the items of a list in one cell


def _cell_starts(text: str) -> Iterable[int]:
    """Where a spreadsheet could start a cell: 0 and after every separator."""
    yield 0
    for index, character in enumerate(text):
        if character in SEPARATORS:
            yield index + 1


def _before_formula(text: str, start: int) -> tuple[int, int] | None:
    """For the cell that could start at ``start``: if, after spaces and quotes and any
    apostrophes, a formula character follows, where the apostrophes begin and how many
    there are."""
    point = start
    while point < len(text) and text[point] in _SKIPPED:
        point += 1
    end = point
    while end < len(text) and text[end] == _APOSTROPHE:
        end += 1
    starts = FIRST_CHARACTER_STARTS if start == 0 else FORMULA_STARTS
    return (point, end - point) if end < len(text) and text[end] in starts else None


def _with(text: str, points: list[int], insert: bool) -> str:
    """``text`` with an apostrophe put before (or taken from) each of ``points``."""
    pieces, last = [], 0
    for point in points:
        pieces.append(text[last:point])
        if insert:
            pieces.append(_APOSTROPHE)
            last = point
        else:
            last = point + 1
    pieces.append(text[last:])
    return "".join(pieces)


def safe_cell(text: str) -> str:
    """``text`` with an apostrophe wherever a spreadsheet could run a formula from it.

    It goes before any apostrophes already there (``'=x`` becomes ``''=x``), so that
    ``unguarded`` can take exactly one away again.
    """
    points = [
        found[0]
        for start in _cell_starts(text)
        if (found := _before_formula(text, start)) is not None
    ]
    return _with(text, points, insert=True) if points else text


def unguarded(text: str) -> str:
    """The text ``safe_cell`` was given: one apostrophe less wherever it put one."""
    points = [
        found[0]
        for start in _cell_starts(text)
        if (found := _before_formula(text, start)) is not None and found[1] > 0
    ]
    return _with(text, points, insert=False) if points else text


def csv_writer(stream: TextIO, delimiter: str = ",") -> Any:
    """A CSV writer that quotes every cell, after writing the BOM. Pass it ``safe_cell``'d
    text (``safe_row``): quoting alone does not help when the file is opened with the
    other separator."""
    stream.write(BOM)
    return csv.writer(stream, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")


def safe_row(cells: Iterable[str]) -> list[str]:
    return [safe_cell(text) for text in cells]


def cell(value: Any) -> str:
    """A value as every export writes it, the prisoners' import format too: lists joined
    with ``;``, booleans yes/no, dates ISO, enums by their stored value."""
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


def write_table(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A plain table, every cell guarded against formula injection; the number of rows."""
    writer = csv_writer(stream)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(safe_row(cell(value) for value in row))
        count += 1
    return count


# The flavours every export comes in (the exports page offers each): a comma-separated CSV,
# a semicolon-separated one for German Excel (both with the BOM), and a workbook.
COMMA, SEMICOLON, WORKBOOK = "comma", "semicolon", "xlsx"
FLAVOURS = (COMMA, SEMICOLON, WORKBOOK)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A sheet's title: at most 31 characters, none of these.
_SHEET_TITLE_FORBIDDEN = str.maketrans({character: " " for character in "[]:*?/\\"})


def rows_of(text: str) -> list[list[str]]:
    """The cells of a CSV written by ``csv_writer`` with commas, as written (still guarded)."""
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def with_separator(text: str, delimiter: str) -> str:
    """A CSV written with commas, written again with ``delimiter``: the same guarded cells,
    the BOM, every cell quoted. The guard already holds for either separator."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter)
    writer.writerows(rows_of(text))
    return buffer.getvalue()


def _text_cell(text: str) -> str:
    # Control characters other than tab and line breaks are not allowed in the XML of a
    # workbook (openpyxl refuses them): they become the replacement character. A carriage
    # return would come back as a line feed (XML reads it so): it is one from the start.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def sheet_title(title: str) -> str:
    return title.translate(_SHEET_TITLE_FORBIDDEN).strip()[:31] or "Sheet"


@dataclass(frozen=True)
class Sheet:
    """A table for ``workbook``: its title, the header row, the rows, and the number formats
    of some columns (by index; ``PERCENT`` for shares from 0 to 1)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    formats: Mapping[int, str] = field(default_factory=dict)


PERCENT = "0.0%"


def workbook(sheets: Iterable[Sheet], guarded: bool = False) -> bytes:
    """An .xlsx with a sheet for each of ``sheets``, the header row in bold.

    Text is guarded like every export's cells (``safe_cell``; ``guarded`` says it is so
    already) and stored as text, never as a formula: openpyxl takes any string starting
    with ``=`` for a formula, so each text cell's type is set to text after its value.
    Numbers stay numbers; other values are written as ``cell`` writes them.
    """
    import openpyxl  # only for workbooks: a few hundred milliseconds to import
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for table in sheets:
        name, suffix = sheet_title(table.title), 2
        while name.lower() in used:
            name = f"{sheet_title(table.title)[:27]} ({suffix})"
            suffix += 1
        used.add(name.lower())
        sheet = book.create_sheet(name)

        def text(value: str, font: Font | None = None, sheet: Any = sheet) -> Any:
            made = WriteOnlyCell(sheet, value=_text_cell(value if guarded else safe_cell(value)))
            made.data_type = "s"
            if font is not None:
                made.font = font
            return made

        def value_cell(value: Any, column: int, sheet: Any = sheet, table: Sheet = table) -> Any:
            if isinstance(value, int | float) and not isinstance(value, bool):
                if column not in table.formats:
                    return value
                made = WriteOnlyCell(sheet, value=value)
                made.number_format = table.formats[column]
                return made
            return text(cell(value))

        sheet.append([text(str(heading), bold) for heading in table.header])
        for row in table.rows:
            sheet.append([value_cell(value, column) for column, value in enumerate(row)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_from_csv(text: str, title: str) -> bytes:
    """A CSV written with commas as a one-sheet workbook: every cell text, as guarded."""
    header, *rows = rows_of(text) or [[]]
    return workbook([Sheet(title, header, rows)], guarded=True)
