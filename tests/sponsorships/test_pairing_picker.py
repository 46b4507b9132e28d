"""Pairing at the campaign's scale: the pickers, suggestions, proposed pairings, and pairing
many from a file."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.dashboard import services as dashboard
from godparents.extensions import db
from godparents.prisoners.models import PrisonerStatus
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs, csrf_token

NEW = "/coordinator/sponsorships/new"
BULK = "/coordinator/sponsorships/bulk"
TOKEN = re.compile(r'<input[^>]*name="token"[^>]*value="([^"]+)"')


@pytest.fixture
def coordinator(app, login_as: LoginAs) -> None:
    login_as(make_coordinator().email)


def _ids(page: str, kind: str) -> list[int]:
    return [int(found) for found in re.findall(rf'data-{kind}="(\d+)"', page)]


def test_the_prisoner_is_found_by_any_spelling_without_javascript(
    coordinator, client: FlaskClient
) -> None:
    alena = make_prisoner(
        name_latin="Alena Krautsova", name_be="Алена Краўцова", name_ru="Елена Кравцова"
    )
    make_prisoner(name_latin="Alena Zhuk", status=PrisonerStatus.RELEASED)  # not held
    paired = make_prisoner(name_latin="Alena Kravets")
    make_sponsorship(make_sponsor(), paired)
    for query in ("Krawzowa", "krautsova alena", "Alena"):
        page = client.get(NEW, query_string={"prisoner_q": query}).text
        found = _ids(page.split('id="prisoner-results"')[1], "prisoner")
        assert found[0] == alena.id, query  # those without a godparent first
    page = client.get(NEW, query_string={"prisoner_q": "Alena"}).text
    assert set(_ids(page.split('id="prisoner-results"')[1], "prisoner")) == {alena.id, paired.id}
    assert f"prisoner_id={alena.id}" in page  # "Choose" is a plain link


def test_godparents_are_shown_with_parliament_language_and_godchildren(
    coordinator, client: FlaskClient
) -> None:
    anna = make_sponsor(full_name="Anna Schmidt", body="Bundestag", language="de")
    make_sponsorship(anna, make_prisoner(name_latin="Pavel Zhuk"))
    make_sponsor(full_name="Anna Retired", is_active=False)
    page = client.get(NEW, query_string={"sponsor_q": "anna"}).text
    results = page.split('id="sponsor-results"')[1]
    assert _ids(results, "sponsor") == [anna.id]
    assert "Bundestag" in results and "DE" in results and "Pavel Zhuk" in results
    part = client.get(NEW, query_string={"sponsor_q": "schmit", "part": "sponsors"}).text
    assert part.lstrip().startswith("<ul") and "<html" not in part  # for the script
    assert _ids(part, "sponsor") == [anna.id]  # "schmit" begins "schmidt"


def test_suggestions_come_with_the_fewest_godchildren_waiting_longest(
    coordinator, client: FlaskClient
) -> None:
    prisoner = make_prisoner(name_latin="Waiting Prisoner")
    busy = make_sponsor(full_name="Busy")
    make_sponsorship(busy, make_prisoner())
    long_wait = make_sponsor(full_name="Waiting since 2022")
    make_sponsorship(
        long_wait,
        make_prisoner(),
        status=SponsorshipStatus.ENDED,
        started_on=date(2021, 1, 1),
        ended_on=date(2022, 3, 1),
        end_reason=EndReason.RELEASED,
    )
    short_wait = make_sponsor(full_name="Waiting since 2025")
    make_sponsorship(
        short_wait,
        make_prisoner(),
        status=SponsorshipStatus.ENDED,
        started_on=date(2024, 1, 1),
        ended_on=date(2025, 3, 1),
        end_reason=EndReason.RELEASED,
    )
    never = make_sponsor(full_name="Never paired")
    already = make_sponsor(full_name="Already proposed")
    make_sponsorship(already, prisoner, status=SponsorshipStatus.PROPOSED, started_on=None)
    page = client.get(NEW, query_string={"prisoner_id": prisoner.id}).text
    suggested = _ids(page.split("data-suggestions")[1], "sponsor")
    assert suggested == [never.id, long_wait.id, short_wait.id, busy.id]


def test_the_picker_runs_the_same_queries_for_few_or_many(
    coordinator, client: FlaskClient, count_queries
) -> None:
    prisoner = make_prisoner(name_latin="Alena Krautsova")

    def run() -> int:
        with count_queries() as counter:
            client.get(NEW, query_string={"prisoner_q": "alena", "sponsor_q": "sponsor"})
            client.get(NEW, query_string={"prisoner_id": prisoner.id})
        return counter.count

    for number in range(3):
        make_sponsorship(make_sponsor(), make_prisoner(name_latin=f"Alena {number}"))
    few = run()
    for number in range(40):
        make_sponsorship(make_sponsor(), make_prisoner(name_latin=f"Alena More {number}"))
    assert run() == few


def test_proposed_pairings_are_not_counted_without_a_godparent(app) -> None:
    proposed = make_prisoner(name_latin="Proposed One")
    make_sponsorship(make_sponsor(), proposed, status=SponsorshipStatus.PROPOSED, started_on=None)
    without = make_prisoner(name_latin="Nobody Yet")
    counts = dashboard.counts(date(2026, 1, 15))
    assert (
        counts.held,
        counts.held_with_godparent,
        counts.held_proposed,
        counts.held_without_godparent,
    ) == (2, 0, 1, 1)
    assert [row.id for row in dashboard.held_without_godparent()] == [without.id]


def _upload(client: FlaskClient, text: str, status: str = "proposed"):
    return client.post(
        BULK,
        data={
            "csrf_token": csrf_token(client, BULK),
            "status": status,
            "file": (io.BytesIO(text.encode()), "pairings.csv"),
        },
        content_type="multipart/form-data",
    )


def test_pairing_many_from_a_file(coordinator, client: FlaskClient) -> None:
    first = make_prisoner(name_latin="Ales Bialiatski", external_id="v-1")
    second = make_prisoner(name_latin="Maryia Kalesnikava", external_id="v-2")
    anna = make_sponsor(full_name="Anna Schmidt", email="anna@bundestag.example")
    bernd = make_sponsor(full_name="Bernd Meier", email="bernd@bundestag.example")
    preview = _upload(
        client, "external_id,email\r\nv-1,Anna@Bundestag.example\r\nv-2,bernd@bundestag.example\r\n"
    )
    assert preview.status_code == 200 and "2 pairings, as Proposed" in preview.text
    assert db.session.scalars(select(Sponsorship)).all() == []  # nothing yet
    done = client.post(
        f"{BULK}/confirm",
        data={"csrf_token": csrf_token(client, BULK), "token": TOKEN.search(preview.text).group(1)},
    )
    assert done.status_code == 302
    pairs = {
        (p.sponsor_id, p.prisoner_id, p.status) for p in db.session.scalars(select(Sponsorship))
    }
    assert pairs == {
        (anna.id, first.id, SponsorshipStatus.PROPOSED),
        (bernd.id, second.id, SponsorshipStatus.PROPOSED),
    }


def test_a_bad_pairing_file_lists_every_problem_and_pairs_nobody(
    coordinator, client: FlaskClient
) -> None:
    make_prisoner(name_latin="Held", external_id="v-1")
    make_prisoner(name_latin="Free", external_id="v-2", status=PrisonerStatus.RELEASED)
    make_sponsor(full_name="Anna", email="anna@example.org")
    make_sponsor(full_name="Gone", email="gone@example.org", is_active=False)
    page = _upload(
        client,
        "external_id,email\r\nv-1,anna@example.org\r\n"
        "v-9,anna@example.org\r\nv-2,anna@example.org\r\n"
        "v-1,nobody@example.org\r\nv-1,gone@example.org\r\n"
        "v-1,anna@example.org\r\n",
    )
    table = page.text.split('id="bulk-errors"')[1]
    lines = [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", table)]
    assert lines == [3, 4, 5, 6, 7]
    assert "Nobody was paired." in page.text and 'name="token"' not in page.text
    assert db.session.scalars(select(Sponsorship)).all() == []
    wrong = _upload(client, "id;mail\r\n1;2\r\n")
    assert "The header must be: external_id, email." in wrong.text
