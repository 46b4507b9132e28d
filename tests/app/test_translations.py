"""Every user-visible string is translated into German, and the German is well-formed."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, gettext

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "godparents" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("godparents/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHODS,
        keywords=KEYWORDS,
        directory_filter=lambda path: (
            not any(part in Path(path).parts for part in (".venv", "node_modules", ".git", "tests"))
        ),
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as po:
        return read_po(po, locale="de")


def test_every_source_string_has_a_german_translation(catalog) -> None:
    source = _source_messages()
    assert len(source) > 50  # the extraction itself worked
    missing = sorted(m for m in source if m not in catalog or not _translated(catalog[m]))
    assert missing == [], "run `make messages` and translate these"


def test_no_german_translation_is_fuzzy_or_broken(catalog) -> None:
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []


def test_the_app_speaks_german(app: Flask) -> None:
    with force_locale("de"):
        assert gettext("Log in") == "Anmelden"


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy
