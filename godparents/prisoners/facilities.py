"""Facilities as records: matching a name or address to one, or making a new one.

Lists name a prison in many ways ("Penal colony No. 9 (Horki)", "ИК-9", "Горки, ИК-9"),
with or without its postal address. A facility is matched by any of its names (folded) or
by its postal address; a new one gets the name in the field of its script, a kind guessed
from the name, and the structured parts of its address read from the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from godparents.prisoners.models import Facility, FacilityKind
from godparents.prisoners.names import fold
from godparents.prisoners.spellings import is_cyrillic, language_of

_KINDS: tuple[tuple[FacilityKind, re.Pattern[str]], ...] = (
    (
        FacilityKind.PRETRIAL,
        re.compile(
            r"\bsizo\b|сизо|сiзо|сізо|pre-?trial|remand|"
            r"следствен|untersuchung"
        ),
    ),
    (FacilityKind.SETTLEMENT, re.compile(r"settlement|поселени|пасяленн|kp-|кп-")),
    (
        FacilityKind.TEMPORARY,
        re.compile(
            r"\bivs\b|\bцип\b|\bивс\b|\bізу\b|temporary|"
            r"изолятор временного"
        ),
    ),
    (
        FacilityKind.PENAL_COLONY,
        re.compile(
            r"colony|колони|калоні|\bik-?\d|\bик-?\d|\bік-?\d|"
            r"strafkolonie"
        ),
    ),
    (FacilityKind.PRISON, re.compile(r"prison|тюрьм|турм|gefängnis")),
)
_POSTCODE = re.compile(r"^\s*(\d{6})\s*,?\s*")


def guess_kind(name: str | None) -> FacilityKind:
    folded = fold(name or "")
    for kind, pattern in _KINDS:
        if pattern.search(folded):
            return kind
    return FacilityKind.OTHER


@dataclass(frozen=True)
class PostalParts:
    postcode: str | None = None
    region: str | None = None
    town: str | None = None
    street: str | None = None
    institution: str | None = None


def _limit(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


def postal_parts(text: str | None) -> PostalParts:
    """The parts of a Belarusian postal address, as well as a text lets them be read:
    "211300, г. Витебск,\\nул. Придвинская, 3,\\nИК-3" is postcode 211300, town г. Витебск,
    street ул. Придвинская, 3, institution ИК-3. A part that cannot be told stays empty."""
    if not text or not text.strip():
        return PostalParts()
    body = text.strip()
    postcode = None
    if match := _POSTCODE.match(body):
        postcode, body = match.group(1), body[match.end() :]
    pieces = [piece.strip(" ,") for piece in re.split(r"[\n,]", body)]
    pieces = [piece for piece in pieces if piece]
    region = town = street = institution = None
    rest: list[str] = []
    for index, piece in enumerate(pieces):
        folded = fold(piece)
        if re.search(r"\bобл\b|област|вобл|р-н|район", folded):
            region = f"{region}, {piece}" if region else piece
        elif re.match(r"(г|п|д|аг|пос|гп|в|рп)\.\s*", folded) and town is None:
            town = piece
        elif re.match(r"(ул|пр|пер|просп|бул|вул|шоссе|тракт)\.?\s", folded):
            street = piece
            # "ул. Придвинская, 3": the house number is the next piece
            if index + 1 < len(pieces) and re.fullmatch(
                r"\d+[а-яa-z]?(/\d+)?", fold(pieces[index + 1])
            ):
                street = f"{piece}, {pieces[index + 1]}"
        elif street and piece in street:
            continue
        else:
            rest.append(piece)
    if rest:
        institution = ", ".join(rest)
    return PostalParts(
        postcode,
        _limit(region, 200),
        _limit(town, 200),
        _limit(street, 300),
        _limit(institution, 300),
    )


def _key(text: str | None) -> str:
    return " ".join(fold(text or "").replace(".", " ").split())


class FacilityIndex:
    """Every facility by its folded names and postal address, for matching many rows with
    one query; new facilities are added to the session (and flushed) as they are made."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_name: dict[str, Facility] = {}
        self.by_address: dict[str, Facility] = {}
        self.created: list[Facility] = []
        for facility in session.scalars(select(Facility).order_by(Facility.id)):
            self._add(facility)

    def _add(self, facility: Facility) -> None:
        for name in facility.names:
            self.by_name.setdefault(_key(name), facility)
        if facility.postal_address:
            self.by_address.setdefault(_key(facility.postal_address), facility)

    def match(self, name: str | None, postal_address: str | None) -> Facility | None:
        if name and (found := self.by_name.get(_key(name))):
            return found
        if postal_address and (found := self.by_address.get(_key(postal_address))):
            return found
        return None

    def resolve(self, name: str | None, postal_address: str | None) -> Facility | None:
        """The facility of this name or address; a new one when none matches. A facility
        without a postal address gets the one given here."""
        if not (name or postal_address):
            return None
        facility = self.match(name, postal_address)
        if facility is None:
            facility = new_facility(name, postal_address)
            self.session.add(facility)
            self.session.flush()
            self.created.append(facility)
        elif postal_address and not facility.postal_address:
            set_postal_address(facility, postal_address)
            self.session.flush()
        self._add(facility)
        return facility


def compose_postal_address(facility: Facility) -> str:
    """The envelope text from the parts: postcode and region, town, street, institution,
    one line each."""
    first = ", ".join(part for part in (facility.postcode, facility.region) if part)
    lines = [first, facility.town, facility.street, facility.institution]
    return ",\n".join(line for line in lines if line)


def set_postal_address(facility: Facility, postal_address: str | None) -> None:
    facility.postal_address = postal_address or None
    parts = postal_parts(postal_address)
    facility.postcode, facility.region, facility.town = parts.postcode, parts.region, parts.town
    facility.street, facility.institution = parts.street, parts.institution


def new_facility(name: str | None, postal_address: str | None) -> Facility:
    """A facility from a name as a list writes it (in the field of its script) and a postal
    address (possibly none)."""
    facility = Facility(kind=guess_kind(" ".join(filter(None, (name, postal_address)))))
    if name:
        if is_cyrillic(name):
            if language_of(name) == "be":
                facility.name_be = name
            else:
                facility.name_ru = name
        else:
            facility.name_en = name
    else:
        parts = postal_parts(postal_address)
        facility.name_ru = _limit(parts.institution or (postal_address or "").split("\n")[-1], 300)
    set_postal_address(facility, postal_address)
    return facility
