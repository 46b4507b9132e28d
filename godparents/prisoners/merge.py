"""Merging two records of one prisoner: everything moves to the one kept, nothing is lost.

Pairings (and with them their actions), the address history, key dates and the photo move
to the kept record; its empty fields take the other's values; the other's names and aliases
become aliases; the other's external id is remembered, so that an import naming it finds the
kept record. A pairing of the same godparent on both sides stays active once: the other's
is ended ("other"), its actions kept with it as history. The merge is audited, and the
flush hook records every row it changes. Plain functions; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from godparents.actions.models import Action
from godparents.audit.services import record
from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, Prisoner, PrisonerAddress, PrisonerPhoto
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus

# Fields the kept record takes from the other when it has none.
FILLED = (
    "name_be",
    "name_ru",
    "gender",
    "birth_date",
    "birth_year",
    "detained_on",
    "released_on",
    "sentence",
    "expected_release_on",
    "health_notes",
    "public_bio",
    "notes",
    "source_url",
    "last_verified_on",
)


class MergeError(ValueError):
    """Two records that cannot be merged; the message says why."""


@dataclass(frozen=True)
class MergeResult:
    pairings: int
    actions: int
    addresses: int
    key_dates: int
    ended: int  # the other's pairings ended because the kept record has the same godparent


def _count(model: Any, *where: Any) -> int:
    return len(db.session.scalars(select(model.id).where(*where)).all())


def merge(
    kept: Prisoner,
    other: Prisoner,
    keep_other_photo: bool,
    today: date,
    actor: User | None,
    ip: str | None,
) -> MergeResult:
    """Move everything of ``other`` to ``kept`` and delete ``other``."""
    if kept.id == other.id:
        raise MergeError(_("Choose another prisoner to merge with."))
    kept_sponsors = set(
        db.session.scalars(
            select(Sponsorship.sponsor_id).where(
                Sponsorship.prisoner_id == kept.id, Sponsorship.status != SponsorshipStatus.ENDED
            )
        )
    )
    ended = 0
    pairings = db.session.scalars(
        select(Sponsorship).where(Sponsorship.prisoner_id == other.id)
    ).all()
    for pairing in pairings:
        if pairing.status is not SponsorshipStatus.ENDED and pairing.sponsor_id in kept_sponsors:
            pairing.status, pairing.ended_on = SponsorshipStatus.ENDED, today
            pairing.end_reason = EndReason.OTHER
            ended += 1
        pairing.prisoner = kept
    actions = _count(Action, Action.sponsorship_id.in_([p.id for p in pairings])) if pairings else 0
    addresses = db.session.scalars(
        select(PrisonerAddress).where(PrisonerAddress.prisoner_id == other.id)
    ).all()
    for address in addresses:
        address.prisoner = kept
    key_dates = db.session.scalars(select(KeyDate).where(KeyDate.prisoner_id == other.id)).all()
    for key_date in key_dates:
        key_date.prisoner = kept
    _merge_fields(kept, other)
    _move_photo(kept, other, keep_other_photo)
    external_ids = [other.external_id, *(other.former_external_ids or [])]
    db.session.flush()
    removed = {"id": other.id, "external_id": other.external_id, "name_latin": other.name_latin}
    db.session.expire(other, ["addresses", "key_dates", "sponsorships", "photo"])
    db.session.delete(other)
    db.session.flush()
    kept.former_external_ids = sorted(
        {*(kept.former_external_ids or []), *(i for i in external_ids if i)}
    )
    result = MergeResult(len(pairings), actions, len(addresses), len(key_dates), ended)
    record(
        actor,
        "merge",
        kept,
        {
            "merged": removed,
            "pairings": result.pairings,
            "actions": result.actions,
            "addresses": result.addresses,
            "key_dates": result.key_dates,
            "pairings_ended": ended,
        },
        ip=ip,
    )
    return result


def _merge_fields(kept: Prisoner, other: Prisoner) -> None:
    for name in FILLED:
        if getattr(kept, name) in (None, "") and getattr(other, name) not in (None, ""):
            setattr(kept, name, getattr(other, name))
    names = [other.name_latin, other.name_be, other.name_ru, *(other.aliases or [])]
    own = {kept.name_latin, kept.name_be, kept.name_ru, *(kept.aliases or [])}
    kept.aliases = [
        *(kept.aliases or []),
        *dict.fromkeys(name for name in names if name and name not in own),
    ]
    kept.articles = list(dict.fromkeys([*(kept.articles or []), *(other.articles or [])]))
    kept.has_public_consent = kept.has_public_consent and other.has_public_consent


def _move_photo(kept: Prisoner, other: Prisoner, keep_other_photo: bool) -> None:
    theirs = db.session.get(PrisonerPhoto, other.id)
    if theirs is None:
        return
    mine = db.session.get(PrisonerPhoto, kept.id)
    if mine is None or keep_other_photo:
        content, mimetype = theirs.content, theirs.mimetype
        db.session.delete(theirs)
        db.session.flush()
        if mine is None:
            db.session.add(PrisonerPhoto(prisoner_id=kept.id, content=content, mimetype=mimetype))
        else:
            mine.content, mine.mimetype = content, mimetype
