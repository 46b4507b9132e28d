"""Nothing but the public fields leaves without a login.

Every table of the models gets rows (the world's, and one made here for each table the
world leaves empty); every column not in ``services.PUBLIC_COLUMNS`` gets a secret naming
its table and column; every record consents and the pages are on. Then every answer served
without a login (each public page in both languages, each prisoner's profile, the news,
Atom, sitemap, both feeds with every CSV table, the photos, and every other public page of
the app) is searched for any secret.
"""

from __future__ import annotations

import contextlib
import itertools
import zlib
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    LargeBinary,
    String,
    Table,
    select,
)
from sqlalchemy.types import TypeDecorator

from godparents.extensions import db
from godparents.prisoners.models import Facility, PrisonerAddress
from godparents.public import views
from godparents.public.models import PublicSettings
from godparents.public.services import PUBLIC_COLUMNS
from godparents.security import is_public_endpoint
from godparents.types import utcnow
from tests.world import PHOTO, TeamSpec, build_world

SECRET = "SECRET-"
SHORT_NAMES: dict[str, str] = {}  # a short column's secret -> its table.column


def _kind(column: Column[Any]) -> type[Any] | None:
    """What a column holds, for planting: str, JSON, bytes, or None (nothing to plant)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl  # type: ignore[assignment]
    if isinstance(kind, Enum):
        return None
    if isinstance(kind, JSON):
        return list
    if isinstance(kind, LargeBinary):
        return bytes
    if isinstance(kind, String):
        return str
    return None


def _too_short(column: Column[Any]) -> bool:
    """A column too short for a secret (a two-letter language or country code): no value
    of that size could be told apart in a page, so it is left out of the planting (and
    PostgreSQL would refuse the longer text)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl  # type: ignore[assignment]
    length = getattr(kind, "length", None)
    return _kind(column) is str and length is not None and length < 16


def _secret(table: Table, column: Column[Any], number: int) -> Any:
    text = f"{SECRET}{table.name}-{column.name}-{number}"
    kind = _kind(column)
    length = getattr(column.type, "length", None)
    if kind is str and length is not None and len(text) > length:
        # A short column (a code, a token): a short secret that still names its column.
        text = f"{SECRET}{zlib.crc32(text.encode()):08x}"
        SHORT_NAMES[text] = f"{table.name}.{column.name}"
    if kind is list:
        return [text]
    if kind is bytes:
        return text.encode()
    return text


def _plain_value(table: Table, column: Column[Any]) -> Any:
    """A value for a new row's column that is not planted (an id, a number, a date)."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        return db.session.scalar(select(target).limit(1))
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl  # type: ignore[assignment]
    if isinstance(kind, Enum):
        return kind.enums[0]
    if isinstance(kind, DateTime):
        return utcnow()
    if isinstance(kind, Boolean):
        return False
    python_type = None
    with contextlib.suppress(NotImplementedError):
        python_type = kind.python_type
    if python_type is int:
        return 1
    if python_type is date or isinstance(kind, Date):
        return date(2024, 1, 1)
    if python_type is not None and python_type.__name__ == "datetime":
        return utcnow()
    return None


def _fill_empty_tables() -> list[str]:
    """One row in every table the world left empty: planted text, plain other values."""
    filled = []
    for table in db.metadata.sorted_tables:
        if db.session.scalar(select(table).limit(1)) is not None:
            continue
        row = {}
        for column in table.columns:
            if column.primary_key and not column.foreign_keys and _kind(column) is None:
                continue  # an id the database gives
            if _too_short(column):
                row[column.name] = "x"
            elif _kind(column) is not None and not column.foreign_keys:
                row[column.name] = _secret(table, column, 0)
            else:
                row[column.name] = _plain_value(table, column)
        db.session.execute(table.insert().values(**row))
        filled.append(table.name)
    db.session.commit()
    return filled


def _plant() -> set[str]:
    """Every non-public string-ish column of every row gets its secret; which columns."""
    planted = set()
    for table in db.metadata.sorted_tables:
        public = PUBLIC_COLUMNS.get(table.name, frozenset())
        columns = [
            c
            for c in table.columns
            if _kind(c) is not None
            and c.name not in public
            and not c.primary_key
            and not _too_short(c)
        ]
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        rows = db.session.execute(select(*keys)).all()
        assert rows, f"{table.name} has no row to plant in"
        for number, key in enumerate(rows):
            where = [k == value for k, value in zip(keys, key, strict=True)]
            db.session.execute(
                table.update()
                .where(*where)
                .values({c.name: _secret(table, c, number) for c in columns})
            )
        planted.update(f"{table.name}.{c.name}" for c in columns)
    db.session.commit()
    return planted


def test_no_answer_without_a_login_carries_a_secret(
    app: Flask, client: FlaskClient, web_app: Flask
) -> None:
    views.cache.clear()
    world = build_world(
        team=TeamSpec(action={}, key_date={}, photo=PHOTO),
        former_sponsor={},
        free_prisoner={},
    )
    # An older address (history beyond the current one) with a secret of its own.
    db.session.add(
        PrisonerAddress(
            prisoner=world.prisoner,
            facility=f"{SECRET}old-facility",
            postal_address=f"{SECRET}old-address",
            valid_from=date(2020, 1, 1),
        )
    )
    # The current address names a facility record (its names are public, its parts not).
    facility = Facility(name_en="Penal colony No. 3", name_de="Strafkolonie Nr. 3")
    db.session.add(facility)
    db.session.flush()
    world.prisoner.current_address.facility_id = facility.id  # type: ignore[union-attr]
    db.session.add(PublicSettings(id=1, is_enabled=True, contact_email="join@campaign.example"))
    db.session.commit()
    filled = _fill_empty_tables()
    planted = _plant()
    # Every record consents: what stays inside must stay inside by its column alone.
    for table_name in ("prisoners", "sponsors", "sponsorships"):
        table = db.metadata.tables[table_name]
        db.session.execute(table.update().values(has_public_consent=True))
    db.session.execute(
        db.metadata.tables["prisoners"].update().values(released_on=date.today() - timedelta(3))
    )
    db.session.commit()
    assert {"prisoners.notes", "prisoners.health_notes", "sponsors.email", "users.email"} <= (
        planted
    )
    assert len(planted) > 60, sorted(planted)
    assert "prisoners" not in filled and "sponsorships" not in filled

    prisoner_ids = db.session.scalars(select(db.metadata.tables["prisoners"].c.id)).all()
    paths = ["/public/", "/public/godparents", "/public/news", "/public/join"]
    paths += [f"/public/prisoners/{i}" for i in prisoner_ids]
    paths += [f"/photos/{i}.jpg" for i in prisoner_ids]
    paths = [f"{p}?lang={lang}" for p, lang in itertools.product(paths, ("en", "de"))]
    paths += ["/public/news.atom", "/public/sitemap.xml", "/public/data.json"]
    paths += [f"/public/data.csv?table={t}" for t in ("godparenthoods", "prisoners", "godparents")]
    paths += ["/public/data.csv?table=deleted"]
    # Every other page the app serves without a login (those without arguments).
    for rule in web_app.url_map.iter_rules():
        if (
            is_public_endpoint(web_app, rule.endpoint)
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and rule.endpoint != "static"
        ):
            paths.append(rule.rule)

    served = 0
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        body = response.get_data()
        found = body[body.find(SECRET.encode()) :][:80].decode(errors="replace")
        assert SECRET.encode() not in body, (path, found, SHORT_NAMES.get(found[:15]))
        headers = str(response.headers)
        assert SECRET not in headers, path
        served += response.status_code == 200
    # The public pages did show the consenting records (else the test proves nothing).
    feed = client.get("/public/data.json").get_json()
    assert len(feed["prisoners"]) == len(prisoner_ids) and feed["godparenthoods"]
    assert served > len(paths) // 2
