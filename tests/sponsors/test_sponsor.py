"""The godparent's pages: who may see what, logging actions, the office team, settings."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.caching import cache
from godparents.extensions import db, mail
from godparents.prisoners.models import KeyDate, KeyDateKind, PrisonerPhoto
from godparents.timeutil import campaign_today
from tests.factories import (
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import (
    Auth,
    LoginAs,
    count_rows,
    csrf_token,
    error_text,
    field_errors,
    summary_links,
)
from tests.world import PHOTO, TeamSpec, World, build_world, make_action


def _today() -> date:
    return campaign_today("Europe/Berlin")


@pytest.fixture
def world(app: Flask) -> World:
    """Two teams, each a sponsor with a delegate and a godchild; and a former godparent."""
    return build_world(
        TeamSpec(
            sponsor={"full_name": "Anna Schmidt"},
            delegate={"email": "office@example.org"},
            prisoner={
                "name_latin": "Alena Krautsova",
                "name_ru": "Елена Кравцова",
                "birth_date": date(1988, 2, 29),
                "birth_year": 1988,
            },
            pairing={"started_on": date(2024, 1, 10)},
            photo=PHOTO,
            action={"summary": "A letter in Russian"},
        ),
        TeamSpec(sponsor={"full_name": "Jan Kowalski"}, prisoner={"name_latin": "Somebody Else"}),
        former_sponsor={"full_name": "Former Godparent"},
        former_action={"occurred_on": date(2023, 5, 1), "summary": "An old letter"},
    )


def _routes(w: World) -> list[tuple[str, str]]:
    p, a = w.prisoner.id, w.action.id
    return [
        ("GET", f"/sponsor/prisoners/{p}"),
        ("GET", f"/sponsor/prisoners/{p}/photo"),
        ("GET", f"/sponsor/prisoners/{p}/actions/new"),
        ("POST", f"/sponsor/prisoners/{p}/actions/new"),
        ("GET", f"/sponsor/actions/{a}/edit"),
        ("POST", f"/sponsor/actions/{a}/edit"),
        ("POST", f"/sponsor/actions/{a}/delete"),
        ("GET", f"/sponsor/actions/{a}/outcome"),
        ("POST", f"/sponsor/actions/{a}/outcome"),
    ]


def _request(client: FlaskClient, method: str, path: str):
    if method == "GET":
        return client.get(path)
    token = csrf_token(client, "/auth/login")
    return client.post(path, data={"csrf_token": token})


# Access ---------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_everywhere(world: World, client: FlaskClient) -> None:
    routes = [
        *_routes(world),
        ("GET", "/sponsor/team"),
        ("POST", "/sponsor/team"),
        ("POST", f"/sponsor/team/{world.delegate.id}/remove"),
        ("GET", "/account/"),
        ("POST", "/account/"),
        ("POST", "/account/password"),
        ("POST", "/account/calendar"),
        ("POST", "/account/calendar/off"),
    ]
    for method, path in routes:
        response = _request(client, method, path)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login"), (method, path)


@pytest.mark.parametrize("who", ["other_sponsor", "other_delegate"])
def test_another_team_gets_404_on_the_prisoner_and_its_actions(
    world: World, login_as: LoginAs, client: FlaskClient, who: str
) -> None:
    user = getattr(world, who)
    login_as(user.email)
    before = (count_rows(Action), world.action.summary)
    for method, path in _routes(world):
        assert _request(client, method, path).status_code == 404, (method, path)
    db.session.refresh(world.action)
    assert (count_rows(Action), world.action.summary) == before


def test_coordinators_get_403_on_sponsor_pages(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.coordinator.email)
    for method, path in [*_routes(world), ("GET", "/sponsor/team")]:
        assert _request(client, method, path).status_code == 403, (method, path)


def test_former_godparent_sees_history_read_only(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.former_sponsor.email)
    page = client.get(f"/sponsor/prisoners/{world.prisoner.id}")
    assert page.status_code == 200
    assert "Former godchild: read only" in page.text
    assert "An old letter" in page.text
    assert "A letter in Russian" not in page.text  # the current godparent's entries
    assert "Log what you did" not in page.text and "Edit" not in page.text
    assert "ул. Володарского" not in page.text  # the current address is not theirs anymore
    old_action = db.session.scalar(select(Action.id).where(Action.summary == "An old letter"))
    assert client.get(f"/sponsor/prisoners/{world.prisoner.id}/actions/new").status_code == 404
    assert client.get(f"/sponsor/actions/{old_action}/edit").status_code == 403
    assert client.get(f"/sponsor/actions/{old_action}/outcome").status_code == 403
    assert _request(client, "POST", f"/sponsor/actions/{old_action}/delete").status_code == 403
    home = client.get("/sponsor/").text
    assert "Former godchildren (1)" in home


def test_the_photo_is_served_to_the_team_only(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.delegate.email)
    response = client.get(f"/sponsor/prisoners/{world.prisoner.id}/photo")
    assert response.status_code == 200
    assert response.data == b"\xff\xd8jpeg" and response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"]


# Logging actions ------------------------------------------------------------------------------


def _post_action(client: FlaskClient, prisoner_id: int, **data):
    path = f"/sponsor/prisoners/{prisoner_id}/actions/new"
    token = csrf_token(client, path)
    values = {
        "kind": "letter",
        "occurred_on": _today().isoformat(),
        "summary": "Birthday card, posted from Berlin",
        "link": "",
        **data,
    }
    return client.post(path, data={"csrf_token": token, **values})


def test_the_form_opens_with_the_kind_an_email_suggests(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.delegate.email)
    path = f"/sponsor/prisoners/{world.prisoner.id}/actions/new"

    def chosen(query: str) -> list[str]:
        inputs = re.findall(r"<input[^>]*>", client.get(path + query).text)
        return [
            re.search(r'value="([^"]*)"', tag).group(1)
            for tag in inputs
            if " checked" in tag and 'name="kind"' in tag
        ]

    assert chosen("?kind=card") == ["card"]
    assert chosen("?kind=statement") == ["statement"]
    for nonsense in ("?kind=<script>", "?kind=CARD", "?kind=", ""):
        assert chosen(nonsense) == ["letter"]


def test_log_a_letter_then_its_outcome(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.sponsor.email)
    form = client.get(f"/sponsor/prisoners/{world.prisoner.id}/actions/new").text
    assert f'value="{_today().isoformat()}"' in form  # the date defaults to today
    response = _post_action(client, world.prisoner.id, summary="Letter about books")
    assert response.status_code == 302
    action = db.session.scalar(select(Action).where(Action.summary == "Letter about books"))
    assert action.letter_outcome is LetterOutcome.SENT
    assert action.logged_by_id == world.sponsor.user_id

    path = f"/sponsor/actions/{action.id}/outcome"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "letter_outcome": "delivered",
            "outcome_on": _today().isoformat(),
        },
    )
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.letter_outcome is LetterOutcome.DELIVERED and action.outcome_on == _today()
    page = client.get(f"/sponsor/prisoners/{world.prisoner.id}").text
    assert "Letter about books" in page and "Delivered" in page


def test_delegate_logs_on_behalf_and_the_entry_says_who(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.delegate.email)
    assert (
        _post_action(
            client, world.prisoner.id, kind="card", summary="Card from the office"
        ).status_code
        == 302
    )
    action = db.session.scalar(select(Action).where(Action.summary == "Card from the office"))
    assert action.sponsorship_id == world.pairing.id
    assert action.logged_by_id == world.delegate.id
    page = client.get(f"/sponsor/prisoners/{world.prisoner.id}").text
    assert "Logged by office@example.org" in page


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("occurred_on", {"occurred_on": "2999-01-01"}, "This date is in the future."),
        ("occurred_on", {"occurred_on": "2023-12-31"}, "The godparenthood began on 10 Jan 2024"),
        ("occurred_on", {"occurred_on": "31.12.2025"}, "Enter a date such as"),
        ("link", {"link": "javascript:alert(1)"}, "Enter a web address starting with https://"),
        ("link", {"link": "ftp://example.org/x"}, "Enter a web address starting with https://"),
        ("summary", {"summary": "x" * 2001}, "Field cannot be longer than 2000 characters."),
        # Letters, cards and parcels may go without words (tests/actions/test_post_by.py);
        # others not.
        ("summary", {"summary": "   ", "kind": "speech"}, "Please say in a few words"),
        ("kind", {"kind": "bribe"}, "Not a valid choice."),
    ],
)
def test_bad_input_rerenders_with_the_message_and_writes_nothing(
    world: World, login_as: LoginAs, client: FlaskClient, field: str, data: dict, message: str
) -> None:
    login_as(world.sponsor.email)
    before = count_rows(Action)
    response = _post_action(client, world.prisoner.id, **data)
    assert response.status_code == 200
    assert message in error_text(response)
    assert f'id="{field}-error"' in response.text or field == "kind"
    assert count_rows(Action) == before
    if field == "summary" and len(data["summary"]) > 100:
        assert "x" * 2001 in response.text  # nothing typed is lost


@pytest.mark.parametrize("edit", [False, True])
def test_three_mistakes_show_three_errors_and_three_summary_links_at_once(
    world: World, login_as: LoginAs, client: FlaskClient, edit: bool
) -> None:
    """The form's own check (a date it cannot read) and the entry's rules (no summary, a
    link that is not one) in one answer, each at its field and linked from the top."""
    login_as(world.sponsor.email)
    data = {"kind": "speech", "occurred_on": "31.12.2025", "summary": " ", "link": "ftp://x"}
    if edit:
        action = make_action(world.pairing, world.sponsor.user)
        path = f"/sponsor/actions/{action.id}/edit"
        token = csrf_token(client, path)
        version = re.search(r'name="version"[^>]*value="(\d+)"', client.get(path).text)
        extra = {"version": version.group(1)} if version else {}
        response = client.post(path, data={"csrf_token": token, **data, **extra})
    else:
        response = _post_action(client, world.prisoner.id, **data)
    assert response.status_code == 200
    errors = dict(
        re.findall(r'id="([\w-]+)-error" class="invalid-feedback[^"]*">([^<]*)<', response.text)
    )
    assert set(errors) == {"occurred_on", "summary", "link"}, errors
    summary = response.text.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in response.text.split("data-error-summary", 1)[0][-300:]
    assert "There are 3 problems" in summary
    assert sorted(re.findall(r'<a href="#([\w-]+)"', summary)) == ["link", "occurred_on", "summary"]


def test_outcome_cannot_predate_the_letter_or_lie_ahead(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.sponsor.email)
    path = f"/sponsor/actions/{world.action.id}/outcome"
    token = csrf_token(client, path)
    for outcome_on, message in [
        ("2000-01-01", "This is before the letter was sent"),
        ("2999-01-01", "This date is in the future."),
    ]:
        response = client.post(
            path,
            data={"csrf_token": token, "letter_outcome": "delivered", "outcome_on": outcome_on},
        )
        assert response.status_code == 200 and message in error_text(response)
    db.session.refresh(world.action)
    assert world.action.letter_outcome is LetterOutcome.SENT


def test_every_mistake_of_an_outcome_is_shown_at_once(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    """The form refuses the outcome it does not know; the date's rules are judged too."""
    login_as(world.sponsor.email)
    path = f"/sponsor/actions/{world.action.id}/outcome"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={"csrf_token": token, "letter_outcome": "lost-at-sea", "outcome_on": "2999-01-01"},
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"letter_outcome", "outcome_on"}
    assert errors["outcome_on"] == "This date is in the future."
    assert summary_links(response) == ["letter_outcome", "outcome_on"]
    db.session.refresh(world.action)
    assert world.action.letter_outcome is LetterOutcome.SENT and world.action.outcome_on is None


def test_edit_and_delete_own_entries(world: World, login_as: LoginAs, client: FlaskClient) -> None:
    login_as(world.sponsor.email)
    path = f"/sponsor/actions/{world.action.id}/edit"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "speech",
            "occurred_on": _today().isoformat(),
            "summary": "Spoke in the plenary",
            "link": "https://example.org/speech",
        },
    )
    assert response.status_code == 302
    db.session.refresh(world.action)
    assert world.action.kind is ActionKind.SPEECH and world.action.letter_outcome is None
    response = client.post(f"/sponsor/actions/{world.action.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).where(Action.id == world.action.id)) == 0


def test_a_delegate_may_not_change_the_sponsors_entries_but_may_record_outcomes(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.delegate.email)
    assert client.get(f"/sponsor/actions/{world.action.id}/edit").status_code == 403
    assert _request(client, "POST", f"/sponsor/actions/{world.action.id}/delete").status_code == 403
    assert client.get(f"/sponsor/actions/{world.action.id}/outcome").status_code == 200


# Office team ----------------------------------------------------------------------------------


def test_sponsor_invites_and_removes_a_delegate(
    world: World, web_app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.sponsor.email)
    token = csrf_token(client, "/sponsor/team")
    with mail.record_messages() as outbox:
        response = client.post(
            "/sponsor/team", data={"csrf_token": token, "email": "assistant@example.org"}
        )
    assert response.status_code == 302
    assert outbox[0].recipients == ["assistant@example.org"]

    delegate_browser = web_app.test_client()
    Auth(delegate_browser).login(world.delegate.email)
    assert delegate_browser.get("/sponsor/").status_code == 200
    assert delegate_browser.get("/sponsor/team").status_code == 403  # delegates manage nobody

    response = client.post(f"/sponsor/team/{world.delegate.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert delegate_browser.get("/sponsor/").status_code == 302  # their session is over
    db.session.refresh(world.delegate)
    assert not world.delegate.is_active


def test_a_sponsor_cannot_remove_another_sponsors_delegate(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(world.sponsor.email)
    response = _request(client, "POST", f"/sponsor/team/{world.other_delegate.id}/remove")
    assert response.status_code == 404
    db.session.refresh(world.other_delegate)
    assert world.other_delegate.is_active


# The home page --------------------------------------------------------------------------------


def test_home_shows_the_dates_coming_up(
    world: World, login_as: LoginAs, client: FlaskClient
) -> None:
    today = _today()
    db.session.add(
        KeyDate(
            prisoner=world.prisoner,
            kind=KeyDateKind.APPEAL,
            occurs_on=today + timedelta(days=12),
            note="Regional court",
        )
    )
    db.session.commit()
    login_as(world.sponsor.email)
    page = client.get("/sponsor/").text
    assert "Appeal hearing · Regional court" in page
    assert "in 12 days" in page
    assert "A letter in Russian" in page  # the last actions


def test_home_runs_a_fixed_number_of_queries(
    world: World, login_as: LoginAs, client: FlaskClient, count_queries
) -> None:
    login_as(world.sponsor.email)
    with count_queries() as few:
        assert client.get("/sponsor/").status_code == 200
    for number in range(15):
        prisoner = make_prisoner(birth_date=date(1980, 1, 1 + number))
        pairing = make_sponsorship(world.sponsor, prisoner)
        db.session.add(
            KeyDate(
                prisoner=prisoner,
                kind=KeyDateKind.HEARING,
                occurs_on=_today() + timedelta(days=number),
            )
        )
        db.session.add(PrisonerPhoto(prisoner=prisoner, content=b"x", mimetype="image/jpeg"))
        for _ in range(5):
            make_action(pairing, world.delegate)
    with count_queries() as many:
        page = client.get("/sponsor/")
    assert page.text.count('<article class="card') == 16
    assert many.count == few.count


@pytest.mark.settings(PAGE_CACHE_SECONDS=600)
def test_cached_home_escapes_what_people_typed(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    """The home's content is cached as rendered HTML and put into the page as Markup: it
    must have been escaped when it was rendered, on the first view and on the cached one."""
    cache.clear()
    sponsor = make_sponsor()
    prisoner = make_prisoner(
        name_latin="<script>alert('name')</script>",
        name_ru="<b>Имя</b>",
        address="<img src=x onerror=alert(1)>",
    )
    pairing = make_sponsorship(sponsor, prisoner)
    make_action(pairing, sponsor.user, summary="<iframe src=//evil.example>")
    login_as(sponsor.email)

    for _view in ("rendered", "cached"):
        page = client.get("/sponsor/").text
        assert "<script>alert" not in page and "<iframe src" not in page
        assert "<img src=x" not in page and "<b>Имя</b>" not in page
        assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.settings(PAGE_CACHE_SECONDS=600)
def test_cached_home_follows_every_change_and_is_per_user(
    login_as: LoginAs, world: World, auth: Auth, client: FlaskClient
) -> None:
    cache.clear()
    login_as(world.sponsor.email)
    assert "A letter in Russian" in client.get("/sponsor/").text
    assert (
        _post_action(
            client, world.prisoner.id, summary="Card for the new year", kind="card"
        ).status_code
        == 302
    )
    assert "Card for the new year" in client.get("/sponsor/").text  # not the cached page
    auth.logout()
    login_as(world.other_sponsor.email)
    page = client.get("/sponsor/").text
    assert "Somebody Else" in page and "Alena Krautsova" not in page
