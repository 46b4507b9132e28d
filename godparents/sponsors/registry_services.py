"""The coordinators' register of godparents: list, detail, create, edit, (de)activate.

Plain functions; the caller commits. Ordinary changes are audited by the flush hook in
``audit.tracking``. Every list and detail page runs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql import Subquery

from godparents.actions.models import Action
from godparents.auth import sessions
from godparents.auth.models import User
from godparents.extensions import db
from godparents.listing import Sort
from godparents.prisoners.names import fold
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors import parliaments
from godparents.sponsors.models import Delegation, Parliament, Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

SORT_KEYS = ("name", "body", "country", "pairings", "last_action", "mandate")
DEFAULT_SORT = "name"
RECENT_ACTIONS = 20
MAX_SEARCH_WORDS = 8
# Optional text fields: an empty input is stored as None, not as "".
OPTIONAL_TEXT = ("title", "party", "email", "phone", "public_quote", "notes")
EDITABLE = (
    "full_name",
    "title",
    "form_of_address",
    "academic_title",
    "country",
    "party",
    "email",
    "phone",
    "language",
    "mandate_ends_on",
    "has_public_consent",
    "public_quote",
    "notes",
)


class LoginStatus(StrEnum):
    ACCOUNT = "account"  # has set a password
    INVITED = "invited"  # an account without a password yet
    NONE = "none"


def login_status(sponsor: Sponsor) -> LoginStatus:
    if sponsor.user is None:
        return LoginStatus.NONE
    return LoginStatus.ACCOUNT if sponsor.user.has_password else LoginStatus.INVITED


@dataclass(frozen=True)
class SponsorFilters:
    """What the list is narrowed to; empty values do not filter."""

    q: str = ""
    body: str = ""
    country: str = ""
    active: bool | None = None


@dataclass(frozen=True)
class SponsorRow:
    sponsor: Sponsor
    active_pairings: int
    last_action_on: date | None

    @property
    def login(self) -> LoginStatus:
        return login_status(self.sponsor)


def _active_counts() -> Subquery:
    return (
        select(Sponsorship.sponsor_id, func.count().label("active_pairings"))
        .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
        .group_by(Sponsorship.sponsor_id)
        .subquery("active_counts")
    )


def _last_actions() -> Subquery:
    return (
        select(Sponsorship.sponsor_id, func.max(Action.occurred_on).label("last_action_on"))
        .join(Action, Action.sponsorship_id == Sponsorship.id)
        .group_by(Sponsorship.sponsor_id)
        .subquery("last_actions")
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _word_matches(word: str) -> ColumnElement[bool]:
    """The word, as typed or folded, inside the name, email, party or parliament.

    Case is ignored by lower() on both sides; sponsors' names are in Latin script, where
    SQLite's ASCII-only lower() is enough. The folded variant lets "Bialacki" find itself
    when typed as "Białacki".
    """
    clauses = []
    for variant in dict.fromkeys((word, fold(word))):
        pattern = literal(f"%{_escape_like(variant)}%")
        for column in (Sponsor.full_name, Sponsor.email, Sponsor.party, Sponsor.body):
            clauses.append(func.lower(column).like(func.lower(pattern), escape="\\"))
    return or_(*clauses)


def sponsor_list_query(filters: SponsorFilters, sort: Sort) -> Select[Sponsor]:
    """The register's rows, filtered and sorted; paginate it, then ``rows_for`` the page."""
    counts, last = _active_counts(), _last_actions()
    query = (
        select(Sponsor)
        .outerjoin(counts, counts.c.sponsor_id == Sponsor.id)
        .outerjoin(last, last.c.sponsor_id == Sponsor.id)
        .options(joinedload(Sponsor.user))
    )
    for word in filters.q.split()[:MAX_SEARCH_WORDS]:
        query = query.where(_word_matches(word))
    if filters.body:
        query = query.where(Sponsor.body == filters.body)
    if filters.country:
        query = query.where(Sponsor.country == filters.country)
    if filters.active is not None:
        query = query.where(Sponsor.is_active == filters.active)
    columns: Mapping[str, SQLColumnExpression[Any]] = {
        "name": func.lower(Sponsor.full_name),
        "body": Sponsor.body,
        "country": Sponsor.country,
        "pairings": func.coalesce(counts.c.active_pairings, 0),
        "last_action": last.c.last_action_on,
        "mandate": Sponsor.mandate_ends_on,
    }
    column = columns[sort.key]
    ordered = column.desc() if sort.descending else column.asc()
    # Sponsors without a date go last either way, on SQLite as on PostgreSQL (whose
    # defaults differ), so a sort by "last action" starts with real dates.
    return query.order_by(ordered.nulls_last(), Sponsor.id)


def rows_for(sponsors: list[Sponsor]) -> list[SponsorRow]:
    """The page's sponsors with their counts, in one query whatever the page size."""
    if not sponsors:
        return []
    counts, last = _active_counts(), _last_actions()
    stats = {
        sponsor_id: (active or 0, last_on)
        for sponsor_id, active, last_on in db.session.execute(
            select(Sponsor.id, counts.c.active_pairings, last.c.last_action_on)
            .outerjoin(counts, counts.c.sponsor_id == Sponsor.id)
            .outerjoin(last, last.c.sponsor_id == Sponsor.id)
            .where(Sponsor.id.in_([s.id for s in sponsors]))
        )
    }
    return [SponsorRow(s, *stats.get(s.id, (0, None))) for s in sponsors]


def bodies_and_countries() -> tuple[list[str], list[str]]:
    """The parliaments and countries in the register, for the filter selects (one query)."""
    pairs = db.session.execute(select(Sponsor.body, Sponsor.country).distinct()).all()
    return sorted({body for body, _ in pairs}), sorted({country for _, country in pairs})


def bodies() -> list[str]:
    return list(db.session.scalars(select(Sponsor.body).distinct().order_by(Sponsor.body)))


@dataclass
class SponsorDetail:
    sponsor: Sponsor
    current: list[Sponsorship]  # active and proposed
    past: list[Sponsorship]
    delegates: list[User]
    recent_actions: list[Action]

    @property
    def active_pairings(self) -> list[Sponsorship]:
        return [p for p in self.current if p.is_active]


def get_sponsor(sponsor_id: int) -> Sponsor | None:
    return db.session.get(Sponsor, sponsor_id, options=[joinedload(Sponsor.user)])


def sponsor_detail(sponsor_id: int) -> SponsorDetail | None:
    """Everything the detail page shows, in four queries."""
    sponsor = db.session.scalar(
        select(Sponsor)
        .where(Sponsor.id == sponsor_id)
        .options(
            joinedload(Sponsor.user),
            selectinload(Sponsor.delegations).joinedload(Delegation.user),
            selectinload(Sponsor.sponsorships).joinedload(Sponsorship.prisoner),
        )
    )
    if sponsor is None:
        return None
    pairings = sorted(
        sponsor.sponsorships, key=lambda p: (p.started_on or date.min, p.id), reverse=True
    )
    current = [p for p in pairings if p.status is not SponsorshipStatus.ENDED]
    past = [p for p in pairings if p.status is SponsorshipStatus.ENDED]
    delegates = sorted((d.user for d in sponsor.delegations), key=lambda u: u.email)
    actions = list(
        db.session.scalars(
            select(Action)
            .join(Action.sponsorship)
            .where(Sponsorship.sponsor_id == sponsor.id)
            .options(
                joinedload(Action.sponsorship).joinedload(Sponsorship.prisoner),
                joinedload(Action.logged_by),
            )
            .order_by(Action.occurred_on.desc(), Action.id.desc())
            .limit(RECENT_ACTIONS)
        )
    )
    return SponsorDetail(sponsor, current, past, delegates, actions)


def delegates_of(sponsor: Sponsor) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Delegation, Delegation.user_id == User.id)
            .where(Delegation.sponsor_id == sponsor.id)
            .order_by(User.email)
        )
    )


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {key: values.get(key) for key in EDITABLE}
    for key in ("full_name", *OPTIONAL_TEXT):
        text = (cleaned[key] or "").strip()
        cleaned[key] = text or (None if key in OPTIONAL_TEXT else text)
    cleaned["country"] = (cleaned["country"] or "").strip().upper()
    cleaned["form_of_address"] = FormOfAddress(cleaned["form_of_address"] or FormOfAddress.NEUTRAL)
    cleaned["academic_title"] = (
        AcademicTitle(cleaned["academic_title"]) if cleaned["academic_title"] else None
    )
    return cleaned


def _parliament_of(values: Mapping[str, Any]) -> tuple[Parliament | None, str]:
    """The listed parliament chosen (None: "other") and the name typed for "other"."""
    chosen = str(values.get("parliament_id") or "")
    parliament = db.session.get(Parliament, int(chosen)) if chosen.isdigit() else None
    return parliament, (values.get("body") or "").strip()


def create_sponsor(values: Mapping[str, Any]) -> Sponsor:
    """A new godparent from the form's values (``EDITABLE``, the parliament chosen or
    typed, and ``is_active``)."""
    sponsor = Sponsor(**_clean(values), is_active=bool(values.get("is_active", True)))
    parliaments.place(sponsor, *_parliament_of(values))
    db.session.add(sponsor)
    db.session.flush()
    return sponsor


def update_sponsor(sponsor: Sponsor, values: Mapping[str, Any]) -> None:
    """Change the record; switching ``is_active`` does what (de)activation does."""
    for key, value in _clean(values).items():
        setattr(sponsor, key, value)
    parliaments.place(sponsor, *_parliament_of(values))
    if "is_active" in values and bool(values["is_active"]) != sponsor.is_active:
        if values["is_active"]:
            reactivate(sponsor)
        else:
            deactivate(sponsor)


def deactivate(sponsor: Sponsor) -> list[Sponsorship]:
    """Set the godparent inactive and log their account out everywhere.

    Their active pairings are not ended here: a prisoner must not silently lose a godparent.
    They are returned so that the coordinator can hand each one over.
    """
    sponsor.is_active = False
    if sponsor.user is not None:
        sponsor.user.is_active = False
        sessions.end_all(sponsor.user)
    return [p for p in sponsor.sponsorships if p.is_active]


def reactivate(sponsor: Sponsor) -> None:
    sponsor.is_active = True
    if sponsor.user is not None:
        sponsor.user.is_active = True
