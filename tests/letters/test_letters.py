"""The print kit's pages and rules, without rendering layouts: envelopes (who may, what is
missing), the sender's address, templates and placeholders, the letter check, batches.

The PDFs themselves (text, sizes, fonts, pictures) are in test_letters_pdf.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.extensions import db
from godparents.letters import services
from godparents.letters.check import Word, check, matches
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion, WatchWord
from godparents.prisoners.models import PrisonerStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import SponsorshipStatus
from tests.factories import make_prisoner
from tests.helpers import Auth, count_rows, csrf_token, error_text, field_errors, summary_links
from tests.world import TeamSpec, World, build_world

ADDRESS = "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"
SENDER = "Dr. Anna Lindner MdB\nPlatz der Republik 1\n11011 Berlin\nGERMANY"


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(
        TeamSpec(
            sponsor={"full_name": "Anna Lindner", "body": "Bundestag", "postal_address": SENDER},
            delegate={"email": "office@example.org"},
            prisoner={
                "address": ADDRESS,
                "name_latin": "Ales Bialiatski",
                "name_be": "Алесь Бяляцкі",
                "birth_year": 1962,
            },
        ),
        TeamSpec(
            sponsor={"full_name": "Other Godparent", "body": "Nationalrat"},
            prisoner={"name_latin": "Someone Else"},
        ),
        coordinator={"email": "coordinator@example.org"},
    )


# --- Placeholders and the letter check, as plain functions ---------------------------------


def test_placeholders_are_filled_in_the_letters_language(world: World) -> None:
    world.prisoner.name_ru = "Алесь Беляцкий"
    text = "Дорогой {first_name}! Привет, {name}."
    assert services.fill(text, world.prisoner, LetterLanguage.RUSSIAN) == (
        "Дорогой Алесь! Привет, Алесь Беляцкий."
    )
    assert services.fill("{name}", world.prisoner, LetterLanguage.BELARUSIAN) == "Алесь Бяляцкі"
    assert services.unknown_placeholders("{name} {Name} {first_name} {surname} {}") == [
        "Name",
        "surname",
        "",
    ]


def test_the_check_marks_words_and_stems_in_four_languages_with_the_reason() -> None:
    words = [
        Word("свобод*", "Politics: freedom"),
        Word("вайн*", "The war"),
        Word("Freiheit*", "Politik"),
        Word("war", "The war"),
        Word("the case", "The case"),
        Word("ёлка", "test of е and ё"),
    ]
    text = "Желаю свободы! Без вайны. Freiheitskampf, the  case, war. Елка. Несвобода. Warm."
    segments = check(text, words)
    assert "".join(s.text for s in segments) == text
    found = [(s.text, s.reason) for s in matches(segments)]
    assert found == [
        ("свободы", "Politics: freedom"),
        ("вайны", "The war"),
        ("Freiheitskampf", "Politik"),
        ("the  case", "The case"),
        ("war", "The war"),
        ("Елка", "test of е and ё"),
    ]  # "Несвобода": words match from their start; "Warm": "war" is a whole word
    assert check("", words) == []
    assert matches(check("Всё хорошо", [])) == []
    assert matches(check("Всё хорошо", [Word("*", "empty"), Word("  ", "empty")])) == []


def test_the_demo_words_do_not_mark_the_demo_templates() -> None:
    """The demo's own templates pass the demo's own check (no "war" in "warm")."""
    from godparents.letters.demo import TEMPLATES, WATCH_WORDS

    words = [Word(phrase, reason) for phrase, _language, reason in WATCH_WORDS]
    for _occasion, _language, _title, body, german, english in TEMPLATES:
        for text in (body, german, english):
            assert matches(check(text, words)) == [], text


# --- Envelopes -------------------------------------------------------------------------------


def test_the_envelope_page_shows_the_address_and_both_sizes(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.delegate.email)
    page = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope")
    assert page.status_code == 200
    assert "Алесь Бяляцкі, 1962 г.р." in page.text
    assert 'data-envelope="dl"' in page.text and 'data-envelope="c6"' in page.text
    assert "Platz der Republik 1" in page.text


def test_the_godchild_page_links_to_the_envelope(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.sponsor.email or "")
    page = client.get(f"/sponsor/prisoners/{world.prisoner.id}")
    assert f'href="/sponsor/letters/prisoners/{world.prisoner.id}/envelope"' in page.text
    assert "data-print-envelope" in page.text


def test_an_unknown_postal_address_says_whom_to_ask_and_makes_no_pdf(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    world.prisoner.addresses[0].postal_address = None
    db.session.commit()
    auth.login(world.sponsor.email or "")
    page = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope")
    assert "data-address-unknown" in page.text and "data-envelope" not in page.text
    response = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope.pdf")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Postal address unknown." in response.text
    assert "Please ask the campaign" in response.text


def test_an_address_too_long_for_the_window_is_refused_with_a_message(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    world.prisoner.addresses[0].postal_address = (
        "220030, г. Минск, ул. Володарского, дом 2, корпус 1, исправительное учреждение "
        "«Следственный изолятор № 1» управления Департамента исполнения наказаний"
    )
    db.session.commit()
    auth.login(world.sponsor.email or "")
    page = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope")
    assert 'data-too-long="dl"' in page.text and 'data-too-long="c6"' in page.text
    assert "the address is too long for the envelope" in page.text
    response = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope.pdf?size=c6")
    assert response.status_code == 422 and response.mimetype == "text/html"


def test_without_a_sender_address_the_page_asks_for_one_and_saves_it(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    world.sponsor.postal_address = None
    db.session.commit()
    auth.login(world.delegate.email)
    path = f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope"
    page = client.get(path)
    assert "data-sender-missing" in page.text and "data-envelope" not in page.text
    assert client.get(f"{path}.pdf").status_code == 422

    token = csrf_token(client, path)
    too_many = "\n".join(f"line {n}" for n in range(8))
    response = client.post(
        f"/sponsor/letters/prisoners/{world.prisoner.id}/sender",
        data={"csrf_token": token, "postal_address": too_many},
    )
    assert response.status_code == 422
    assert "At most 6 lines" in error_text(response)
    db.session.expire_all()
    assert db.session.get(Sponsor, world.sponsor.id).postal_address is None

    response = client.post(
        f"/sponsor/letters/prisoners/{world.prisoner.id}/sender",
        data={"csrf_token": token, "postal_address": " Büro Lindner \r\n\r\n 11011 Berlin "},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Sponsor, world.sponsor.id).postal_address == "Büro Lindner\n11011 Berlin"


def test_another_team_and_coordinators_cannot_reach_an_envelope(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.other_sponsor.email or "")
    base = f"/sponsor/letters/prisoners/{world.prisoner.id}"
    for path in (f"{base}/envelope", f"{base}/envelope.pdf", f"{base}/letter"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/sponsor/")
    response = client.post(f"{base}/sender", data={"csrf_token": token, "postal_address": "Stolen"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Sponsor, world.sponsor.id).postal_address == SENDER
    auth.logout()
    auth.login(world.coordinator.email)
    assert client.get(f"{base}/envelope").status_code == 403


def test_an_ended_pairing_or_a_released_godchild_has_no_envelope(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.sponsor.email or "")
    path = f"/sponsor/letters/prisoners/{world.prisoner.id}/envelope"
    world.prisoner.status = PrisonerStatus.RELEASED
    db.session.commit()
    assert client.get(path).status_code == 404
    world.prisoner.status = PrisonerStatus.SENTENCED
    world.prisoner.sponsorships[0].status = SponsorshipStatus.ENDED
    world.prisoner.sponsorships[0].ended_on = date(2024, 1, 1)
    db.session.commit()
    assert client.get(path).status_code == 404


# --- Letters and templates -------------------------------------------------------------------


def _template(**fields) -> LetterTemplate:
    values = {
        "occasion": Occasion.BIRTHDAY,
        "language": LetterLanguage.BELARUSIAN,
        "title": "Birthday card",
        "body": "Дарагі {first_name}!\nЗ днём нараджэння! Жадаем свабоды.",
        "translation_de": "Lieber {first_name}! Alles Gute zum Geburtstag!",
        "translation_en": "Dear {first_name}! Happy birthday!",
        **fields,
    }
    template = LetterTemplate(**values)
    db.session.add(template)
    db.session.commit()
    return template


def test_a_godparent_writes_from_a_template_and_sees_the_check(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    template = _template()
    db.session.add(WatchWord(phrase="свабод*", language="be", reason="Politics: freedom"))
    db.session.commit()
    auth.login(world.sponsor.email or "")
    path = f"/sponsor/letters/prisoners/{world.prisoner.id}/letter"
    page = client.get(f"{path}?template={template.id}")
    assert page.status_code == 200
    assert "Дарагі Алесь!" in page.text
    assert 'data-translation="de"' in page.text and "Alles Gute zum Geburtstag" in page.text
    assert "Lieber Ales!" in page.text and "Dear Ales!" in page.text  # filled in, in Latin
    assert '<mark title="Politics: freedom">свабоды</mark>' in page.text

    token = csrf_token(client, f"{path}?template={template.id}")
    checked = client.post(
        f"{path}?template={template.id}",
        data={"csrf_token": token, "text": "Добры дзень! Усё добра.", "check": "1"},
    )
    assert checked.status_code == 200 and "data-check-clear" in checked.text
    printed = client.post(
        path, data={"csrf_token": token, "text": "Жадаем свабоды!", "submit": "1"}
    )
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.data.startswith(b"%PDF")
    assert printed.headers["Cache-Control"] == "private, no-store"


def test_a_template_with_an_unknown_placeholder_is_refused_at_the_field(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.coordinator.email)
    path = "/coordinator/letters/templates/new"
    token = csrf_token(client, path)
    data = {
        "csrf_token": token,
        "occasion": "birthday",
        "language": "ru",
        "title": "Birthday",
        "body": "Дорогой {имя}! С днём рождения, {first_name}!",
        "translation_en": "Dear {name}",
        "is_active": "y",
        "submit": "1",
    }
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "Unknown placeholder: {имя}" in error_text(response)
    assert "Дорогой {имя}!" in response.text  # nothing typed is lost
    assert count_rows(LetterTemplate) == 0

    response = client.post(path, data={**data, "body": "Дорогой {first_name}!"})
    assert response.status_code == 302
    saved = db.session.scalars(select(LetterTemplate)).one()
    assert saved.body == "Дорогой {first_name}!" and saved.language is LetterLanguage.RUSSIAN


def test_every_mistake_of_a_template_is_shown_at_once(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    """No title (the form's check) and an unknown placeholder (the rules') together."""
    auth.login(world.coordinator.email)
    path = "/coordinator/letters/templates/new"
    token = csrf_token(client, path)
    data = {
        "csrf_token": token,
        "occasion": "birthday",
        "language": "ru",
        "title": " ",
        "body": "Дорогой {имя}!",
        "submit": "1",
    }
    response = client.post(path, data=data)
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"title", "body"}
    assert errors["body"].startswith("Unknown placeholder: {имя}")
    assert summary_links(response) == ["title", "body"]
    assert count_rows(LetterTemplate) == 0


def test_the_template_form_highlights_words_on_check_without_saving(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    db.session.add(WatchWord(phrase="борьб*", language="ru", reason="“Struggle”"))
    db.session.commit()
    auth.login(world.coordinator.email)
    path = "/coordinator/letters/templates/new"
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "occasion": "support",
            "language": "ru",
            "title": "Support",
            "body": "Мы с тобой в твоей борьбе.",
            "check": "1",
        },
    )
    assert response.status_code == 200
    assert '<mark title="“Struggle”">борьбе</mark>' in response.text
    assert count_rows(LetterTemplate) == 0


def test_coordinators_keep_the_word_list(world: World, client: FlaskClient, auth: Auth) -> None:
    auth.login(world.coordinator.email)
    token = csrf_token(client, "/coordinator/letters/")
    data = {"csrf_token": token, "phrase": "  Krieg ", "language": "de", "reason": "Der Krieg"}
    assert client.post("/coordinator/letters/words", data=data).status_code == 302
    again = client.post("/coordinator/letters/words", data={**data, "phrase": "KRIEG"})
    assert again.status_code == 422 and "on the list already" in error_text(again)
    empty = client.post("/coordinator/letters/words", data={**data, "reason": ""})
    assert empty.status_code == 422
    word = db.session.scalars(select(WatchWord)).one()
    assert (word.phrase, word.language, word.reason) == ("Krieg", "de", "Der Krieg")
    response = client.post(
        f"/coordinator/letters/words/{word.id}/delete", data={"csrf_token": token}
    )
    assert response.status_code == 302 and count_rows(WatchWord) == 0


def test_every_mistake_of_a_watch_word_is_shown_at_once(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    db.session.add(WatchWord(phrase="Krieg", language="de", reason="Der Krieg"))
    db.session.commit()
    auth.login(world.coordinator.email)
    token = csrf_token(client, "/coordinator/letters/")
    data = {"csrf_token": token, "phrase": "KRIEG", "language": "de", "reason": ""}
    response = client.post("/coordinator/letters/words", data=data)
    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"phrase", "reason"}
    assert errors["phrase"] == "This word is on the list already."
    assert summary_links(response) == ["phrase", "reason"]
    assert count_rows(WatchWord) == 1


def test_godparents_cannot_reach_the_coordinators_pages(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    template = _template()
    auth.login(world.sponsor.email or "")
    for path in (
        "/coordinator/letters/",
        "/coordinator/letters/batch",
        "/coordinator/letters/batch/labels.pdf",
        f"/coordinator/letters/batch/letters.pdf?template={template.id}",
        f"/coordinator/letters/templates/{template.id}",
    ):
        assert client.get(path).status_code == 403, path


# --- Batches ---------------------------------------------------------------------------------


def test_a_batch_of_zero_prisoners_says_so_and_makes_no_pdf(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.coordinator.email)
    page = client.get("/coordinator/letters/batch?q=nobody-is-called-this")
    assert page.status_code == 200 and "data-empty-batch" in page.text
    response = client.get("/coordinator/letters/batch/labels.pdf?q=nobody-is-called-this")
    assert response.status_code == 422 and "data-empty-batch" in response.text
    template = _template()
    response = client.get(
        f"/coordinator/letters/batch/letters.pdf?q=nobody-is-called-this&template={template.id}"
    )
    assert response.status_code == 422


def test_batch_filters_by_birthday_month_and_parliament(world: World) -> None:
    world.prisoner.birth_date = date(1962, 9, 25)
    db.session.commit()
    march = make_prisoner(name_latin="Born In March", birth_date=date(1990, 3, 3))
    make_prisoner(name_latin="Nobody's Godchild", birth_date=date(1991, 9, 1), address=None)

    def names(**args: str) -> set[str]:
        found = services.batch(services.BatchFilters.from_args(args))
        people = [p for p, _text in found.printable] + found.unknown_address + found.too_long
        return {p.name_latin for p in people}

    assert names(month="9") == {"Ales Bialiatski", "Nobody's Godchild"}
    assert names(month="3") == {march.name_latin}
    assert names(parliament="Bundestag") == {"Ales Bialiatski"}
    assert names(parliament="Nationalrat") == {"Someone Else"}
    assert names(month="9", letters="yes", parliament="Bundestag") == {"Ales Bialiatski"}
    found = services.batch(services.BatchFilters.from_args({"month": "9"}))
    assert [p.name_latin for p in found.unknown_address] == ["Nobody's Godchild"]


def test_the_batch_page_lists_who_is_left_out_in_bounded_queries(
    world: World, client: FlaskClient, auth: Auth, count_queries
) -> None:
    auth.login(world.coordinator.email)
    client.get("/coordinator/letters/batch")
    counts = []
    for extra in (0, 30):
        for number in range(extra):
            make_prisoner(name_latin=f"Extra {number}", address=None if number % 3 else ADDRESS)
        with count_queries() as counter:
            page = client.get("/coordinator/letters/batch?status=held")
        assert page.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert 'data-left-out="unknown"' in page.text
    assert "and 0 more" not in page.text


def test_label_and_letter_batches_are_audited(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    from godparents.audit.models import AuditEvent

    template = _template()
    auth.login(world.coordinator.email)
    labels = client.get("/coordinator/letters/batch/labels.pdf?status=held")
    assert labels.status_code == 200 and labels.mimetype == "application/pdf"
    letters = client.get(
        f"/coordinator/letters/batch/letters.pdf?status=held&template={template.id}"
    )
    assert letters.status_code == 200 and letters.mimetype == "application/pdf"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["print_labels", "print_letters"]))
    ).all()
    assert sorted(e.action for e in events) == ["print_labels", "print_letters"]
    assert {e.changes.get("status") for e in events} == {"held"}


def test_letter_texts_carry_the_list_for_the_live_check(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    db.session.add(WatchWord(phrase="свабод*", language="be", reason='Politics "quoted"'))
    db.session.commit()
    auth.login(world.sponsor.email or "")
    page = client.get(f"/sponsor/letters/prisoners/{world.prisoner.id}/letter")
    assert "/static/js/letters.js" in page.text
    assert 'data-letter-check="[[&#34;свабод*&#34;, &#34;Politics \\&#34;quoted\\&#34;&#34;]]"' in (
        page.text
    )


def test_pages_print_without_navigation_and_buttons(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.sponsor.email or "")
    page = client.get(f"/sponsor/prisoners/{world.prisoner.id}")
    assert '/static/css/print.css" media="print"' in page.text
    css = (Path(__file__).resolve().parents[2] / "static/css/print.css").read_text()
    hidden = {selector.strip() for selector in css.split("*/", 1)[1].split("{")[0].split(",")}
    assert {"nav", "footer", "form", "button", ".btn", "[data-copy]"} <= hidden
    assert "display: none !important" in css


def test_the_coordinators_letters_page_runs_a_fixed_number_of_queries(
    world: World, client: FlaskClient, auth: Auth, count_queries
) -> None:
    auth.login(world.coordinator.email)
    counts = []
    for more in (1, 20):
        for number in range(more):
            db.session.add(WatchWord(phrase=f"слова{number}-{more}", language="be", reason="Why"))
            _template(title=f"Card {number}-{more}")
        with count_queries() as counter:
            page = client.get("/coordinator/letters/")
        assert page.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_prisoner_list_hands_its_filters_to_the_batch(
    world: World, client: FlaskClient, auth: Auth
) -> None:
    auth.login(world.coordinator.email)
    page = client.get("/coordinator/prisoners/?status=held&letters=yes&_scheme=javascript")
    assert (
        'href="/coordinator/letters/batch?status=held&amp;letters=yes&amp;_scheme=javascript"'
        in page.text
    )
    assert 'href="/coordinator/letters/"' in page.text
