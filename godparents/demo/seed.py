"""Building the demo campaign: a small hand-shaped one to look at, once.

Everything is derived from a fixed random seed and the ``today`` passed in, never from the
clock, so the same day gives the same data on every machine. Nothing here commits: the caller
does, once, so that a failure leaves the database as it was.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import select

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.auth.models import Role, User
from godparents.demo import data
from godparents.demo.random_facts import (
    add_years,
    detention_date,
    earliest_start,
    leap_year_near,
    pick_weighted,
    random_date,
    sentence_text,
    years_left_open,
)
from godparents.demo.scale import add_scale_data, scale_units_present
from godparents.extensions import Base, db
from godparents.letters import demo as letters_demo
from godparents.prisoners.facilities import new_facility
from godparents.prisoners.models import (
    Facility,
    Gender,
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerStatus,
)
from godparents.prisoners.names import fold
from godparents.reminders.models import CampaignDay
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsors.parliaments import ensure_parliaments, matching
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus

MARKER_EMAIL = data.COORDINATORS[0][0]  # its account exists once the demo data is loaded
ROLE_ORDER = (Role.COORDINATOR, Role.SPONSOR, Role.DELEGATE)

ModelT = TypeVar("ModelT", bound=Base)


@dataclass(frozen=True)
class SeedResult:
    """What a seeding run did, and the demo logins to print."""

    logins: list[tuple[str, Role]]
    created: Counter[str]  # rows added, by table name
    demo_created: bool  # False: the demo data was there already
    scale_units_added: int
    scale_units: int  # bulk units in the database now

    def summary(self) -> str:
        if not self.created:
            return "created: nothing"
        counts = ", ".join(
            f"{count:,} {table.replace('_', ' ')}" for table, count in self.created.items()
        )
        return f"created: {counts}"


def seed_demo(
    today: date, password_hash: str, scale: int = 0, totp_secret: str | None = None
) -> SeedResult:
    """Add the campaign days, the demo campaign and ``scale`` units of bulk data, where missing.

    ``password_hash`` becomes every new demo account's password, and ``totp_secret`` the
    two-factor key of the new demo coordinators; accounts that exist keep theirs.
    ``scale`` is the number of bulk units wanted in all: units already there count.
    """
    created: Counter[str] = Counter()
    created["campaign_days"] += ensure_campaign_days()
    created["parliaments"] += ensure_parliaments()
    demo_created = not demo_data_exists()
    if demo_created:
        created.update(_DemoBuilder(today, password_hash, totp_secret).build())
    present = scale_units_present()
    units = max(scale - present, 0)
    if units:
        created.update(add_scale_data(today, first_unit=present, units=units))
    db.session.flush()
    return SeedResult(demo_logins(), +created, demo_created, units, present + units)


def ensure_campaign_days() -> int:
    """Create the default campaign days that are missing (by name); return how many."""
    existing = set(db.session.scalars(select(CampaignDay.name)))
    missing = [day for day in data.CAMPAIGN_DAYS if day[0] not in existing]
    db.session.add_all(
        CampaignDay(name=name, name_de=name_de, month=month, day=day)
        for name, name_de, month, day in missing
    )
    return len(missing)


def demo_data_exists() -> bool:
    return db.session.scalar(select(User.id).where(User.email == MARKER_EMAIL)) is not None


def demo_logins() -> list[tuple[str, Role]]:
    """Every demo account that can log in (email, role): coordinators, then sponsors, then
    delegates."""
    users = db.session.execute(
        select(User.email, User.role, User.id).where(
            User.email.like(f"%@{data.DOMAIN}"), User.is_active.is_(True)
        )
    ).all()
    users = sorted(users, key=lambda user: (ROLE_ORDER.index(user.role), user.id))
    return [(user.email, user.role) for user in users]


def email_address(name: str) -> str:
    """A demo address: "Krzysztof Wiśniewski" gives krzysztof.wisniewski@demo.example."""
    local = ".".join(fold(name).replace("-", " ").split())
    return f"{local}@{data.DOMAIN}"


def pronouns(gender: Gender | None) -> tuple[str, str]:
    """Subject and object pronoun for the English bio."""
    if gender is Gender.FEMALE:
        return "She", "her"
    if gender is Gender.MALE:
        return "He", "him"
    return "They", "them"


class _DemoBuilder:
    """Builds the hand-shaped demo campaign as ORM objects, counting what it adds."""

    def __init__(self, today: date, password_hash: str, totp_secret: str | None) -> None:
        self.today = today
        self.password_hash = password_hash
        self.totp_secret = totp_secret
        self.rng = random.Random(data.SEED)  # fictional data  # nosec B311
        self.created: Counter[str] = Counter()
        self.delegates: dict[Sponsor, list[User]] = {}
        # When a prisoner left custody (released, died) or was last heard of (unknown).
        self.custody_ended: dict[Prisoner, date] = {}
        self.facilities: dict[str, Facility] = {}  # by name: one record per place

    def build(self) -> Counter[str]:
        self._coordinators()
        sponsors = self._sponsors()
        prisoners = self._prisoners()
        sponsorships = self._sponsorships(sponsors, prisoners)
        self._actions(sponsorships)
        for row in letters_demo.demo_rows(sponsors):
            self._add(row)
        return self.created

    def _add(self, obj: ModelT) -> ModelT:
        db.session.add(obj)
        self.created[obj.__tablename__] += 1
        return obj

    def _user(self, email: str, role: Role, locale: str, timezone: str) -> User:
        return self._add(
            User(
                email=email,
                role=role,
                locale=locale,
                timezone=timezone,
                password_hash=self.password_hash,
            )
        )

    # --- people --------------------------------------------------------------------------

    def _coordinators(self) -> None:
        for email, locale, name, form_of_address in data.COORDINATORS:
            coordinator = self._user(email, Role.COORDINATOR, locale, "Europe/Berlin")
            coordinator.totp_secret = self.totp_secret
            coordinator.full_name = name
            coordinator.form_of_address = FormOfAddress(form_of_address)

    def _sponsors(self) -> list[Sponsor]:
        sponsors: list[Sponsor] = []
        for seed in data.SPONSORS:
            mandate_ends_on = (
                None
                if seed.mandate_days is None
                else self.today + timedelta(days=seed.mandate_days)
            )
            email = email_address(seed.full_name)
            timezone = data.TIMEZONES.get(seed.country, "Europe/Berlin")
            user = self._user(email, Role.SPONSOR, seed.language, timezone)
            form, academic = data.ADDRESSED_AS.get(seed.full_name, ("neutral", None))
            sponsor = self._add(
                Sponsor(
                    full_name=seed.full_name,
                    title=seed.title,
                    form_of_address=FormOfAddress(form),
                    academic_title=AcademicTitle(academic) if academic else None,
                    parliament=matching(seed.body),
                    body=seed.body,
                    country=seed.country,
                    party=seed.party,
                    email=email,
                    phone=self._phone(seed.country, len(sponsors)),
                    language=seed.language,
                    mandate_ends_on=mandate_ends_on,
                    has_public_consent=seed.quote is not None,
                    public_quote=seed.quote,
                    notes=seed.notes,
                    is_active=seed.mandate_days is None or seed.mandate_days > 0,
                    user=user,
                )
            )
            # A former godparent logs in no more, as after deactivation in the register.
            user.is_active = sponsor.is_active
            if seed.has_delegate:
                surname = seed.full_name.split()[-1]
                office = self._user(
                    email_address(f"office {surname}"), Role.DELEGATE, seed.language, timezone
                )
                office.full_name = data.DELEGATE_NAMES[len(self.delegates)]
                self._add(Delegation(sponsor=sponsor, user=office))
                self.delegates[sponsor] = [office]
            sponsors.append(sponsor)
        return sponsors

    @staticmethod
    def _phone(country: str, number: int) -> str | None:
        """Only British offices get a phone number: Ofcom keeps 020 7946 0xxx for fiction."""
        return f"+44 20 7946 0{number:03d}" if country == "GB" else None

    # --- prisoners -----------------------------------------------------------------------

    def _prisoners(self) -> list[Prisoner]:
        rng = self.rng
        statuses = [status for status, count in data.STATUS_COUNTS.items() for _ in range(count)]
        rng.shuffle(statuses)
        names: set[str] = set()
        prisoners = [
            self._prisoner(number, status, names) for number, status in enumerate(statuses, start=1)
        ]
        self._special_birthdays([p for p in prisoners if p.is_held])
        for prisoner in prisoners:
            self._addresses(prisoner)
            self._key_dates(prisoner)
        return prisoners

    def _prisoner(self, number: int, status: PrisonerStatus, taken: set[str]) -> Prisoner:
        rng, today = self.rng, self.today
        female = rng.random() < 0.3
        first_names = data.FEMALE_FIRST_NAMES if female else data.MALE_FIRST_NAMES
        while True:  # a name not given yet
            first = rng.choice(first_names)
            surnames = rng.choice(data.SURNAMES)
            surname = surnames.female if female else surnames.male
            if f"{first.latin} {surname.latin}" not in taken:
                break
        taken.add(f"{first.latin} {surname.latin}")

        if status is PrisonerStatus.PRETRIAL:
            detained_on = today - timedelta(days=rng.randint(60, 300))
        else:
            detained_on = detention_date(rng, today - timedelta(days=500))
        prisoner = Prisoner(
            name_latin=f"{first.latin} {surname.latin}",
            name_be=f"{first.be} {surname.be}",
            name_ru=f"{first.ru} {surname.ru}",
            aliases=self._aliases(first, surname),
            gender=Gender.FEMALE if female else Gender.MALE,
            status=status,
            detained_on=detained_on,
            articles=list(rng.choice(data.ARTICLE_SETS)),
            can_receive_letters=status.is_held and rng.random() < 0.9,
            external_id=f"demo-{number:03d}",
            source_url=f"https://{data.DOMAIN}/registry/demo-{number:03d}",
            has_public_consent=rng.random() < 0.4,
            last_verified_on=today - timedelta(days=rng.randint(3, 200)),
            notes=rng.choice(data.PRISONER_NOTES) if rng.random() < 0.4 else None,
            health_notes=rng.choice(data.HEALTH_NOTES) if rng.random() < 0.2 else None,
        )
        self._birth(prisoner)
        self._sentence(prisoner)
        if status is PrisonerStatus.UNKNOWN:
            prisoner.gender = None  # too little is known: not recorded
        prisoner.public_bio = self._bio(prisoner, first.latin)
        return self._add(prisoner)

    def _aliases(self, first: data.Spelling, surname: data.Spelling) -> list[str]:
        """Other Latin spellings for about half the prisoners: Russian-style, then Polish."""
        if self.rng.random() < 0.5 or not (first.variants or surname.variants):
            return []
        spellings = [
            f"{first.variants[0] if first.variants else first.latin} "
            f"{surname.variants[0] if surname.variants else surname.latin}",
            f"{first.variants[-1] if first.variants else first.latin} "
            f"{surname.variants[-1] if surname.variants else surname.latin}",
        ]
        latin = f"{first.latin} {surname.latin}"
        return [alias for alias in dict.fromkeys(spellings) if alias != latin]

    def _birth(self, prisoner: Prisoner) -> None:
        """A full birth date mostly; some known only by year, some not at all."""
        rng = self.rng
        assert prisoner.detained_on is not None  # noqa: S101  (set by the caller)  # nosec B101
        year = prisoner.detained_on.year - rng.randint(19, 68)
        chance = rng.random()
        if chance < 0.08:  # unknown
            return
        if chance < 0.2:  # year only
            prisoner.birth_year = year
            return
        prisoner.birth_date = random_date(rng, date(year, 1, 1), date(year, 12, 31))
        prisoner.birth_year = year

    def _special_birthdays(self, held: list[Prisoner]) -> None:
        """One birthday on 29 February, and two coming up soon (cards take weeks)."""
        leap_day, soon, later = self.rng.sample(held, 3)
        for prisoner, birthday in (
            (leap_day, date(2000, 2, 29)),
            (soon, self.today + timedelta(days=18)),
            (later, self.today + timedelta(days=40)),
        ):
            assert prisoner.detained_on is not None  # noqa: S101  # nosec B101
            year = leap_year_near(prisoner.detained_on.year - self.rng.randint(22, 60))
            prisoner.birth_date = date(year, birthday.month, birthday.day)
            prisoner.birth_year = year

    def _sentence(self, prisoner: Prisoner) -> None:
        """Sentence, expected release and release date, as the status implies."""
        rng, today, status = self.rng, self.today, prisoner.status
        detained_on = prisoner.detained_on
        assert detained_on is not None  # noqa: S101  # nosec B101
        if status is PrisonerStatus.PRETRIAL:
            return
        if status is PrisonerStatus.SENTENCED:
            # Still held: the sentence must run at least two more months.
            needed = years_left_open(detained_on, today)
            years = needed if rng.random() < 0.25 else max(rng.choice(data.SENTENCE_YEARS), needed)
            prisoner.sentence = sentence_text(rng, years, prisoner.gender)
            prisoner.expected_release_on = add_years(detained_on, years)
            return
        if status is PrisonerStatus.RELEASED:  # served the full term
            served = (today - timedelta(days=30) - detained_on).days // 366
            years = rng.randint(1, min(max(served, 1), 3))
            released_on = add_years(detained_on, years)
            prisoner.sentence = sentence_text(rng, years, prisoner.gender)
            prisoner.expected_release_on = released_on
            prisoner.released_on = released_on
            self.custody_ended[prisoner] = released_on
        elif status in (PrisonerStatus.PARDONED, PrisonerStatus.DEPORTED):
            years = rng.choice([y for y in data.SENTENCE_YEARS if y >= 5])
            prisoner.sentence = sentence_text(rng, years, prisoner.gender)
            prisoner.expected_release_on = add_years(detained_on, years)
            released_on = random_date(
                rng,
                max(detained_on + timedelta(days=365), date(2024, 7, 1)),
                today - timedelta(days=30),
            )
            prisoner.released_on = released_on
            self.custody_ended[prisoner] = released_on
            if status is PrisonerStatus.DEPORTED:
                prisoner.notes = (
                    f"Released on {released_on:%d.%m.%Y} and taken to the "
                    "Lithuanian border the same day; now in Vilnius."
                )
        elif status is PrisonerStatus.DIED:
            years = rng.choice(data.SENTENCE_YEARS[4:])
            prisoner.sentence = sentence_text(rng, years, prisoner.gender)
            prisoner.expected_release_on = add_years(detained_on, years)
            died_on = random_date(
                rng, detained_on + timedelta(days=400), today - timedelta(days=60)
            )
            prisoner.notes = f"Died in custody on {died_on:%d.%m.%Y}; the cause was not disclosed."
            self.custody_ended[prisoner] = died_on
        else:  # unknown
            last_news = random_date(
                rng, detained_on + timedelta(days=200), today - timedelta(days=120)
            )
            prisoner.notes = f"No reliable news since {last_news:%B %Y}; the family has no contact."
            self.custody_ended[prisoner] = last_news

    def _bio(self, prisoner: Prisoner, first_name: str) -> str:
        rng = self.rng
        he, him = pronouns(prisoner.gender)
        detained_on = prisoner.detained_on
        assert detained_on is not None  # noqa: S101  # nosec B101
        was = "were" if he == "They" else "was"
        opening = (
            f"{first_name} is a {rng.choice(data.OCCUPATIONS)} from {rng.choice(data.TOWNS)}. "
            f"{he} {was} detained in {detained_on:%B %Y} {rng.choice(data.DETENTION_REASONS)}."
        )
        released = f"{prisoner.released_on:%B %Y}" if prisoner.released_on else ""
        closing = {
            PrisonerStatus.PRETRIAL: f"{he} {was} held in pre-trial detention awaiting trial.",
            PrisonerStatus.SENTENCED: f"{he} {was} sentenced to {prisoner.sentence}.",
            PrisonerStatus.RELEASED: f"{he} {was} released in {released} after serving "
            "the full sentence.",
            PrisonerStatus.PARDONED: f"{he} {was} pardoned and released in {released}.",
            PrisonerStatus.DEPORTED: f"{he} {was} released in {released} and forced to leave "
            "Belarus the same day.",
            PrisonerStatus.DIED: f"{he} died in custody.",
            PrisonerStatus.UNKNOWN: f"There has been no reliable news of {him} for months.",
        }[prisoner.status]
        return f"{opening} {closing}"

    def _addresses(self, prisoner: Prisoner) -> None:
        """Held prisoners get one or two addresses; the second is a later transfer."""
        rng, today = self.rng, self.today
        if not (prisoner.is_held or prisoner.status is PrisonerStatus.UNKNOWN):
            return
        detained_on = prisoner.detained_on
        assert detained_on is not None  # noqa: S101  # nosec B101
        colonies = (
            data.WOMEN_FACILITIES if prisoner.gender is Gender.FEMALE else data.MEN_FACILITIES
        )
        sentenced_on = min(
            detained_on + timedelta(days=rng.randint(120, 300)), today - timedelta(days=30)
        )
        chance = rng.random()
        if prisoner.status is PrisonerStatus.PRETRIAL:
            first, second = rng.sample(data.PRETRIAL_FACILITIES, 2)
            moves = [(first, detained_on)]
            if chance < 0.3:
                moves.append((second, detained_on + timedelta(days=rng.randint(10, 40))))
        elif chance < 0.4 or prisoner.status is PrisonerStatus.UNKNOWN:
            moves = [(rng.choice(colonies), sentenced_on)]
        elif chance < 0.85:
            moves = [
                (rng.choice(data.PRETRIAL_FACILITIES), detained_on),
                (rng.choice(colonies), sentenced_on),
            ]
        else:
            moves = [
                (rng.choice(colonies), sentenced_on),
                (
                    rng.choice(data.PRISONS),
                    random_date(rng, sentenced_on + timedelta(days=30), today - timedelta(days=7)),
                ),
            ]
        for facility, valid_from in moves:
            self._add(
                PrisonerAddress(
                    prisoner=prisoner,
                    facility=facility.name,
                    facility_record=self._facility(facility),
                    postal_address=facility.postal_address,
                    valid_from=min(valid_from, today),
                )
            )

    def _facility(self, place: data.Facility) -> Facility:
        if place.name not in self.facilities:
            facility = new_facility(place.name, place.postal_address)
            facility.name_de = data.german_facility_name(place.name)
            self.facilities[place.name] = self._add(facility)
        return self.facilities[place.name]

    def _key_dates(self, prisoner: Prisoner) -> None:
        """Court dates in the coming months, expected releases and the odd yearly date."""
        rng, today = self.rng, self.today

        def key_date(kind: KeyDateKind, occurs_on: date, note: str, yearly: bool = False) -> None:
            self._add(
                KeyDate(
                    prisoner=prisoner, kind=kind, occurs_on=occurs_on, note=note, is_yearly=yearly
                )
            )

        if prisoner.status is PrisonerStatus.PRETRIAL:
            key_date(
                KeyDateKind.TRIAL,
                today + timedelta(days=rng.randint(12, 80)),
                rng.choice(data.TRIAL_NOTES),
            )
            return
        if prisoner.status is not PrisonerStatus.SENTENCED:
            return
        release = prisoner.expected_release_on
        if release is not None and release <= today + timedelta(days=425):
            key_date(
                KeyDateKind.EXPECTED_RELEASE,
                release,
                data.KEY_DATE_NOTES[KeyDateKind.EXPECTED_RELEASE],
            )
        chance = rng.random()
        if chance < 0.15:
            key_date(
                KeyDateKind.APPEAL,
                today + timedelta(days=rng.randint(10, 60)),
                data.KEY_DATE_NOTES[KeyDateKind.APPEAL],
            )
        elif chance < 0.3:
            key_date(
                KeyDateKind.HEARING,
                today + timedelta(days=rng.randint(5, 90)),
                data.KEY_DATE_NOTES[KeyDateKind.HEARING],
            )
        elif chance < 0.4:
            assert prisoner.detained_on is not None  # noqa: S101  # nosec B101
            anniversary = random_date(rng, date(2005, 1, 1), prisoner.detained_on)
            key_date(
                KeyDateKind.CUSTOM,
                anniversary,
                data.KEY_DATE_NOTES[KeyDateKind.CUSTOM],
                yearly=True,
            )

    # --- pairings ------------------------------------------------------------------------

    def _sponsorships(
        self, sponsors: list[Sponsor], prisoners: list[Prisoner]
    ) -> list[Sponsorship]:
        """Active pairings for most held prisoners, plus the history: handovers, ends."""
        rng, today = self.rng, self.today
        current = [sponsor for sponsor in sponsors if sponsor.is_active]
        former = [sponsor for sponsor in sponsors if not sponsor.is_active]
        rng.shuffle(current)
        picker = _SponsorPicker(current)
        held = [p for p in prisoners if p.is_held]
        rng.shuffle(held)
        # Four without a godparent (two of them proposed to one), four with two.
        unpaired, doubles, singles = held[:4], held[4:8], held[8:]
        long_held = [
            p for p in singles if p.detained_on and p.detained_on <= today - timedelta(days=500)
        ]
        handed_over, withdrawn = long_held[:2], long_held[2:4]
        pairings: list[Sponsorship] = []

        for prisoner in singles + doubles + doubles:
            if prisoner in handed_over or prisoner in withdrawn:
                continue
            started_on = random_date(
                rng, self._earliest_start(prisoner), today - timedelta(days=14)
            )
            pairings.append(self._pairing(picker.pick(prisoner), prisoner, started_on))

        for prisoner, predecessor in zip(handed_over, itertools.cycle(former), strict=False):
            assert predecessor.mandate_ends_on is not None  # noqa: S101  # nosec B101
            left_on = predecessor.mandate_ends_on
            started_on = random_date(
                rng, self._earliest_start(prisoner), left_on - timedelta(days=60)
            )
            pairings.append(
                self._pairing(predecessor, prisoner, started_on, left_on, EndReason.MANDATE_ENDED)
            )
            successor_from = min(
                left_on + timedelta(days=rng.randint(5, 40)), today - timedelta(days=7)
            )
            pairings.append(self._pairing(picker.pick(prisoner), prisoner, successor_from))

        for prisoner in withdrawn:
            started_on = random_date(
                rng, self._earliest_start(prisoner), today - timedelta(days=300)
            )
            left_on = random_date(rng, started_on + timedelta(days=60), today - timedelta(days=120))
            pairings.append(
                self._pairing(
                    picker.pick(prisoner), prisoner, started_on, left_on, EndReason.WITHDREW
                )
            )
            successor_from = left_on + timedelta(days=rng.randint(10, 60))
            pairings.append(self._pairing(picker.pick(prisoner), prisoner, successor_from))

        reasons = {PrisonerStatus.DIED: EndReason.DIED, PrisonerStatus.UNKNOWN: EndReason.OTHER}
        gone = [p for p in prisoners if p in self.custody_ended]
        for prisoner in gone[:-2]:  # two former prisoners never had a godparent
            ended_on = self.custody_ended[prisoner]
            started_on = random_date(
                rng, self._earliest_start(prisoner), ended_on - timedelta(days=30)
            )
            ended_on = min(ended_on + timedelta(days=rng.randint(0, 10)), today)
            pairings.append(
                self._pairing(
                    picker.pick(prisoner),
                    prisoner,
                    started_on,
                    ended_on,
                    reasons.get(prisoner.status, EndReason.RELEASED),
                )
            )

        for prisoner in unpaired[:2]:
            self._add(
                Sponsorship(
                    sponsor=picker.pick(prisoner),
                    prisoner=prisoner,
                    status=SponsorshipStatus.PROPOSED,
                )
            )
        return pairings

    @staticmethod
    def _earliest_start(prisoner: Prisoner) -> date:
        assert prisoner.detained_on is not None  # noqa: S101  (every demo prisoner has one)  # nosec B101
        return earliest_start(prisoner.detained_on)

    def _pairing(
        self,
        sponsor: Sponsor,
        prisoner: Prisoner,
        started_on: date,
        ended_on: date | None = None,
        end_reason: EndReason | None = None,
    ) -> Sponsorship:
        """An active pairing, or an ended one when ``ended_on`` is given."""
        public = sponsor.has_public_consent and prisoner.has_public_consent
        announced_on = started_on + timedelta(days=self.rng.randint(7, 21))
        return self._add(
            Sponsorship(
                sponsor=sponsor,
                prisoner=prisoner,
                status=SponsorshipStatus.ENDED if ended_on else SponsorshipStatus.ACTIVE,
                started_on=started_on,
                ended_on=ended_on,
                end_reason=end_reason,
                has_public_consent=public,
                announced_on=announced_on if public and announced_on <= self.today else None,
            )
        )

    # --- actions -------------------------------------------------------------------------

    def _actions(self, pairings: list[Sponsorship]) -> None:
        """A year of actions; every kind occurs, busy sponsors log more than quiet ones."""
        rng, today = self.rng, self.today
        year_ago = today - timedelta(days=365)
        sponsors = dict.fromkeys(pairing.sponsor for pairing in pairings)
        rates = {sponsor: rng.choice(data.ACTIONS_PER_YEAR) for sponsor in sponsors}
        slots: list[tuple[Sponsorship, date]] = []
        for pairing in pairings:
            assert pairing.started_on is not None  # noqa: S101  # nosec B101
            first = max(pairing.started_on, year_ago)
            last = min(pairing.ended_on or today, today)
            if last < first:
                continue
            expected = rates[pairing.sponsor] * ((last - first).days + 1) / 365
            count = max(round(expected + rng.uniform(-1, 1)), 0)
            slots.extend((pairing, random_date(rng, first, last)) for _ in range(count))
        slots.sort(key=lambda slot: slot[1])

        kinds = list(ActionKind)[: len(slots)]
        kinds += rng.choices(
            list(data.ACTION_KIND_WEIGHTS),
            weights=list(data.ACTION_KIND_WEIGHTS.values()),
            k=len(slots) - len(kinds),
        )
        rng.shuffle(kinds)
        for number, ((pairing, occurred_on), kind) in enumerate(zip(slots, kinds, strict=True)):
            self._action(pairing, kind, occurred_on, number)

    def _action(
        self, pairing: Sponsorship, kind: ActionKind, occurred_on: date, number: int
    ) -> None:
        rng = self.rng
        sponsor = pairing.sponsor
        language = "de" if sponsor.language == "de" else "en"
        first_name = pairing.prisoner.name_latin.split()[0]
        summary = rng.choice(data.ACTION_SUMMARIES[kind][language]).format(name=first_name)
        delegates = self.delegates.get(sponsor, [])
        by_delegate = bool(delegates) and rng.random() < (0.6 if kind.is_mail else 0.3)
        outcome, outcome_on = self._letter_outcome(occurred_on) if kind.is_mail else (None, None)
        link = (
            f"https://{data.DOMAIN}/{kind.value.replace('_', '-')}/{number}"
            if kind in data.LINKED_KINDS
            else None
        )
        self._add(
            Action(
                sponsorship=pairing,
                kind=kind,
                occurred_on=occurred_on,
                summary=summary,
                link=link,
                letter_outcome=outcome,
                outcome_on=outcome_on,
                logged_by=rng.choice(delegates) if by_delegate else sponsor.user,
                is_public=pairing.has_public_consent and link is not None and rng.random() < 0.5,
            )
        )

    def _letter_outcome(self, sent_on: date) -> tuple[LetterOutcome, date]:
        """What became of a letter: only "sent" until weeks have passed."""
        known_on = sent_on + timedelta(days=self.rng.randint(18, 60))
        if known_on > self.today:
            return LetterOutcome.SENT, sent_on
        return pick_weighted(self.rng, data.LETTER_OUTCOME_WEIGHTS), known_on


class _SponsorPicker:
    """Hands out sponsors in turn, never one already paired with the prisoner."""

    def __init__(self, sponsors: Iterable[Sponsor]) -> None:
        self._cycle: Iterator[Sponsor] = itertools.cycle(sponsors)
        self._paired: dict[Prisoner, set[Sponsor]] = {}

    def pick(self, prisoner: Prisoner) -> Sponsor:
        paired = self._paired.setdefault(prisoner, set())
        sponsor = next(self._cycle)
        while sponsor in paired:
            sponsor = next(self._cycle)
        paired.add(sponsor)
        return sponsor
