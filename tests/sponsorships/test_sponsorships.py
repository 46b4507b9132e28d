"""Pairing godparents with prisoners, ending, handing over, and recording releases."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.models import PrisonerStatus
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, csrf_token, field_errors, post_form, summary_links

BASE = "/coordinator/sponsorships"


def _today() -> date:
    return campaign_today("Europe/Berlin")


def _pairings(**where) -> list[Sponsorship]:
    query = select(Sponsorship).order_by(Sponsorship.id)
    for key, value in where.items():
        query = query.where(getattr(Sponsorship, key) == value)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


@pytest.fixture
def coordinator(app: Flask, login_as: LoginAs) -> User:
    user = make_coordinator()
    login_as(user.email)
    return user


# Access ---------------------------------------------------------------------------------------


def _routes(pairing: Sponsorship) -> list[tuple[str, str]]:
    p, prisoner = pairing.id, pairing.prisoner_id
    return [
        ("GET", f"{BASE}/"),
        ("GET", f"{BASE}/new"),
        ("POST", f"{BASE}/new"),
        ("GET", f"{BASE}/{p}/end"),
        ("POST", f"{BASE}/{p}/end"),
        ("GET", f"{BASE}/{p}/handover"),
        ("POST", f"{BASE}/{p}/handover"),
        ("POST", f"{BASE}/{p}/activate"),
        ("GET", f"{BASE}/release/{prisoner}"),
        ("POST", f"{BASE}/release/{prisoner}"),
        ("GET", f"{BASE}/release/{prisoner}/done"),
    ]


def test_anonymous_users_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner())
    token = csrf_token(client, "/auth/login")
    for method, path in _routes(pairing):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login"), (method, path)


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_sponsors_and_delegates_get_403_everywhere(
    app: Flask, login_as: LoginAs, client: FlaskClient, who: str
) -> None:
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    pairing = make_sponsorship(sponsor, make_prisoner())
    login_as(sponsor.email if who == "sponsor" else delegate.email)
    token = csrf_token(client, "/sponsor/")
    data = {
        "csrf_token": token,
        "ended_on": _today().isoformat(),
        "end_reason": "other",
        "status": "released",
        "released_on": _today().isoformat(),
    }
    for method, path in _routes(pairing):
        assert client.open(path, method=method, data=data).status_code == 403, (method, path)
    assert [p.status for p in _pairings()] == [SponsorshipStatus.ACTIVE]


def test_unknown_ids_give_404(coordinator: User, client: FlaskClient) -> None:
    for path in (
        f"{BASE}/2147483647/end",
        f"{BASE}/2147483647/handover",
        f"{BASE}/release/2147483647",
        f"{BASE}/release/2147483647/done",
    ):
        assert client.get(path).status_code == 404, path


# Pairing --------------------------------------------------------------------------------------


def test_the_form_is_prefilled_from_the_link(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    make_sponsor(full_name="Retired Member", is_active=False)
    prisoner = make_prisoner(name_latin="Alena Krautsova", name_ru="Елена Кравцова")
    make_prisoner(name_latin="Free Already", status=PrisonerStatus.RELEASED)
    page = client.get(
        f"{BASE}/new", query_string={"sponsor_id": sponsor.id, "prisoner_id": prisoner.id}
    ).text
    chosen = page.split('data-chosen="prisoner"')[1].split("</div>\n")[0]
    assert "Alena Krautsova" in chosen and "Елена Кравцова" in chosen
    assert "Anna Schmidt" in page.split('data-chosen="sponsor"')[1]
    assert f'name="prisoner_id" value="{prisoner.id}"' in page
    assert f'name="sponsor_id" value="{sponsor.id}"' in page
    assert "Retired Member" not in page and "Free Already" not in page  # not offered
    assert f'value="{_today().isoformat()}"' in page
    assert client.get(f"{BASE}/new", query_string={"sponsor_id": "x"}).status_code == 200


def test_pair_a_godparent_with_a_prisoner(coordinator: User, client: FlaskClient) -> None:
    sponsor, prisoner = make_sponsor(), make_prisoner()
    response = post_form(
        client,
        f"{BASE}/new",
        sponsor_id=sponsor.id,
        prisoner_id=prisoner.id,
        started_on=_today().isoformat(),
        status="active",
        has_public_consent="y",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/coordinator/sponsors/{sponsor.id}"
    [pairing] = _pairings()
    assert (
        pairing.sponsor_id,
        pairing.prisoner_id,
        pairing.status,
        pairing.started_on,
        pairing.has_public_consent,
    ) == (sponsor.id, prisoner.id, SponsorshipStatus.ACTIVE, _today(), True)


def test_a_proposed_pairing_can_be_activated_later(coordinator: User, client: FlaskClient) -> None:
    sponsor, prisoner = make_sponsor(), make_prisoner()
    post_form(
        client,
        f"{BASE}/new",
        sponsor_id=sponsor.id,
        prisoner_id=prisoner.id,
        started_on=_today().isoformat(),
        status="proposed",
    )
    [pairing] = _pairings()
    assert pairing.status is SponsorshipStatus.PROPOSED
    page = client.get(f"{BASE}/", query_string={"status": "proposed"}).text
    assert f"{BASE}/{pairing.id}/activate" in page
    response = post_form(client, f"{BASE}/{pairing.id}/activate", next=f"{BASE}/")
    assert response.headers["Location"] == f"{BASE}/"
    assert _pairings()[0].status is SponsorshipStatus.ACTIVE


def test_a_proposal_for_a_freed_prisoner_is_not_activated(
    coordinator: User, client: FlaskClient
) -> None:
    prisoner = make_prisoner(name_latin="Free Now")
    pairing = make_sponsorship(make_sponsor(), prisoner, status=SponsorshipStatus.PROPOSED)
    prisoner.status = PrisonerStatus.RELEASED
    db.session.commit()
    response = post_form(client, f"{BASE}/{pairing.id}/activate", next="//evil.example")
    assert response.headers["Location"] == f"{BASE}/"  # never off the site
    assert "Free Now is no longer held." in client.get(f"{BASE}/").text
    assert _pairings()[0].status is SponsorshipStatus.PROPOSED


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("duplicate", "prisoner_id", "is already godparent of"),
        ("released", "prisoner_id", "is no longer held ("),
        ("inactive", "sponsor_id", "is inactive"),
        ("future", "started_on", "This date is in the future."),
        ("missing", "prisoner_id", "This field is required."),
        ("unknown", "sponsor_id", "Choose a godparent."),
        ("garbage", "sponsor_id", "Invalid Choice"),
    ],
)
def test_pairing_refusals_are_shown_at_the_field(
    coordinator: User, client: FlaskClient, case: str, field: str, message: str
) -> None:
    sponsor = make_sponsor(is_active=case != "inactive")
    prisoner = make_prisoner(
        status=PrisonerStatus.RELEASED if case == "released" else PrisonerStatus.SENTENCED
    )
    if case == "duplicate":
        make_sponsorship(sponsor, prisoner)
    before = len(_pairings())
    data = {
        "sponsor_id": sponsor.id,
        "prisoner_id": prisoner.id,
        "status": "active",
        "started_on": _today().isoformat(),
    }
    if case == "future":
        data["started_on"] = (_today() + timedelta(days=1)).isoformat()
    if case == "missing":
        data["prisoner_id"] = ""
    if case == "unknown":
        data["sponsor_id"] = 999
    if case == "garbage":
        data["sponsor_id"] = "abc"
    response = post_form(client, f"{BASE}/new", **data)
    assert response.status_code == 200
    assert message in field_errors(response)[field]
    assert len(_pairings()) == before


def test_every_refusal_of_a_pairing_is_shown_at_once(
    coordinator: User, client: FlaskClient
) -> None:
    """An inactive godparent, a released prisoner and a day ahead: three mistakes, three
    errors and three links at the top, in one answer."""
    sponsor = make_sponsor(is_active=False)
    prisoner = make_prisoner(status=PrisonerStatus.RELEASED)
    data = {
        "sponsor_id": sponsor.id,
        "prisoner_id": prisoner.id,
        "status": "active",
        "started_on": (_today() + timedelta(days=1)).isoformat(),
    }
    response = post_form(client, f"{BASE}/new", **data)
    errors = field_errors(response)
    assert "is inactive" in errors["sponsor_id"]
    assert "is no longer held" in errors["prisoner_id"]
    assert errors["started_on"] == "This date is in the future."
    summary = response.text.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert "There are 3 problems" in summary
    assert summary.count('<a href="#') == 3
    assert _pairings() == []


def test_an_ended_pairing_does_not_prevent_a_new_one(
    coordinator: User, client: FlaskClient
) -> None:
    sponsor, prisoner = make_sponsor(), make_prisoner()
    make_sponsorship(
        sponsor,
        prisoner,
        status=SponsorshipStatus.ENDED,
        ended_on=date(2023, 1, 1),
        end_reason=EndReason.WITHDREW,
    )
    response = post_form(
        client,
        f"{BASE}/new",
        sponsor_id=sponsor.id,
        prisoner_id=prisoner.id,
        status="active",
        started_on=_today().isoformat(),
    )
    assert response.status_code == 302
    assert [p.status for p in _pairings()] == [SponsorshipStatus.ENDED, SponsorshipStatus.ACTIVE]


# Ending ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended_on", "message"),
    [
        ("2023-12-31", "The godparenthood began on 10 Jan 2024; choose that day or later."),
        ("2999-01-01", "This date is in the future."),
        ("yesterday", "Enter a date such as"),
    ],
)
def test_end_refuses_impossible_dates(
    coordinator: User, client: FlaskClient, ended_on: str, message: str
) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner(), started_on=date(2024, 1, 10))
    response = post_form(
        client, f"{BASE}/{pairing.id}/end", ended_on=ended_on, end_reason="withdrew"
    )
    assert response.status_code == 200
    assert message in field_errors(response)["ended_on"]
    assert _pairings()[0].status is SponsorshipStatus.ACTIVE


def test_end_a_pairing(coordinator: User, client: FlaskClient) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner(), started_on=date(2024, 1, 10))
    path = f"{BASE}/{pairing.id}/end"
    assert f'value="{_today().isoformat()}"' in client.get(path).text
    response = post_form(client, path, ended_on="2024-01-10", end_reason="withdrew")
    assert response.status_code == 302
    [ended] = _pairings()
    assert (ended.status, ended.ended_on, ended.end_reason) == (
        SponsorshipStatus.ENDED,
        date(2024, 1, 10),
        EndReason.WITHDREW,
    )
    again = client.get(path)
    assert again.status_code == 302  # already ended: back to the godparent


# Handing over ---------------------------------------------------------------------------------


def test_hand_over_keeps_the_history(coordinator: User, client: FlaskClient) -> None:
    leaving = make_sponsor(full_name="Leaving Member")
    arriving = make_sponsor(full_name="New Member")
    prisoner = make_prisoner(name_latin="Alena Krautsova")
    pairing = make_sponsorship(leaving, prisoner, started_on=date(2024, 1, 10))
    path = f"{BASE}/{pairing.id}/handover"
    form = client.get(path).text
    assert "New Member" in form and not re.search(r"<option[^>]*>Leaving Member", form)
    response = post_form(
        client, path, sponsor_id=arriving.id, on=_today().isoformat(), end_reason="mandate_ended"
    )
    assert response.status_code == 302
    old, new = _pairings(prisoner_id=prisoner.id)
    assert (old.sponsor_id, old.status, old.ended_on, old.end_reason) == (
        leaving.id,
        SponsorshipStatus.ENDED,
        _today(),
        EndReason.MANDATE_ENDED,
    )
    assert (new.sponsor_id, new.status, new.started_on) == (
        arriving.id,
        SponsorshipStatus.ACTIVE,
        _today(),
    )
    history = client.get(f"/coordinator/sponsors/{leaving.id}").text
    assert "Alena Krautsova" in history and "Mandate ended" in history


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("same", "sponsor_id", "Choose another godparent."),
        ("already", "sponsor_id", "is already godparent of"),
        ("early", "on", "The godparenthood began on 10 Jan 2024"),
        ("inactive", "sponsor_id", "is inactive"),
    ],
)
def test_hand_over_refusals_change_nothing(
    coordinator: User, client: FlaskClient, case: str, field: str, message: str
) -> None:
    leaving, prisoner = make_sponsor(), make_prisoner()
    pairing = make_sponsorship(leaving, prisoner, started_on=date(2024, 1, 10))
    arriving = make_sponsor(is_active=case != "inactive")
    if case == "already":
        make_sponsorship(arriving, prisoner)
    before = [(p.id, p.status) for p in _pairings()]
    response = post_form(
        client,
        f"{BASE}/{pairing.id}/handover",
        sponsor_id=leaving.id if case == "same" else arriving.id,
        on="2023-06-01" if case == "early" else _today().isoformat(),
        end_reason="mandate_ended",
    )
    assert response.status_code == 200
    assert message in field_errors(response)[field]
    assert [(p.id, p.status) for p in _pairings()] == before


# Releases -------------------------------------------------------------------------------------


@pytest.fixture
def freed(app: Flask) -> dict:
    prisoner = make_prisoner(name_latin="Ihar Losik", detained_on=date(2020, 6, 25))
    first, second = make_sponsor(full_name="First Godparent"), make_sponsor(full_name="Second")
    return {
        "prisoner": prisoner,
        "first": make_sponsorship(first, prisoner),
        "second": make_sponsorship(second, prisoner),
        "elsewhere": make_sponsorship(first, make_prisoner()),
    }


def test_the_release_form_checks_every_pairing(
    freed: dict, coordinator: User, client: FlaskClient
) -> None:
    page = client.get(f"{BASE}/release/{freed['prisoner'].id}").text
    boxes = re.findall(r'<input[^>]*name="pairing_ids"[^>]*>', page)
    assert len(boxes) == 2 and all("checked" in box for box in boxes)
    assert "First Godparent" in page and "Second" in page


def test_record_a_release(freed: dict, coordinator: User, client: FlaskClient) -> None:
    prisoner = freed["prisoner"]
    day = _today() - timedelta(days=2)
    response = post_form(
        client,
        f"{BASE}/release/{prisoner.id}",
        status="pardoned",
        released_on=day.isoformat(),
        pairing_ids=[freed["first"].id],
    )
    assert response.status_code == 302
    db.session.refresh(prisoner)
    assert (prisoner.status, prisoner.released_on) == (PrisonerStatus.PARDONED, day)
    first, second, elsewhere = _pairings()
    assert (first.status, first.ended_on, first.end_reason) == (
        SponsorshipStatus.ENDED,
        day,
        EndReason.PARDONED,
    )  # the reason says why
    assert second.status is SponsorshipStatus.ACTIVE  # unchecked: left alone
    assert elsewhere.status is SponsorshipStatus.ACTIVE  # another prisoner's

    done = client.get(response.headers["Location"]).text
    assert "First Godparent" in done and "still has 1 godchild" in done
    assert f"{BASE}/new?sponsor_id={first.sponsor_id}" in done
    assert "1 godparenthood is still open" in done


def test_a_death_ends_the_pairings_with_its_own_reason(
    freed: dict, coordinator: User, client: FlaskClient
) -> None:
    prisoner = freed["prisoner"]
    response = post_form(
        client,
        f"{BASE}/release/{prisoner.id}",
        status="died",
        released_on=_today().isoformat(),
        pairing_ids=[freed["first"].id, freed["second"].id],
    )
    assert response.status_code == 302
    reasons = [p.end_reason for p in _pairings(prisoner_id=prisoner.id)]
    assert reasons == [EndReason.DIED, EndReason.DIED]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"released_on": "2020-06-24"}, "released_on", "The detention began on 25 Jun 2020"),
        ({"released_on": "2999-01-01"}, "released_on", "This date is in the future."),
        ({"status": "sentenced"}, "status", "Not a valid choice."),
        ({"pairing_ids": "999"}, "pairing_ids", "not a valid choice"),
    ],
)
def test_release_refusals_change_nothing(
    freed: dict, coordinator: User, client: FlaskClient, data: dict, field: str, message: str
) -> None:
    prisoner = freed["prisoner"]
    values = {
        "status": "released",
        "released_on": _today().isoformat(),
        "pairing_ids": [freed["first"].id],
        **data,
    }
    response = post_form(client, f"{BASE}/release/{prisoner.id}", **values)
    assert response.status_code == 200
    assert message in field_errors(response)[field]
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.SENTENCED and prisoner.released_on is None
    assert {p.status for p in _pairings()} == {SponsorshipStatus.ACTIVE}


def test_every_mistake_of_a_release_is_shown_at_once(
    freed: dict, coordinator: User, client: FlaskClient
) -> None:
    """The form refuses a status and a pairing it does not offer; the date's rules are
    judged all the same."""
    prisoner = freed["prisoner"]
    response = post_form(
        client,
        f"{BASE}/release/{prisoner.id}",
        status="sentenced",
        released_on="2020-06-24",
        pairing_ids=[freed["elsewhere"].id],
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"status", "released_on", "pairing_ids"}
    assert "Not a valid choice." in errors["status"]
    assert "The detention began on 25 Jun 2020" in errors["released_on"]
    links = summary_links(response)
    assert links == ["status", "released_on", "pairing_ids"]
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.SENTENCED and prisoner.released_on is None
    assert {p.status for p in _pairings()} == {SponsorshipStatus.ACTIVE}


# The list of pairings -------------------------------------------------------------------------


def test_the_list_filters_by_status_and_start(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    make_sponsorship(sponsor, make_prisoner(name_latin="Early One"), started_on=date(2022, 3, 1))
    make_sponsorship(sponsor, make_prisoner(name_latin="Late One"), started_on=date(2025, 3, 1))
    make_sponsorship(
        sponsor,
        make_prisoner(name_latin="Gone One"),
        status=SponsorshipStatus.ENDED,
        started_on=date(2025, 4, 1),
    )
    page = client.get(
        f"{BASE}/", query_string={"status": "active", "from": "2024-01-01", "to": "nonsense"}
    ).text
    assert "Late One" in page and "Early One" not in page and "Gone One" not in page
    page = client.get(f"{BASE}/", query_string={"status": "bogus"}).text
    assert page.index("Gone One") < page.index("Late One") < page.index("Early One")


def test_the_list_runs_the_same_queries_for_10_or_510_pairings(
    coordinator: User, client: FlaskClient, count_queries
) -> None:
    sponsors = [make_sponsor() for _ in range(3)]
    prisoners = [make_prisoner() for _ in range(3)]

    def seed(count: int) -> None:
        db.session.execute(
            insert(Sponsorship),
            [
                {
                    "sponsor_id": sponsors[n % 3].id,
                    "prisoner_id": prisoners[n // 3 % 3].id,
                    "status": SponsorshipStatus.ENDED,
                    "started_on": date(2020, 1, 1),
                }
                for n in range(count)
            ],
        )
        db.session.commit()

    seed(10)
    with count_queries() as few:
        assert client.get(f"{BASE}/").status_code == 200
    seed(500)
    with count_queries() as many:
        page = client.get(f"{BASE}/").text
    assert "510 entries" in page
    assert many.count == few.count
    assert db.session.scalar(select(func.count()).select_from(Sponsorship)) == 510
