"""The public pages and the open data feed: off by default, only consented records, every
page and both feeds; the consent record; 304 on unchanged data; CORS on the feeds only;
the cache emptied by a withdrawn consent."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.extensions import db
from godparents.prisoners.models import PrisonerStatus
from godparents.public import views
from godparents.public.models import ConsentEvent, PublicSettings
from godparents.sponsorships.models import SponsorshipStatus
from godparents.types import utcnow
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import log_in, post_form
from tests.world import make_action

PAGES = ("/public/", "/public/godparents", "/public/news", "/public/join")
FEEDS = ("/public/news.atom", "/public/sitemap.xml", "/public/data.json", "/public/data.csv")


def switch_on(contact: str | None = "join@campaign.example") -> None:
    settings = db.session.get(PublicSettings, 1) or PublicSettings(id=1)
    settings.is_enabled = True
    settings.contact_email = contact
    db.session.add(settings)
    db.session.commit()


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # The cache outlives a test's database (its key, the data version, starts again at 1).
    views.cache.clear()


def public_text(client: FlaskClient, prisoner_id: int) -> dict[str, str]:
    """Every public page and feed (every CSV table too) as text, by path."""
    paths = [
        *PAGES,
        *FEEDS,
        f"/public/prisoners/{prisoner_id}",
        *(f"/public/data.csv?table={t}" for t in ("prisoners", "godparents", "deleted")),
    ]
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        found[path] = response.get_data(as_text=True) if response.status_code == 200 else ""
    return found


def test_public_pages_are_off_by_default(app: Flask, client: FlaskClient) -> None:
    prisoner = make_prisoner(has_public_consent=True)
    for path in (*PAGES, *FEEDS, f"/public/prisoners/{prisoner.id}"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    ("prisoner_ok", "sponsor_ok", "pairing_ok"), list(itertools.product((False, True), repeat=3))
)
def test_a_record_appears_only_where_every_consent_holds(
    app: Flask, client: FlaskClient, prisoner_ok: bool, sponsor_ok: bool, pairing_ok: bool
) -> None:
    prisoner = make_prisoner(name_latin="Darya Kavalenka", has_public_consent=prisoner_ok)
    sponsor = make_sponsor(full_name="Marta Lindqvist", has_public_consent=sponsor_ok)
    pairing = make_sponsorship(sponsor, prisoner, has_public_consent=pairing_ok)
    switch_on()
    texts = public_text(client, prisoner.id)
    everything = "\n".join(texts.values())
    assert ("Darya Kavalenka" in everything) is prisoner_ok
    assert ("Marta Lindqvist" in everything) is sponsor_ok
    assert (client.get(f"/public/prisoners/{prisoner.id}").status_code == 200) is prisoner_ok

    shown = prisoner_ok and sponsor_ok and pairing_ok
    feed = json.loads(texts["/public/data.json"])
    assert [g["id"] for g in feed["godparenthoods"]] == ([pairing.id] if shown else [])
    assert [p["id"] for p in feed["prisoners"]] == ([prisoner.id] if prisoner_ok else [])
    assert [g["id"] for g in feed["godparents"]] == ([sponsor.id] if sponsor_ok else [])
    rows = list(csv.DictReader(io.StringIO(texts["/public/data.csv"].lstrip("\ufeff"))))
    assert [row["id"] for row in rows] == ([str(pairing.id)] if shown else [])
    # The pairing itself: in the news, the Atom feed, and under the godparent's name.
    for path in ("/public/news", "/public/news.atom"):
        assert ("Marta Lindqvist" in texts[path] and "Darya Kavalenka" in texts[path]) is shown
    godparents = texts["/public/godparents"]
    assert ("Darya Kavalenka" in godparents) is shown
    if prisoner_ok:
        assert ("Marta Lindqvist" in texts[f"/public/prisoners/{prisoner.id}"]) is shown


def test_the_profile_shows_what_is_public_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    prisoner = make_prisoner(
        name_latin="Ihar Losik",
        name_ru="Игорь Лосик",
        public_bio="Blogger, detained for his posts.",
        notes="internal note",
        health_notes="needs insulin",
        has_public_consent=True,
    )
    switch_on()
    page = client.get(f"/public/prisoners/{prisoner.id}?lang=de").get_data(as_text=True)
    assert "Игорь Лосик" in page and "Blogger, detained for his posts." in page
    assert "ул. Володарского" in page  # where to write
    assert "Tage in Haft" in page or "Days in detention" in page
    assert "internal note" not in page and "needs insulin" not in page
    assert 'lang="de"' in page
    assert "/photos/" not in page  # no photo stored


def test_join_leads_to_the_contact_address(app: Flask, client: FlaskClient) -> None:
    switch_on(contact="join@campaign.example")
    page = client.get("/public/join").get_data(as_text=True)
    assert "mailto:join@campaign.example" in page


def test_coordinators_switch_the_pages_on_and_consents_are_recorded(
    app: Flask, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    prisoner = make_prisoner(name_latin="Ales Bialiatski")
    log_in(client, coordinator)
    response = post_form(
        client, "/coordinator/public/", is_enabled="y", contact_email="join@campaign.example"
    )
    assert response.status_code == 302
    assert db.session.get(PublicSettings, 1).is_enabled  # type: ignore[union-attr]
    anonymous = client.application.test_client()
    assert anonymous.get("/public/").status_code == 200
    assert anonymous.get(f"/public/prisoners/{prisoner.id}").status_code == 404

    prisoner.has_public_consent = True
    db.session.commit()
    prisoner.has_public_consent = False
    db.session.commit()
    events = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(e.record_type.value, e.record_id, e.is_given) for e in events] == [
        ("prisoner", prisoner.id, True),
        ("prisoner", prisoner.id, False),
    ]


def test_the_settings_form_refuses_a_bad_address(app: Flask, client: FlaskClient) -> None:
    log_in(client, make_coordinator())
    response = post_form(client, "/coordinator/public/", is_enabled="y", contact_email="nope")
    assert response.status_code == 200
    assert (
        db.session.get(PublicSettings, 1) is None
        or not db.session.get(PublicSettings, 1).is_enabled
    )  # type: ignore[union-attr]


def test_the_settings_page_is_for_coordinators(app: Flask, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    assert client.get("/coordinator/public/").status_code == 302  # to the login
    log_in(client, sponsor)
    assert client.get("/coordinator/public/").status_code == 403


@pytest.mark.settings(PUBLIC_CACHE_SECONDS=600)
def test_a_withdrawn_consent_leaves_at_once_and_is_a_deletion_marker(
    app: Flask, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    prisoner = make_prisoner(name_latin="Maria Kalesnikava", has_public_consent=True)
    sponsor = make_sponsor(full_name="Jan Novak", has_public_consent=True)
    pairing = make_sponsorship(sponsor, prisoner, has_public_consent=True)
    switch_on()
    assert "Maria Kalesnikava" in client.get("/public/godparents").get_data(as_text=True)
    assert "Maria Kalesnikava" in client.get("/public/data.json").get_data(as_text=True)

    log_in(client, coordinator)
    form = client.get(f"/coordinator/prisoners/{prisoner.id}/edit")
    assert form.status_code == 200
    prisoner.has_public_consent = False
    db.session.commit()

    anonymous = client.application.test_client()
    assert "Maria Kalesnikava" not in anonymous.get("/public/godparents").get_data(as_text=True)
    assert anonymous.get(f"/public/prisoners/{prisoner.id}").status_code == 404
    feed = anonymous.get("/public/data.json").get_json()
    assert "Maria Kalesnikava" not in json.dumps(feed, ensure_ascii=False)
    deleted = {(d["type"], d["id"]) for d in feed["deleted"]}
    assert deleted == {("prisoner", prisoner.id), ("sponsorship", pairing.id)}


def test_deletion_markers_last_ninety_days(app: Flask, client: FlaskClient) -> None:
    prisoner = make_prisoner(has_public_consent=False)
    db.session.add_all(
        [
            ConsentEvent(
                record_type="prisoner",
                record_id=prisoner.id,
                is_given=False,
                created_at=utcnow() - timedelta(days=89),
            ),
            ConsentEvent(
                record_type="sponsor",
                record_id=9999,
                is_given=False,
                created_at=utcnow() - timedelta(days=92),
            ),
        ]
    )
    db.session.commit()
    switch_on()
    feed = client.get("/public/data.json").get_json()
    assert [(d["type"], d["id"]) for d in feed["deleted"]] == [("prisoner", prisoner.id)]


@pytest.mark.parametrize("path", ["/public/data.json", "/public/data.csv", "/public/news.atom"])
def test_unchanged_data_answers_304(app: Flask, client: FlaskClient, path: str) -> None:
    make_prisoner(has_public_consent=True)
    switch_on()
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    make_sponsorship(  # a new public godparenthood: in every one of these feeds
        make_sponsor(has_public_consent=True),
        make_prisoner(has_public_consent=True),
        has_public_consent=True,
    )
    changed = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_cors_only_on_the_feeds(app: Flask, client: FlaskClient) -> None:
    prisoner = make_prisoner(has_public_consent=True)
    switch_on()
    for path in ("/public/data.json", "/public/data.csv"):
        assert client.get(path).headers.get("Access-Control-Allow-Origin") == "*", path
    for path in (*PAGES, "/public/news.atom", "/public/sitemap.xml", "/healthz", "/auth/login"):
        assert "Access-Control-Allow-Origin" not in client.get(path).headers, path
    assert (
        "Access-Control-Allow-Origin" not in client.get(f"/public/prisoners/{prisoner.id}").headers
    )


def test_pages_keep_the_strict_headers_and_load_nothing_from_elsewhere(
    app: Flask, client: FlaskClient
) -> None:
    prisoner = make_prisoner(has_public_consent=True)
    switch_on()
    for path in (*PAGES, f"/public/prisoners/{prisoner.id}"):
        response = client.get(path)
        assert "default-src" in response.headers["Content-Security-Policy"]
        page = response.get_data(as_text=True)
        assert "<script>" not in page and "style=" not in page
        for attribute in ('src="http', 'href="http', "src='http"):
            assert attribute not in page, path
        assert "Set-Cookie" not in response.headers, path


def test_the_feed_lists_exactly_the_public_fields(app: Flask, client: FlaskClient) -> None:
    prisoner = make_prisoner(
        name_latin="Mikalai Statkevich",
        status=PrisonerStatus.SENTENCED,
        has_public_consent=True,
    )
    sponsor = make_sponsor(full_name="Eva Berg", has_public_consent=True)
    make_sponsorship(sponsor, prisoner, has_public_consent=True, status=SponsorshipStatus.ACTIVE)
    switch_on()
    feed: dict[str, Any] = client.get("/public/data.json").get_json()
    assert feed["schema_version"] == 1
    assert set(feed) == {
        "schema_version",
        "last_modified",
        "figures",
        "godparents",
        "prisoners",
        "godparenthoods",
        "deleted",
    }
    assert set(feed["prisoners"][0]) == {
        "id",
        "name_latin",
        "name_be",
        "name_ru",
        "status",
        "detained_on",
        "released_on",
        "days_in_detention",
        "bio",
        "photo_url",
        "facility",
        "postal_address",
        "can_receive_letters",
    }
    assert set(feed["godparents"][0]) == {
        "id",
        "name",
        "title",
        "parliament",
        "country",
        "party",
        "quote",
    }
    assert "@" not in json.dumps(feed)  # no email of anyone


def test_a_bad_csv_table_is_a_404(app: Flask, client: FlaskClient) -> None:
    switch_on()
    assert client.get("/public/data.csv?table=users").status_code == 404
    assert client.get("/public/prisoners/99999").status_code == 404


def test_browsers_get_the_same_answer_gzipped(app: Flask, client: FlaskClient) -> None:
    for number in range(30):
        make_prisoner(name_latin=f"Prisoner Number {number}", has_public_consent=True)
    switch_on()
    for path in ("/public/data.json", "/public/sitemap.xml"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.get_data()) == plain.get_data()
        assert packed.headers["ETag"] != plain.headers["ETag"]
        again = client.get(
            path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
        )
        assert again.status_code == 304


def test_a_coordinator_withdraws_a_godparenthoods_consent(app: Flask, client: FlaskClient) -> None:
    coordinator = make_coordinator()
    prisoner = make_prisoner(name_latin="Viktar Babaryka", has_public_consent=True)
    sponsor = make_sponsor(full_name="Ines Moreau", has_public_consent=True)
    pairing = make_sponsorship(sponsor, prisoner, has_public_consent=True)
    switch_on()
    log_in(client, coordinator)
    page = client.get(f"/coordinator/sponsors/{sponsor.id}").get_data(as_text=True)
    assert f"/coordinator/sponsorships/{pairing.id}/consent/withdraw" in page
    response = post_form(
        client,
        f"/coordinator/sponsorships/{pairing.id}/consent/withdraw",
        form_page=f"/coordinator/sponsors/{sponsor.id}",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not pairing.has_public_consent
    event = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
    assert event is not None
    assert (event.record_type.value, event.record_id, event.is_given) == (
        "sponsorship",
        pairing.id,
        False,
    )
    assert event.given_by_id == coordinator.id
    anonymous = client.application.test_client()
    assert "Viktar Babaryka" not in anonymous.get("/public/godparents").get_data(as_text=True)
    feed = anonymous.get("/public/data.json").get_json()
    assert feed["godparenthoods"] == []
    assert {"type": "sponsorship", "id": pairing.id} in [
        {"type": d["type"], "id": d["id"]} for d in feed["deleted"]
    ]
    page = client.get(f"/coordinator/sponsors/{sponsor.id}").get_data(as_text=True)
    assert f'/coordinator/sponsorships/{pairing.id}/consent"' in page


@pytest.mark.settings(PUBLIC_LIMIT_PER_ADDRESS="3 per minute")
def test_public_answers_are_throttled_per_address(app: Flask, client: FlaskClient) -> None:
    switch_on()
    assert [client.get("/public/data.json").status_code for _ in range(4)] == [200, 200, 200, 429]
    other = client.application.test_client()
    other.environ_base = {"REMOTE_ADDR": "192.0.2.7"}
    assert other.get("/public/").status_code == 200


def test_payloads_are_escaped_on_every_public_page_and_feed(
    app: Flask, client: FlaskClient
) -> None:
    payload = '<script>alert(1)</script>"&'
    prisoner = make_prisoner(
        name_latin=f"Ales {payload}",
        public_bio=f"Bio {payload}",
        has_public_consent=True,
        released_on=None,
    )
    sponsor = make_sponsor(
        full_name=f"Anna {payload}",
        body=f"Parliament {payload}",
        public_quote=f"Quote {payload}",
        has_public_consent=True,
    )
    make_sponsorship(sponsor, prisoner, has_public_consent=True)
    switch_on()
    for path, text in public_text(client, prisoner.id).items():
        if path.startswith("/public/data.") or path == "/public/data.csv":
            continue  # data, not markup: JSON and CSV carry the text as it is
        assert "<script>" not in text, path
    news = client.get("/public/news").get_data(as_text=True)
    assert "&lt;script&gt;" in news and f"/public/prisoners/{prisoner.id}?lang=" in news
    assert (
        client.get("/public/data.json").get_json()["prisoners"][0]["name_latin"].endswith(payload)
    )


def test_only_changes_to_what_is_shown_move_the_public_version(
    app: Flask, client: FlaskClient
) -> None:
    prisoner = make_prisoner(has_public_consent=True)
    pairing = make_sponsorship(make_sponsor(), prisoner)
    switch_on()

    def version() -> int:
        db.session.expire_all()
        return db.session.get(PublicSettings, 1).version  # type: ignore[union-attr]

    before = version()
    make_action(pairing, None)
    assert version() == before  # an action logged: the cached pages stay
    prisoner.public_bio = "Changed."
    db.session.commit()
    assert version() > before
