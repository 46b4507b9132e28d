"""The prisoner registry: search, filters, the detail page, and the changes coordinators make.

Plain functions; the caller commits. Creates, changes and deletes are audited by the flush
hook in ``audit.tracking``, and ``Prisoner.search_text`` is refreshed by the flush hook in
``prisoners.models``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, SQLColumnExpression, Subquery, case, func, select
from sqlalchemy.orm import selectinload

from godparents.extensions import db
from godparents.listing import Sort, apply_sort
from godparents.prisoners.facilities import FacilityIndex
from godparents.prisoners.identity import Candidate, name_forms, possible_duplicates
from godparents.prisoners.models import (
    HELD_STATUSES,
    Facility,
    Gender,
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerPhoto,
    PrisonerStatus,
)
from godparents.prisoners.names import fold
from godparents.search import matches
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

HELD = "held"  # the status filter for pre-trial and sentenced together
# After these a godparenthood has nothing left to do: the coordinator should end it.
ENDED_STATUSES = frozenset(
    {PrisonerStatus.RELEASED, PrisonerStatus.PARDONED, PrisonerStatus.DEPORTED, PrisonerStatus.DIED}
)
EARLIEST_BIRTH_YEAR = 1900
URL_MAX = 500
_LIST_SEPARATORS = re.compile(r"[;\n]")


class PrisonerError(ValueError):
    """Input that cannot be saved: every ``(field, message)`` found, ``field`` being the form
    field the message belongs to; ``field`` and the text are the first's."""

    def __init__(self, message: str, field: str, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems = [(field, message), *(more or [])]


def _raise_all(problems: list[tuple[str, str]]) -> None:
    """One PrisonerError with every problem found, if there is any."""
    if problems:
        (field, message), *more = problems
        raise PrisonerError(message, field, more)


# --- The list -------------------------------------------------------------------------------


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; anything not understood is left out, never an error."""

    q: str = ""
    status: str = ""
    has_godparent: bool | None = None
    can_receive_letters: bool | None = None
    # "Not known" (nobody has said whether letters get through): the coordinators' to-do.
    letters_unknown: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = args.get("status", "")
        if status != HELD and status not in {s.value for s in PrisonerStatus}:
            status = ""
        return cls(
            q=args.get("q", "").strip(),
            status=status,
            has_godparent=_yes_no(args.get("godparent")),
            can_receive_letters=_yes_no(args.get("letters")),
            letters_unknown=args.get("letters") == "unknown",
        )

    @property
    def active(self) -> bool:
        return bool(
            fold(self.q)
            or self.status
            or self.has_godparent is not None
            or self.can_receive_letters is not None
            or self.letters_unknown
        )


def _active_pairings() -> Select[int]:
    return select(Sponsorship.id).where(Sponsorship.status == SponsorshipStatus.ACTIVE)


def _godparent_counts() -> Subquery:
    """Active godparents per prisoner: one grouped subquery, so joining it adds no rows."""
    return (
        select(Sponsorship.prisoner_id, func.count().label("godparents"))
        .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
        .group_by(Sponsorship.prisoner_id)
        .subquery()
    )


def search(filters: Filters) -> Select[Prisoner]:
    """Prisoners matching ``filters``, unsorted.

    Names are matched on ``search_text`` (``godparents.search``): every spelling, the words
    in any order, as prefixes, one typo in a long word.
    """
    query = select(Prisoner)
    condition = matches(Prisoner.search_text, filters.q)
    if condition is not None:
        query = query.where(condition)
    if filters.status == HELD:
        query = query.where(Prisoner.status.in_(HELD_STATUSES))
    elif filters.status:
        query = query.where(Prisoner.status == PrisonerStatus(filters.status))
    if filters.has_godparent is not None:
        paired = _active_pairings().where(Sponsorship.prisoner_id == Prisoner.id).exists()
        proposed = (
            select(Sponsorship.id)
            .where(
                Sponsorship.prisoner_id == Prisoner.id,
                Sponsorship.status == SponsorshipStatus.PROPOSED,
            )
            .exists()
        )
        # A proposed godparent is on the way: such a prisoner is not "without".
        query = query.where(paired if filters.has_godparent else ~paired & ~proposed)
    if filters.can_receive_letters is not None:
        letters = Prisoner.can_receive_letters
        # "Not known" (NULL) is neither: it shows under no letters filter but "any".
        query = query.where(letters.is_(filters.can_receive_letters))
    elif filters.letters_unknown:
        query = query.where(Prisoner.can_receive_letters.is_(None))
    return query


SORT_KEYS = ("name", "status", "detained_on", "days", "godparents")
DEFAULT_SORT = "name"


def sorted_search(filters: Filters, sort: Sort) -> Select[Prisoner]:
    """The search in the requested order; "days" in detention is ``detained_on`` reversed."""
    counts = _godparent_counts()
    columns: dict[str, SQLColumnExpression[Any]] = {
        "name": func.lower(Prisoner.name_latin),
        # In the order of the statuses' life cycle, not alphabetically.
        "status": case(
            {status: rank for rank, status in enumerate(PrisonerStatus)}, value=Prisoner.status
        ),
        "detained_on": Prisoner.detained_on,
        "godparents": func.coalesce(counts.c.godparents, 0),
    }
    query = search(filters)
    if sort.key == "godparents":
        query = query.outerjoin(counts, counts.c.prisoner_id == Prisoner.id)
    if sort.key == "days":
        sort = Sort("detained_on", not sort.descending)
    return apply_sort(query, sort, columns, Prisoner.id)


def godparent_counts(prisoner_ids: list[int]) -> dict[int, int]:
    """Active godparents of each of these prisoners, in one query (missing means none)."""
    rows = db.session.execute(
        select(Sponsorship.prisoner_id, func.count())
        .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
        .where(Sponsorship.prisoner_id.in_(prisoner_ids))
        .group_by(Sponsorship.prisoner_id)
    )
    return {prisoner_id: count for prisoner_id, count in rows}


# --- The detail page ------------------------------------------------------------------------

_PAIRING_ORDER = {
    SponsorshipStatus.ACTIVE: 0,
    SponsorshipStatus.PROPOSED: 1,
    SponsorshipStatus.ENDED: 2,
}


@dataclass
class PrisonerDetail:
    prisoner: Prisoner
    pairings: list[Sponsorship]
    has_photo: bool
    # Records that may be the same person under another id (names and birth year).
    duplicates: list[Candidate] = field(default_factory=list)


def detail(prisoner_id: int) -> PrisonerDetail | None:
    """Everything on the coordinator's prisoner page, in a fixed number of queries."""
    prisoner = db.session.scalar(
        select(Prisoner)
        .where(Prisoner.id == prisoner_id)
        .options(
            selectinload(Prisoner.addresses),
            selectinload(Prisoner.key_dates),
            selectinload(Prisoner.sponsorships).joinedload(Sponsorship.sponsor),
        )
    )
    if prisoner is None:
        return None
    pairings = sorted(
        prisoner.sponsorships,
        key=lambda p: (_PAIRING_ORDER[p.status], -(p.started_on or date.min).toordinal(), -p.id),
    )
    duplicates = possible_duplicates(
        db.session(),
        name_forms(prisoner.name_latin, prisoner.name_be, prisoner.name_ru, prisoner.aliases),
        prisoner.birth_year,
        exclude_id=prisoner.id,
    )
    return PrisonerDetail(prisoner, pairings, has_photo(prisoner_id), duplicates)


def has_photo(prisoner_id: int) -> bool:
    """Whether there is a photo, without loading its bytes."""
    return (
        db.session.scalar(
            select(PrisonerPhoto.prisoner_id).where(PrisonerPhoto.prisoner_id == prisoner_id)
        )
        is not None
    )


def has_active_pairings(prisoner: Prisoner) -> bool:
    return (
        db.session.scalar(_active_pairings().where(Sponsorship.prisoner_id == prisoner.id).limit(1))
        is not None
    )


# --- Creating and editing -------------------------------------------------------------------


def split_list(text: str | list[str] | None) -> list[str]:
    """Items separated by ';' or new lines, trimmed, without blanks or repeats. A list (an
    edit form keeps the stored value of a field the request left out) is taken as items."""
    if isinstance(text, list):
        text = "\n".join(str(item) for item in text)
    items = (item.strip() for item in _LIST_SEPARATORS.split(text or ""))
    return list(dict.fromkeys(item for item in items if item))


def _blank_to_none(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _multiline(text: str | None) -> str:
    """Browsers send textarea line breaks as CRLF; addresses are copied exactly, so keep LF."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


@dataclass
class PrisonerData:
    """The editable fields of a prisoner, as the form gives them."""

    name_latin: str
    status: PrisonerStatus
    name_be: str | None = None
    name_ru: str | None = None
    aliases: list[str] = field(default_factory=list)
    gender: Gender | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    detained_on: date | None = None
    released_on: date | None = None
    articles: list[str] = field(default_factory=list)
    sentence: str | None = None
    expected_release_on: date | None = None
    can_receive_letters: bool | None = None
    health_notes: str | None = None
    public_bio: str | None = None
    notes: str | None = None
    source_url: str | None = None
    external_id: str | None = None
    has_public_consent: bool = False
    last_verified_on: date | None = None


@dataclass
class AddressData:
    postal_address: str
    valid_from: date
    facility: str | None = None


def _birth_year(data: PrisonerData, today: date, problems: list[tuple[str, str]]) -> int | None:
    """The year of birth: the birth date's, when there is one; what is wrong with them is
    added to ``problems``."""
    if data.birth_date is not None:
        if data.birth_date > today:
            problems.append(("birth_date", _("This date is in the future.")))
        if data.birth_year is not None and data.birth_year != data.birth_date.year:
            problems.append(
                (
                    "birth_year",
                    _("This does not match the birth date (%(year)d).", year=data.birth_date.year),
                )
            )
        return data.birth_date.year
    if data.birth_year is not None and not EARLIEST_BIRTH_YEAR <= data.birth_year <= today.year:
        problems.append(
            (
                "birth_year",
                _(
                    "Enter a year from %(first)d to %(last)d.",
                    first=EARLIEST_BIRTH_YEAR,
                    last=today.year,
                ),
            )
        )
    return data.birth_year


def _check_url(url: str | None) -> str | None:
    url = _blank_to_none(url)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise PrisonerError(
            _("Enter a web address starting with https:// or http://."), "source_url"
        )
    return url


def external_id_taken() -> str:
    return _("Another prisoner already has this external id.")


def _check_external_id(external_id: str | None, prisoner_id: int | None) -> str | None:
    external_id = _blank_to_none(external_id)
    if external_id is None:
        return None
    clash = select(Prisoner.id).where(Prisoner.external_id == external_id)
    if prisoner_id is not None:
        clash = clash.where(Prisoner.id != prisoner_id)
    if db.session.scalar(clash) is not None:
        raise PrisonerError(external_id_taken(), "external_id")
    return external_id


def prisoner_problems(
    data: PrisonerData, prisoner_id: int | None, today: date
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops ``data`` being saved, all at once (a form
    shows each at its field). Works on a form's partial data: a field its own validation
    refused is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if not data.name_latin.strip():
        problems.append(("name_latin", _("Enter the name in Latin letters.")))
    _birth_year(data, today, problems)
    if data.detained_on and data.released_on and data.released_on < data.detained_on:
        problems.append(
            (
                "released_on",
                _("This is before the detention (%(date)s).", date=format_date(data.detained_on)),
            )
        )
    for field_name, check in (
        ("source_url", lambda: _check_url(data.source_url)),
        ("external_id", lambda: _check_external_id(data.external_id, prisoner_id)),
    ):
        try:
            check()
        except PrisonerError as error:
            problems.append((field_name, str(error)))
    return problems


def _cleaned(data: PrisonerData, prisoner_id: int | None, today: date) -> dict[str, Any]:
    """The values to store, or a ``PrisonerError`` with every field that is wrong."""
    problems = prisoner_problems(data, prisoner_id, today)
    _raise_all(problems)
    name_latin = data.name_latin.strip()
    birth_year = _birth_year(data, today, [])
    return {
        "name_latin": name_latin,
        "name_be": _blank_to_none(data.name_be),
        "name_ru": _blank_to_none(data.name_ru),
        "aliases": list(data.aliases),
        "gender": data.gender,
        "birth_date": data.birth_date,
        "birth_year": birth_year,
        "status": data.status,
        "detained_on": data.detained_on,
        "released_on": data.released_on,
        "articles": list(data.articles),
        "sentence": _blank_to_none(data.sentence),
        "expected_release_on": data.expected_release_on,
        "can_receive_letters": data.can_receive_letters,
        "health_notes": _blank_to_none(_multiline(data.health_notes)),
        "public_bio": _blank_to_none(_multiline(data.public_bio)),
        "notes": _blank_to_none(_multiline(data.notes)),
        "source_url": _blank_to_none(data.source_url),
        "external_id": _blank_to_none(data.external_id),
        "has_public_consent": data.has_public_consent,
        "last_verified_on": data.last_verified_on,
    }


def address_problems(
    address: AddressData, current: PrisonerAddress | None, today: date
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops ``address`` being saved, all at once. A
    ``valid_from`` the form could not read is None and not judged again."""
    problems: list[tuple[str, str]] = []
    if not (_multiline(address.postal_address) or None) and not _blank_to_none(address.facility):
        problems.append(
            (
                "postal_address",
                _(
                    "Enter the facility, the postal address (in Cyrillic as on the envelope), "
                    "or both."
                ),
            )
        )
    valid_from: date | None = address.valid_from  # None from a form that could not read it
    if valid_from is None:
        return problems
    if valid_from > today:
        problems.append(("valid_from", _("This date is in the future.")))
    elif current is not None and valid_from < current.valid_from:
        problems.append(
            (
                "valid_from",
                _(
                    "The current address is valid from %(date)s; choose that day or later.",
                    date=format_date(current.valid_from),
                ),
            )
        )
    return problems


def _check_address(
    address: AddressData, current: PrisonerAddress | None, today: date
) -> PrisonerAddress:
    """The new address entry, its facility matched by name or address (or made): a
    facility may come without a postal address, a postal address without a facility."""
    _raise_all(address_problems(address, current, today))
    postal_address = _multiline(address.postal_address) or None
    facility = _blank_to_none(address.facility)
    record = FacilityIndex(db.session()).resolve(facility, postal_address)
    return PrisonerAddress(
        facility=facility,
        facility_record=record,
        postal_address=postal_address,
        valid_from=address.valid_from,
    )


def facility_names() -> list[str]:
    """Every name of every facility, for the address forms' suggestions."""
    names: set[str] = set()
    for row in db.session.execute(
        select(Facility.name_en, Facility.name_de, Facility.name_ru, Facility.name_be)
    ):
        names.update(name for name in row if name)
    return sorted(names)


def create_prisoner(data: PrisonerData, address: AddressData | None, today: date) -> Prisoner:
    """A new prisoner, with a first address if one is given."""
    if address is not None:  # the prisoner's mistakes and the address's, all at once
        problems = prisoner_problems(data, None, today)
        _raise_all(problems + address_problems(address, None, today))
    prisoner = Prisoner(**_cleaned(data, None, today))
    if address is not None:
        prisoner.addresses.append(_check_address(address, None, today))
    db.session.add(prisoner)
    db.session.flush()
    if prisoner.external_id is None:
        # Every prisoner has an id for CSV upserts, so an export always imports back.
        prisoner.external_id = f"godparents-{prisoner.id}"
    return prisoner


def update_prisoner(prisoner: Prisoner, data: PrisonerData, today: date) -> None:
    """Save the form; a blank external id keeps the one the prisoner has."""
    for key, value in _cleaned(data, prisoner.id, today).items():
        if key == "external_id" and value is None:
            continue
        setattr(prisoner, key, value)


def needs_release(previous: PrisonerStatus, prisoner: Prisoner) -> bool:
    """The prisoner just left detention for good and godparents are still paired."""
    return (
        prisoner.status != previous
        and prisoner.status in ENDED_STATUSES
        and has_active_pairings(prisoner)
    )


def change_address(prisoner: Prisoner, address: AddressData, today: date) -> PrisonerAddress:
    """A new current address; the old ones stay as the history."""
    new = _check_address(address, prisoner.current_address, today)
    new.prisoner = prisoner
    db.session.add(new)
    db.session.flush()
    return new


# --- Key dates ------------------------------------------------------------------------------


def add_key_date(
    prisoner: Prisoner, kind: KeyDateKind, occurs_on: date, is_yearly: bool, note: str | None
) -> KeyDate:
    key_date = KeyDate(
        prisoner=prisoner,
        kind=kind,
        occurs_on=occurs_on,
        is_yearly=is_yearly,
        note=_blank_to_none(note),
    )
    db.session.add(key_date)
    db.session.flush()
    return key_date


def key_date_of(prisoner_id: int, key_date_id: int) -> KeyDate | None:
    """The key date if it belongs to this prisoner."""
    return db.session.scalar(
        select(KeyDate).where(KeyDate.id == key_date_id, KeyDate.prisoner_id == prisoner_id)
    )


def delete_key_date(key_date: KeyDate) -> None:
    db.session.delete(key_date)


# --- Photos ---------------------------------------------------------------------------------


def save_photo(prisoner: Prisoner, jpeg: bytes) -> PrisonerPhoto:
    """Store the re-encoded photo, replacing the one there was."""
    photo = db.session.get(PrisonerPhoto, prisoner.id)
    if photo is None:
        photo = PrisonerPhoto(prisoner_id=prisoner.id, content=jpeg, mimetype="image/jpeg")
        db.session.add(photo)
    else:
        photo.content, photo.mimetype = jpeg, "image/jpeg"
    db.session.flush()
    return photo


def photo_of(prisoner_id: int) -> PrisonerPhoto | None:
    return db.session.get(PrisonerPhoto, prisoner_id)


def public_photo(prisoner_id: int) -> PrisonerPhoto | None:
    """The photo, only if the prisoner consented to being shown publicly."""
    return db.session.scalar(
        select(PrisonerPhoto)
        .join(PrisonerPhoto.prisoner)
        .where(PrisonerPhoto.prisoner_id == prisoner_id, Prisoner.has_public_consent)
    )
