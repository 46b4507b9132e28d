"""Bulk data for benchmarks: units the size of the real campaign, inserted in batches.

One unit is 1,500 prisoners, 600 sponsors, 2,000 pairings and 50,000 actions. Rows go in
as lists of dicts through ``insert()``, never as ORM objects one by one, so the ORM's flush
hooks do not run: ``search_text`` is computed here. Each bulk sponsor gets an account with
no password (as if invited and not yet accepted: nobody can log in with it), so that the
reminders have someone to write to.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Insert, func, insert, select

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.auth.models import Role, User
from godparents.demo import data
from godparents.demo.random_facts import (
    add_years,
    detention_date,
    earliest_start,
    random_date,
    sentence_text,
    years_left_open,
)
from godparents.extensions import db
from godparents.prisoners.facilities import new_facility
from godparents.prisoners.models import (
    Facility,
    Gender,
    Prisoner,
    PrisonerAddress,
    PrisonerStatus,
)
from godparents.prisoners.spellings import prisoner_search_words, words_of
from godparents.search import key_text, key_words, remember_words
from godparents.sponsors.models import Parliament, Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus

PRISONERS_PER_UNIT = 1_500
SPONSORS_PER_UNIT = 600
PAIRINGS_PER_UNIT = 2_000
ACTIONS_PER_UNIT = 50_000
BATCH_SIZE = 5_000
EXTERNAL_ID_PREFIX = "scale-"

Row = dict[str, Any]


class _Custody(NamedTuple):
    """What the pairings and actions of a bulk prisoner need to know about them."""

    first_name: str
    detained_on: date
    held: bool
    ended_on: date | None  # released, died or last heard of
    end_reason: EndReason | None


def scale_units_present() -> int:
    """How many bulk units the database holds, judged by the prisoners' external ids."""
    count = db.session.scalar(
        select(func.count())
        .select_from(Prisoner)
        .where(Prisoner.external_id.startswith(EXTERNAL_ID_PREFIX))
    )
    return (count or 0) // PRISONERS_PER_UNIT


def add_scale_data(today: date, first_unit: int, units: int) -> Counter[str]:
    """Insert ``units`` bulk units, numbered on from ``first_unit``; return rows by table."""
    created: Counter[str] = Counter()
    for unit in range(first_unit, first_unit + units):
        created.update(_ScaleUnit(today, unit).insert())
    return created


def _bulk_insert(model: type[Any]) -> Insert:
    """``insert(model)`` made for many rows at once.

    None values stay in the parameters: left out, they would split the rows into groups of
    differing keys, and the ORM would run one statement per group instead of one per batch.
    The database sets the timestamps, which saves converting two datetimes per row.
    """
    now = {
        column: func.current_timestamp()
        for column in ("created_at", "updated_at")
        if column in model.__table__.c
    }
    return insert(model).values(**now).execution_options(render_nulls=True)


def _insert(model: type[Any], rows: list[Row]) -> None:
    statement = _bulk_insert(model)
    for start in range(0, len(rows), BATCH_SIZE):
        db.session.execute(statement, rows[start : start + BATCH_SIZE])


def _insert_returning_ids(model: type[Any], rows: list[Row]) -> list[int]:
    """Insert the rows and return their new ids, in the order of the rows."""
    statement = _bulk_insert(model).returning(model.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), BATCH_SIZE):
        ids.extend(db.session.scalars(statement, rows[start : start + BATCH_SIZE]))
    return ids


def _account(sponsor: Row) -> Row:
    # No password, second factor or calendar link yet: those columns start empty.
    unset = dict.fromkeys(
        ("password_hash", "totp_secret", "calendar_token_hash", "last_login_at", "totp_last_step")
    )
    return {
        "email": sponsor["email"],
        "role": Role.SPONSOR,
        "is_active": True,
        "locale": "de" if sponsor["language"] == "de" else "en",
        "timezone": "Europe/Berlin",
        "session_generation": 1,
        "reminder_opt_outs": [],
        "birthday_card_days": 30,
        **unset,
    }


class _ScaleUnit:
    """One unit of bulk data, from its own random generator."""

    def __init__(self, today: date, unit: int) -> None:
        self.today = today
        self.unit = unit
        self.rng = random.Random(data.SEED + 1 + unit)  # fictional data  # nosec B311
        self.facility_ids: dict[str, int] = {}

    def insert(self) -> Counter[str]:
        prisoner_rows, custody = self._prisoners()
        prisoner_ids = _insert_returning_ids(Prisoner, prisoner_rows)
        sponsor_rows = self._sponsors()
        user_ids = _insert_returning_ids(User, [_account(row) for row in sponsor_rows])
        for row, user_id in zip(sponsor_rows, user_ids, strict=True):
            row["user_id"] = user_id
        sponsor_ids = _insert_returning_ids(Sponsor, sponsor_rows)
        address_rows = self._addresses(prisoner_rows, prisoner_ids)
        _insert(PrisonerAddress, address_rows)
        pairing_rows, windows = self._pairings(prisoner_ids, sponsor_ids, custody)
        pairing_ids = _insert_returning_ids(Sponsorship, pairing_rows)
        action_rows = self._actions(pairing_ids, windows)
        _insert(Action, action_rows)
        remember_words(
            db.session(),
            {
                word
                for row in (*prisoner_rows, *sponsor_rows)
                for word in key_words(row["search_text"])
            },
        )
        return Counter(
            {
                Prisoner.__tablename__: len(prisoner_rows),
                PrisonerAddress.__tablename__: len(address_rows),
                Sponsor.__tablename__: len(sponsor_ids),
                User.__tablename__: len(user_ids),
                Sponsorship.__tablename__: len(pairing_rows),
                Action.__tablename__: len(action_rows),
            }
        )

    def _prisoners(self) -> tuple[list[Row], list[_Custody]]:
        rng, today = self.rng, self.today
        statuses = rng.choices(
            list(data.SCALE_STATUS_WEIGHTS),
            weights=list(data.SCALE_STATUS_WEIGHTS.values()),
            k=PRISONERS_PER_UNIT,
        )
        rows: list[Row] = []
        custody: list[_Custody] = []
        for index, status in enumerate(statuses):
            gender = Gender.FEMALE if rng.random() < 0.3 else Gender.MALE
            female = gender is Gender.FEMALE
            first = rng.choice(data.FEMALE_FIRST_NAMES if female else data.MALE_FIRST_NAMES)
            surnames = rng.choice(data.SURNAMES)
            surname = surnames.female if female else surnames.male
            names = [
                f"{first.latin} {surname.latin}",
                f"{first.be} {surname.be}",
                f"{first.ru} {surname.ru}",
            ]
            aliases = (
                [f"{first.variants[0]} {surname.variants[0]}"]
                if first.variants and surname.variants and rng.random() < 0.3
                else []
            )
            if status is PrisonerStatus.PRETRIAL:
                detained_on = today - timedelta(days=rng.randint(60, 300))
            else:
                detained_on = detention_date(rng, today - timedelta(days=500))
            years = rng.choice(data.SENTENCE_YEARS)
            if status is PrisonerStatus.SENTENCED:
                years = max(years, years_left_open(detained_on, today))
            ended_on, end_reason = self._custody_end(status, detained_on)
            birth_year = detained_on.year - rng.randint(19, 68)
            number = self.unit * PRISONERS_PER_UNIT + index + 1
            rows.append(
                {
                    "name_latin": names[0],
                    "name_be": names[1],
                    "name_ru": names[2],
                    "aliases": aliases,
                    "search_text": key_text(
                        prisoner_search_words(names[0], names[1], names[2], aliases)
                    ),
                    "gender": gender,
                    "birth_year": birth_year,
                    "birth_date": random_date(
                        rng, date(birth_year, 1, 1), date(birth_year, 12, 31)
                    ),
                    "status": status,
                    "detained_on": detained_on,
                    "released_on": ended_on if end_reason is EndReason.RELEASED else None,
                    "articles": list(rng.choice(data.ARTICLE_SETS)),
                    "sentence": (
                        None
                        if status is PrisonerStatus.PRETRIAL
                        else sentence_text(rng, years, gender)
                    ),
                    "expected_release_on": (
                        None if status is PrisonerStatus.PRETRIAL else add_years(detained_on, years)
                    ),
                    "can_receive_letters": status.is_held,
                    "external_id": f"{EXTERNAL_ID_PREFIX}{number:06d}",
                    "has_public_consent": rng.random() < 0.3,
                    "last_verified_on": today - timedelta(days=rng.randint(0, 365)),
                }
            )
            custody.append(_Custody(first.latin, detained_on, status.is_held, ended_on, end_reason))
        return rows, custody

    def _custody_end(
        self, status: PrisonerStatus, detained_on: date
    ) -> tuple[date | None, EndReason | None]:
        """When and why a prisoner no longer held left custody (or our sight)."""
        if status.is_held:
            return None, None
        ended_on = random_date(
            self.rng, detained_on + timedelta(days=200), self.today - timedelta(days=30)
        )
        reason = {PrisonerStatus.DIED: EndReason.DIED, PrisonerStatus.UNKNOWN: EndReason.OTHER}.get(
            status, EndReason.RELEASED
        )
        return ended_on, reason

    def _sponsors(self) -> list[Row]:
        rng, today = self.rng, self.today
        rows: list[Row] = []
        listed = {
            name: ident
            for name, ident in db.session.execute(select(Parliament.name_en, Parliament.id))
        }
        for index in range(SPONSORS_PER_UNIT):
            body, country, language = rng.choice(data.PARLIAMENTS)
            number = self.unit * SPONSORS_PER_UNIT + index + 1
            full_name = (
                f"{rng.choice(data.SCALE_SPONSOR_FIRST_NAMES)} "
                f"{rng.choice(data.SCALE_SPONSOR_SURNAMES)}"
            )
            rows.append(
                {
                    "full_name": full_name,
                    "search_text": key_text(words_of(full_name)),
                    "title": None,
                    "body": body,
                    "parliament_id": listed.get(body),
                    "country": country,
                    "email": f"sponsor.{number:06d}@scale.{data.DOMAIN}",
                    "language": language,
                    "mandate_ends_on": today + timedelta(days=rng.randint(10, 1800)),
                    "has_public_consent": rng.random() < 0.3,
                }
            )
        return rows

    def _addresses(self, prisoners: list[Row], prisoner_ids: list[int]) -> list[Row]:
        """The current address of every held prisoner."""
        rng, today = self.rng, self.today
        rows: list[Row] = []
        for prisoner, prisoner_id in zip(prisoners, prisoner_ids, strict=True):
            status, detained_on = prisoner["status"], prisoner["detained_on"]
            if not status.is_held:
                continue
            if status is PrisonerStatus.PRETRIAL:
                facility, valid_from = rng.choice(data.PRETRIAL_FACILITIES), detained_on
            else:
                colonies = (
                    data.WOMEN_FACILITIES
                    if prisoner["gender"] is Gender.FEMALE
                    else data.MEN_FACILITIES
                )
                facility = rng.choice(colonies)
                valid_from = min(detained_on + timedelta(days=rng.randint(120, 300)), today)
            rows.append(
                {
                    "prisoner_id": prisoner_id,
                    "facility": facility.name,
                    "facility_id": self._facility_id(facility),
                    "postal_address": facility.postal_address,
                    "valid_from": valid_from,
                }
            )
        return rows

    def _facility_id(self, place: data.Facility) -> int:
        """The record of a demo facility: the one the registry has, or a new one."""
        if place.name not in self.facility_ids:
            found = db.session.scalar(select(Facility.id).where(Facility.name_en == place.name))
            if found is None:
                facility = new_facility(place.name, place.postal_address)
                db.session.add(facility)
                db.session.flush()
                found = facility.id
            self.facility_ids[place.name] = found
        return self.facility_ids[place.name]

    def _pairings(
        self, prisoner_ids: list[int], sponsor_ids: list[int], custody: list[_Custody]
    ) -> tuple[list[Row], list[tuple[date, date, str]]]:
        """Every prisoner paired once, some twice; held ones actively, the rest as history.

        Returns the rows and, for each, the days its actions can fall on and the prisoner's
        first name.
        """
        rng, today = self.rng, self.today
        rows: list[Row] = []
        windows: list[tuple[date, date, str]] = []
        active: set[tuple[int, int]] = set()
        for number in range(PAIRINGS_PER_UNIT):
            index = number if number < len(prisoner_ids) else rng.randrange(len(prisoner_ids))
            prisoner, prisoner_id = custody[index], prisoner_ids[index]
            sponsor_id = rng.choice(sponsor_ids)
            first = earliest_start(prisoner.detained_on)
            ended_on: date | None = None
            end_reason: EndReason | None = None
            if prisoner.held and (sponsor_id, prisoner_id) not in active and rng.random() < 0.95:
                active.add((sponsor_id, prisoner_id))
                started_on = random_date(rng, first, today - timedelta(days=14))
            else:
                last = prisoner.ended_on or today - timedelta(days=1)
                started_on = random_date(rng, first, last - timedelta(days=30))
                ended_on = random_date(rng, started_on + timedelta(days=1), last)
                end_reason = prisoner.end_reason or EndReason.WITHDREW
            rows.append(
                {
                    "sponsor_id": sponsor_id,
                    "prisoner_id": prisoner_id,
                    "status": SponsorshipStatus.ENDED if ended_on else SponsorshipStatus.ACTIVE,
                    "started_on": started_on,
                    "ended_on": ended_on,
                    "end_reason": end_reason,
                    # Every other pairing may be shown in public (where its godparent and
                    # prisoner consent too); not drawn, so the rest of the data stays the same.
                    "has_public_consent": number % 2 == 0,
                }
            )
            windows.append((started_on, ended_on or today, prisoner.first_name))
        return rows, windows

    def _actions(self, pairing_ids: list[int], windows: list[tuple[date, date, str]]) -> list[Row]:
        """Actions spread over the pairings, each within its pairing's time.

        The random choices for all rows are drawn up front, a list at a time: one call per
        row each would be most of the time this takes.
        """
        rng, today = self.rng, self.today
        count = ACTIONS_PER_UNIT
        kinds = rng.choices(
            list(data.ACTION_KIND_WEIGHTS), weights=list(data.ACTION_KIND_WEIGHTS.values()), k=count
        )
        outcomes: list[LetterOutcome | None] = rng.choices(
            list(data.LETTER_OUTCOME_WEIGHTS),
            weights=list(data.LETTER_OUTCOME_WEIGHTS.values()),
            k=count,
        )
        pairings = rng.choices(range(len(pairing_ids)), k=count)
        fractions = [rng.random() for _ in range(count)]  # where in its pairing's time
        delays = rng.choices(range(18, 61), k=count)  # days until a letter's fate is known
        summaries = {kind: data.ACTION_SUMMARIES[kind]["en"][0] for kind in ActionKind}
        mail = {kind for kind in ActionKind if kind.is_mail}
        rows: list[Row] = []
        for kind, outcome, pairing, fraction, delay in zip(
            kinds, outcomes, pairings, fractions, delays, strict=True
        ):
            started_on, last, first_name = windows[pairing]
            occurred_on = started_on + timedelta(days=int(fraction * (last - started_on).days))
            outcome_on: date | None = None
            if kind not in mail:
                outcome = None
            elif (outcome_on := occurred_on + timedelta(days=delay)) > today:
                outcome, outcome_on = LetterOutcome.SENT, occurred_on
            rows.append(
                {
                    "sponsorship_id": pairing_ids[pairing],
                    "kind": kind,
                    "occurred_on": occurred_on,
                    "summary": summaries[kind].format(name=first_name),
                    "letter_outcome": outcome,
                    "outcome_on": outcome_on,
                }
            )
        return rows
