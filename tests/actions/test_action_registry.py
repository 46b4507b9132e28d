"""Every action across the campaign, for coordinators."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.auth.models import User
from godparents.extensions import db
from godparents.sponsors.models import Sponsor
from godparents.sponsors.personal_data import erase
from godparents.types import utcnow
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs

INDEX = "/coordinator/actions/"


def make_action(pairing, by: User | None, **fields) -> Action:
    values = {
        "kind": ActionKind.LETTER,
        "occurred_on": date(2025, 1, 1),
        "summary": "A letter in Russian",
        **fields,
    }
    action = Action(sponsorship=pairing, logged_by=by, **values)
    db.session.add(action)
    db.session.commit()
    return action


def _summaries(page: str) -> list[str]:
    """The summaries in the order the list shows them."""
    return re.findall(r'<td title="[^"]*">([^<]*)</td>', page)


@pytest.fixture
def coordinator(app: Flask, login_as: LoginAs) -> User:
    user = make_coordinator()
    login_as(user.email)
    return user


@pytest.fixture
def campaign(app: Flask) -> Sponsor:
    """Two godparents, one with office staff, four actions; returns Anna."""
    anna = make_sponsor(full_name="Anna Schmidt", body="Bundestag")
    jan = make_sponsor(full_name="Jan Kowalski", body="European Parliament")
    office = make_delegate(anna, email="office@bundestag.example")
    alena = make_sponsorship(anna, make_prisoner(name_latin="Alena Krautsova"))
    ihar = make_sponsorship(jan, make_prisoner(name_latin="Ihar Losik"))
    make_action(
        alena,
        anna.user,
        kind=ActionKind.CARD,
        occurred_on=date(2025, 5, 21),
        summary="Birthday card posted from Berlin",
        letter_outcome=LetterOutcome.DELIVERED,
    )
    make_action(
        alena,
        office,
        kind=ActionKind.LETTER,
        occurred_on=date(2025, 3, 25),
        summary="Letter about books",
        letter_outcome=LetterOutcome.RETURNED,
    )
    make_action(
        ihar,
        jan.user,
        kind=ActionKind.SPEECH,
        occurred_on=date(2025, 4, 2),
        summary="Speech in the PLENARY " + "long " * 40,
    )
    make_action(
        ihar,
        None,
        kind=ActionKind.PARLIAMENTARY_QUESTION,
        occurred_on=date(2024, 12, 10),
        summary="Question on Human Rights Day",
    )
    return anna


def test_anonymous_users_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_sponsors_and_delegates_get_403(
    app: Flask, login_as: LoginAs, client: FlaskClient, who: str
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email if who == "sponsor" else make_delegate(sponsor).email)
    assert client.get(INDEX).status_code == 403


def test_every_action_newest_first(
    campaign: Sponsor, coordinator: User, client: FlaskClient
) -> None:
    page = client.get(INDEX).text
    summaries = _summaries(page)
    assert summaries[0] == "Birthday card posted from Berlin"
    assert summaries[1].startswith("Speech in the PLENARY") and summaries[1].endswith("...")
    assert len(summaries[1]) <= 80  # truncated
    assert summaries[2:] == ["Letter about books", "Question on Human Rights Day"]
    first_row = re.search(r"<tbody>.*?</tr>", page, re.S).group(0)
    for cell in (
        'datetime="2025-05-21"',
        "Card",
        "Delivered",
        "Anna Schmidt",
        "Alena Krautsova",
        campaign.user.email,
    ):
        assert cell in first_row, cell
    assert re.search(r'href="/coordinator/sponsors/\d+">Anna Schmidt', first_row)
    assert "office@bundestag.example" in page  # logged by the office
    assert "4 entries" in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kind": "letter"}, ["Letter about books"]),
        ({"outcome": "returned"}, ["Letter about books"]),
        ({"from": "2025-03-25", "to": "2025-04-30"}, ["Speech", "Letter about books"]),
        ({"body": "European Parliament"}, ["Speech", "Question on Human Rights Day"]),
        ({"q": "plenary"}, ["Speech"]),
        ({"q": "BIRTHDAY"}, ["Birthday card posted from Berlin"]),
        ({"q": "nothing like it"}, []),
        (
            {"kind": "bribe", "outcome": "?", "from": "31.12.2024", "page": "-3"},
            [
                "Birthday card posted from Berlin",
                "Speech",
                "Letter about books",
                "Question on Human Rights Day",
            ],
        ),
    ],
)
def test_filters(
    campaign, coordinator: User, client: FlaskClient, args: dict, expected: list[str]
) -> None:
    response = client.get(INDEX, query_string=args)
    assert response.status_code == 200
    shown = [
        s.split(" in the ")[0] if s.startswith("Speech") else s for s in _summaries(response.text)
    ]
    assert shown == expected
    if not expected:
        assert "No action matches" in response.text


def test_an_erased_godparents_actions_stay_anonymous(
    campaign: Sponsor, coordinator: User, client: FlaskClient
) -> None:
    anna = campaign
    erase(anna, coordinator, date(2025, 6, 1), utcnow())
    db.session.commit()
    page = client.get(INDEX).text
    assert f"Erased godparent #{anna.id}" in page and "Anna Schmidt" not in page
    assert "office@bundestag.example" not in page  # the office's account went with her
    assert "4 entries" in page and "Birthday card posted from Berlin" in page


def test_pagination(app: Flask, coordinator: User, client: FlaskClient) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner())
    db.session.execute(
        insert(Action),
        [
            {
                "sponsorship_id": pairing.id,
                "kind": ActionKind.STATEMENT,
                "occurred_on": date(2025, 1, 1 + n % 28),
                "summary": f"Statement {n:02}",
            }
            for n in range(55)
        ],
    )
    db.session.commit()
    first = client.get(INDEX, query_string={"kind": "statement"}).text
    assert len(_summaries(first)) == 50 and "55 entries" in first
    second = client.get(INDEX, query_string={"kind": "statement", "page": 2}).text
    assert len(_summaries(second)) == 5
    assert set(_summaries(first)).isdisjoint(_summaries(second))


def test_one_page_costs_the_same_queries_for_10_or_510_actions(
    app: Flask, coordinator: User, client: FlaskClient, count_queries
) -> None:
    sponsors = [make_sponsor() for _ in range(4)]
    pairings = [make_sponsorship(s, make_prisoner()) for s in sponsors]
    authors = [s.user for s in sponsors] + [None]

    def seed(count: int) -> None:
        db.session.execute(
            insert(Action),
            [
                {
                    "sponsorship_id": pairings[n % 4].id,
                    "kind": ActionKind.LETTER,
                    "occurred_on": date(2025, 1, 1 + n % 28),
                    "summary": f"Letter {n}",
                    "letter_outcome": LetterOutcome.SENT,
                    "logged_by_id": authors[n % 5].id if authors[n % 5] else None,
                }
                for n in range(count)
            ],
        )
        db.session.commit()

    seed(10)
    with count_queries() as few:
        assert client.get(INDEX).status_code == 200
    seed(500)
    with count_queries() as many:
        page = client.get(INDEX).text
    assert len(_summaries(page)) == 50
    assert many.count == few.count
