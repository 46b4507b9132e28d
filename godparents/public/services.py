"""What the public sees: one snapshot of exactly the public fields.

A record is in it only where every consent holds: a prisoner with their own public consent;
a godparent with theirs (and not erased); a godparenthood only where the pairing, its
godparent and its prisoner all consent. Every public page and both feeds are made from this
snapshot and nothing else, so no other column can reach them (``PUBLIC_COLUMNS`` lists the
columns it reads; the planted-secret test holds every other column to that).

The campaign's figures are counts over all records: a count names no one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from godparents.actions.models import Action, ActionKind
from godparents.audit.models import AuditEvent
from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, Prisoner, PrisonerPhoto
from godparents.public.models import ConsentEvent, ConsentRecord, PublicSettings
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

DELETION_DAYS = 90  # how long a withdrawn record is listed as deleted in the feed
NEWS_ITEMS = 50

# The columns the public snapshot reads (table -> columns). Everything else stays inside.
PUBLIC_COLUMNS: dict[str, frozenset[str]] = {
    "prisoners": frozenset(
        {
            "id",
            "name_latin",
            "name_be",
            "name_ru",
            "birth_year",  # on the envelope, for the prison to find the addressee
            "status",
            "detained_on",
            "released_on",
            "public_bio",
            "can_receive_letters",
            "has_public_consent",
        }
    ),
    # Only the current address, and of it only what goes on the envelope.
    "prisoner_addresses": frozenset(
        {"id", "prisoner_id", "facility", "facility_id", "postal_address", "valid_from"}
    ),
    "facilities": frozenset({"id", "name_en", "name_de", "name_ru", "name_be", "postal_address"}),
    "prisoner_photos": frozenset({"prisoner_id", "content", "mimetype"}),
    "sponsors": frozenset(
        {
            "id",
            "full_name",
            "title",
            "body",
            "country",
            "party",
            "public_quote",
            "has_public_consent",
            "is_active",
            "erased_at",
        }
    ),
    "sponsorships": frozenset(
        {
            "id",
            "sponsor_id",
            "prisoner_id",
            "status",
            "started_on",
            "ended_on",
            "has_public_consent",
        }
    ),
    "public_settings": frozenset({"id", "is_enabled", "contact_email"}),
    "consent_events": frozenset({"record_type", "record_id", "is_given", "created_at"}),
}


@dataclass(frozen=True)
class Snapshot:
    """Everything the public may see, as plain values (the JSON feed's shape)."""

    is_enabled: bool
    contact_email: str | None
    last_modified: datetime
    figures: dict[str, int]
    godparents: list[dict[str, Any]]
    prisoners: list[dict[str, Any]]
    godparenthoods: list[dict[str, Any]]
    deleted: list[dict[str, Any]]
    prisoners_by_id: dict[int, dict[str, Any]] = field(repr=False)
    godparents_by_id: dict[int, dict[str, Any]] = field(repr=False)


def settings() -> PublicSettings:
    """The one settings row (made on first use: the pages are off until switched on)."""
    found = db.session.get(PublicSettings, 1)
    if found is None:
        found = PublicSettings(id=1, is_enabled=False)
        db.session.add(found)
        db.session.flush()
    return found


def _last_change() -> datetime:
    when = db.session.scalar(select(func.max(AuditEvent.created_at)))
    if when is None:
        return datetime(2000, 1, 1, tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _figures() -> dict[str, int]:
    active = Sponsorship.status == SponsorshipStatus.ACTIVE
    godparents, godchildren, parliaments, countries = db.session.execute(
        select(
            func.count(func.distinct(Sponsorship.sponsor_id)),
            func.count(func.distinct(Sponsorship.prisoner_id)),
            func.count(func.distinct(Sponsor.body)),
            func.count(func.distinct(Sponsor.country)),
        )
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .where(active)
    ).one()
    held = db.session.scalar(
        select(func.count()).select_from(Prisoner).where(Prisoner.status.in_(HELD_STATUSES))
    )
    letters = db.session.scalar(
        select(func.count())
        .select_from(Action)
        .where(Action.kind.in_((ActionKind.LETTER, ActionKind.CARD, ActionKind.PARCEL)))
    )
    actions = db.session.scalar(select(func.count()).select_from(Action))
    return {
        "godparents": int(godparents or 0),
        "prisoners_with_godparent": int(godchildren or 0),
        "parliaments": int(parliaments or 0),
        "countries": int(countries or 0),
        "prisoners_held": int(held or 0),
        "letters": int(letters or 0),
        "actions": int(actions or 0),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _prisoner(prisoner: Prisoner, has_photo: bool, today: date) -> dict[str, Any]:
    address = prisoner.current_address
    facility = facility_de = None
    if address is not None:
        record = address.facility_record
        facility = (record.name("en") if record else None) or address.facility
        facility_de = (record.name("de") if record else None) or address.facility
    return {
        "id": prisoner.id,
        "name_latin": prisoner.name_latin,
        "name_be": prisoner.name_be,
        "name_ru": prisoner.name_ru,
        "status": prisoner.status.value,
        "is_held": prisoner.is_held,
        "detained_on": _iso(prisoner.detained_on),
        "released_on": _iso(prisoner.released_on),
        "days_in_detention": prisoner.days_in_detention(today),
        "bio": prisoner.public_bio or None,
        "has_photo": has_photo,
        "facility": facility or None,
        "facility_de": facility_de or None,
        "postal_address": (
            prisoner.envelope(address) if address is not None and prisoner.is_held else None
        ),
        "can_receive_letters": prisoner.can_receive_letters if prisoner.is_held else None,
    }


def _godparent(sponsor: Sponsor) -> dict[str, Any]:
    return {
        "id": sponsor.id,
        "name": sponsor.full_name,
        "title": sponsor.title or None,
        "parliament": sponsor.body,
        "country": sponsor.country,
        "party": sponsor.party or None,
        "quote": sponsor.public_quote or None,
    }


def _deleted(
    today: date, prisoner_ids: set[int], sponsor_ids: set[int], pairing_ids: set[int]
) -> list[dict[str, Any]]:
    """Records whose consent was withdrawn (or that were deleted while public) in the last
    ``DELETION_DAYS`` days and are not public now; pairings also when their godparent's or
    prisoner's consent went."""
    since = datetime.combine(today - timedelta(days=DELETION_DAYS), time(), tzinfo=UTC)
    rows = db.session.execute(
        select(ConsentEvent.record_type, ConsentEvent.record_id, func.max(ConsentEvent.created_at))
        .where(ConsentEvent.created_at >= since, ConsentEvent.is_given.is_(False))
        .group_by(ConsentEvent.record_type, ConsentEvent.record_id)
    ).all()
    public = {
        ConsentRecord.PRISONER: prisoner_ids,
        ConsentRecord.SPONSOR: sponsor_ids,
        ConsentRecord.SPONSORSHIP: pairing_ids,
    }
    withdrawn: dict[tuple[str, int], datetime] = {}
    for record_type, record_id, when in rows:
        kind = ConsentRecord(record_type)
        if record_id not in public[kind]:
            withdrawn[(kind.value, record_id)] = when
    gone_people = {
        (kind, record_id): when
        for (kind, record_id), when in withdrawn.items()
        if kind != ConsentRecord.SPONSORSHIP.value
    }
    if gone_people:
        sponsors_gone = [i for k, i in gone_people if k == ConsentRecord.SPONSOR.value]
        prisoners_gone = [i for k, i in gone_people if k == ConsentRecord.PRISONER.value]
        pairings = db.session.execute(
            select(Sponsorship.id, Sponsorship.sponsor_id, Sponsorship.prisoner_id).where(
                Sponsorship.sponsor_id.in_(sponsors_gone)
                | Sponsorship.prisoner_id.in_(prisoners_gone)
            )
        ).all()
        for pairing_id, sponsor_id, prisoner_id in pairings:
            if pairing_id in pairing_ids:
                continue
            when = max(
                gone_people.get((ConsentRecord.SPONSOR.value, sponsor_id), since),
                gone_people.get((ConsentRecord.PRISONER.value, prisoner_id), since),
            )
            key = (ConsentRecord.SPONSORSHIP.value, pairing_id)
            withdrawn[key] = max(withdrawn.get(key, when), when)
    return [
        {"type": kind, "id": record_id, "deleted_at": _utc(when).isoformat()}
        for (kind, record_id), when in sorted(withdrawn.items())
    ]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_snapshot(today: date) -> Snapshot:
    """Read the public records from the database (a few queries, whatever the size)."""
    found = db.session.get(PublicSettings, 1)
    prisoners = (
        db.session.scalars(
            select(Prisoner)
            .where(Prisoner.has_public_consent)
            .options(selectinload(Prisoner.addresses))
            .order_by(Prisoner.name_latin, Prisoner.id)
        )
        .unique()
        .all()
    )
    prisoner_ids = {p.id for p in prisoners}
    with_photo = set(
        db.session.scalars(
            select(PrisonerPhoto.prisoner_id)
            .join(Prisoner, Prisoner.id == PrisonerPhoto.prisoner_id)
            .where(Prisoner.has_public_consent)
        )
    )
    sponsors = db.session.scalars(
        select(Sponsor)
        .where(Sponsor.has_public_consent, Sponsor.erased_at.is_(None))
        .order_by(Sponsor.country, Sponsor.body, Sponsor.full_name, Sponsor.id)
    ).all()
    sponsor_ids = {s.id for s in sponsors}
    pairings = db.session.execute(
        select(
            Sponsorship.id,
            Sponsorship.sponsor_id,
            Sponsorship.prisoner_id,
            Sponsorship.status,
            Sponsorship.started_on,
            Sponsorship.ended_on,
        )
        .join(Sponsor, Sponsor.id == Sponsorship.sponsor_id)
        .join(Prisoner, Prisoner.id == Sponsorship.prisoner_id)
        .where(
            and_(
                Sponsorship.has_public_consent,
                Sponsor.has_public_consent,
                Sponsor.erased_at.is_(None),
                Prisoner.has_public_consent,
                Sponsorship.status.in_((SponsorshipStatus.ACTIVE, SponsorshipStatus.ENDED)),
            )
        )
        .order_by(Sponsorship.id)
    ).all()
    godparenthoods = [
        {
            "id": row.id,
            "godparent_id": row.sponsor_id,
            "prisoner_id": row.prisoner_id,
            "status": row.status.value,
            "started_on": _iso(row.started_on),
            "ended_on": _iso(row.ended_on),
        }
        for row in pairings
    ]
    prisoner_rows = [_prisoner(p, p.id in with_photo, today) for p in prisoners]
    godparent_rows = [_godparent(s) for s in sponsors]
    return Snapshot(
        is_enabled=bool(found and found.is_enabled),
        contact_email=(found.contact_email if found else None) or None,
        last_modified=max(_last_change(), datetime.combine(today, time(), tzinfo=UTC)).replace(
            microsecond=0
        ),
        figures=_figures(),
        godparents=godparent_rows,
        prisoners=prisoner_rows,
        godparenthoods=godparenthoods,
        deleted=_deleted(today, prisoner_ids, sponsor_ids, {g["id"] for g in godparenthoods}),
        prisoners_by_id={row["id"]: row for row in prisoner_rows},
        godparents_by_id={row["id"]: row for row in godparent_rows},
    )


# -- what the pages show, made from the snapshot alone --


def godparents_by_parliament(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Country, then parliament, then its godparents, each with their public godchildren
    (current ones; former ones marked)."""
    children: dict[int, list[dict[str, Any]]] = {}
    for pairing in snapshot.godparenthoods:
        prisoner = snapshot.prisoners_by_id[pairing["prisoner_id"]]
        children.setdefault(pairing["godparent_id"], []).append(
            {"prisoner": prisoner, "is_current": pairing["status"] == "active"}
        )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for godparent in snapshot.godparents:
        groups.setdefault((godparent["country"], godparent["parliament"]), []).append(
            {**godparent, "godchildren": children.get(godparent["id"], [])}
        )
    return [
        {"country": country, "parliament": parliament, "godparents": members}
        for (country, parliament), members in sorted(groups.items())
    ]


def godparents_of(snapshot: Snapshot, prisoner_id: int) -> list[dict[str, Any]]:
    return [
        {
            "godparent": snapshot.godparents_by_id[pairing["godparent_id"]],
            "is_current": pairing["status"] == "active",
        }
        for pairing in snapshot.godparenthoods
        if pairing["prisoner_id"] == prisoner_id
    ]


def news(snapshot: Snapshot) -> list[dict[str, Any]]:
    """New godparenthoods and releases, newest first."""
    items: list[dict[str, Any]] = []
    for pairing in snapshot.godparenthoods:
        if pairing["started_on"]:
            items.append(
                {
                    "kind": "pairing",
                    "id": f"godparenthood-{pairing['id']}",
                    "on": pairing["started_on"],
                    "godparent": snapshot.godparents_by_id[pairing["godparent_id"]],
                    "prisoner": snapshot.prisoners_by_id[pairing["prisoner_id"]],
                }
            )
    for prisoner in snapshot.prisoners:
        if prisoner["released_on"] and not prisoner["is_held"]:
            items.append(
                {
                    "kind": "release",
                    "id": f"release-{prisoner['id']}",
                    "on": prisoner["released_on"],
                    "prisoner": prisoner,
                }
            )
    items.sort(key=lambda item: (item["on"], item["id"]), reverse=True)
    return items[:NEWS_ITEMS]
