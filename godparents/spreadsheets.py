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
from collections.abc import Iterable, Sequence
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
