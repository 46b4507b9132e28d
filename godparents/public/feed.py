"""The open data feed (docs/open-data.md): the public snapshot as JSON and CSV, with
exactly the public fields, in schema version ``SCHEMA_VERSION``."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from godparents.public.services import Snapshot
from godparents.spreadsheets import write_table

SCHEMA_VERSION = 1

PRISONER_FIELDS = (
    "id",
    "name_latin",
    "name_be",
    "name_ru",
    "status",
    "detained_on",
    "released_on",
    "days_in_detention",
    "bio",
    "photo_url",
    "facility",
    "postal_address",
    "can_receive_letters",
)
GODPARENT_FIELDS = ("id", "name", "title", "parliament", "country", "party", "quote")
GODPARENTHOOD_FIELDS = ("id", "godparent_id", "prisoner_id", "status", "started_on", "ended_on")
DELETED_FIELDS = ("type", "id", "deleted_at")
CSV_TABLES = {
    "godparenthoods": GODPARENTHOOD_FIELDS,
    "prisoners": PRISONER_FIELDS,
    "godparents": GODPARENT_FIELDS,
    "deleted": DELETED_FIELDS,
}


def feed(snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    """The open data feed (docs/open-data.md describes every field)."""

    def prisoner(row: dict[str, Any]) -> dict[str, Any]:
        photo = f"{base_url}/photos/{row['id']}.jpg" if row["has_photo"] else None
        return {name: photo if name == "photo_url" else row[name] for name in PRISONER_FIELDS}

    return {
        "schema_version": SCHEMA_VERSION,
        "last_modified": snapshot.last_modified.isoformat(),
        "figures": snapshot.figures,
        "godparents": [{k: g[k] for k in GODPARENT_FIELDS} for g in snapshot.godparents],
        "prisoners": [prisoner(p) for p in snapshot.prisoners],
        "godparenthoods": snapshot.godparenthoods,
        "deleted": snapshot.deleted,
    }


def feed_json(snapshot: Snapshot, base_url: str) -> bytes:
    return json.dumps(feed(snapshot, base_url), ensure_ascii=False, sort_keys=True).encode()


def feed_csv(snapshot: Snapshot, base_url: str, table: str) -> bytes:
    data = feed(snapshot, base_url)
    stream = io.StringIO()
    fields = CSV_TABLES[table]
    write_table(stream, fields, ([row[name] for name in fields] for row in data[table]))
    return stream.getvalue().encode("utf-8")


def etag_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:32]
