"""A coordinator in real Chromium: a new prisoner and a new godparent, paired; the dashboard
counts move; the release is recorded and the godparent re-paired."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from godparents.extensions import db
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsors.parliaments import ensure_parliaments
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from tests.browser import log_in
from tests.factories import PASSWORD, make_coordinator, make_prisoner

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _counts(page) -> dict[str, int]:
    page.goto("/coordinator/")
    names = ("prisoners-held", "held-with-godparent", "pairings-active")
    return {
        name: int(re.sub(r"\D", "", page.locator(f'[data-count="{name}"]').inner_text()))
        for name in names
    }


def test_pair_then_release_and_re_pair(page, live_server) -> None:
    coordinator = make_coordinator()
    waiting = make_prisoner(name_latin="Waiting For A Godparent", detained_on=date(2022, 3, 1))
    log_in(page, coordinator.email, PASSWORD)
    page.wait_for_url("**/coordinator/")
    before = _counts(page)

    page.get_by_role("link", name="Add a prisoner").click()
    page.get_by_label("Name in Latin letters").fill("Ales Navumau")
    page.get_by_label("Name in Russian").fill("Алесь Наумов")
    page.get_by_label("Status").select_option("sentenced")
    page.get_by_label("Detained on").fill("2023-04-05")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/coordinator/prisoners/\d+$"))
    prisoner = db.session.scalar(select(Prisoner).where(Prisoner.name_latin == "Ales Navumau"))
    assert prisoner.status is PrisonerStatus.SENTENCED

    ensure_parliaments()
    db.session.commit()
    page.goto("/coordinator/")
    page.get_by_role("link", name="Add a godparent").click()
    page.get_by_label("Full name").fill("Marta Nowicka")
    page.get_by_label("Address as").select_option(label="Ms")
    page.get_by_label("Parliament", exact=True).select_option(label="Sejm")
    page.get_by_label("Country").fill("pl")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/coordinator/sponsors/\d+$"))
    sponsor = db.session.scalar(select(Sponsor).where(Sponsor.full_name == "Marta Nowicka"))
    assert sponsor.country == "PL"
    assert sponsor.body == "Sejm" and sponsor.parliament is not None
    assert page.get_by_text("Dear Ms Nowicka,").is_visible()

    page.goto(f"/coordinator/prisoners/{prisoner.id}")
    page.get_by_role("link", name="Pair a godparent").first.click()
    page.wait_for_url("**/sponsorships/new?*")  # loaded: the script follows the typing
    page.get_by_label("Find a godparent").fill("Nowicka")  # the results follow the typing
    page.locator(f'#sponsor-results [data-sponsor="{sponsor.id}"]').get_by_role(
        "link", name="Choose"
    ).click()
    page.get_by_role("button", name="Pair").click()
    page.wait_for_load_state()
    after_pairing = _counts(page)
    assert after_pairing["prisoners-held"] == before["prisoners-held"] + 1
    assert after_pairing["held-with-godparent"] == before["held-with-godparent"] + 1
    assert after_pairing["pairings-active"] == before["pairings-active"] + 1

    page.goto(f"/coordinator/prisoners/{prisoner.id}")
    page.get_by_role("link", name="Record release").click()
    page.get_by_label("What happened").select_option("released")
    page.get_by_label("On", exact=True).fill(date.today().isoformat())
    page.get_by_role("button", name="Record").click()
    page.get_by_role("link", name="Pair with another prisoner").click()
    page.wait_for_url("**/sponsorships/new?*")
    page.get_by_label("Find a prisoner").fill("waiting godparent")  # any order, prefixes
    page.locator(f'#prisoner-results [data-prisoner="{waiting.id}"]').get_by_role(
        "link", name="Choose"
    ).click()
    page.get_by_role("button", name="Pair").click()
    page.wait_for_load_state()

    after_release = _counts(page)
    assert after_release["prisoners-held"] == after_pairing["prisoners-held"] - 1
    assert after_release["pairings-active"] == after_pairing["pairings-active"]
    pairings = db.session.scalars(
        select(Sponsorship).where(Sponsorship.sponsor_id == sponsor.id).order_by(Sponsorship.id)
    ).all()
    assert [(p.prisoner_id, p.status, p.end_reason) for p in pairings] == [
        (prisoner.id, SponsorshipStatus.ENDED, EndReason.RELEASED),
        (waiting.id, SponsorshipStatus.ACTIVE, None),
    ]
