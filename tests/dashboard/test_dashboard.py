"""The coordinator's dashboard and the audit log page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from godparents.actions.models import Action, ActionKind
from godparents.caching import cache
from godparents.dashboard import charts, services
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, KeyDateKind, Prisoner, PrisonerStatus
from godparents.reminders.models import CampaignDay, OutboxStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, LoginAs

TODAY = date(2026, 6, 15)


def _action(pairing: Sponsorship, on: date, kind: ActionKind = ActionKind.LETTER) -> None:
    db.session.add(Action(sponsorship=pairing, kind=kind, occurred_on=on, summary="x"))
    db.session.commit()


def test_counts(app: Flask) -> None:
    held = [make_prisoner(), make_prisoner(status=PrisonerStatus.PRETRIAL), make_prisoner()]
    make_prisoner(status=PrisonerStatus.RELEASED, released_on=date(2026, 2, 1))
    make_prisoner(status=PrisonerStatus.RELEASED, released_on=date(2025, 12, 31))
    active = make_sponsor()
    make_sponsor(is_active=False)
    pairing = make_sponsorship(active, held[0])
    make_sponsorship(active, held[1], status=SponsorshipStatus.ENDED)
    _action(pairing, TODAY - timedelta(days=10))
    _action(pairing, TODAY - timedelta(days=60))
    _action(pairing, TODAY - timedelta(days=100))
    counts = services.counts(TODAY)
    assert (counts.prisoners, counts.held, counts.held_with_godparent) == (5, 3, 1)
    assert counts.held_without_godparent == 2
    assert counts.released_this_year == 1
    assert (counts.sponsors, counts.sponsors_active, counts.pairings_active) == (2, 1, 1)
    assert (counts.actions_30, counts.actions_90) == (1, 2)


def test_actions_per_month_by_kind(app: Flask) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner())
    _action(pairing, date(2026, 6, 1), ActionKind.SPEECH)
    _action(pairing, date(2026, 6, 14), ActionKind.LETTER)
    _action(pairing, date(2025, 7, 3), ActionKind.CARD)
    _action(pairing, date(2025, 6, 30), ActionKind.CARD)  # thirteen months ago: left out
    data = services.actions_per_month(TODAY)
    assert data.months[0] == date(2025, 7, 1) and data.months[-1] == date(2026, 6, 1)
    assert data.by_kind[ActionKind.CARD][0] == 1 and data.by_kind[ActionKind.LETTER][-1] == 1
    assert data.by_family["post"] == [1] + [0] * 10 + [1]
    assert data.by_family["political"][-1] == 1
    assert data.totals[-1] == 2
    bars, top = charts.stacked_bars(data)
    assert top == 10 and len(bars) == 3


def test_share_with_a_godparent_over_time(app: Flask) -> None:
    first = make_prisoner(detained_on=date(2025, 1, 10))
    second = make_prisoner(detained_on=date(2025, 1, 10))
    make_prisoner(detained_on=date(2026, 5, 20))  # held from May 2026, never paired
    make_prisoner(
        detained_on=date(2024, 1, 1), status=PrisonerStatus.RELEASED, released_on=date(2025, 12, 1)
    )
    sponsor = make_sponsor()
    make_sponsorship(sponsor, first, started_on=date(2025, 3, 1))
    make_sponsorship(
        sponsor,
        second,
        status=SponsorshipStatus.ENDED,
        started_on=date(2025, 3, 1),
        ended_on=date(2026, 2, 10),
        end_reason=EndReason.WITHDREW,
    )
    data = services.coverage_over_time(TODAY)
    by_month = dict(zip(data.months, zip(data.held, data.with_godparent, strict=True), strict=True))
    assert by_month[date(2025, 7, 1)] == (3, 2)  # the released one was still held
    assert by_month[date(2026, 1, 1)] == (2, 2)
    assert by_month[date(2026, 2, 1)] == (2, 1)  # a pairing ended in February
    assert by_month[date(2026, 6, 1)] == (3, 1)
    assert data.shares[-1] == pytest.approx(1 / 3)


def test_work_lists(app: Flask) -> None:
    old = make_prisoner(name_latin="Longest Held", detained_on=date(2020, 1, 1))
    make_prisoner(name_latin="Newer", detained_on=date(2024, 1, 1))
    paired = make_prisoner(name_latin="Has One", detained_on=date(2019, 1, 1))
    busy = make_sponsor(full_name="Busy")
    quiet = make_sponsor(full_name="Quiet")
    freed = make_sponsor(full_name="Freed")
    make_sponsor(full_name="Leaving", mandate_ends_on=TODAY + timedelta(days=30))
    make_sponsor(full_name="Later", mandate_ends_on=TODAY + timedelta(days=200))
    _action(make_sponsorship(busy, paired), TODAY - timedelta(days=5))
    _action(make_sponsorship(quiet, make_prisoner()), TODAY - timedelta(days=120))
    released = make_prisoner(status=PrisonerStatus.RELEASED, released_on=TODAY)
    make_sponsorship(
        freed,
        released,
        status=SponsorshipStatus.ENDED,
        ended_on=TODAY,
        end_reason=EndReason.RELEASED,
    )
    make_outbox_message(
        recipient_email="a@example.org",
        subject_ref="prisoner:1",
        email_subject="Birthday",
        body_text="x",
        status=OutboxStatus.FAILED,
        last_error="550 mailbox unavailable",
    )

    assert [p.name_latin for p in services.held_without_godparent()][:2] == [
        "Longest Held",
        "Newer",
    ]
    assert old.id in {p.id for p in services.held_without_godparent()}
    assert [s.full_name for s in services.freed_godparents()] == ["Freed"]
    assert [s.full_name for s in services.inactive_sponsors(TODAY)] == ["Quiet"]
    assert [s.full_name for s in services.mandates_ending(TODAY)] == ["Leaving"]
    assert [m.last_error for m in services.failed_messages()] == ["550 mailbox unavailable"]


def test_dates_ahead_include_29_february_in_common_years(app: Flask) -> None:
    leap = make_prisoner(name_latin="Leap", birth_date=date(1988, 2, 29))
    make_prisoner(
        name_latin="Released", birth_date=date(1990, 3, 1), status=PrisonerStatus.RELEASED
    )
    db.session.add(KeyDate(prisoner=leap, kind=KeyDateKind.HEARING, occurs_on=date(2027, 3, 3)))
    db.session.add(CampaignDay(name="Freedom Day", month=3, day=25))
    db.session.commit()
    found = services.dates_ahead(date(2027, 2, 20))
    kinds = {(d.on, d.kind) for d in found}
    assert (date(2027, 2, 28), "birthday") in kinds
    assert (date(2027, 3, 3), "hearing") in kinds
    assert not any(d.prisoner and d.prisoner.name_latin == "Released" for d in found)
    assert (date(2027, 3, 25), "campaign_day") not in kinds  # more than 30 days ahead


def _page_numbers(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="([^"]+)">([^<]+)<', page))


def test_dashboard_page_and_its_query_count(
    app: Flask, login_as: LoginAs, client: FlaskClient, count_queries
) -> None:
    login_as(make_coordinator().email)
    make_sponsorship(make_sponsor(), make_prisoner())
    with count_queries() as small:
        first = client.get("/coordinator/")
    assert first.status_code == 200
    assert _page_numbers(first.text)["prisoners-held"] == "1"

    sponsors = [Sponsor(full_name=f"S{n}", body="Sejm", country="PL") for n in range(100)]
    prisoners = [
        Prisoner(
            name_latin=f"P{n}",
            status=PrisonerStatus.SENTENCED,
            detained_on=date(2021, 1, 1) + timedelta(days=n),
            birth_date=date(1980, 1, 1) + timedelta(days=n),
        )
        for n in range(500)
    ]
    db.session.add_all(sponsors + prisoners)
    db.session.flush()
    pairings = [
        Sponsorship(
            sponsor=sponsors[n % 100],
            prisoner=prisoners[n],
            status=SponsorshipStatus.ACTIVE,
            started_on=date(2022, 1, 1),
        )
        for n in range(300)
    ]
    db.session.add_all(pairings)
    db.session.flush()
    db.session.execute(
        insert(Action),
        [
            {
                "sponsorship_id": pairings[n % 300].id,
                "kind": ActionKind.LETTER,
                "occurred_on": date.today() - timedelta(days=n % 400),
                "summary": "x",
            }
            for n in range(2000)
        ],
    )
    db.session.commit()
    with count_queries() as large:
        second = client.get("/coordinator/")
    assert _page_numbers(second.text)["prisoners-held"] == "501"
    assert _page_numbers(second.text)["pairings-active"] == "301"
    assert large.count == small.count


def test_dashboard_is_for_coordinators(
    login_as: LoginAs, app: Flask, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    for email in (sponsor.email, make_delegate(sponsor).email):
        login_as(email)
        assert client.get("/coordinator/").status_code == 403
        assert client.get("/coordinator/audit/").status_code == 403
        auth.logout()
    assert client.get("/coordinator/audit/").headers["Location"].startswith("/auth/login")


def test_audit_page_filters(app: Flask, auth: Auth, client: FlaskClient, count_queries) -> None:
    coordinator = make_coordinator(email="ops@example.org")
    make_sponsor(full_name="Visible Change")
    auth.login(coordinator.email)  # the page lists the login's event
    page = client.get("/coordinator/audit/").text
    assert "ops@example.org" in page and "login" in page
    only_logins = client.get("/coordinator/audit/?action=login").text
    assert "Visible Change" not in only_logins and "login" in only_logins
    sponsors = client.get("/coordinator/audit/?object=Sponsor").text
    assert "Visible Change" in sponsors
    assert "Nothing matches" in client.get("/coordinator/audit/?actor=nobody").text
    assert client.get("/coordinator/audit/?from=garbage&page=-3&object_id=x").status_code == 200
    with count_queries() as few:
        client.get("/coordinator/audit/")
    for n in range(60):
        make_sponsor(full_name=f"Many {n}")
    with count_queries() as many:
        client.get("/coordinator/audit/")
    assert many.count == few.count


@pytest.mark.settings(DASHBOARD_CACHE_SECONDS=600)
def test_cached_numbers_follow_every_change(
    app: Flask, login_as: LoginAs, client: FlaskClient, count_queries
) -> None:
    cache.clear()  # other tests may have run on the same database and version
    login_as(make_coordinator().email)
    make_prisoner()
    assert _page_numbers(client.get("/coordinator/").text)["prisoners-held"] == "1"
    with count_queries() as repeat:
        client.get("/coordinator/")
    make_prisoner()  # any change writes an audit event: a new data version
    assert _page_numbers(client.get("/coordinator/").text)["prisoners-held"] == "2"
    # The session and its user, the data version, the reminder job's health (two), the
    # bounced addresses, the letters returned or censored lately (two, live).
    assert repeat.count <= 8, repeat.statements
