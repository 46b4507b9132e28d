"""Access control over the whole URL map: login, CSRF, other teams' objects, posted privileges.

The walks below iterate ``url_map.iter_rules()``: a route added later is covered without
touching this file. Its ``<int:...>`` parts are filled with the ids of real objects made by
the factories, its other parts with plausible values; a part the walker cannot fill makes
the test fail, so that a new kind of route gets a look rather than a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.routing.exceptions import RoutingException

from godparents.account.services import token_hash
from godparents.actions.models import Action
from godparents.auth import tokens
from godparents.auth.models import Passkey, Role, User
from godparents.auth.passwords import verify_password
from godparents.extensions import db
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.prisoners.models import Facility, FacilityKind
from godparents.reminders.messages import unsubscribe_token
from godparents.reminders.models import (
    OutboxMessage,
    ReminderRun,
    RunStatus,
    Trigger,
    UndeliverableAddress,
)
from godparents.sponsors.models import Delegation, Sponsor
from godparents.timeutil import campaign_today
from godparents.types import utcnow
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_default_rules,
    make_sponsor,
    make_user,
)
from tests.helpers import Auth, csrf_token, log_in
from tests.security.test_security import PUBLIC
from tests.world import Team as SharedTeam
from tests.world import TeamIds, TeamSpec, build_world

NEW_PASSWORD = "a completely different passphrase"  # nosec B105
# The only POST route that takes no CSRF token: mail programs unsubscribe with a bare POST
# (RFC 8058); the signed token in its URL decides.
CSRF_EXEMPT = {"reminders.unsubscribe"}
# Public, but only as the second step of logging in: without the first it sends back there.
NEEDS_FIRST_STEP = {"auth.two_factor", "auth.two_factor_passkey"}
# Coordinator-only routes that do not live under /coordinator/.
COORDINATOR_ELSEWHERE = {"auth.invite"}
CSRF_REFUSED = "The form has expired or was not sent from this site."


def _today() -> date:
    return campaign_today("Europe/Berlin")


# The world: two teams, a coordinator, and one of every other kind of object ----------------


@dataclass(frozen=True)
class Team(TeamIds):
    """A sponsor with a delegate and a godchild, as plain values (rows may be deleted); the
    action is a letter logged by the delegate."""

    passkey_id: int = 0  # the sponsor's


@dataclass(frozen=True)
class World:
    coordinator_email: str
    a: Team
    b: Team
    newcomer_id: int  # a sponsor without an account yet
    invited_id: int  # a delegate of A invited but without a password yet
    rule_id: int
    message_id: int
    calendar_token: str  # sponsor A's feed
    run_id: int
    address_id: int  # an address that bounced
    facility_id: int
    letter_template_id: int = 0
    watch_word_id: int = 0


def _team_spec(name: str) -> TeamSpec:
    written = _today() - timedelta(days=3)
    return TeamSpec(
        sponsor={"full_name": f"Godparent {name}"},
        delegate={"email": f"office-{name.lower()}@example.org"},
        prisoner={"name_latin": f"Prisoner {name}"},
        action={
            "occurred_on": written,
            "summary": f"A letter from team {name}",
            "outcome_on": written,
        },
        action_by="delegate",
        key_date={"note": "Appeal"},
        photo=b"\xff\xd8photo of " + name.encode(),
    )


def _team(team: SharedTeam, name: str) -> Team:
    ids = team.ids
    passkey = Passkey(
        user_id=ids.sponsor_user_id,
        credential_id=f"credential-{name}",
        public_key=b"public key",
        name=f"Key of {name}",
    )
    db.session.add(passkey)
    db.session.commit()
    return Team(**vars(ids), passkey_id=passkey.id)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def make_world() -> World:
    """The world of these walks (tests/journeys/test_walk.py walks its pages too)."""
    built = build_world(
        _team_spec("A"), _team_spec("B"), coordinator={"email": "coordinator@example.org"}
    )
    coordinator = built.coordinator
    a, b = _team(built.team, "A"), _team(built.other_team, "B")
    newcomer = make_sponsor(
        with_login=False, full_name="Godparent Newcomer", email="newcomer@example.org"
    )
    invited = make_user(Role.DELEGATE, email="invited@example.org", password=None)
    db.session.add(Delegation(sponsor_id=a.sponsor_id, user_id=invited.id))
    rule = make_default_rules()[0]
    message = OutboxMessage(
        rule=rule,
        recipient_user_id=a.sponsor_user_id,
        recipient_email=a.sponsor_email,
        subject_ref=f"prisoner:{a.prisoner_id}",
        occurs_on=_today(),
        email_subject="A reminder",
        body_text="Text\n",
        body_html="<p>Text</p>",
    )
    calendar_token = "calendar-token-of-sponsor-a"
    sponsor_user = db.session.get(User, a.sponsor_user_id)
    assert sponsor_user is not None
    sponsor_user.calendar_token_hash = token_hash(calendar_token)
    db.session.add(message)
    run = ReminderRun(
        status=RunStatus.FINISHED,
        planned_for=_today(),
        window_start=_today(),
        started_at=utcnow(),
        finished_at=utcnow(),
    )
    bounced = UndeliverableAddress(email="gone@example.org")
    facility = Facility(name_en="SIZO No. 1 (Minsk)", kind=FacilityKind.PRETRIAL)
    letter_template = LetterTemplate(
        occasion=Occasion.BIRTHDAY, language=LetterLanguage.RUSSIAN, title="Card", body="{name}"
    )
    watch_word = WatchWord(phrase="свобод", language="ru", reason="Politics")
    db.session.add_all([run, bounced, facility, letter_template, watch_word])
    db.session.commit()
    return World(
        coordinator.email,
        a,
        b,
        newcomer.id,
        invited.id,
        rule.id,
        message.id,
        calendar_token,
        run.id,
        bounced.id,
        facility.id,
        letter_template_id=letter_template.id,
        watch_word_id=watch_word.id,
    )


# Building URLs from the URL map ------------------------------------------------------------


def url_values(world: World, team: Team) -> dict[str, Any]:
    """A value for every URL part the app has today; ids are ``team``'s own objects."""
    return {
        "prisoner_id": team.prisoner_id,
        "sponsorship_id": team.pairing_id,
        "action_id": team.action_id,
        "user_id": team.delegate_id,
        "sponsor_id": team.sponsor_id,
        "key_date_id": team.key_date_id,
        "rule_id": world.rule_id,
        "message_id": world.message_id,
        "run_id": world.run_id,
        "address_id": world.address_id,
        "passkey_id": team.passkey_id,
        "kind": "prisoners",
        "filename": "css/app.css",
        "token": "not-a-valid-token",
        "facility_id": world.facility_id,
        "template_id": world.letter_template_id,
        "word_id": world.watch_word_id,
    }


def genuine_tokens(web_app: Flask, world: World) -> dict[str, str]:
    """The ``<token>`` of each link that mails carry, signed by the serving app."""
    with web_app.app_context():
        invited = db.session.get(User, world.invited_id)
        sponsor = db.session.get(User, world.a.sponsor_user_id)
        assert invited is not None and sponsor is not None
        return {
            "auth.accept_invitation": tokens.make_token(invited, tokens.INVITATION, utcnow()),
            "auth.reset_password": tokens.make_token(sponsor, tokens.PASSWORD_RESET, utcnow()),
            "calendar.feed": world.calendar_token,
            "reminders.unsubscribe": unsubscribe_token(sponsor.id, Trigger.BIRTHDAY),
        }


class Unfillable(Exception):
    """The walker has no value for a part of this route: it needs a look."""


def path_for(
    web_app: Flask,
    rule: Rule,
    method: str,
    values: dict[str, Any],
    token_by_endpoint: dict[str, str] | None = None,
) -> str:
    """The rule's URL with ``values``; checked to lead back to the same rule."""
    values = dict(values)
    if token_by_endpoint and rule.endpoint in token_by_endpoint:
        values["token"] = token_by_endpoint[rule.endpoint]
    missing = sorted(rule.arguments - values.keys())
    if missing:
        raise Unfillable(f"{rule.endpoint} {rule.rule}: no sample value for {missing}")
    try:
        built = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)
        if built is None:
            raise Unfillable(f"{rule.endpoint} {rule.rule}: cannot be built")
        path = built[1]
        endpoint, _args = web_app.url_map.bind("localhost").match(path, method=method)
    except (ValueError, HTTPException, RoutingException) as error:
        raise Unfillable(f"{rule.endpoint} {rule.rule}: {error!r}") from error
    if endpoint != rule.endpoint:
        raise Unfillable(f"{rule.endpoint} {rule.rule}: {path} leads to {endpoint}")
    return path


def routes(web_app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) of the URL map but HEAD and OPTIONS, which Flask adds."""
    for rule in sorted(web_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def is_coordinator_route(rule: Rule) -> bool:
    return rule.rule.startswith("/coordinator/") or rule.endpoint in COORDINATOR_ELSEWHERE


def takes_an_id(rule: Rule) -> bool:
    return "<int:" in rule.rule


# Forms as a user of the right role would fill them in (valid but for what a test leaves out)


def sample_forms(world: World) -> dict[str, dict[str, Any]]:
    today = _today().isoformat()
    a = world.a
    rule = {
        "trigger": "birthday",
        "days": "3",
        "template": "birthday",
        "to_sponsor": "y",
        "is_active": "y",
    }
    password = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return {
        "account.profile": {
            "locale": "de",
            "timezone": "Europe/Vienna",
            "birthday_card_days": "20",
            "title": "Dr.",
        },
        "account.change_password": {"current_password": PASSWORD, **password},
        "account.change_email": {"email": "changed@example.org", "current_password": PASSWORD},
        "account.enable_two_factor": {"code": "123456", "current_password": PASSWORD},
        "account.renew_recovery_codes": {"current_password": PASSWORD},
        "account.disable_two_factor": {"current_password": PASSWORD},
        "account.replace_two_factor": {"current_password": PASSWORD},
        "account.reset_two_factors": {"current_password": PASSWORD},
        "account.add_passkey": {"name": "Laptop", "current_password": PASSWORD, "credential": "{}"},
        "account.rename_passkey": {"name": "Renamed key"},
        "account.remove_passkey": {"current_password": PASSWORD},
        "actions.create": {"kind": "card", "occurred_on": today, "summary": "A card"},
        "actions.edit": {"kind": "card", "occurred_on": today, "summary": "Rewritten"},
        "actions.outcome": {"letter_outcome": "returned", "outcome_on": today},
        "auth.accept_invitation": password,
        "auth.invite": {
            "email": "invited-sponsor@example.org",
            "role": "sponsor",
            "sponsor_id": str(world.newcomer_id),
        },
        "auth.login": {"email": a.sponsor_email, "password": PASSWORD},
        "auth.request_password_reset": {"email": a.sponsor_email},
        "auth.reset_password": password,
        "auth.two_factor": {"code": "123456"},
        "auth.two_factor_passkey": {"credential": "{}"},
        "i18n.set_locale": {"locale": "de"},
        "letters.add_word": {"phrase": "Krieg", "language": "de", "reason": "The war"},
        "letters.create_template": {
            "occasion": "birthday",
            "language": "ru",
            "title": "New card",
            "body": "С днём рождения, {first_name}!",
            "submit": "1",
        },
        "letters.edit_template": {
            "occasion": "support",
            "language": "be",
            "title": "Changed card",
            "body": "Дарагі {first_name}!",
            "submit": "1",
        },
        "letters.letter": {"text": "Дорогой друг!", "submit": "1"},
        "letters.sender": {"postal_address": "Büro Berlin\n11011 Berlin"},
        "prisoners.add_key_date": {"kind": "trial", "occurs_on": today, "note": "Trial"},
        "prisoners.change_address": {
            "facility": "Penal colony No. 3",
            "valid_from": today,
            "postal_address": "211440, г. Новополоцк",
        },
        "prisoners.create": {"name_latin": "New Prisoner", "status": "sentenced", "gender": ""},
        "prisoners.edit": {"name_latin": "Renamed Prisoner", "status": "sentenced", "gender": ""},
        "prisoners.facility_edit": {"name_en": "SIZO No. 8 (Zhodzina)", "kind": "pretrial"},
        "prisoners.merge_records": {"other": str(world.b.prisoner_id)},
        "reminders.create": {"name": "New rule", **rule},
        "reminders.edit": {"name": "Renamed rule", **rule},
        "sponsors.create": {
            "full_name": "New Godparent",
            "body": "Sejm",
            "country": "PL",
            "language": "en",
            "is_active": "y",
        },
        "sponsors.delegates": {"email": "more-staff@example.org"},
        "sponsors.edit": {
            "full_name": "Renamed Godparent",
            "body": "Bundestag",
            "country": "DE",
            "language": "en",
            "is_active": "y",
        },
        "sponsors.erase": {"confirm_name": a.sponsor_name},
        "sponsors.invite": {"email": "second-login@example.org"},
        "sponsors.team": {"email": "new-staff@example.org"},
        "sponsorships.create": {
            "sponsor_id": str(world.newcomer_id),
            "prisoner_id": str(a.prisoner_id),
            "status": "active",
            "started_on": today,
        },
        "sponsorships.bulk": {"status": "proposed"},
        "sponsorships.end": {"ended_on": today, "end_reason": "other"},
        "sponsorships.handover": {
            "sponsor_id": str(world.b.sponsor_id),
            "on": today,
            "end_reason": "mandate_ended",
        },
        "sponsorships.release": {
            "status": "released",
            "released_on": today,
            "pairing_ids": [str(a.pairing_id)],
        },
    }


# Logging in and watching the database --------------------------------------------------------


def logged_in(web_app: Flask, email: str) -> FlaskClient:
    """A client of its own, logged in with a session of its own (the login forms have their
    own tests)."""
    client = web_app.test_client()
    log_in(client, email)
    return client


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(ignore_refusals: bool = False) -> Snapshot:
    """Every row of every table, read afresh. The last-seen time of sessions is left out
    (written on its own once a minute); so are logged refusals when asked (a refused request
    is recorded on purpose, see errors.py)."""
    tables: Snapshot = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if (table.name, column.name) != ("user_sessions", "last_seen_at")
            ]
            query = select(*columns).order_by(*table.primary_key.columns)
            if ignore_refusals and table.name == "audit_events":
                query = query.where(table.c.action != "access_refused")
            tables[table.name] = [tuple(row) for row in connection.execute(query)]
    return tables


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


def fresh(model: type, ident: Any) -> Any:
    """The row as the database has it now (the web app changed it behind this session)."""
    db.session.expire_all()
    return db.session.get(model, ident)


@dataclass
class Crashed:
    """What the walks record when a request raised instead of answering."""

    error: Exception
    status_code: int = 500
    text: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {}


def send(client: FlaskClient, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """One request of a walk; a crash is that route's failure, not the end of the walk."""
    try:
        response = client.open(path, method=method, data=data)
    except Exception as error:
        return Crashed(error)
    response.close()  # a static file stays open until closed
    return response


def answer(response: Any) -> str:
    if isinstance(response, Crashed):
        return f"crashed with {response.error!r}"
    return f"answered {response.status_code} {response.headers.get('Location', '')!r}"


# 1. Login is required everywhere but on the public list ----------------------------------------


def test_every_route_but_the_public_ones_sends_anonymous_users_to_login(
    world: World, web_app: Flask
) -> None:
    """Anonymous, and also halfway (a coordinator's right password, no code yet): every
    method of every route not in PUBLIC is a redirect to the login form that comes back to
    the page; a public one is answered without it. POSTs carry a valid CSRF token of the
    anonymous session, so that the login check is what answers, not the CSRF check."""
    anonymous = web_app.test_client()
    anonymous_token = csrf_token(anonymous, "/auth/login")
    halfway = web_app.test_client()
    first_step = halfway.post(
        "/auth/login",
        data={
            "email": world.coordinator_email,
            "password": PASSWORD,
            "csrf_token": csrf_token(halfway, "/auth/login"),
        },
    )
    assert first_step.headers["Location"] == "/auth/two-factor"
    halfway_token = csrf_token(halfway, "/auth/two-factor")
    visitors = [
        ("anonymous", anonymous, anonymous_token),
        ("password only", halfway, halfway_token),
    ]

    values, token_by_endpoint = url_values(world, world.a), genuine_tokens(web_app, world)
    failures: list[str] = []
    checked = {"login required": 0, "public": 0}
    for rule, method in routes(web_app):
        try:
            path = path_for(web_app, rule, method, values, token_by_endpoint)
        except Unfillable as error:
            failures.append(str(error))
            continue
        public = rule.endpoint in PUBLIC
        checked["public" if public else "login required"] += 1
        for name, client, token in visitors:
            data = None if method == "GET" else {"csrf_token": token}
            response = send(client, method, path, data)
            location = response.headers.get("Location", "")
            if public:
                expected = "not sent to login"
                ok = not location.startswith("/auth/login") and response.status_code < 500
                if name == "anonymous" and rule.endpoint in NEEDS_FIRST_STEP:
                    expected, ok = "sent back to the first step", location == "/auth/login"
            else:
                expected = f"302 to /auth/login?next={path}"
                ok = (
                    response.status_code == 302
                    and location.startswith("/auth/login?")
                    and parse_qs(urlsplit(location).query).get("next") == [path]
                )
            if not ok:
                failures.append(
                    f"{name}: {method} {path} ({rule.endpoint}) "
                    f"{answer(response)}, expected {expected}"
                )
    assert not failures, "\n".join(failures)
    assert checked["login required"] > 80 and checked["public"] >= len(PUBLIC), checked


# 2. Every POST needs the CSRF token -------------------------------------------------------------


def csrf_users(rule: Rule) -> tuple[str, ...]:
    """Who would use the route: its own role, so that only the missing token can refuse."""
    if rule.endpoint in PUBLIC:
        return ("anonymous", "sponsor")
    if is_coordinator_route(rule):
        return ("coordinator",)
    if rule.rule.startswith("/sponsor/"):
        return ("sponsor", "delegate")
    return ("sponsor", "coordinator")


def test_every_post_route_refuses_a_request_without_csrf_token(
    world: World, web_app: Flask
) -> None:
    """Logged in with the right role, the form filled in as it should be and the ids of the
    user's own objects, but no csrf_token: 400, and not one row of any table changes. The
    one-click unsubscribe is the only exception; its link here is forged (signed with
    another key), and it changes nothing either."""
    clients = {
        "anonymous": web_app.test_client(),
        "sponsor": logged_in(web_app, world.a.sponsor_email),
        "delegate": logged_in(web_app, world.a.delegate_email),
        "coordinator": logged_in(web_app, world.coordinator_email),
    }
    values, forms = url_values(world, world.a), sample_forms(world)
    token_by_endpoint = genuine_tokens(web_app, world)
    # Signed by the test's own app, whose secret key is not the serving app's.
    token_by_endpoint["reminders.unsubscribe"] = unsubscribe_token(
        world.a.sponsor_user_id, Trigger.BIRTHDAY
    )

    failures: list[str] = []
    accepted: set[str] = set()
    posted = 0
    for rule, method in routes(web_app):
        if method == "GET":
            continue
        try:
            path = path_for(web_app, rule, method, values, token_by_endpoint)
        except Unfillable as error:
            failures.append(str(error))
            continue
        posted += 1
        for who in csrf_users(rule):
            before = snapshot()
            response = send(clients[who], method, path, forms.get(rule.endpoint, {}))
            after = snapshot()
            where = f"{who}: {method} {path} ({rule.endpoint})"
            if response.status_code != 400:
                accepted.add(rule.endpoint)
                if rule.endpoint not in CSRF_EXEMPT:
                    failures.append(f"{where} {answer(response)}, expected 400")
                elif response.status_code != 404:
                    failures.append(f"{where} took a forged link: {answer(response)}")
            elif CSRF_REFUSED not in response.text:
                failures.append(f"{where}: 400, but not for the missing token")
            if changes := changed(before, after):
                failures.append(f"{where} changed {changes}")
    assert not failures, "\n".join(failures)
    assert accepted == CSRF_EXEMPT
    assert posted > 40, posted

    # The exemption itself works: the genuine link unsubscribes without a CSRF token.
    link = genuine_tokens(web_app, world)["reminders.unsubscribe"]
    response = clients["anonymous"].post(
        f"/reminders/unsubscribe/{link}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert fresh(User, world.a.sponsor_user_id).reminder_opt_outs == ["birthday"]


# 3. Other teams' objects, and coordinator pages -----------------------------------------------


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_another_team_gets_404_and_coordinator_pages_403_on_every_id_route(
    world: World, web_app: Flask, who: str
) -> None:
    """B's sponsor or B's delegate, with a valid CSRF token and valid forms, aims every
    route taking an id at team A's objects (GET and POST): 404 (or 403), and every route of
    the coordinators answers 403 whatever its ids. Nothing changes but the log of
    refusals."""
    email = world.b.sponsor_email if who == "sponsor" else world.b.delegate_email
    client = logged_in(web_app, email)
    token = csrf_token(client, "/sponsor/")
    values, forms = url_values(world, world.a), sample_forms(world)

    failures: list[str] = []
    counts = {"coordinator": 0, "id": 0}
    before = snapshot(ignore_refusals=True)
    for rule, method in routes(web_app):
        if rule.endpoint in PUBLIC:
            continue  # the same for everyone, logged in or not
        coordinator_only = is_coordinator_route(rule)
        if not (coordinator_only or takes_an_id(rule)):
            continue  # a user's own pages (/account/, /sponsor/team, ...): no object to steal
        try:
            path = path_for(web_app, rule, method, values)
        except Unfillable as error:
            failures.append(str(error))
            continue
        counts["coordinator" if coordinator_only else "id"] += 1
        data = None if method == "GET" else {**forms.get(rule.endpoint, {}), "csrf_token": token}
        response = send(client, method, path, data)
        expected = {403} if coordinator_only else {403, 404}
        if response.status_code not in expected:
            failures.append(
                f"{who} of B: {method} {path} ({rule.endpoint}) "
                f"{answer(response)}, expected {sorted(expected)}"
            )
        after = snapshot(ignore_refusals=True)
        if changes := changed(before, after):
            failures.append(f"{who} of B: {method} {path} ({rule.endpoint}) changed {changes}")
            before = after
    assert not failures, "\n".join(failures)
    assert counts["coordinator"] > 50 and counts["id"] >= 9, counts


def test_ids_nested_in_a_route_must_belong_together(world: World, web_app: Flask) -> None:
    """A route with two ids (a prisoner's key date, a sponsor's delegate) refuses a child
    of another parent with 404, even for a coordinator, and changes nothing."""
    client = logged_in(web_app, world.coordinator_email)
    token = csrf_token(client, "/coordinator/")
    a, b = url_values(world, world.a), url_values(world, world.b)
    failures: list[str] = []
    nested = 0
    before = snapshot(ignore_refusals=True)
    for rule, method in routes(web_app):
        ids = sorted(
            (name for name in rule.arguments if f"<int:{name}>" in rule.rule),
            key=lambda name: rule.rule.index(f"<int:{name}>"),
        )
        if len(ids) < 2:
            continue
        parent = ids[0]  # the parent is B's, the rest A's
        try:
            path = path_for(web_app, rule, method, {**a, parent: b[parent]})
        except Unfillable as error:
            failures.append(str(error))
            continue
        nested += 1
        data = None if method == "GET" else {"csrf_token": token}
        response = send(client, method, path, data)
        if response.status_code != 404:
            failures.append(f"{method} {path} ({rule.endpoint}) {answer(response)}, expected 404")
    assert not failures, "\n".join(failures)
    assert changed(before, snapshot(ignore_refusals=True)) == []
    assert nested >= 2


def _prisoner(team: Team) -> str:
    return f"/sponsor/prisoners/{team.prisoner_id}"


def _action(team: Team) -> str:
    return f"/sponsor/actions/{team.action_id}"


def _version(team: Team) -> str:
    """The version of the team's action as saved now, as its edit form would carry it."""
    return str(db.session.scalar(select(Action.version).where(Action.id == team.action_id)))


# (method, path, form) for a team; aimed at team A by team B, then at B's own as a check.
SPONSOR_SIDE: dict[str, Callable[[Team], tuple[str, str, dict[str, str] | None]]] = {
    "prisoner page": lambda t: ("GET", _prisoner(t), None),
    "photo": lambda t: ("GET", f"{_prisoner(t)}/photo", None),
    "action form": lambda t: ("GET", f"{_prisoner(t)}/actions/new", None),
    "log an action": lambda t: (
        "POST",
        f"{_prisoner(t)}/actions/new",
        {"kind": "card", "occurred_on": _today().isoformat(), "summary": "A birthday card"},
    ),
    "edit form": lambda t: ("GET", f"{_action(t)}/edit", None),
    "edit an action": lambda t: (
        "POST",
        f"{_action(t)}/edit",
        {
            "kind": "letter",
            "occurred_on": _today().isoformat(),
            "summary": "Rewritten",
            "version": _version(t),
        },
    ),
    "outcome form": lambda t: ("GET", f"{_action(t)}/outcome", None),
    "record an outcome": lambda t: (
        "POST",
        f"{_action(t)}/outcome",
        {"letter_outcome": "returned", "outcome_on": _today().isoformat(), "version": _version(t)},
    ),
    "envelope page": lambda t: (
        "GET",
        f"/sponsor/letters/prisoners/{t.prisoner_id}/envelope",
        None,
    ),
    "letter form": lambda t: ("GET", f"/sponsor/letters/prisoners/{t.prisoner_id}/letter", None),
    "sender's address": lambda t: (
        "POST",
        f"/sponsor/letters/prisoners/{t.prisoner_id}/sender",
        {"postal_address": f"Office {t.sponsor_name}\nBerlin"},
    ),
    "delete an action": lambda t: ("POST", f"{_action(t)}/delete", {}),
    "remove a delegate": lambda t: ("POST", f"/sponsor/team/{t.delegate_id}/remove", {}),
}


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_the_sponsor_pages_refuse_another_teams_objects(
    world: World, web_app: Flask, who: str
) -> None:
    """Ids of the right kind, of team A, used by team B with a form that works on B's own
    objects: 404 and nothing changes (delegates may not remove anyone: 403). Each case is
    then tried on B's own object, to show that it was A's ids that were refused."""
    client = logged_in(
        web_app, world.b.sponsor_email if who == "sponsor" else world.b.delegate_email
    )
    token = csrf_token(client, "/sponsor/")
    failures: list[str] = []
    for case, request in SPONSOR_SIDE.items():  # the ones that delete B's things come last
        refused = 403 if (who, case) == ("delegate", "remove a delegate") else 404
        method, path, data = request(world.a)
        before = snapshot(ignore_refusals=True)
        response = send(
            client, method, path, None if data is None else {**data, "csrf_token": token}
        )
        if response.status_code != refused:
            failures.append(f"{case}: {method} {path} {answer(response)}, expected {refused}")
        if changes := changed(before, snapshot(ignore_refusals=True)):
            failures.append(f"{case}: {method} {path} changed {changes}")

        method, path, data = request(world.b)
        own = send(client, method, path, None if data is None else {**data, "csrf_token": token})
        expected = 403 if refused == 403 else 200 if method == "GET" else 302
        if own.status_code != expected:
            failures.append(f"{case}, B's own: {method} {path} {answer(own)}, expected {expected}")
        elif (
            method == "POST"
            and expected == 302
            and not changed(before, snapshot(ignore_refusals=True))
        ):
            failures.append(f"{case}, B's own: {method} {path} changed nothing")
    assert not failures, "\n".join(failures)


# A coordinator who has not set up two factors reaches the setup and nothing else.
SETUP_ONLY = {"account.two_factor", "account.enable_two_factor", "auth.logout"}


def test_a_coordinator_without_a_second_factor_reaches_only_the_setup(
    world: World, web_app: Flask
) -> None:
    make_coordinator(email="no-factor@example.org", totp_secret=None)
    client = logged_in(web_app, "no-factor@example.org")
    token = csrf_token(client, "/account/two-factor")
    values = url_values(world, world.a)
    failures: list[str] = []
    walked = 0
    for rule, method in routes(web_app):
        if rule.endpoint in PUBLIC or rule.endpoint == "auth.logout":
            continue
        try:
            path = path_for(web_app, rule, method, values)
        except Unfillable as error:
            failures.append(str(error))
            continue
        walked += 1
        response = send(client, method, path, None if method == "GET" else {"csrf_token": token})
        location = response.headers.get("Location", "")
        sent_to_setup = response.status_code == 302 and location == "/account/two-factor"
        if sent_to_setup == (rule.endpoint in SETUP_ONLY):
            failures.append(f"{method} {path} ({rule.endpoint}) {answer(response)}")
    assert not failures, "\n".join(failures)
    assert walked > 90, walked


def _remove_from_team(web_app: Flask, sponsor_email: str, delegate_id: int) -> None:
    sponsor = logged_in(web_app, sponsor_email)
    token = csrf_token(sponsor, "/sponsor/team")
    response = sponsor.post(f"/sponsor/team/{delegate_id}/remove", data={"csrf_token": token})
    assert response.status_code == 302


def test_a_delegate_removed_by_the_sponsor_is_logged_out_and_cannot_log_in_again(
    world: World, web_app: Flask
) -> None:
    delegate = logged_in(web_app, world.a.delegate_email)
    assert delegate.get(_prisoner(world.a)).status_code == 200

    _remove_from_team(web_app, world.a.sponsor_email, world.a.delegate_id)

    for path in (_prisoner(world.a), f"{_action(world.a)}/edit", "/sponsor/", "/account/"):
        response = delegate.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/auth/login?next="), path
    again = Auth(delegate).login(world.a.delegate_email)
    assert again.status_code == 200 and "Email or password is incorrect." in again.text
    assert delegate.get("/sponsor/").status_code == 302
    assert fresh(User, world.a.delegate_id).is_active is False


def test_a_delegate_removed_by_one_of_two_sponsors_keeps_only_the_others_godchildren(
    world: World, web_app: Flask
) -> None:
    db.session.add(Delegation(sponsor_id=world.b.sponsor_id, user_id=world.a.delegate_id))
    db.session.commit()
    delegate = logged_in(web_app, world.a.delegate_email)
    assert delegate.get(_prisoner(world.a)).status_code == 200
    assert delegate.get(_prisoner(world.b)).status_code == 200

    _remove_from_team(web_app, world.a.sponsor_email, world.a.delegate_id)

    token = csrf_token(delegate, "/sponsor/")
    before = snapshot(ignore_refusals=True)
    for method, path, data in (
        SPONSOR_SIDE[case](world.a) for case in SPONSOR_SIDE if case != "remove a delegate"
    ):
        form = None if data is None else {**data, "csrf_token": token}
        response = delegate.open(path, method=method, data=form)
        assert response.status_code == 404, (method, path, response.status_code)
    assert changed(before, snapshot(ignore_refusals=True)) == []
    assert delegate.get(_prisoner(world.b)).status_code == 200
    assert _linked_prisoners(delegate.get("/sponsor/").text) == {world.b.prisoner_id}


def _linked_prisoners(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'href="/sponsor/prisoners/(\d+)"', page)}


def test_a_deactivated_sponsor_is_logged_out_and_cannot_log_in_again(
    world: World, web_app: Flask
) -> None:
    sponsor = logged_in(web_app, world.a.sponsor_email)
    feed = f"/calendar/{world.calendar_token}.ics"
    assert sponsor.get(feed).status_code == 200
    coordinator = logged_in(web_app, world.coordinator_email)
    token = csrf_token(coordinator, f"/coordinator/sponsors/{world.a.sponsor_id}")
    response = coordinator.post(
        f"/coordinator/sponsors/{world.a.sponsor_id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 302

    assert sponsor.get("/sponsor/").headers["Location"] == "/auth/login?next=/sponsor/"
    again = Auth(sponsor).login(world.a.sponsor_email)
    assert again.status_code == 200 and "Email or password is incorrect." in again.text
    assert sponsor.get(_prisoner(world.a)).status_code == 302
    assert sponsor.get(feed).status_code == 404  # the calendar link stops too
    assert fresh(User, world.a.sponsor_user_id).is_active is False


def test_a_deactivated_sponsors_office_loses_access_too(world: World, web_app: Flask) -> None:
    delegate = logged_in(web_app, world.a.delegate_email)
    assert delegate.get(_prisoner(world.a)).status_code == 200
    coordinator = logged_in(web_app, world.coordinator_email)
    token = csrf_token(coordinator, f"/coordinator/sponsors/{world.a.sponsor_id}")
    coordinator.post(
        f"/coordinator/sponsors/{world.a.sponsor_id}/deactivate", data={"csrf_token": token}
    )

    assert delegate.get(_prisoner(world.a)).status_code == 404
    token = csrf_token(delegate, "/sponsor/")
    before = snapshot(ignore_refusals=True)
    logged = delegate.post(
        f"{_prisoner(world.a)}/actions/new",
        data={"csrf_token": token, "kind": "letter", "occurred_on": "2026-11-01", "summary": "x"},
    )
    assert logged.status_code == 404
    assert changed(before, snapshot(ignore_refusals=True)) == []
    assert _linked_prisoners(delegate.get("/sponsor/").text) == set()


def test_removed_office_staff_can_be_invited_back(world: World, web_app: Flask) -> None:
    _remove_from_team(web_app, world.a.sponsor_email, world.a.delegate_id)
    sponsor = logged_in(web_app, world.a.sponsor_email)
    token = csrf_token(sponsor, "/sponsor/team")
    response = sponsor.post(
        "/sponsor/team", data={"csrf_token": token, "email": world.a.delegate_email}
    )
    assert response.status_code == 302, response.text
    user = fresh(User, world.a.delegate_id)
    assert user.is_active and user.password_hash is None  # a new password, through the link
    assert [d.sponsor_id for d in user.delegations] == [world.a.sponsor_id]
    again = Auth(web_app.test_client()).login(world.a.delegate_email)
    assert again.status_code == 200  # the old password no longer opens it


# 4. Posted privileges are ignored -------------------------------------------------------------


def privileged_fields(world: World) -> dict[str, str]:
    """What someone might add to a form of their own to become more than they are."""
    return {
        "role": "coordinator",
        "is_coordinator": "y",
        "is_active": "false",
        "user_id": str(world.b.sponsor_user_id),
        "sponsor_id": str(world.b.sponsor_id),
        "totp_secret": pyotp.random_base32(),
        "session_generation": "99",
    }


def account_state(user_id: int) -> dict[str, Any]:
    """What decides who a user is and what they may do."""
    user = fresh(User, user_id)
    return {
        "role": user.role,
        "is_active": user.is_active,
        "totp_secret": user.totp_secret,
        "sponsor_of": db.session.scalar(select(Sponsor.id).where(Sponsor.user_id == user_id)),
        "delegate_of": sorted(
            db.session.scalars(select(Delegation.sponsor_id).where(Delegation.user_id == user_id))
        ),
    }


OWN_FORMS: dict[str, tuple[str, Callable[[], dict[str, str]], Callable[[User], bool]]] = {
    # path, the form, and how to see that it did its ordinary job
    "profile": (
        "/account/",
        lambda: {"locale": "de", "timezone": "Europe/Vienna", "birthday_card_days": "21"},
        lambda user: user.locale == "de" and user.timezone == "Europe/Vienna",
    ),
    "email": (
        "/account/email",
        lambda: {"email": "renamed@example.org", "current_password": PASSWORD},
        lambda user: user.email == "renamed@example.org",
    ),
    "password": (
        "/account/password",
        lambda: {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        lambda user: verify_password(user.password_hash, NEW_PASSWORD),
    ),
}


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_a_users_own_forms_ignore_posted_privileges(world: World, web_app: Flask, who: str) -> None:
    """Settings, login email and password, each posted with role=coordinator and the like
    added: the form does its job, and who the user is stays as it was."""
    user_id = world.a.sponsor_user_id if who == "sponsor" else world.a.delegate_id
    client = logged_in(
        web_app, world.a.sponsor_email if who == "sponsor" else world.a.delegate_email
    )
    state = account_state(user_id)
    other = account_state(world.b.sponsor_user_id)
    failures: list[str] = []
    for form, (path, data, done) in OWN_FORMS.items():
        generation = fresh(User, user_id).session_generation
        response = client.post(
            path,
            data={
                **data(),
                **privileged_fields(world),
                "csrf_token": csrf_token(client, "/account/"),
            },
        )
        user = fresh(User, user_id)
        if response.status_code != 302 or response.headers["Location"] != "/account/":
            failures.append(f"{form}: {response.status_code} {response.headers.get('Location')}")
        if not done(user):
            failures.append(f"{form}: the form did not do its job")
        if (now := account_state(user_id)) != state:
            failures.append(f"{form}: {state} became {now}")
        if account_state(world.b.sponsor_user_id) != other:
            failures.append(f"{form}: another user changed")
        # A change of login data ends every session once (this device gets a new one).
        if user.session_generation not in (generation, generation + 1):
            failures.append(f"{form}: session generation {user.session_generation}")
        for path, status in (
            ("/coordinator/", 403),
            ("/coordinator/sponsors/", 403),
            ("/sponsor/", 200),
        ):
            if (answer := client.get(path).status_code) != status:
                failures.append(f"{form}: then GET {path} answered {answer}, not {status}")
    assert not failures, "\n".join(failures)


def test_the_sponsors_team_invitation_makes_only_a_delegate_of_that_sponsor(
    world: World, web_app: Flask
) -> None:
    client = logged_in(web_app, world.a.sponsor_email)
    token = csrf_token(client, "/sponsor/team")
    coordinators = _coordinator_count()

    response = client.post(
        "/sponsor/team",
        data={"email": "new-staff@example.org", **privileged_fields(world), "csrf_token": token},
    )

    assert response.status_code == 302
    invited = _user("new-staff@example.org")
    assert invited is not None
    assert account_state(invited.id) == {
        "role": Role.DELEGATE,
        "is_active": True,
        "totp_secret": None,
        "sponsor_of": None,
        "delegate_of": [world.a.sponsor_id],
    }
    assert invited.password_hash is None
    assert _coordinator_count() == coordinators


def test_the_coordinators_invitation_refuses_to_make_a_coordinator(
    world: World, web_app: Flask
) -> None:
    client = logged_in(web_app, world.coordinator_email)
    token = csrf_token(client, "/auth/invite")
    coordinators = _coordinator_count()
    before = snapshot(ignore_refusals=True)

    refused = client.post(
        "/auth/invite",
        data={
            "email": "boss@example.org",
            "role": "coordinator",
            "sponsor_id": str(world.newcomer_id),
            "csrf_token": token,
        },
    )

    assert refused.status_code == 200
    assert "Not a valid choice" in refused.text
    assert _user("boss@example.org") is None
    assert changed(before, snapshot(ignore_refusals=True)) == []

    # The choices it offers work, and the extra fields are ignored.
    invited = client.post(
        "/auth/invite",
        data={
            **privileged_fields(world),
            "email": "godparent@example.org",
            "role": "sponsor",
            "sponsor_id": str(world.newcomer_id),
            "csrf_token": token,
        },
    )
    assert invited.status_code == 302
    user = _user("godparent@example.org")
    assert user is not None
    assert account_state(user.id) == {
        "role": Role.SPONSOR,
        "is_active": True,
        "totp_secret": None,
        "sponsor_of": world.newcomer_id,
        "delegate_of": [],
    }

    # Office staff invited from the register are office staff, whatever is posted.
    staff = client.post(
        f"/coordinator/sponsors/{world.a.sponsor_id}/delegates",
        data={"email": "staff-of-a@example.org", **privileged_fields(world), "csrf_token": token},
    )
    assert staff.status_code == 302
    user = _user("staff-of-a@example.org")
    assert user is not None
    assert account_state(user.id)["role"] is Role.DELEGATE
    assert account_state(user.id)["delegate_of"] == [world.a.sponsor_id]
    assert _coordinator_count() == coordinators


@pytest.mark.parametrize("endpoint", ["auth.accept_invitation", "auth.reset_password"])
def test_setting_a_password_from_a_link_ignores_posted_privileges(
    world: World, web_app: Flask, endpoint: str
) -> None:
    user_id = world.invited_id if endpoint == "auth.accept_invitation" else world.a.sponsor_user_id
    token = genuine_tokens(web_app, world)[endpoint]
    path = "/auth/invitation/" if endpoint == "auth.accept_invitation" else "/auth/reset/"
    client = web_app.test_client()
    state = account_state(user_id)

    response = client.post(
        path + token,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            **privileged_fields(world),
            "csrf_token": csrf_token(client, path + token),
        },
    )

    assert response.status_code == 302
    assert account_state(user_id) == state
    assert fresh(User, user_id).password_hash is not None
    email = fresh(User, user_id).email
    if endpoint == "auth.reset_password":  # a reset does not log in: do it now
        Auth(client).login(email, password=NEW_PASSWORD)
    assert client.get("/coordinator/").status_code == 403
    assert client.get("/sponsor/").status_code == 200


@pytest.mark.parametrize("case", ["log an action", "edit an action"])
def test_an_action_form_ignores_posted_ids_and_owners(
    world: World, web_app: Flask, case: str
) -> None:
    """Team A's sponsor logs or edits with B's pairing, sponsor and user ids added: the
    entry stays on A's pairing, logged by whoever logged it."""
    client = logged_in(web_app, world.a.sponsor_email)
    method, path, data = SPONSOR_SIDE[case](world.a)
    assert data is not None
    existing = set(db.session.scalars(select(Action.id)))

    response = client.open(
        path,
        method=method,
        data={
            **data,
            **privileged_fields(world),
            "sponsorship_id": str(world.b.pairing_id),
            "logged_by_id": str(world.b.sponsor_user_id),
            "is_public": "y",
            "csrf_token": csrf_token(client, "/sponsor/"),
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    new = set(db.session.scalars(select(Action.id))) - existing
    assert len(new) == (1 if case == "log an action" else 0)
    action = db.session.get(Action, new.pop() if new else world.a.action_id)
    assert action.sponsorship_id == world.a.pairing_id
    expected_logger = world.a.sponsor_user_id if case == "log an action" else world.a.delegate_id
    assert action.logged_by_id == expected_logger
    assert action.is_public is False
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Action)
            .where(Action.sponsorship_id == world.b.pairing_id)
        )
        == 1
    )


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _coordinator_count() -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.COORDINATOR)
    )
