"""The coordinators' prisoner registry: access, search, filters, forms, addresses, key dates,
photos, and the number of queries of its pages."""

from __future__ import annotations

import csv
import html
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from godparents.extensions import db
from godparents.prisoners import services
from godparents.prisoners.models import (
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerPhoto,
    PrisonerStatus,
)
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from tests.conftest import SAMPLE_DATA
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import (
    Auth,
    LoginAs,
    count_rows,
    csrf_token,
    field_errors,
    post_form,
    summary_links,
)

SAMPLE_CSV = SAMPLE_DATA / "prisoners-sample.csv"
INDEX = "/coordinator/prisoners/"


def _today() -> date:
    return campaign_today("Europe/Berlin")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _rows(response) -> list[int]:
    """The ids of the prisoners listed, in order."""
    return [int(i) for i in re.findall(r'<tr data-prisoner="(\d+)"', response.text)]


def _row(response, prisoner: Prisoner) -> str:
    """The table row of this prisoner in the list."""
    return response.text.split(f'data-prisoner="{prisoner.id}"')[1].split("</tr>")[0]


def _url(web_app: Flask, endpoint: str, **values: int) -> str:
    """A path of the served app. Pass plain values, never ORM attributes: loading one inside
    the served app's context would borrow a connection from its engine and keep it."""
    with web_app.test_request_context():
        return url_for(endpoint, **values)


def _login_coordinator(login_as: LoginAs) -> None:
    login_as(make_coordinator())


# Access ---------------------------------------------------------------------------------------


@dataclass
class Registry:
    prisoner: Prisoner
    key_date: KeyDate


@pytest.fixture
def registry(app: Flask) -> Registry:
    prisoner = make_prisoner(name_latin="Alena Krautsova")
    key_date = KeyDate(prisoner=prisoner, kind=KeyDateKind.TRIAL, occurs_on=date(2026, 3, 1))
    db.session.add(key_date)
    db.session.add(PrisonerPhoto(prisoner=prisoner, content=b"\xff\xd8jpeg", mimetype="image/jpeg"))
    db.session.commit()
    return Registry(prisoner, key_date)


def _routes(r: Registry) -> list[tuple[str, str]]:
    p, k = r.prisoner.id, r.key_date.id
    return [
        ("GET", INDEX),
        ("GET", f"{INDEX}{p}"),
        ("GET", f"{INDEX}new"),
        ("POST", f"{INDEX}new"),
        ("GET", f"{INDEX}{p}/edit"),
        ("POST", f"{INDEX}{p}/edit"),
        ("GET", f"{INDEX}{p}/address"),
        ("POST", f"{INDEX}{p}/address"),
        ("POST", f"{INDEX}{p}/key-dates"),
        ("POST", f"{INDEX}{p}/key-dates/{k}/delete"),
        ("POST", f"{INDEX}{p}/photo"),
        ("GET", f"{INDEX}{p}/photo"),
    ]


def _request(client: FlaskClient, method: str, path: str, token_page: str):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client, token_page)})


def test_anonymous_users_are_sent_to_login(registry: Registry, client: FlaskClient) -> None:
    for method, path in _routes(registry):
        response = _request(client, method, path, "/auth/login")
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login?next="), (method, path)
    assert count_rows(KeyDate) == 1


def test_sponsors_and_delegates_get_403_everywhere(
    login_as: LoginAs, registry: Registry, auth: Auth, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    make_sponsorship(sponsor, registry.prisoner)  # even the godparent of this prisoner
    delegate = make_delegate(sponsor)
    for email in (sponsor.email, delegate.email):
        login_as(email)
        for method, path in _routes(registry):
            response = _request(client, method, path, "/sponsor/")
            assert response.status_code == 403, (email, method, path)
        auth.logout()
    assert count_rows(KeyDate) == 1 and count_rows(Prisoner) == 1


def test_coordinators_see_every_page(
    registry: Registry, login_as: LoginAs, client: FlaskClient
) -> None:
    _login_coordinator(login_as)
    for method, path in _routes(registry):
        if method == "GET":
            assert client.get(path).status_code == 200, path


# Search ---------------------------------------------------------------------------------------


def _sample_prisoners() -> dict[str, tuple[Prisoner, list[str]]]:
    """The sample CSV's prisoners, by external id, each with every spelling of their name."""
    found = {}
    with SAMPLE_CSV.open(encoding="utf-8-sig", newline="") as sample:
        for row in csv.DictReader(sample):
            aliases = [a for a in row["aliases"].split(";") if a]
            prisoner = make_prisoner(
                name_latin=row["name_latin"],
                name_be=row["name_be"],
                name_ru=row["name_ru"],
                aliases=aliases,
            )
            spellings = [row["name_latin"], row["name_be"], row["name_ru"], *aliases]
            found[row["external_id"]] = (prisoner, spellings)
    return found


def _search(client: FlaskClient, q: str, **filters) -> list[int]:
    response = client.get(INDEX, query_string={"q": q, **filters})
    assert response.status_code == 200
    return _rows(response)


def test_search_finds_each_sample_prisoner_by_every_spelling(
    login_as: LoginAs, client: FlaskClient
) -> None:
    sample = _sample_prisoners()
    _login_coordinator(login_as)
    for prisoner, spellings in sample.values():
        for spelling in spellings:
            assert _search(client, spelling) == [prisoner.id], spelling
            assert _search(client, spelling.upper()) == [prisoner.id], spelling
    vasilenka = sample["demo-001"][0].id
    lasitski = sample["demo-004"][0].id
    for spelling in (
        "Andrei Vasilenka",
        "Андрэй Васіленка",
        "Андрей Василенко",
        "Andrej Vasilenko",
        "andrey vasilenko",
        "vasilen",
    ):
        assert _search(client, spelling) == [vasilenka], spelling
    for spelling in (
        "Ihar Lasitski",
        "Igor Lositsky",
        "Ігар Ласіцкі",
        "Игорь Лосицкий",
        "ЛОСИЦКИЙ",
    ):
        assert _search(client, spelling) == [lasitski], spelling


def test_search_ignores_case_and_diacritics(login_as: LoginAs, client: FlaskClient) -> None:
    bialiatski = make_prisoner(
        name_latin="Ales Bialiatski",
        name_be="Алесь Бяляцкі",
        name_ru="Алесь Беляцкий",
        aliases=["Aleś Białacki"],
    )
    krautsova = make_prisoner(
        name_latin="Alena Krautsova", name_be="Алена Краўцова", name_ru="Елена Кравцова"
    )
    make_prisoner(name_latin="Somebody Else")
    _login_coordinator(login_as)
    for q in (
        "bialacki",
        "Bialacki",
        "BIAŁACKI",
        "Białacki",
        "aleś",
        "беляцкий",
        "БЯЛЯЦКІ",
        "бяляцкі",
    ):
        assert _search(client, q) == [bialiatski.id], q
    for q in ("krautsova", "KRAUTSOVA", "Краўцова", "краўцова", "кравцова"):
        assert _search(client, q) == [krautsova.id], q


@pytest.mark.parametrize("q", ["%", "_", "a%e", "\\"])
def test_like_wildcards_in_the_search_are_plain_characters(
    login_as: LoginAs, client: FlaskClient, q: str
) -> None:
    make_prisoner(name_latin="Alena Krautsova")
    _login_coordinator(login_as)
    response = client.get(INDEX, query_string={"q": q})
    assert _rows(response) == []
    assert "No prisoner matches" in response.text


def test_empty_registry_says_what_to_do(
    login_as: LoginAs, client: FlaskClient, web_app: Flask
) -> None:
    _login_coordinator(login_as)
    page = _text(client.get(INDEX))
    assert "No prisoners yet: add one or import a CSV." in page
    assert f'href="{INDEX}new"' in page and "Add a prisoner" in page
    for endpoint in ("prisoners.import_upload", "prisoners.export"):
        if endpoint in web_app.view_functions:
            assert f'href="{_url(web_app, endpoint)}"' in page, endpoint


def test_pages_have_no_inline_styles_or_scripts_and_unique_ids(
    registry: Registry, login_as: LoginAs, client: FlaskClient
) -> None:
    make_sponsorship(make_sponsor(), registry.prisoner)
    _login_coordinator(login_as)
    p = registry.prisoner.id
    for path in (INDEX, f"{INDEX}{p}", f"{INDEX}new", f"{INDEX}{p}/edit", f"{INDEX}{p}/address"):
        page = client.get(path).text
        assert "style=" not in page and "<script>" not in page
        assert not re.search(r'\son[a-z]+="', page)  # no inline event handlers
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))


# Filters, sorting, pagination -----------------------------------------------------------------


@dataclass
class Listed:
    paired_twice: Prisoner
    formerly_paired: Prisoner
    released: Prisoner
    pretrial_no_letters: Prisoner


@pytest.fixture
def listed(app: Flask) -> Listed:
    paired_twice = make_prisoner(name_latin="Boris Paired", detained_on=date(2021, 1, 1))
    make_sponsorship(make_sponsor(), paired_twice)
    make_sponsorship(make_sponsor(), paired_twice)
    make_sponsorship(
        make_sponsor(),
        paired_twice,
        status=SponsorshipStatus.ENDED,
        ended_on=date(2023, 1, 1),
        end_reason=EndReason.WITHDREW,
    )
    formerly = make_prisoner(name_latin="Anna Former", detained_on=date(2022, 6, 1))
    make_sponsorship(
        make_sponsor(),
        formerly,
        status=SponsorshipStatus.ENDED,
        ended_on=date(2023, 1, 1),
        end_reason=EndReason.MANDATE_ENDED,
    )
    make_sponsorship(make_sponsor(), formerly, status=SponsorshipStatus.PROPOSED)
    released = make_prisoner(
        name_latin="Cyril Free",
        status=PrisonerStatus.RELEASED,
        detained_on=date(2020, 5, 5),
        released_on=date(2024, 5, 5),
    )
    make_sponsorship(make_sponsor(), released)
    pretrial = make_prisoner(
        name_latin="Dana Pretrial",
        status=PrisonerStatus.PRETRIAL,
        detained_on=date(2025, 2, 2),
        can_receive_letters=False,
    )
    return Listed(paired_twice, formerly, released, pretrial)


def test_filters(listed: Listed, login_as: LoginAs, client: FlaskClient) -> None:
    _login_coordinator(login_as)
    l = listed  # noqa: E741

    def ids(**args) -> set[int]:
        response = client.get(INDEX, query_string=args)
        assert response.status_code == 200
        rows = _rows(response)
        assert len(rows) == len(set(rows)), "a prisoner is listed twice"
        return set(rows)

    everyone = {l.paired_twice.id, l.formerly_paired.id, l.released.id, l.pretrial_no_letters.id}
    assert ids() == everyone
    assert ids(status="held") == everyone - {l.released.id}
    assert ids(status="released") == {l.released.id}
    assert ids(status="pretrial") == {l.pretrial_no_letters.id}
    assert ids(godparent="yes") == {l.paired_twice.id, l.released.id}
    # Anna Former has a godparent proposed: on the way, so not "without".
    assert ids(godparent="no") == {l.pretrial_no_letters.id}
    assert ids(letters="no") == {l.pretrial_no_letters.id}
    assert ids(letters="yes") == everyone - {l.pretrial_no_letters.id}
    assert ids(status="held", godparent="yes", letters="yes") == {l.paired_twice.id}
    assert ids(status="held", godparent="no", q="anna") == set()  # proposed: not without
    # Anything not understood is ignored, never an error.
    assert (
        ids(status="bogus", godparent="maybe", letters="1", sort="drop table", page="x") == everyone
    )
    assert ids(page="-3", sort="-") == everyone
    # Nobody has said whether letters reach her: "not known", the coordinators' to-do.
    unknown = make_prisoner(name_latin="Eva Unknown", can_receive_letters=None)
    assert ids(letters="unknown") == {unknown.id}
    assert unknown.id not in ids(letters="yes") | ids(letters="no")
    assert unknown.id in ids()
    page = client.get(INDEX, query_string={"letters": "unknown"}).get_data(as_text=True)
    assert '<option value="unknown" selected>' in page
    response = client.get(INDEX, query_string={"status": "died"})
    assert "No prisoner matches" in response.text


def test_the_list_shows_counts_days_and_letters(
    listed: Listed, login_as: LoginAs, client: FlaskClient
) -> None:
    _login_coordinator(login_as)
    row = _row(client.get(INDEX, query_string={"q": "Boris"}), listed.paired_twice)
    assert re.search(r"data-godparents>2<", row)  # two active pairings; the ended one not
    days = (_today() - date(2021, 1, 1)).days
    assert f"{days:,}" in row and "Sentenced" in row and ">yes<" in row
    row = _row(client.get(INDEX, query_string={"q": "Cyril"}), listed.released)
    assert f"{(_today() - date(2020, 5, 5)).days:,}" not in row  # no longer held


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Anna Former", "Boris Paired", "Cyril Free", "Dana Pretrial"]),
        ("-name", ["Dana Pretrial", "Cyril Free", "Boris Paired", "Anna Former"]),
        ("detained_on", ["Cyril Free", "Boris Paired", "Anna Former", "Dana Pretrial"]),
        ("-detained_on", ["Dana Pretrial", "Anna Former", "Boris Paired", "Cyril Free"]),
        ("days", ["Dana Pretrial", "Anna Former", "Boris Paired", "Cyril Free"]),
        ("-days", ["Cyril Free", "Boris Paired", "Anna Former", "Dana Pretrial"]),
        ("-godparents", ["Boris Paired", "Cyril Free", "Anna Former", "Dana Pretrial"]),
        ("godparents", ["Anna Former", "Dana Pretrial", "Cyril Free", "Boris Paired"]),
        # In the order of the life cycle; ties in the order of entry.
        ("status", ["Dana Pretrial", "Boris Paired", "Anna Former", "Cyril Free"]),
        ("-status", ["Cyril Free", "Boris Paired", "Anna Former", "Dana Pretrial"]),
    ],
)
def test_sorting_both_ways(
    listed: Listed, login_as: LoginAs, client: FlaskClient, sort: str, expected: list[str]
) -> None:
    _login_coordinator(login_as)
    response = client.get(INDEX, query_string={"sort": sort})
    names = {p.id: p.name_latin for p in db.session.scalars(select(Prisoner))}
    assert [names[i] for i in _rows(response)] == expected


def test_column_headers_toggle_the_sort_and_keep_the_filters(
    listed: Listed, login_as: LoginAs, client: FlaskClient
) -> None:
    _login_coordinator(login_as)
    page = _text(client.get(INDEX, query_string={"q": "a", "sort": "name", "status": "held"}))
    link = re.search(r'href="([^"]*sort=-name[^"]*)"', page).group(1)
    assert "q=a" in link and "status=held" in link


def _bulk_prisoners(count: int, start: int = 0) -> None:
    db.session.add_all(
        [
            Prisoner(
                name_latin=f"Bulk {start + i:04d}",
                status=PrisonerStatus.SENTENCED,
                detained_on=date(2021, 1, 1) + timedelta(days=i % 900),
                aliases=[f"Alias {i}"],
                can_receive_letters=bool(i % 2),
            )
            for i in range(count)
        ]
    )
    db.session.commit()


def test_pagination(login_as: LoginAs, client: FlaskClient) -> None:
    _bulk_prisoners(120)
    _login_coordinator(login_as)
    first = client.get(INDEX)
    assert len(_rows(first)) == 50 and "120 entries" in first.text
    third = client.get(INDEX, query_string={"page": 3})
    assert len(_rows(third)) == 20
    assert not set(_rows(first)) & set(_rows(third))
    beyond = client.get(INDEX, query_string={"page": 9})
    assert beyond.status_code == 200 and _rows(beyond) == []
    assert "There are no entries on this page." in beyond.text


def test_the_list_runs_a_fixed_number_of_queries(
    login_as: LoginAs, client: FlaskClient, count_queries
) -> None:
    sponsor = make_sponsor()
    for i in range(10):
        prisoner = make_prisoner(name_latin=f"Seed {i}", aliases=[f"Seed alias {i}"])
        make_sponsorship(sponsor, prisoner)
    _login_coordinator(login_as)
    variants = [
        {},
        {"q": "seed", "godparent": "yes", "status": "held", "letters": "yes"},
        {"sort": "-godparents"},
        {"sort": "days", "godparent": "no"},
    ]

    def counts() -> list[int]:
        result = []
        for args in variants:
            with count_queries() as counter:
                assert client.get(INDEX, query_string=args).status_code == 200
            result.append(counter.count)
        return result

    few = counts()
    _bulk_prisoners(500)
    more_sponsor = make_sponsor()
    db.session.add_all(
        [
            Sponsorship(sponsor=more_sponsor, prisoner=p, status=SponsorshipStatus.ACTIVE)
            for p in db.session.scalars(select(Prisoner).limit(200))
            if not p.name_latin.startswith("Seed")
        ]
    )
    db.session.commit()
    assert counts() == few


# The detail page ------------------------------------------------------------------------------


def test_detail_shows_everything_to_coordinators(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner(
        name_latin="Andrei Vasilenka",
        name_be="Андрэй Васіленка",
        name_ru="Андрей Василенко",
        aliases=["Andrej Vasilenko"],
        articles=["342", "361-1"],
        sentence="8 years",
        health_notes="Needs insulin",
        notes="Lawyer visited in May",
        public_bio="Defender.",
        external_id="demo-001",
        source_url="https://example.org/p/1",
        birth_date=date(1979, 3, 14),
        birth_year=1979,
    )
    db.session.add(
        PrisonerAddress(
            prisoner=prisoner,
            facility="Penal colony No. 3",
            postal_address="211300, г. Витебск,\nИК-3",
            valid_from=date(2023, 1, 1),
        )
    )
    db.session.add(
        KeyDate(
            prisoner=prisoner,
            kind=KeyDateKind.APPEAL,
            occurs_on=date(2026, 4, 1),
            note="Regional court",
        )
    )
    current = make_sponsor(full_name="Anna Schmidt")
    make_sponsorship(current, prisoner)
    make_sponsorship(
        make_sponsor(full_name="Jan Kowalski"),
        prisoner,
        status=SponsorshipStatus.ENDED,
        ended_on=date(2023, 5, 1),
        end_reason=EndReason.MANDATE_ENDED,
    )
    _login_coordinator(login_as)
    page = _text(client.get(f"{INDEX}{prisoner.id}"))
    for expected in (
        "Andrei Vasilenka",
        "Андрэй Васіленка",
        "Андрей Василенко",
        "Andrej Vasilenko",
        "342, 361-1",
        "8 years",
        "Needs insulin",
        "Lawyer visited in May",
        "Defender.",
        "demo-001",
        "https://example.org/p/1",
        "211300, г. Витебск,\nИК-3",
        "Penal colony No. 3",
        "SIZO No. 1 (Minsk)",
        "Regional court",
        "Appeal hearing",
        "Anna Schmidt",
        "Jan Kowalski",
        "Mandate ended",
        "14 March 1979",
    ):
        assert expected in page, expected
    history = page.split("data-address-history")[1]
    assert "ул. Володарского" in history  # the older address, in the history
    assert page.index("Anna Schmidt") < page.index("Jan Kowalski")  # active first
    days = (_today() - prisoner.detained_on).days
    assert f"{days:,} days in detention" in page


def test_detail_of_an_unknown_prisoner_is_404(login_as: LoginAs, client: FlaskClient) -> None:
    _login_coordinator(login_as)
    assert client.get(f"{INDEX}2147483647").status_code == 404
    assert client.get(f"{INDEX}2147483647/edit").status_code == 404
    assert client.get(f"{INDEX}2147483647/address").status_code == 404
    assert client.get(f"{INDEX}2147483647/photo").status_code == 404


@pytest.fixture
def other_pages(web_app: Flask) -> Iterator[None]:
    """The pairing pages this registry links to, standing in if they are not built yet."""

    def placeholder(prisoner_id: int = 0) -> str:
        return "placeholder"

    if "sponsorships.release" not in web_app.view_functions:
        web_app.add_url_rule(
            "/test/prisoners/<int:prisoner_id>/release", "sponsorships.release", placeholder
        )
    if "sponsorships.create" not in web_app.view_functions:
        web_app.add_url_rule("/test/sponsorships/new", "sponsorships.create", placeholder)
    yield


def test_detail_links_to_release_and_pairing_while_held(
    other_pages: None, login_as: LoginAs, client: FlaskClient, web_app: Flask
) -> None:
    held = make_prisoner()
    free = make_prisoner(status=PrisonerStatus.RELEASED)
    _login_coordinator(login_as)
    release = _url(web_app, "sponsorships.release", prisoner_id=held.id)
    pair = _url(web_app, "sponsorships.create", prisoner_id=held.id)
    page = _text(client.get(f"{INDEX}{held.id}"))
    assert "Record release" in page and f'href="{release}"' in page
    assert "Pair a godparent" in page and f'href="{pair}"' in page
    assert "No godparent yet: pair one." in page
    assert "Record release" not in _text(client.get(f"{INDEX}{free.id}"))


def test_detail_runs_a_fixed_number_of_queries(
    login_as: LoginAs, client: FlaskClient, count_queries
) -> None:
    prisoner = make_prisoner()
    make_sponsorship(make_sponsor(), prisoner)
    _login_coordinator(login_as)
    with count_queries() as few:
        assert client.get(f"{INDEX}{prisoner.id}").status_code == 200
    for i in range(8):
        make_sponsorship(
            make_sponsor(),
            prisoner,
            status=SponsorshipStatus.ENDED,
            ended_on=date(2023, 1, 1),
            end_reason=EndReason.OTHER,
        )
        db.session.add(
            PrisonerAddress(
                prisoner=prisoner,
                postal_address=f"Address {i}",
                valid_from=date(2022, 1, 1) + timedelta(days=i),
            )
        )
        db.session.add(
            KeyDate(
                prisoner=prisoner,
                kind=KeyDateKind.HEARING,
                occurs_on=date(2026, 1, 1) + timedelta(days=i),
            )
        )
    db.session.add(PrisonerPhoto(prisoner=prisoner, content=b"jpeg", mimetype="image/jpeg"))
    db.session.commit()
    with count_queries() as many:
        page = client.get(f"{INDEX}{prisoner.id}").text
    assert page.count("data-pairing=") == 9 and page.count("data-key-date=") == 8
    assert many.count == few.count


# Create and edit ------------------------------------------------------------------------------


def _prisoner_form(**overrides) -> dict[str, str]:
    values = {
        "name_latin": "Maryia Rubtsova-Sidarenka",
        "name_be": "Марыя Рубцова-Сідарэнка",
        "name_ru": "Мария Рубцова-Сидоренко",
        "aliases": "Maria Rubtsova-Sidorenko\r\nMarja Rubcova; Maryja",
        "gender": "f",
        "birth_date": "1995-12-31",
        "birth_year": "",
        "status": "sentenced",
        "detained_on": "2020-09-17",
        "released_on": "",
        "articles": "342; 285-2\n293-3",
        "sentence": "15 years",
        "expected_release_on": "2035-09-16",
        "can_receive_letters": "y",
        "health_notes": "Asthma",
        "public_bio": "Volunteer.",
        "notes": "Family in Vilnius",
        "source_url": "https://example.org/prisoners/demo-005",
        "external_id": "demo-005",
        "has_public_consent": "y",
        "last_verified_on": "2025-11-01",
        "facility": "Penal colony No. 24 (Zarechcha)",
        "postal_address": "247210, Гомельская обл., Речицкий р-н,\r\nп. Заречье, ИК-24",
        "valid_from": "2024-02-01",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def test_create_a_prisoner_with_every_field(login_as: LoginAs, client: FlaskClient) -> None:
    _login_coordinator(login_as)
    form_page = client.get(f"{INDEX}new").text
    assert f'value="{_today().isoformat()}"' in form_page  # valid_from defaults to today
    response = post_form(client, f"{INDEX}new", **_prisoner_form())
    assert response.status_code == 302
    prisoner = db.session.scalar(select(Prisoner))
    assert response.headers["Location"] == f"{INDEX}{prisoner.id}"
    assert prisoner.name_be == "Марыя Рубцова-Сідарэнка"
    assert prisoner.aliases == ["Maria Rubtsova-Sidorenko", "Marja Rubcova", "Maryja"]
    assert prisoner.articles == ["342", "285-2", "293-3"]
    assert prisoner.gender.value == "f"
    assert (prisoner.birth_date, prisoner.birth_year) == (date(1995, 12, 31), 1995)
    assert prisoner.status is PrisonerStatus.SENTENCED
    assert prisoner.can_receive_letters and prisoner.has_public_consent
    assert (prisoner.health_notes, prisoner.notes) == ("Asthma", "Family in Vilnius")
    assert prisoner.external_id == "demo-005"
    assert prisoner.last_verified_on == date(2025, 11, 1)
    address = prisoner.current_address
    assert address.postal_address == "247210, Гомельская обл., Речицкий р-н,\nп. Заречье, ИК-24"
    assert address.valid_from == date(2024, 2, 1)
    assert address.facility == "Penal colony No. 24 (Zarechcha)"
    assert _search(client, "rubcova") == [prisoner.id]


def test_create_with_year_only_and_no_address(login_as: LoginAs, client: FlaskClient) -> None:
    _login_coordinator(login_as)
    response = post_form(
        client,
        f"{INDEX}new",
        **_prisoner_form(
            birth_date="",
            birth_year="1965",
            facility="",
            postal_address="",
            external_id="",
            gender="",
            can_receive_letters=None,
            has_public_consent=None,
            source_url="",
        ),
    )
    assert response.status_code == 302
    prisoner = db.session.scalar(select(Prisoner))
    assert (prisoner.birth_date, prisoner.birth_year) == (None, 1965)
    assert prisoner.addresses == [] and prisoner.gender is None
    assert prisoner.external_id == f"godparents-{prisoner.id}"  # so exports import back
    assert prisoner.source_url is None
    assert not prisoner.can_receive_letters and not prisoner.has_public_consent


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name_latin": "  "}, "name_latin", "This field is required."),
        ({"birth_date": "", "birth_year": "1899"}, "birth_year", "Enter a year from 1900"),
        ({"birth_date": "", "birth_year": "2999"}, "birth_year", "Enter a year from 1900"),
        ({"birth_date": "", "birth_year": "nineteen"}, "birth_year", "integer"),
        (
            {"birth_date": "1995-12-31", "birth_year": "1996"},
            "birth_year",
            "This does not match the birth date (1995).",
        ),
        ({"birth_date": "2999-01-01"}, "birth_date", "This date is in the future."),
        ({"birth_date": "31.12.1995"}, "birth_date", "Enter a date such as"),
        (
            {"detained_on": "2021-07-14", "released_on": "2021-07-13"},
            "released_on",
            "This is before the detention (14 Jul 2021).",
        ),
        ({"source_url": "javascript:alert(1)"}, "source_url", "starting with https://"),
        ({"source_url": "ftp://example.org/x"}, "source_url", "starting with https://"),
        ({"status": "free"}, "status", "Not a valid choice"),
        ({"gender": "q"}, "gender", "Not a valid choice"),
        ({"facility": "I" * 301, "postal_address": " "}, "facility", "longer than 300"),
        ({"valid_from": "2999-01-01"}, "valid_from", "This date is in the future."),
    ],
)
def test_bad_input_is_shown_at_its_field_and_nothing_is_written(
    login_as: LoginAs, client: FlaskClient, overrides: dict[str, str], field: str, message: str
) -> None:
    _login_coordinator(login_as)
    response = post_form(client, f"{INDEX}new", **_prisoner_form(**overrides))
    assert response.status_code == 200
    errors = field_errors(response)
    assert field in errors and message in errors[field], errors
    assert count_rows(Prisoner) == 0 and count_rows(PrisonerAddress) == 0
    assert 'value="Maryia Rubtsova-Sidarenka"' in response.text or field == "name_latin"


def test_every_mistake_of_a_submit_is_shown_at_once_with_a_summary(
    login_as: LoginAs, client: FlaskClient
) -> None:
    """A form's own checks and the registry's rules in one answer: three round trips
    would be one per mistake otherwise."""
    make_prisoner(external_id="demo-005")
    _login_coordinator(login_as)
    response = post_form(
        client,
        f"{INDEX}new",
        **_prisoner_form(
            name_latin=" ",  # the form's own check
            birth_date="31.02.1995",  # a date it cannot read
            birth_year="1899",  # the registry's rules, checked although the form failed
            detained_on="2021-07-14",
            released_on="2021-07-13",
            external_id="demo-005",
        ),
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"name_latin", "birth_date", "birth_year", "released_on", "external_id"}
    assert "This is before the detention (14 Jul 2021)." in errors["released_on"]
    summary = response.text.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert "There are 5 problems" in summary
    links = re.findall(r'<a href="#([\w-]+)"', summary)
    assert sorted(links) == sorted(errors)
    assert count_rows(Prisoner) == 1


@pytest.mark.parametrize(
    ("mistake", "field"),
    [
        ({"released_on": "2020-09-16"}, "released_on"),  # a rule: both found by the service
        ({"name_latin": " "}, "name_latin"),  # the form's own check
    ],
)
def test_a_new_prisoners_first_address_is_judged_with_the_rest(
    login_as: LoginAs, client: FlaskClient, mistake: dict, field: str
) -> None:
    _login_coordinator(login_as)
    response = post_form(
        client, f"{INDEX}new", **_prisoner_form(valid_from="2999-01-01", **mistake)
    )
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {field, "valid_from"}
    assert errors["valid_from"] == "This date is in the future."
    assert summary_links(response) == [field, "valid_from"]
    assert count_rows(Prisoner) == 0 and count_rows(PrisonerAddress) == 0


def test_an_external_id_clash_is_an_error_at_the_field(
    login_as: LoginAs, client: FlaskClient
) -> None:
    taken = make_prisoner(external_id="demo-005")
    other = make_prisoner(external_id="demo-006")
    _login_coordinator(login_as)
    response = post_form(client, f"{INDEX}new", **_prisoner_form(external_id=" demo-005 "))
    assert response.status_code == 200
    assert field_errors(response)["external_id"] == "Another prisoner already has this external id."
    assert count_rows(Prisoner) == 2
    path = f"{INDEX}{other.id}/edit"
    response = post_form(client, path, **_prisoner_form(external_id="demo-005"))
    assert "external_id" in field_errors(response)
    db.session.refresh(other)
    assert other.external_id == "demo-006" and other.name_latin != "Maryia Rubtsova-Sidarenka"
    # Keeping one's own id is fine.
    response = post_form(
        client, f"{INDEX}{taken.id}/edit", **_prisoner_form(external_id="demo-005")
    )
    assert response.status_code == 302


def test_an_external_id_taken_in_a_race_is_still_an_error_at_the_field(
    login_as: LoginAs, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_prisoner(external_id="demo-005")
    other = make_prisoner(name_latin="Other One")
    # As if another coordinator took the id between the check and the commit.
    monkeypatch.setattr(
        services, "_check_external_id", lambda external_id, prisoner_id: external_id.strip()
    )
    _login_coordinator(login_as)
    response = post_form(client, f"{INDEX}new", **_prisoner_form(external_id="demo-005"))
    assert response.status_code == 200
    assert field_errors(response)["external_id"] == "Another prisoner already has this external id."
    response = post_form(
        client, f"{INDEX}{other.id}/edit", **_prisoner_form(external_id="demo-005")
    )
    assert response.status_code == 200 and "external_id" in field_errors(response)
    assert count_rows(Prisoner) == 2
    db.session.refresh(other)
    assert other.name_latin == "Other One"


def test_edit_shows_the_stored_values_and_saves_changes(
    login_as: LoginAs, client: FlaskClient
) -> None:
    prisoner = make_prisoner(
        name_latin="Ihar Lasitski",
        aliases=["Igor Lositsky", "Ilya Zaytsev"],
        articles=["342", "361-1"],
        birth_year=1970,
    )
    _login_coordinator(login_as)
    path = f"{INDEX}{prisoner.id}/edit"
    form_page = _text(client.get(path))
    assert "Igor Lositsky\nIlya Zaytsev</textarea>" in form_page
    assert "342; 361-1" in form_page and 'value="1970"' in form_page
    response = post_form(
        client,
        path,
        **_prisoner_form(
            name_latin="Ihar Lasitski",
            aliases="Igor Lositsky",
            external_id="demo-004",
            facility=None,
            postal_address=None,
            valid_from=None,
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{INDEX}{prisoner.id}"
    db.session.refresh(prisoner)
    assert prisoner.aliases == ["Igor Lositsky"] and prisoner.external_id == "demo-004"
    assert prisoner.birth_year == 1995  # taken from the birth date
    assert len(prisoner.addresses) == 1  # editing never touches the addresses
    assert _search(client, "Zaytsev") == []  # the alias taken away


def test_edit_to_released_with_godparents_leads_to_ending_the_pairings(
    login_as: LoginAs, client: FlaskClient, web_app: Flask
) -> None:
    paired = make_prisoner(name_latin="Paired One")
    make_sponsorship(make_sponsor(), paired)
    unpaired = make_prisoner(name_latin="Unpaired One")
    _login_coordinator(login_as)
    form = _prisoner_form(
        name_latin="Paired One", status="released", released_on="2025-06-21", external_id=""
    )
    response = post_form(client, f"{INDEX}{paired.id}/edit", **form)
    assert response.status_code == 302
    if "sponsorships.release" in web_app.view_functions:
        release = _url(web_app, "sponsorships.release", prisoner_id=paired.id)
        assert response.headers["Location"] == release
    else:
        assert response.headers["Location"] == f"{INDEX}{paired.id}#pairings"
    message = "Paired One still has godparents. Please end or hand over their godparenthoods."
    assert message in _text(client.get(f"{INDEX}{paired.id}"))

    response = post_form(
        client, f"{INDEX}{unpaired.id}/edit", **{**form, "name_latin": "Unpaired One"}
    )
    assert response.headers["Location"] == f"{INDEX}{unpaired.id}"
    assert "still has godparents" not in _text(client.get(f"{INDEX}{unpaired.id}"))


# Addresses ------------------------------------------------------------------------------------


def test_a_new_address_keeps_the_history(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner()  # the factory's address is valid from 2021-07-14
    _login_coordinator(login_as)
    path = f"{INDEX}{prisoner.id}/address"
    assert f'value="{_today().isoformat()}"' in client.get(path).text
    response = post_form(
        client,
        path,
        facility="Penal colony No. 3",
        postal_address="211300, г. Витебск,\r\nИК-3",
        valid_from="2024-03-01",
    )
    assert response.status_code == 302
    addresses = db.session.scalars(select(PrisonerAddress).order_by(PrisonerAddress.id)).all()
    assert [a.valid_from for a in addresses] == [date(2021, 7, 14), date(2024, 3, 1)]
    db.session.refresh(prisoner)
    assert prisoner.current_address.postal_address == "211300, г. Витебск,\nИК-3"
    page = _text(client.get(f"{INDEX}{prisoner.id}"))
    assert "ул. Володарского" in page.split("data-address-history")[1]


@pytest.mark.parametrize(
    ("valid_from", "message"),
    [
        ("2999-01-01", "This date is in the future."),
        ("2021-07-13", "The current address is valid from 14 Jul 2021; choose that day or later."),
        ("", "This field is required."),
    ],
)
def test_a_new_address_may_not_predate_the_current_one(
    login_as: LoginAs, client: FlaskClient, valid_from: str, message: str
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    path = f"{INDEX}{prisoner.id}/address"
    response = post_form(client, path, postal_address="Somewhere", valid_from=valid_from)
    assert response.status_code == 200
    assert message in field_errors(response)["valid_from"]
    assert count_rows(PrisonerAddress) == 1


def test_a_new_address_needs_the_address(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner(address=None)
    _login_coordinator(login_as)
    path = f"{INDEX}{prisoner.id}/address"
    response = post_form(client, path, postal_address="   ", valid_from=_today().isoformat())
    assert "postal_address" in field_errors(response)
    response = post_form(client, path, postal_address="Минск", valid_from="2020-01-01")
    assert response.status_code == 302  # the first address may be from any past day
    assert count_rows(PrisonerAddress) == 1


@pytest.mark.parametrize(
    ("valid_from", "date_message"),
    [
        ("2999-01-01", "This date is in the future."),  # the rules' own
        ("31.02.2024", "Enter a date such as"),  # the form's: the rules still judge the rest
    ],
)
def test_every_mistake_of_a_new_address_is_shown_at_once(
    login_as: LoginAs, client: FlaskClient, valid_from: str, date_message: str
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    path = f"{INDEX}{prisoner.id}/address"
    response = post_form(client, path, facility=" ", postal_address=" ", valid_from=valid_from)
    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"postal_address", "valid_from"}
    assert errors["postal_address"].startswith("Enter the facility, the postal address")
    assert date_message in errors["valid_from"]
    assert summary_links(response) == ["postal_address", "valid_from"]
    assert count_rows(PrisonerAddress) == 1


# Key dates ------------------------------------------------------------------------------------


def test_add_and_delete_key_dates(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    detail = f"{INDEX}{prisoner.id}"
    response = post_form(
        client,
        f"{detail}/key-dates",
        detail,
        kind="appeal",
        occurs_on="2026-05-04",
        is_yearly="y",
        note="Minsk regional court",
    )
    assert response.status_code == 302
    key_date = db.session.scalar(select(KeyDate))
    assert (key_date.kind, key_date.occurs_on, key_date.is_yearly, key_date.note) == (
        KeyDateKind.APPEAL,
        date(2026, 5, 4),
        True,
        "Minsk regional court",
    )
    assert "Minsk regional court" in _text(client.get(detail))

    response = post_form(client, f"{detail}/key-dates/{key_date.id}/delete", detail)
    assert response.status_code == 302
    assert count_rows(KeyDate) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "birthday", "occurs_on": "2026-05-04"}, "kind"),
        ({"kind": "trial", "occurs_on": ""}, "occurs_on"),
        ({"kind": "trial", "occurs_on": "soon"}, "occurs_on"),
        ({"kind": "trial", "occurs_on": "2026-05-04", "note": "x" * 501}, "note"),
    ],
)
def test_a_bad_key_date_is_shown_at_its_field(
    login_as: LoginAs, client: FlaskClient, data: dict[str, str], field: str
) -> None:
    prisoner = make_prisoner(name_latin="Keyed Prisoner")
    _login_coordinator(login_as)
    detail = f"{INDEX}{prisoner.id}"
    response = post_form(client, f"{detail}/key-dates", detail, **data)
    assert response.status_code == 200
    assert field in field_errors(response) and "Keyed Prisoner" in response.text
    assert count_rows(KeyDate) == 0


def test_another_prisoners_key_date_cannot_be_deleted(
    login_as: LoginAs, client: FlaskClient
) -> None:
    mine, other = make_prisoner(), make_prisoner()
    key_date = KeyDate(prisoner=other, kind=KeyDateKind.TRIAL, occurs_on=date(2026, 1, 1))
    db.session.add(key_date)
    db.session.commit()
    _login_coordinator(login_as)
    detail = f"{INDEX}{mine.id}"
    response = post_form(client, f"{detail}/key-dates/{key_date.id}/delete", detail)
    assert response.status_code == 404
    response = post_form(client, f"{detail}/key-dates/999999/delete", detail)
    assert response.status_code == 404
    assert count_rows(KeyDate) == 1


# Photos ---------------------------------------------------------------------------------------


def _image(fmt: str, size: tuple[int, int] = (40, 30), **save) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(out, fmt, **save)
    return out.getvalue()


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (1200, 900), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (53.0, 54.0, 0.0), 3: "E", 4: (27.0, 33.0, 0.0)}  # GPS
    out = BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at the secret place")
    return out.getvalue()


def _png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def _upload(client: FlaskClient, prisoner: Prisoner, content: bytes, filename: str):
    detail = f"{INDEX}{prisoner.id}"
    token = csrf_token(client, detail)
    return client.post(
        f"{detail}/photo",
        content_type="multipart/form-data",
        data={"csrf_token": token, "photo": (BytesIO(content), filename)},
    )


def _stored_photo(prisoner: Prisoner) -> PrisonerPhoto:
    db.session.expire_all()
    return db.session.get(PrisonerPhoto, prisoner.id)


def test_a_png_is_stored_as_a_smaller_jpeg(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    response = _upload(client, prisoner, _image("PNG", (2000, 1000)), "portrait.png")
    assert response.status_code == 302
    photo = _stored_photo(prisoner)
    assert photo.mimetype == "image/jpeg"
    with Image.open(BytesIO(photo.content)) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert stored.size == (800, 400)
    served = client.get(f"{INDEX}{prisoner.id}/photo")
    assert served.status_code == 200 and served.data == photo.content
    assert served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "private, no-store"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert f'src="{INDEX}{prisoner.id}/photo"' in client.get(f"{INDEX}{prisoner.id}").text


def test_exif_and_gps_are_stripped_and_a_new_photo_replaces_the_old(
    login_as: LoginAs, client: FlaskClient
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    original = _jpeg_with_gps()
    with Image.open(BytesIO(original)) as check:  # the test file really has them
        assert check.getexif().get_ifd(0x8825) and check.info.get("comment")
    assert _upload(client, prisoner, _image("PNG"), "first.png").status_code == 302
    assert _upload(client, prisoner, original, "gps.jpg").status_code == 302
    assert count_rows(PrisonerPhoto) == 1
    photo = _stored_photo(prisoner)
    with Image.open(BytesIO(photo.content)) as stored:
        assert stored.size == (800, 600)
        assert not stored.getexif() and "exif" not in stored.info
        assert "comment" not in stored.info
    assert b"secret place" not in photo.content and b"CameraMaker" not in photo.content


def test_orientation_is_applied_and_transparency_becomes_white(
    login_as: LoginAs, client: FlaskClient
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show rotated by 90 degrees
    out = BytesIO()
    Image.new("RGB", (200, 100), (0, 0, 0)).save(out, "JPEG", exif=exif)
    assert _upload(client, prisoner, out.getvalue(), "turned.jpg").status_code == 302
    with Image.open(BytesIO(_stored_photo(prisoner).content)) as stored:
        assert stored.size == (100, 200)

    out = BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(out, "PNG")
    assert _upload(client, prisoner, out.getvalue(), "clear.png").status_code == 302
    with Image.open(BytesIO(_stored_photo(prisoner).content)) as stored:
        assert all(channel > 245 for channel in stored.getpixel((10, 10)))


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"Just some text pretending to be a picture.\n", "photo.jpg"),
        (b"\xff\xd8\xff\xe0 broken jpeg", "photo.jpg"),
        (b"%PDF-1.4\n%\xe2\xe3", "photo.png"),
        (b"", "empty.jpg"),
    ],
)
def test_a_file_that_is_not_a_picture_is_refused_at_the_field(
    login_as: LoginAs, client: FlaskClient, content: bytes, filename: str
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    response = _upload(client, prisoner, content, filename)
    assert response.status_code == 200
    assert "photo" in field_errors(response)
    assert count_rows(PrisonerPhoto) == 0


def test_truncated_and_unsupported_pictures_are_refused(
    login_as: LoginAs, client: FlaskClient
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    png = _image("PNG", (300, 300))
    jpeg = _image("JPEG", (300, 300))
    for content in (png[: len(png) // 2], jpeg[: len(jpeg) // 2], _image("BMP"), _image("TIFF")):
        response = _upload(client, prisoner, content, "photo.jpg")
        assert response.status_code == 200
        assert "not a picture we can read" in field_errors(response)["photo"]
    assert count_rows(PrisonerPhoto) == 0


@pytest.mark.parametrize("size", [(20_000, 20_000), (10_000, 10_000), (9_000, 9_000)])
def test_a_decompression_bomb_is_refused(
    login_as: LoginAs, client: FlaskClient, size: tuple[int, int]
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    response = _upload(client, prisoner, _png_claiming_size(*size), "bomb.png")
    assert response.status_code == 200
    assert "photo" in field_errors(response)
    assert count_rows(PrisonerPhoto) == 0


@pytest.mark.settings(PHOTO_MAX_BYTES=2000)
def test_an_oversized_photo_is_refused(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    big = _image("PNG", (400, 400), compress_level=0)
    assert len(big) > 2000
    response = _upload(client, prisoner, big, "big.png")
    assert response.status_code == 200
    assert "too large" in field_errors(response)["photo"]
    assert count_rows(PrisonerPhoto) == 0
    assert _upload(client, prisoner, _image("JPEG", (20, 20)), "small.jpg").status_code == 302


@pytest.mark.settings(MAX_CONTENT_LENGTH=50_000)
def test_a_request_over_the_global_limit_is_refused(login_as: LoginAs, client: FlaskClient) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    response = _upload(client, prisoner, b"\0" * 60_000, "huge.png")
    assert response.status_code == 413
    assert count_rows(PrisonerPhoto) == 0


def test_an_upload_without_a_file_is_an_error_at_the_field(
    login_as: LoginAs, client: FlaskClient
) -> None:
    prisoner = make_prisoner()
    _login_coordinator(login_as)
    response = post_form(client, f"{INDEX}{prisoner.id}/photo", f"{INDEX}{prisoner.id}")
    assert response.status_code == 200 and "photo" in field_errors(response)


def test_public_photos_only_with_consent(client: FlaskClient, login_as: LoginAs) -> None:
    consenting = make_prisoner(has_public_consent=True)
    private = make_prisoner(has_public_consent=False)
    consenting_without_photo = make_prisoner(has_public_consent=True)
    for prisoner in (consenting, private):
        db.session.add(
            PrisonerPhoto(prisoner=prisoner, content=_image("JPEG"), mimetype="image/jpeg")
        )
    db.session.commit()

    response = client.get(f"/photos/{consenting.id}.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == _stored_photo(consenting).content
    assert response.headers["Cache-Control"].startswith("public")
    for prisoner_id in (private.id, consenting_without_photo.id, 999999):
        assert client.get(f"/photos/{prisoner_id}.jpg").status_code == 404
    # A sponsor who is not the godparent sees no more than anyone else.
    login_as(make_sponsor().email)
    assert client.get(f"/photos/{private.id}.jpg").status_code == 404
    assert client.get(f"{INDEX}{private.id}/photo").status_code == 403
    assert client.get(f"/sponsor/prisoners/{private.id}/photo").status_code == 404
