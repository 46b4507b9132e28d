"""The maintained list of parliaments, named in English and German.

A godparent's parliament is picked from the list, or "other" with the name as typed. The
list starts with ``KNOWN`` (created by the migration and by ``ensure_parliaments``); a
name typed as "other" that is on the list, in either language, is linked to it.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from godparents.extensions import db
from godparents.sponsors.models import Parliament, Sponsor

# (English, German, country). The migration f17a0c1d2e3a holds a copy: it must not change
# when this list does.
KNOWN: tuple[tuple[str, str, str], ...] = (
    ("European Parliament", "Europäisches Parlament", "EU"),
    ("Bundestag", "Bundestag", "DE"),
    ("Bundesrat (Germany)", "Bundesrat (Deutschland)", "DE"),
    ("Austrian National Council", "Österreichischer Nationalrat", "AT"),
    ("Austrian Federal Council", "Österreichischer Bundesrat", "AT"),
    ("Swiss National Council", "Schweizer Nationalrat", "CH"),
    ("Swiss Council of States", "Schweizer Ständerat", "CH"),
    ("House of Commons", "Britisches Unterhaus", "GB"),
    ("House of Lords", "Britisches Oberhaus", "GB"),
    ("Sejm", "Sejm", "PL"),
    ("Senate of Poland", "Polnischer Senat", "PL"),
    ("Seimas", "Seimas", "LT"),
    ("Saeima", "Saeima", "LV"),
    ("Riigikogu", "Riigikogu", "EE"),
    ("Tweede Kamer", "Zweite Kammer der Niederlande", "NL"),
    ("Belgian Chamber of Representatives", "Belgische Abgeordnetenkammer", "BE"),
    ("French National Assembly", "Französische Nationalversammlung", "FR"),
    ("Czech Chamber of Deputies", "Tschechisches Abgeordnetenhaus", "CZ"),
    ("Swedish Riksdag", "Schwedischer Reichstag", "SE"),
    ("Parliament of Finland", "Finnisches Parlament", "FI"),
    ("Danish Folketing", "Dänisches Folketing", "DK"),
    ("Dáil Éireann", "Irisches Unterhaus (Dáil Éireann)", "IE"),
    ("Parliamentary Assembly of the Council of Europe",
     "Parlamentarische Versammlung des Europarates", "EU"),
)  # fmt: skip


def ensure_parliaments() -> int:
    """Add the parliaments of ``KNOWN`` that are missing (by English name); how many."""
    existing = set(db.session.scalars(select(Parliament.name_en)))
    missing = [row for row in KNOWN if row[0] not in existing]
    db.session.add_all(
        Parliament(name_en=name_en, name_de=name_de, country=country)
        for name_en, name_de, country in missing
    )
    db.session.flush()
    return len(missing)


def all_parliaments() -> list[Parliament]:
    return list(db.session.scalars(select(Parliament).order_by(Parliament.name_en)))


def matching(name: str) -> Parliament | None:
    """The listed parliament called ``name`` in English or German (case ignored)."""
    folded = " ".join(name.split()).lower()
    if not folded:
        return None
    return db.session.scalars(
        select(Parliament)
        .where(
            or_(func.lower(Parliament.name_en) == folded, func.lower(Parliament.name_de) == folded)
        )
        .order_by(Parliament.id)
        .limit(1)
    ).first()


def place(sponsor: Sponsor, parliament: Parliament | None, other: str = "") -> None:
    """Put ``sponsor`` in ``parliament``, or, for "other", in the one named ``other``
    (linked to the list when the name is on it)."""
    if parliament is None:
        parliament = matching(other)
    sponsor.parliament = parliament
    sponsor.body = parliament.name_en if parliament is not None else " ".join(other.split())
