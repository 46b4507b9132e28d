"""Lost updates refused (a stale form shows what changed and lets the coordinator choose),
the same POST twice applied once, and a failure after a commit never hides the change."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from godparents.actions.models import Action
from godparents.extensions import db
from godparents.idempotency import FormSubmission
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.sponsors.models import Sponsor
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import CSRF_PATTERN, log_in

VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="([^"]*)"')
TOKEN = re.compile(r'<input[^>]*name="form_token"[^>]*value="([^"]*)"')


def _hidden(page: str) -> dict[str, str]:
    """The hidden fields a browser sends back with the form on ``page``."""
    found = {"csrf_token": CSRF_PATTERN.search(page).group(1)}
    for name, pattern in (("version", VERSION), ("form_token", TOKEN)):
        match = pattern.search(page)
        if match:
            found[name] = match.group(1)
    return found


def _open(client: FlaskClient, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return _hidden(response.get_data(as_text=True))


def _client(web_app: Flask, email: str) -> FlaskClient:
    client = web_app.test_client()
    log_in(client, email)
    return client


def _prisoner_fields(prisoner: Prisoner, **changes: str) -> dict[str, str]:
    values = {
        "name_latin": prisoner.name_latin,
        "status": prisoner.status.value,
        "gender": "",
        "detained_on": prisoner.detained_on.isoformat() if prisoner.detained_on else "",
        "sentence": prisoner.sentence or "",
        "can_receive_letters": "y",
    }
    return {**values, **changes}


@pytest.fixture
def coordinators(web_app: Flask) -> tuple[FlaskClient, FlaskClient]:
    anna = make_coordinator(email="anna@example.org")
    boris = make_coordinator(email="boris@example.org")
    return _client(web_app, anna.email), _client(web_app, boris.email)


def test_a_stale_prisoner_form_is_refused_shows_what_changed_and_lets_one_choose(
    app: Flask, coordinators: tuple[FlaskClient, FlaskClient]
) -> None:
    anna, boris = coordinators
    prisoner = make_prisoner(sentence="5 years")
    path = f"/coordinator/prisoners/{prisoner.id}/edit"
    annas_form, boris_form = _open(anna, path), _open(boris, path)
    assert annas_form["version"] == boris_form["version"] == "1"
    annas_values = _prisoner_fields(prisoner, sentence="6 years")

    # Boris records the release; Anna, from the form she opened before, corrects the sentence.
    saved = boris.post(
        path,
        data={
            **boris_form,
            **_prisoner_fields(prisoner, status="released", released_on="2026-11-30"),
        },
    )
    assert saved.status_code == 302
    stale = anna.post(path, data={**annas_form, **annas_values})

    assert stale.status_code == 200
    page = html.unescape(stale.get_data(as_text=True))
    assert "Someone else saved this while you were editing it" in page
    assert "boris@example.org" in page
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert ("Status", "Released", "Sentenced") in rows, rows
    assert any(row[0] == "Released on" for row in rows), rows
    assert not any(row[0] == "Sentence" for row in rows), "Boris did not touch the sentence"
    assert f'href="{path}"' in stale.get_data(as_text=True)  # take theirs: reload the form
    db.session.expire_all()
    stored = db.session.get(Prisoner, prisoner.id)
    assert stored.status is PrisonerStatus.RELEASED and stored.sentence == "5 years"

    # Anna keeps hers: the form she got back carries the current version.
    again = _hidden(stale.get_data(as_text=True))
    assert again["version"] == "2"
    kept = anna.post(path, data={**again, **annas_values, "keep": "mine"})
    assert kept.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Prisoner, prisoner.id)
    assert stored.sentence == "6 years" and stored.status is PrisonerStatus.SENTENCED
    assert stored.version == 3


def test_a_form_without_its_version_is_not_applied(
    app: Flask, coordinators: tuple[FlaskClient, FlaskClient]
) -> None:
    anna, _boris = coordinators
    prisoner = make_prisoner(sentence="5 years")
    path = f"/coordinator/prisoners/{prisoner.id}/edit"
    fields = _open(anna, path)
    del fields["version"]
    response = anna.post(path, data={**fields, **_prisoner_fields(prisoner, sentence="9 years")})
    assert response.status_code == 200
    assert "Someone else saved this" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Prisoner, prisoner.id).sentence == "5 years"


def test_a_stale_godparent_form_is_refused(
    app: Flask, coordinators: tuple[FlaskClient, FlaskClient]
) -> None:
    anna, boris = coordinators
    sponsor = make_sponsor(with_login=False, full_name="Anna Schmidt", party="SPD")
    path = f"/coordinator/sponsors/{sponsor.id}/edit"
    annas_form, boris_form = _open(anna, path), _open(boris, path)
    fields = {
        "full_name": "Anna Schmidt",
        "body": "Bundestag",
        "country": "DE",
        "language": "en",
        "party": "SPD",
        "is_active": "y",
    }
    assert boris.post(path, data={**boris_form, **fields, "party": "Grüne"}).status_code == 302
    stale = anna.post(path, data={**annas_form, **fields, "title": "Dr."})
    assert stale.status_code == 200
    page = html.unescape(stale.get_data(as_text=True))
    assert "boris@example.org" in page and "Grüne" in page
    db.session.expire_all()
    stored = db.session.get(Sponsor, sponsor.id)
    assert stored.party == "Grüne" and stored.title is None


def test_a_stale_action_form_is_refused_for_the_godparents_office_too(
    app: Flask, web_app: Flask
) -> None:
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    pairing = make_sponsorship(sponsor, make_prisoner())
    action = Action(
        sponsorship=pairing,
        kind="letter",
        occurred_on=date(2026, 11, 2),
        summary="A letter",
        logged_by_id=delegate.id,
    )
    db.session.add(action)
    db.session.commit()
    godparent, office = _client(web_app, sponsor.email), _client(web_app, delegate.email)
    path = f"/sponsor/actions/{action.id}/edit"
    mine, theirs = _open(godparent, path), _open(office, path)
    fields = {"kind": "letter", "occurred_on": "2026-11-02"}
    assert (
        office.post(
            path, data={**theirs, **fields, "summary": "A letter in Belarusian"}
        ).status_code
        == 302
    )
    stale = godparent.post(path, data={**mine, **fields, "summary": "A letter in Russian"})
    assert stale.status_code == 200
    page = html.unescape(stale.get_data(as_text=True))
    assert "A letter in Belarusian" in page and "A letter in Russian" in page
    db.session.expire_all()
    assert db.session.get(Action, action.id).summary == "A letter in Belarusian"


def test_two_saves_in_the_same_instant_one_wins_the_other_is_told(
    app: Flask, web_app: Flask, coordinators: tuple[FlaskClient, FlaskClient]
) -> None:
    """Both forms are current when checked; another coordinator's commit lands between
    Anna's check and her UPDATE (a real commit on another connection): the database lets
    hers change nothing, and she gets a 409 page, not a 500 and not a lost update."""
    anna, _boris = coordinators
    prisoner = make_prisoner(sentence="5 years")
    path = f"/coordinator/prisoners/{prisoner.id}/edit"
    form = _open(anna, path)
    with web_app.app_context():
        engine = db.engine
    fired: list[bool] = []

    def meanwhile(session: Session, context: Any, instances: Any) -> None:
        if fired or not any(isinstance(o, Prisoner) for o in session.dirty):
            return
        fired.append(True)
        with engine.connect() as other:  # Boris's save, committed first
            other.execute(
                text(
                    "UPDATE prisoners SET sentence = 'Boris', version = version + 1 WHERE id = :id"
                ),
                {"id": prisoner.id},
            )
            other.commit()

    event.listen(Session, "before_flush", meanwhile)
    try:
        response = anna.post(path, data={**form, **_prisoner_fields(prisoner, sentence="Anna")})
    finally:
        event.remove(Session, "before_flush", meanwhile)
    assert fired
    assert response.status_code == 409
    assert "Someone else saved this at the same moment" in html.unescape(
        response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Prisoner, prisoner.id).sentence == "Boris"


# The same POST twice ---------------------------------------------------------------------


@pytest.fixture
def godparent(web_app: Flask) -> Iterator[tuple[FlaskClient, str, int]]:
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    yield (
        _client(web_app, sponsor.email),
        f"/sponsor/prisoners/{prisoner.id}/actions/new",
        prisoner.id,
    )


def _actions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Action))


def test_a_post_sent_twice_is_saved_once_and_answered_with_the_result(
    app: Flask, godparent: tuple[FlaskClient, str, int]
) -> None:
    client, path, prisoner_id = godparent
    form = {
        **_open(client, path),
        "kind": "card",
        "occurred_on": date.today().isoformat(),
        "summary": "Birthday card",
    }
    first = client.post(path, data=form)  # its answer never reaches the browser
    assert first.status_code == 302
    again = client.post(path, data=form)
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert f"/sponsor/prisoners/{prisoner_id}" in again.headers["Location"]
    assert _actions() == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This was already saved" in html.unescape(page)
    # A new form (a new token) is a new entry.
    fresh = {**form, **_open(client, path)}
    assert client.post(path, data=fresh).status_code == 302
    assert _actions() == 2


def test_a_form_token_works_only_for_the_user_who_was_given_it(
    app: Flask, web_app: Flask, godparent: tuple[FlaskClient, str, int]
) -> None:
    client, path, _prisoner_id = godparent
    form = {
        **_open(client, path),
        "kind": "card",
        "occurred_on": date.today().isoformat(),
        "summary": "Birthday card",
    }
    assert client.post(path, data=form).status_code == 302
    other = make_sponsor()
    make_sponsorship(other, db.session.get(Prisoner, _prisoner_id))
    stranger = _client(web_app, other.email)
    theirs = {**form, "csrf_token": _open(stranger, path)["csrf_token"]}
    response = stranger.post(path, data=theirs)
    assert response.status_code == 302  # logged as their own entry, nothing learnt
    assert "already saved" not in html.unescape(
        stranger.get(response.headers["Location"]).get_data(as_text=True)
    )
    assert _actions() == 2


@pytest.mark.settings(PROPAGATE_EXCEPTIONS=False)  # as in production: errors become pages
def test_a_failure_after_the_commit_shows_the_saved_change_not_an_error(
    app: Flask, godparent: tuple[FlaskClient, str, int]
) -> None:
    client, path, _prisoner_id = godparent
    form = {
        **_open(client, path),
        "kind": "card",
        "occurred_on": date.today().isoformat(),
        "summary": "Birthday card",
    }
    failures: list[bool] = []

    def fail_once(session: Session) -> None:
        if not failures:
            failures.append(True)
            raise ConnectionResetError("the connection dropped after COMMIT")

    event.listen(Session, "after_commit", fail_once)
    try:
        response = client.post(path, data=form)
    finally:
        event.remove(Session, "after_commit", fail_once)
    assert failures
    assert response.status_code == 303
    assert _actions() == 1
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Your change is saved" in page
    # And sending it again (the user could not be sure) adds nothing.
    assert client.post(path, data=form).status_code == 303
    assert _actions() == 1
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
