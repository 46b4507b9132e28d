"""What a godparent's team (the sponsor and their delegates) may see, and the home page data.

Every query here starts from the user: a sponsor sees their own pairings, a delegate those
of the sponsors they work for, and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, Select, false, func, select
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from godparents.actions import outcomes, postby
from godparents.actions.models import Action
from godparents.actions.outcomes import Figures
from godparents.actions.postby import Transit
from godparents.audit.services import record
from godparents.auth import sessions
from godparents.auth.models import Role, User
from godparents.calendar.dates import Occurrence, campaign_dates, prisoner_dates
from godparents.extensions import db
from godparents.prisoners.models import (
    Facility,
    KeyDate,
    Prisoner,
    PrisonerAddress,
    PrisonerPhoto,
)
from godparents.reminders.models import CampaignDay
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

HORIZON_DAYS = 60
RECENT_ACTIONS = 3
# What the home's cards and dates read of a prisoner (any other column would raise).
HOME_PRISONER_COLUMNS = (
    Prisoner.id,
    Prisoner.name_latin,
    Prisoner.name_be,
    Prisoner.name_ru,
    Prisoner.status,
    Prisoner.birth_date,
    Prisoner.birth_year,
    Prisoner.detained_on,
    Prisoner.released_on,
    Prisoner.expected_release_on,
    Prisoner.can_receive_letters,
    Prisoner.version,
)


def sponsor_ids_for(user: User) -> Select[int]:
    """The sponsors this user acts for: their own record, or those they are delegate of."""
    if user.role is Role.SPONSOR:
        # An inactive godparent's account is switched off; should one be on all the same
        # (made before that rule), it still sees nothing.
        return select(Sponsor.id).where(Sponsor.user_id == user.id, Sponsor.is_active.is_(True))
    if user.role is Role.DELEGATE:
        # Staff work for an active godparent only: a deactivated one's team loses access too.
        return (
            select(Delegation.sponsor_id)
            .join(Sponsor, Sponsor.id == Delegation.sponsor_id)
            .where(Delegation.user_id == user.id, Sponsor.is_active.is_(True))
        )
    return select(Sponsor.id).where(false())


def sponsors_for(user: User) -> list[Sponsor]:
    return list(
        db.session.scalars(
            select(Sponsor).where(Sponsor.id.in_(sponsor_ids_for(user))).order_by(Sponsor.full_name)
        )
    )


def is_current(pairing: Sponsorship) -> bool:
    """A pairing the team still works on; released prisoners and ended pairings are history."""
    return pairing.is_active and pairing.prisoner.is_held


def pairings_for(user: User, prisoner_id: int | None = None) -> Select[Sponsorship]:
    """The user's team's pairings (ever, not merely proposed), optionally for one prisoner."""
    query = (
        select(Sponsorship)
        .where(Sponsorship.sponsor_id.in_(sponsor_ids_for(user)))
        .where(Sponsorship.status != SponsorshipStatus.PROPOSED)
    )
    if prisoner_id is not None:
        query = query.where(Sponsorship.prisoner_id == prisoner_id)
    return query


def can_see_prisoner(user: User, prisoner_id: int) -> bool:
    return (
        db.session.execute(
            select(func.count()).select_from(pairings_for(user, prisoner_id).subquery())
        ).scalar_one()
        > 0
    )


@dataclass
class Godchild:
    pairing: Sponsorship
    address: Row[*tuple[Any, ...]] | None  # facility, postal_address of the current address
    has_photo: bool
    upcoming: list[Occurrence] = field(default_factory=list)
    recent_actions: list[Row[*tuple[Any, ...]]] = field(default_factory=list)

    @property
    def prisoner(self) -> Prisoner:
        return self.pairing.prisoner


@dataclass
class Home:
    sponsors: list[Row[*tuple[Any, ...]]]  # id, full_name
    current: list[Godchild]
    former: list[Sponsorship]
    coming_up: list[Occurrence]
    transit: Transit = field(default_factory=lambda: Transit({}))  # for post-by days
    figures: dict[int, Figures] = field(default_factory=dict)  # letters' fate, per prisoner


def home(user: User, today: date) -> Home:
    """The sponsor home in eight queries (the last two: transit times, for post-by days,
    and what became of letters), whatever the number of godchildren and actions.

    The page is what a busy godparent opens from every reminder, so it reads plain rows
    where it can instead of eager-loading whole object graphs (see bench/sponsor_home.py).
    """
    sponsors = list(
        db.session.execute(
            select(Sponsor.id, Sponsor.full_name)
            .where(Sponsor.id.in_(sponsor_ids_for(user)))
            .order_by(Sponsor.full_name)
        )
    )
    has_photo = (
        select(PrisonerPhoto.prisoner_id).where(PrisonerPhoto.prisoner_id == Prisoner.id).exists()
    )
    rows = db.session.execute(
        select(Sponsorship, Prisoner, has_photo.label("has_photo"))
        .join(Sponsorship.prisoner)
        # The card's columns only: not the notes, the bio or the folded search text.
        .options(load_only(*HOME_PRISONER_COLUMNS, raiseload=True))
        .where(Sponsorship.sponsor_id.in_([s.id for s in sponsors]))
        .where(Sponsorship.status != SponsorshipStatus.PROPOSED)
        .order_by(Prisoner.name_latin, Sponsorship.id)
    ).all()
    # A prisoner paired with two of a delegate's sponsors shows once.
    current_rows: dict[int, tuple[Sponsorship, bool]] = {}
    for pairing, _prisoner, photo in rows:
        if is_current(pairing):
            current_rows.setdefault(pairing.prisoner_id, (pairing, photo))
    former = [
        pairing
        for pairing, _p, _photo in rows
        if not is_current(pairing) and pairing.prisoner_id not in current_rows
    ]

    ids = list(current_rows)
    addresses = current_addresses(ids)
    key_dates = key_dates_of(ids)
    recent = recent_actions(
        [pairing.id for pairing, _photo in current_rows.values()], RECENT_ACTIONS
    )
    campaign_days = list(db.session.scalars(select(CampaignDay).where(CampaignDay.is_active)))

    end = today + timedelta(days=HORIZON_DAYS)
    current: list[Godchild] = []
    coming_up: list[Occurrence] = list(campaign_dates(campaign_days, today, end))
    for prisoner_id, (pairing, photo) in current_rows.items():
        set_committed_value(pairing.prisoner, "key_dates", key_dates.get(prisoner_id, []))
        dates = sorted(prisoner_dates(pairing.prisoner, today, end), key=lambda o: o.on)
        coming_up.extend(dates)
        current.append(
            Godchild(
                pairing, addresses.get(prisoner_id), bool(photo), dates, recent.get(pairing.id, [])
            )
        )
    coming_up.sort(key=lambda o: (o.on, o.kind.value))
    figures = outcomes.for_prisoners(ids, today)
    return Home(sponsors, current, former, coming_up, postby.transit(), figures)


def current_addresses(prisoner_ids: list[int]) -> dict[int, Row[*tuple[Any, ...]]]:
    """Each prisoner's newest address (facility, postal_address), in one query."""
    if not prisoner_ids:
        return {}
    found: dict[int, Row[*tuple[Any, ...]]] = {}
    for row in db.session.execute(
        select(
            PrisonerAddress.prisoner_id,
            PrisonerAddress.facility,
            # The registry's names of the facility, for the reader's language (labels.py).
            Facility.name_en.label("facility_en"),
            Facility.name_de.label("facility_de"),
            # The entry's own postal address, else its facility's (None: unknown).
            func.coalesce(PrisonerAddress.postal_address, Facility.postal_address).label(
                "postal_address"
            ),
        )
        .outerjoin(Facility, Facility.id == PrisonerAddress.facility_id)
        .where(PrisonerAddress.prisoner_id.in_(prisoner_ids))
        .order_by(
            PrisonerAddress.prisoner_id,
            PrisonerAddress.valid_from.desc(),
            PrisonerAddress.id.desc(),
        )
    ):
        found.setdefault(row.prisoner_id, row)
    return found


def key_dates_of(prisoner_ids: list[int]) -> dict[int, list[KeyDate]]:
    grouped: dict[int, list[KeyDate]] = defaultdict(list)
    if prisoner_ids:
        for key_date in db.session.scalars(
            select(KeyDate).where(KeyDate.prisoner_id.in_(prisoner_ids)).order_by(KeyDate.occurs_on)
        ):
            grouped[key_date.prisoner_id].append(key_date)
    return grouped


def recent_actions(
    sponsorship_ids: list[int], per_pairing: int
) -> dict[int, list[Row[*tuple[Any, ...]]]]:
    """The latest actions of each pairing, in one query (a window function)."""
    if not sponsorship_ids:
        return {}
    ranked = (
        select(
            Action.id,
            func.row_number()
            .over(
                partition_by=Action.sponsorship_id,
                order_by=(Action.occurred_on.desc(), Action.id.desc()),
            )
            .label("rank"),
        )
        .where(Action.sponsorship_id.in_(sponsorship_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(
            Action.sponsorship_id,
            Action.kind,
            Action.occurred_on,
            Action.summary,
            Action.letter_outcome,
        )
        .join(ranked, ranked.c.id == Action.id)
        .where(ranked.c.rank <= per_pairing)
        .order_by(Action.occurred_on.desc(), Action.id.desc())
    )
    grouped: dict[int, list[Row[*tuple[Any, ...]]]] = defaultdict(list)
    for row in rows:
        grouped[row.sponsorship_id].append(row)
    return grouped


@dataclass
class PrisonerView:
    prisoner: Prisoner
    pairings: list[Sponsorship]
    current: Sponsorship | None
    actions: list[Action]
    has_photo: bool
    upcoming: list[Occurrence]


def prisoner_view(user: User, prisoner_id: int, today: date) -> PrisonerView | None:
    """A godchild's page as the team sees it; None if the team never paired with them."""
    pairings = list(
        db.session.scalars(
            pairings_for(user, prisoner_id)
            .options(
                joinedload(Sponsorship.prisoner).selectinload(Prisoner.addresses),
                joinedload(Sponsorship.prisoner).selectinload(Prisoner.key_dates),
                joinedload(Sponsorship.sponsor),
            )
            .order_by(Sponsorship.started_on)
        ).unique()
    )
    if not pairings:
        return None
    prisoner = pairings[0].prisoner
    current = next((p for p in pairings if is_current(p)), None)
    actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.sponsorship_id.in_([p.id for p in pairings]))
            .options(joinedload(Action.logged_by))
            .order_by(Action.occurred_on.desc(), Action.id.desc())
        )
    )
    has_photo = (
        db.session.get(PrisonerPhoto, prisoner_id, options=[load_only(PrisonerPhoto.prisoner_id)])
        is not None
    )
    upcoming = (
        sorted(
            prisoner_dates(prisoner, today, today + timedelta(days=HORIZON_DAYS)),
            key=lambda o: o.on,
        )
        if current
        else []
    )
    return PrisonerView(prisoner, pairings, current, actions, has_photo, upcoming)


def photo_for(user: User, prisoner_id: int) -> PrisonerPhoto | None:
    if not can_see_prisoner(user, prisoner_id):
        return None
    return db.session.get(PrisonerPhoto, prisoner_id)


def remove_delegate(sponsor: Sponsor, delegate: User, actor: User) -> None:
    """End a delegate's work for this sponsor; one who works for nobody else is locked out."""
    delegation = db.session.get(Delegation, (sponsor.id, delegate.id))
    if delegation is None:
        return
    db.session.delete(delegation)
    db.session.flush()
    remaining = db.session.scalar(
        select(func.count()).select_from(Delegation).where(Delegation.user_id == delegate.id)
    )
    if not remaining:
        delegate.is_active = False
        sessions.end_all(delegate)  # their open sessions end now
    record(actor, "remove_delegate", delegate, {"sponsor_id": sponsor.id})
