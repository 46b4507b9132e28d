"""How dates, times and numbers are written in the reader's language (Babel), and the
locale a stored language is formatted in. Imports nothing of the app's: fields, views and
the reminder job all use it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from babel.dates import get_date_format, get_datetime_format
from flask import current_app
from flask_babel import force_locale, format_date, format_datetime, format_time, get_locale


def babel_locale(language: str | None) -> str | None:
    """The locale Babel formats ``language`` in: English in the configured style
    (``ENGLISH_LOCALE``, British by default: "3 Dec 2026, 08:36"), other languages as they
    are. Translations are looked up by language alone, so en_GB still reads the source text."""
    if language == "en":
        return str(current_app.config.get("ENGLISH_LOCALE") or "en")
    return language


@contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """``force_locale`` for a person's stored language (an email, a calendar feed), with
    dates and numbers formatted as ``babel_locale`` says."""
    with force_locale(babel_locale(language) or "en"):
        yield


def format_moment(value: datetime | None, format: str | None = None) -> str:
    """The templates' ``datetimeformat``: a moment as people read it, "3 Dec 2026, 08:36"
    (British English), "03.12.2026, 08:36" (German), in the reader's time zone. "short" is
    the day in words with the time to the minute (Babel's own short, "03/12/2026", reads
    as a different day to an American); any other format is Babel's."""
    if value is None:
        return ""
    if format != "short":
        return format_datetime(value, format)
    locale = get_locale()
    pattern = get_datetime_format("short", locale) if locale else "{1}, {0}"
    return (
        str(pattern)
        .replace("{1}", format_date(value, "medium"))
        .replace("{0}", format_time(value, "short"))
    )


def numeric_date_pattern() -> str:
    """The reader's all-digit date pattern with the whole year: "dd/MM/y" (British),
    "dd.MM.y" (German), "M/d/y" (American). A date field's example is written in it and
    what someone types in it is understood (see ``fields.DayField``)."""
    locale = get_locale()
    pattern = get_date_format("short", locale).pattern if locale else "y-MM-dd"
    return re.sub(r"y+", "y", pattern)


def example_date(day: date) -> str:
    """``day`` in ``numeric_date_pattern``, for "for example 21/05/2026"."""
    return format_date(day, numeric_date_pattern())
