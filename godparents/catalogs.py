"""Compiling the translation catalogs (``.po`` to ``.mo``).

Flask-Babel reads only compiled ``.mo`` files and, without them, silently serves English
while Babel still formats dates in German. The build hook (``setup.py``) compiles them into
every wheel; the app compiles any that are missing or older than their ``.po`` at start-up
(a checkout, an editable install); ``flask --app godparents doctor`` reports what is missing.

This module imports nothing but Babel: ``setup.py`` loads it by path at build time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DIRECTORY = Path(__file__).resolve().parent / "translations"


def sources(directory: Path = DIRECTORY) -> list[Path]:
    return sorted(directory.glob("*/LC_MESSAGES/messages.po"))


def stale(directory: Path = DIRECTORY) -> list[Path]:
    """The ``.po`` files whose ``.mo`` is missing or older."""
    found = []
    for po in sources(directory):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            found.append(po)
    return found


def compile_catalog(po: Path, mo: Path) -> None:
    """Write ``mo`` from ``po`` atomically (several server processes may start at once);
    fuzzy entries are left out, as ``pybabel compile`` does."""
    with po.open("rb") as stream:
        catalog = read_po(stream, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(handle, "wb") as stream:
            write_mo(stream, catalog)
        os.chmod(temporary, 0o644)  # a catalog is public text
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def compile_all(
    source: Path = DIRECTORY, target: Path | None = None, only_stale: bool = False
) -> list[Path]:
    """Compile the catalogs under ``source`` into ``target`` (default: beside them)."""
    todo = stale(source) if only_stale else sources(source)
    written = []
    for po in todo:
        mo = (target or source) / po.relative_to(source).with_suffix(".mo")
        compile_catalog(po, mo)
        written.append(mo)
    return written
