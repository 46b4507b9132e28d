"""A coordinator in real Chromium imports a list with an identity change and a release,
reviews both, confirms, and pairs a waiting prisoner with the picker."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from godparents.extensions import db
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from tests.browser import log_in
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _prisoner(external_id: str) -> Prisoner:
    db.session.expire_all()
    return db.session.scalar(select(Prisoner).where(Prisoner.external_id == external_id))


def test_import_review_confirm_and_pair(page, live_server, tmp_path) -> None:
    coordinator = make_coordinator()
    darya = make_prisoner(
        name_latin="Darya Tsvirko", name_be="Дар'я Цвірко", external_id="demo-001", birth_year=1981
    )
    released = make_prisoner(name_latin="Ihar Lasitski", external_id="demo-004")
    waiting = make_prisoner(
        name_latin="Alena Krautsova",
        name_be="Алена Краўцова",
        external_id="demo-002",
        detained_on=date(2020, 9, 7),
    )
    anna = make_sponsor(full_name="Anna Schmidt")
    make_sponsorship(anna, darya)
    freed = make_sponsor(full_name="Jonas Lindqvist", body="European Parliament")
    make_sponsorship(freed, released)
    listed = tmp_path / "list.csv"
    listed.write_text(
        "external_id,name_latin,name_be,status,released_on\r\n"
        "demo-001,Andrei Vasilenka,Андрэй Васіленка,sentenced,\r\n"  # another person
        f"demo-004,Ihar Lasitski,Ігар Ласіцкі,released,{date.today().isoformat()}\r\n",
        encoding="utf-8",
    )

    log_in(page, coordinator.email, PASSWORD)
    page.goto("/coordinator/prisoners/")
    page.get_by_role("link", name="Import a list").click()
    page.get_by_label("File").set_input_files(str(listed))
    page.get_by_role("button", name="Check the file").click()

    identity = page.locator("#import-identity")
    assert "Darya Tsvirko" in identity.inner_text() and "Anna Schmidt" in identity.inner_text()
    releases = page.locator("#import-releases")
    assert "Jonas Lindqvist" in releases.inner_text()
    # The identity change is applied only because it is ticked here.
    page.get_by_label("Apply: demo-001 is now Andrei Vasilenka").check()
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url("**/coordinator/prisoners/")
    assert "Import done" in page.content()

    assert _prisoner("demo-001").name_latin == "Andrei Vasilenka"
    assert _prisoner("demo-004").status is PrisonerStatus.RELEASED
    ended = db.session.scalar(select(Sponsorship).where(Sponsorship.sponsor_id == freed.id))
    assert (ended.status, ended.end_reason) == (SponsorshipStatus.ENDED, EndReason.RELEASED)

    # Jonas waits for a new godchild: the dashboard offers him; the picker finds Alena.
    page.goto("/coordinator/")
    freed_list = page.locator('[data-list="freed"]')
    assert "Jonas Lindqvist" in freed_list.inner_text()
    freed_list.get_by_role("link", name="Re-pair").click()
    page.wait_for_url("**/sponsorships/new?*")  # loaded: the script follows the typing
    page.get_by_label("Find a prisoner").fill("Krawzowa")  # the German press spelling
    page.locator(f'#prisoner-results [data-prisoner="{waiting.id}"]').get_by_role(
        "link", name="Choose"
    ).click()
    assert "Jonas Lindqvist" in page.locator('[data-chosen="sponsor"]').inner_text()
    page.get_by_role("button", name="Pair").click()
    page.wait_for_url(re.compile(rf".*/coordinator/sponsors/{freed.id}$"))
    pairing = db.session.scalar(
        select(Sponsorship).where(
            Sponsorship.sponsor_id == freed.id, Sponsorship.status == SponsorshipStatus.ACTIVE
        )
    )
    assert pairing.prisoner_id == waiting.id


def test_a_form_with_mistakes_opens_on_its_error_summary(page, live_server) -> None:
    """Every mistake at once, the summary read first (focused), and a link in it puts the
    cursor in its field."""
    coordinator = make_coordinator()
    log_in(page, coordinator.email, PASSWORD)
    page.goto("/coordinator/prisoners/new")
    page.get_by_label("Name in Latin letters").fill(" ")
    page.get_by_label("Year of birth").fill("1899")
    page.get_by_label("Source (web address)").fill("ftp://example.org/x")
    page.get_by_role("button", name="Save").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert summary.locator("a").count() == 3
    summary.get_by_role("link", name=re.compile("^Year of birth")).click()
    assert page.evaluate("document.activeElement.id") == "birth_year"
