"""The tests' one world builder: a coordinator, a team (a godparent with office staff and a
godchild, an address, a photo, a key date, an action) and another team that is "the wrong
sponsor" for every check of who may see what.

Each test file asks for what it needs more (its own names and dates, a former godparent, a
prisoner nobody sponsors, no second team) through the specs below, and adds what only it needs
(payloads, passkeys, reminder rules) to the objects the builder returns. The builder commits,
so that the app's own requests see the rows; ``Team.ids`` gives plain ids for tests that
delete rows or run requests in another app context.

    world = build_world(team=TeamSpec(sponsor={"full_name": "Anna Schmidt"}))
    login_as(world.sponsor.email)
    client.get(f"/sponsor/prisoners/{world.prisoner.id}")
    client.get(f"/sponsor/prisoners/{world.other.prisoner.id}")  # 404: not theirs
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, timedelta
from typing import Any, TypeVar

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind, Prisoner, PrisonerPhoto
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
    make_user,
)

Fields = dict[str, Any]
PHOTO = b"\xff\xd8jpeg"  # enough of a JPEG for the photo routes, which send it as stored
LETTER_KINDS = (ActionKind.LETTER, ActionKind.CARD, ActionKind.PARCEL)
W = TypeVar("W", bound="World")


def world_today() -> date:
    """The campaign's day in the test configuration's time zone."""
    return campaign_today("Europe/Berlin")


def make_action(pairing: Sponsorship, by: User | None, **fields: Any) -> Action:
    """An action on ``pairing`` logged by ``by``: by default a letter sent three days ago."""
    values: Fields = {
        "kind": ActionKind.LETTER,
        "occurred_on": world_today() - timedelta(days=3),
        "summary": "A letter",
        **fields,
    }
    if values["kind"] in LETTER_KINDS:
        values.setdefault("letter_outcome", LetterOutcome.SENT)
    action = Action(sponsorship=pairing, logged_by=by, **values)
    db.session.add(action)
    db.session.commit()
    return action


@dataclass
class TeamSpec:
    """What a team is made of; each dict is passed on to its factory (``tests/factories.py``).

    ``login_email`` gives the godparent a login whose email differs from the record's;
    ``action`` and ``key_date`` are made only when given (``{}`` for the defaults);
    ``action_by`` says who logged the action ("sponsor" or "delegate"); ``photo`` is the
    godchild's photo (``None``: none)."""

    sponsor: Fields = field(default_factory=dict)
    login_email: str | None = None
    delegate: Fields = field(default_factory=dict)
    prisoner: Fields = field(default_factory=dict)
    pairing: Fields = field(default_factory=dict)
    action: Fields | None = None
    action_by: str = "sponsor"
    key_date: Fields | None = None
    photo: bytes | None = None


@dataclass(frozen=True)
class TeamIds:
    """A team as plain values, safe to keep after its rows are deleted or the session ends."""

    sponsor_id: int
    sponsor_name: str
    sponsor_email: str
    sponsor_user_id: int
    delegate_id: int
    delegate_email: str
    prisoner_id: int
    pairing_id: int
    action_id: int | None
    key_date_id: int | None


@dataclass
class Team:
    sponsor: Sponsor
    delegate: User
    prisoner: Prisoner
    pairing: Sponsorship
    action: Action | None = None
    key_date: KeyDate | None = None
    photo: PrisonerPhoto | None = None

    @property
    def ids(self) -> TeamIds:
        assert self.sponsor.user_id is not None, "a team's godparent has a login"
        return TeamIds(
            sponsor_id=self.sponsor.id,
            sponsor_name=self.sponsor.full_name,
            sponsor_email=self.sponsor.email or "",
            sponsor_user_id=self.sponsor.user_id,
            delegate_id=self.delegate.id,
            delegate_email=self.delegate.email,
            prisoner_id=self.prisoner.id,
            pairing_id=self.pairing.id,
            action_id=self.action.id if self.action else None,
            key_date_id=self.key_date.id if self.key_date else None,
        )


@dataclass
class World:
    """The coordinator, the team, the wrong sponsor's team and the extras asked for.

    ``world.sponsor``, ``world.delegate``, ``world.prisoner``, ``world.pairing`` and
    ``world.action`` are the team's; ``world.other`` is the other team."""

    coordinator: User
    team: Team
    other: Team | None = None
    former_sponsor: Sponsor | None = None  # ended their godparenthood of the team's godchild
    former_pairing: Sponsorship | None = None
    free_prisoner: Prisoner | None = None  # a prisoner without a godparent

    @property
    def sponsor(self) -> Sponsor:
        return self.team.sponsor

    @property
    def delegate(self) -> User:
        return self.team.delegate

    @property
    def prisoner(self) -> Prisoner:
        return self.team.prisoner

    @property
    def pairing(self) -> Sponsorship:
        return self.team.pairing

    @property
    def action(self) -> Action:
        assert self.team.action is not None, "build the world with TeamSpec(action={})"
        return self.team.action

    @property
    def other_team(self) -> Team:
        assert self.other is not None, "build the world without with_other=False"
        return self.other

    @property
    def other_sponsor(self) -> Sponsor:
        return self.other_team.sponsor

    @property
    def other_delegate(self) -> User:
        return self.other_team.delegate


def build_team(spec: TeamSpec) -> Team:
    if spec.login_email is None:
        sponsor = make_sponsor(**spec.sponsor)
    else:
        sponsor = make_sponsor(with_login=False, **spec.sponsor)
        sponsor.user = make_user(Role.SPONSOR, email=spec.login_email)
        db.session.commit()
    delegate = make_delegate(sponsor, **spec.delegate)
    prisoner = make_prisoner(**spec.prisoner)
    pairing = make_sponsorship(sponsor, prisoner, **spec.pairing)
    team = Team(sponsor, delegate, prisoner, pairing)
    if spec.photo is not None:
        team.photo = PrisonerPhoto(prisoner=prisoner, content=spec.photo, mimetype="image/jpeg")
        db.session.add(team.photo)
        db.session.commit()
    if spec.action is not None:
        by = delegate if spec.action_by == "delegate" else sponsor.user
        team.action = make_action(pairing, by, **spec.action)
    if spec.key_date is not None:
        values: Fields = {
            "kind": KeyDateKind.APPEAL,
            "occurs_on": world_today() + timedelta(days=20),
            **spec.key_date,
        }
        team.key_date = KeyDate(prisoner=prisoner, **values)
        db.session.add(team.key_date)
        db.session.commit()
    return team


def build_world(
    team: TeamSpec | None = None,
    other: TeamSpec | None = None,
    *,
    with_other: bool = True,
    coordinator: Fields | None = None,
    former_sponsor: Fields | None = None,
    former_action: Fields | None = None,
    free_prisoner: Fields | None = None,
) -> World:
    """A coordinator (``coordinator``: its fields), the team, the other team (unless
    ``with_other=False``); with ``former_sponsor`` a godparent whose godparenthood of the
    team's godchild ended (and ``former_action``: an action they logged then); with
    ``free_prisoner`` a prisoner nobody sponsors."""
    world = World(make_coordinator(**(coordinator or {})), build_team(team or TeamSpec()))
    if with_other:
        world.other = build_team(other or TeamSpec())
    if former_sponsor is not None:
        world.former_sponsor = make_sponsor(**former_sponsor)
        world.former_pairing = make_sponsorship(
            world.former_sponsor,
            world.prisoner,
            status=SponsorshipStatus.ENDED,
            started_on=date(2022, 1, 1),
            ended_on=date(2023, 12, 31),
            end_reason=EndReason.MANDATE_ENDED,
        )
        if former_action is not None:
            make_action(world.former_pairing, world.former_sponsor.user, **former_action)
    if free_prisoner is not None:
        world.free_prisoner = make_prisoner(**free_prisoner)
    return world


def extend(world: World, cls: type[W], **extra: Any) -> W:
    """``world`` as a test file's subclass of World, with that file's own objects added."""
    shared = {item.name: getattr(world, item.name) for item in dataclass_fields(World)}
    return cls(**shared, **extra)
