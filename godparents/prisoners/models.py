"""The registry of political prisoners."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from godparents.extensions import Model
from godparents.prisoners.spellings import prisoner_search_words
from godparents.search import key_text, trigram_index
from godparents.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from godparents.sponsorships.models import Sponsorship


class PrisonerStatus(StrEnum):
    PRETRIAL = "pretrial"
    SENTENCED = "sentenced"
    RELEASED = "released"
    PARDONED = "pardoned"
    DEPORTED = "deported"
    DIED = "died"
    UNKNOWN = "unknown"

    @property
    def is_held(self) -> bool:
        return self in HELD_STATUSES


HELD_STATUSES = frozenset({PrisonerStatus.PRETRIAL, PrisonerStatus.SENTENCED})


class Gender(StrEnum):
    FEMALE = "f"
    MALE = "m"
    OTHER = "x"


class FacilityKind(StrEnum):
    """What kind of place a facility is (its translated name in ``labels``)."""

    PRETRIAL = "pretrial"  # SIZO: pre-trial detention centre
    PENAL_COLONY = "penal_colony"
    PRISON = "prison"
    SETTLEMENT = "settlement"  # colony-settlement (kalonija-pasieliennie)
    TEMPORARY = "temporary"  # IVS, TsIP: short-term detention
    OTHER = "other"


class KeyDateKind(StrEnum):
    TRIAL = "trial"
    APPEAL = "appeal"
    HEARING = "hearing"
    EXPECTED_RELEASE = "expected_release"
    CUSTOM = "custom"


def _string_list() -> MutableList[str]:
    return MutableList()


class Prisoner(Model):
    __tablename__ = "prisoners"
    __table_args__ = (
        # The reminders find birthdays and anniversaries of prisoners still held from this
        # index alone, without reading the (wide) rows.
        Index(
            "ix_prisoners_status_dates",
            "status",
            "birth_date",
            "detained_on",
            "expected_release_on",
        ),
        trigram_index("ix_prisoners_search_text_trigrams", "search_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped by every ORM update; an UPDATE whose version moved on meanwhile changes no row
    # and raises StaleDataError (godparents/concurrency.py): no lost updates.
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}
    name_latin: Mapped[str] = mapped_column(String(200))
    name_be: Mapped[str | None] = mapped_column(String(200))
    name_ru: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON()), default=_string_list)
    # Every word of every name and its spellings, folded (godparents.search); kept current
    # by a flush hook there.
    search_text: Mapped[str] = mapped_column(Text, default="")
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender, "gender"))
    # A birth date may be unknown, or known only by its year.
    birth_year: Mapped[int | None]
    birth_date: Mapped[date | None]
    status: Mapped[PrisonerStatus] = mapped_column(enum_type(PrisonerStatus, "status"), index=True)
    detained_on: Mapped[date | None] = mapped_column(index=True)  # longest held first
    released_on: Mapped[date | None]
    articles: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(JSON()), default=_string_list
    )
    sentence: Mapped[str | None] = mapped_column(String(500))
    expected_release_on: Mapped[date | None] = mapped_column(index=True)
    # The coordinators' word on whether letters get through: yes, no, or not known (None,
    # as for a new prisoner). Beside it the pages show what became of the letters logged
    # in the last twelve months (actions/outcomes.py).
    can_receive_letters: Mapped[bool | None] = mapped_column(default=None)
    health_notes: Mapped[str | None] = mapped_column(Text)  # internal
    public_bio: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # internal
    source_url: Mapped[str | None] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    # The external ids of records merged into this one: imports naming them find it.
    former_external_ids: Mapped[list[str]] = mapped_column(
        MutableList.as_mutable(JSON()), default=_string_list
    )
    # active_history: the consent record (public/consent.py) needs the value before a change
    # even when the row was not loaded since the last commit.
    has_public_consent: Mapped[bool] = mapped_column(default=False, active_history=True)
    last_verified_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    addresses: Mapped[list[PrisonerAddress]] = relationship(
        back_populates="prisoner",
        cascade="all, delete-orphan",
        order_by="(PrisonerAddress.valid_from.desc(), PrisonerAddress.id.desc())",
    )
    key_dates: Mapped[list[KeyDate]] = relationship(
        back_populates="prisoner", cascade="all, delete-orphan", order_by="KeyDate.occurs_on"
    )
    photo: Mapped[PrisonerPhoto | None] = relationship(
        back_populates="prisoner", cascade="all, delete-orphan"
    )
    sponsorships: Mapped[list[Sponsorship]] = relationship(back_populates="prisoner")

    def __repr__(self) -> str:
        return f"<Prisoner {self.id}>"

    @property
    def is_held(self) -> bool:
        return self.status.is_held

    @property
    def current_address(self) -> PrisonerAddress | None:
        """The newest address; ``addresses`` is ordered newest first."""
        return self.addresses[0] if self.addresses else None

    def envelope(self, address: Any) -> str | None:
        """The address exactly as it goes on the envelope, the name in Cyrillic on the last
        line: what the pages copy and the emails print, one text for both. None when the
        postal address is unknown (a facility known only by its name).

        ``address`` is a PrisonerAddress or a row with its ``postal_address``."""
        postal = (
            address.envelope_address
            if isinstance(address, PrisonerAddress)
            else address.postal_address
        )
        if not postal:
            return None
        name = self.name_ru or self.name_be or self.name_latin
        if self.birth_year:
            name = f"{name}, {self.birth_year} г.р."
        return f"{postal}\n{name}"

    def days_in_detention(self, today: date) -> int | None:
        if self.detained_on is None:
            return None
        end = self.released_on if self.released_on and not self.is_held else today
        return max((end - self.detained_on).days, 0)

    def refresh_search_text(self) -> None:
        self.search_text = key_text(
            prisoner_search_words(self.name_latin, self.name_be, self.name_ru, self.aliases)
        )


class Facility(Model):
    """A prison, colony or detention centre: its names, its kind, where letters go."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str | None] = mapped_column(String(300))
    name_de: Mapped[str | None] = mapped_column(String(300))
    name_ru: Mapped[str | None] = mapped_column(String(300))
    name_be: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[FacilityKind] = mapped_column(
        enum_type(FacilityKind, "kind"), default=FacilityKind.OTHER
    )
    # The postal address as structured parts, and as it goes on the envelope (Cyrillic,
    # line breaks kept); all empty while it is unknown.
    postcode: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(300))
    institution: Mapped[str | None] = mapped_column(String(300))
    postal_address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Facility {self.id}>"

    def name(self, locale: str = "en") -> str:
        """The name in the reader's language, else in any language it has."""
        preferred = self.name_de if locale == "de" else self.name_en
        return preferred or self.name_en or self.name_de or self.name_be or self.name_ru or ""

    @property
    def names(self) -> list[str]:
        return [n for n in (self.name_en, self.name_de, self.name_ru, self.name_be) if n]


class PrisonerAddress(Model):
    """Where to write: prisoners are transferred, so addresses have a history.

    An entry names a facility (``facility`` as typed, ``facility_id`` the record) and its
    own postal address; without one, the facility's is used, and without that the postal
    address is unknown."""

    __tablename__ = "prisoner_addresses"
    __table_args__ = (Index(None, "prisoner_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoners.id", ondelete="CASCADE"))
    facility: Mapped[str | None] = mapped_column(String(300))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    postal_address: Mapped[str | None] = mapped_column(Text)  # in Cyrillic, line breaks kept
    valid_from: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prisoner: Mapped[Prisoner] = relationship(back_populates="addresses")
    facility_record: Mapped[Facility | None] = relationship(lazy="joined")

    @property
    def envelope_address(self) -> str | None:
        """The postal address letters go to: this entry's own, else its facility's."""
        if self.postal_address:
            return self.postal_address
        return self.facility_record.postal_address if self.facility_record else None


class PrisonerPhoto(Model):
    """A re-encoded photo, kept in the database so every app server has it."""

    __tablename__ = "prisoner_photos"

    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoners.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    mimetype: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    prisoner: Mapped[Prisoner] = relationship(back_populates="photo")


class ImportMapping(Model):
    """How the columns of a list with headings of its own are read, remembered for that set
    of headings (``import_mapping``)."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    headings_key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    # Normalised heading -> the import column it holds ("" for a column not imported).
    columns: Mapped[dict[str, str]] = mapped_column(JSON())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KeyDate(Model):
    __tablename__ = "key_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[KeyDateKind] = mapped_column(enum_type(KeyDateKind, "kind"))
    occurs_on: Mapped[date] = mapped_column(index=True)
    is_yearly: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(500))

    prisoner: Mapped[Prisoner] = relationship(back_populates="key_dates")
