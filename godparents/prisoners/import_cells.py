"""Importing prisoners: the cells of a row, each read and checked by its column's parser.

A cell that cannot be used raises ``CellError`` with a message that says how to write it;
``import_read`` collects these by line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from godparents.prisoners.csvio import FALSE_WORDS, LIST_SEPARATOR, TRUE_WORDS
from godparents.prisoners.models import Gender, PrisonerStatus

_DATE_LENGTH = 10


class CellError(ValueError):
    """A cell that cannot be used; the message says how to write it."""


def _text(limit: int, required: bool = False) -> Callable[[str], str | None]:
    def parse(cell: str) -> str | None:
        if not cell:
            if required:
                raise CellError(_("This value is required."))
            return None
        if len(cell) > limit:
            raise CellError(
                _(
                    "At most %(limit)d characters (this has %(length)d).",
                    limit=limit,
                    length=len(cell),
                )
            )
        return cell

    return parse


def _long_text(cell: str) -> str | None:
    return cell or None


def _list(cell: str) -> list[str]:
    items = [item.strip() for item in cell.split(LIST_SEPARATOR)]
    return [item for item in items if item]


_GENDER_WORDS = {
    "m": Gender.MALE,
    "f": Gender.FEMALE,
    "x": Gender.OTHER,
    "м": Gender.MALE,
    "ж": Gender.FEMALE,
}


def _gender(cell: str) -> Gender | None:
    if not cell:
        return None
    found = _GENDER_WORDS.get(cell.lower())
    if found is None:
        raise CellError(_("Use m, f or x, or leave the cell empty."))
    return found


def _real_date(cell: str) -> date:
    try:
        return date(int(cell[:4]), int(cell[5:7]), int(cell[8:10]))
    except ValueError:
        raise CellError(_("There is no such date: %(value)s.", value=cell)) from None


def _is_iso_date(cell: str) -> bool:
    return (
        len(cell) == _DATE_LENGTH
        and cell[4] == "-"
        and cell[7] == "-"
        and cell[:4].isdigit()
        and cell[5:7].isdigit()
        and cell[8:].isdigit()
        and cell.isascii()
    )


def _day_first(cell: str) -> str:
    """14.03.1979, as lists from Belarus write dates, as 1979-03-14; anything else as it is."""
    parts = cell.split(".")
    if (
        len(parts) == 3
        and [len(p) for p in parts] == [2, 2, 4]
        and all(p.isdigit() and p.isascii() for p in parts)
    ):
        return f"{parts[2]}-{parts[1]}-{parts[0]}"
    return cell


def _date(cell: str) -> date | None:
    if not cell:
        return None
    cell = _day_first(cell)
    if not _is_iso_date(cell):
        raise CellError(_("Write the date as YYYY-MM-DD, for example 2021-07-14."))
    return _real_date(cell)


def _birth(cell: str) -> date | int | None:
    """A full date, a year alone (an int) or nothing."""
    if not cell:
        return None
    if len(cell) == 4 and cell.isdigit() and cell.isascii() and int(cell) > 0:
        return int(cell)
    cell = _day_first(cell)
    if not _is_iso_date(cell):
        raise CellError(_("Write the date as YYYY-MM-DD, or the year alone as YYYY."))
    return _real_date(cell)


def _status(cell: str) -> PrisonerStatus:
    try:
        return PrisonerStatus(cell.lower())
    except ValueError:
        choices = ", ".join(status.value for status in PrisonerStatus)
        if not cell:
            raise CellError(
                _("This value is required: one of %(choices)s.", choices=choices)
            ) from None
        raise CellError(
            _("Unknown status “%(value)s”: use one of %(choices)s.", value=cell, choices=choices)
        ) from None


def _boolean(default: bool | None) -> Callable[[str], bool | None]:
    def parse(cell: str) -> bool | None:
        word = cell.lower()
        if not word:
            return default
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(
            _("Unknown value “%(value)s”: use yes or no (or true/false, 1/0).", value=cell)
        )

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
    "can_receive_letters": _boolean(default=None),  # empty: not known
    "source_url": _url,
    "is_public": _boolean(default=False),
    "bio": _long_text,
}


def clean(cell: str) -> str:
    """Outer spaces off, line breaks as ``\\n`` (spreadsheets on Windows write ``\\r\\n``)."""
    if "\r" in cell:
        cell = cell.replace("\r\n", "\n").replace("\r", "\n")
    return cell.strip()
