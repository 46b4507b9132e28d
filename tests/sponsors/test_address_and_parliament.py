"""How a godparent is addressed and which parliament they sit in: the godparent form picks
both (a parliament from the list, or "other" as typed), the pages name the parliament in
the reader's language, and everyone sets their own salutation in their settings."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.auth.models import User
from godparents.extensions import db
from godparents.prisoners.models import Facility
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.models import Parliament, Sponsor
from godparents.sponsors.parliaments import ensure_parliaments
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, field_errors, post_form

INDEX = "/coordinator/sponsors/"
FORM = {
    "full_name": "Margarete Lindner",
    "title": "MdEP",
    "form_of_address": "female",
    "academic_title": "dr",
    "parliament_id": "",
    "body": "",
    "country": "DE",
    "language": "de",
    "is_active": "y",
}


def _parliament(name_en: str) -> Parliament:
    found = db.session.scalar(select(Parliament).where(Parliament.name_en == name_en))
    assert found is not None
    return found


def _coordinator(login_as: LoginAs, locale: str = "en") -> User:
    user = make_coordinator(locale=locale)
    login_as(user.email)
    return user


def test_a_godparent_is_placed_in_a_listed_parliament_and_addressed_as_chosen(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    ensure_parliaments()
    _coordinator(login_as)
    european = _parliament("European Parliament")
    response = post_form(client, f"{INDEX}new", **{**FORM, "parliament_id": str(european.id)})
    assert response.status_code == 302
    sponsor = db.session.scalars(select(Sponsor)).one()
    assert sponsor.parliament_id == european.id and sponsor.body == "European Parliament"
    assert sponsor.form_of_address is FormOfAddress.FEMALE
    assert sponsor.academic_title is AcademicTitle.DR
    assert sponsor.title == "MdEP"
    page = client.get(f"{INDEX}{sponsor.id}").get_data(as_text=True)
    assert "Dear Dr Lindner," in page and "Dr Margarete Lindner" in page


def test_other_takes_the_name_as_typed_and_links_a_listed_one(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    ensure_parliaments()
    _coordinator(login_as)
    post_form(client, f"{INDEX}new", **{**FORM, "body": "Landtag  Brandenburg"})
    post_form(client, f"{INDEX}new", **{**FORM, "full_name": "B", "body": "schweizer nationalrat"})
    typed, listed = db.session.scalars(select(Sponsor).order_by(Sponsor.id)).all()
    assert (typed.parliament_id, typed.body) == (None, "Landtag Brandenburg")
    # Typed in German, on the list: linked, and stored under its English name.
    assert listed.parliament_id == _parliament("Swiss National Council").id
    assert listed.body == "Swiss National Council"


def test_a_parliament_neither_chosen_nor_typed_is_asked_for_and_nothing_saved(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    _coordinator(login_as)
    response = post_form(client, f"{INDEX}new", **FORM)
    assert response.status_code == 200
    assert "Choose the parliament" in field_errors(response)["body"]
    for field, value in (("form_of_address", "madam"), ("academic_title", "phd")):
        response = post_form(client, f"{INDEX}new", **{**FORM, "body": "Sejm", field: value})
        assert response.status_code == 200 and field in field_errors(response)
    response = post_form(client, f"{INDEX}new", **{**FORM, "parliament_id": "99999"})
    assert response.status_code == 200 and "parliament_id" in field_errors(response)
    assert db.session.scalars(select(Sponsor)).all() == []


def test_the_registry_names_parliaments_in_the_readers_language(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    ensure_parliaments()
    _coordinator(login_as, locale="de")
    make_sponsor(
        body="Austrian National Council", parliament=_parliament("Austrian National Council")
    )
    make_sponsor(body="Landtag Brandenburg")
    page = client.get(INDEX).get_data(as_text=True)
    assert "<td>Österreichischer Nationalrat</td>" in page
    assert ">Austrian National Council<" not in page  # (the filter's value keeps it)
    assert "Landtag Brandenburg" in page  # free text stays as typed
    # The filter still filters by the stored name, and shows the German one.
    assert '<option value="Austrian National Council">Österreichischer Nationalrat</option>' in page
    edit = client.get(f"{INDEX}new").get_data(as_text=True)
    assert "Europäisches Parlament" in edit


def test_office_staff_set_their_name_and_salutation_in_their_settings(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    staff = make_delegate(make_sponsor())
    login_as(staff.email)
    response = post_form(
        client,
        "/account/",
        full_name="  Alex   Weber ",
        form_of_address="male",
        academic_title="prof",
        locale="de",
        timezone="Europe/Berlin",
        birthday_card_days="30",
    )
    assert response.status_code == 302
    db.session.refresh(staff)
    assert staff.full_name == "Alex Weber"
    assert (staff.form_of_address, staff.academic_title) == (
        FormOfAddress.MALE,
        AcademicTitle.PROF,
    )


def test_a_godparent_sets_their_salutation_on_their_record(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    assert sponsor.user is not None
    login_as(sponsor.user.email)
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="full_name"' not in page  # the coordinators keep a godparent's name
    post_form(
        client,
        "/account/",
        full_name="Someone Else",
        form_of_address="female",
        academic_title="",
        locale="en",
        timezone="Europe/Berlin",
        birthday_card_days="30",
    )
    db.session.refresh(sponsor)
    assert sponsor.full_name == "Anna Schmidt"
    assert (sponsor.form_of_address, sponsor.academic_title) == (FormOfAddress.FEMALE, None)
    assert sponsor.user.full_name is None


def test_the_home_names_the_facility_in_the_readers_language(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    sponsor = make_sponsor()
    held, typed = make_prisoner(), make_prisoner()
    held.addresses[0].facility_record = Facility(
        name_en="SIZO No. 1 (Minsk)", name_de="Untersuchungsgefängnis Nr. 1 (Minsk)"
    )
    typed.addresses[0].facility = "СИЗО-1 Минск"  # not in the registry: as typed
    db.session.commit()
    make_sponsorship(sponsor, held)
    make_sponsorship(sponsor, typed)
    assert sponsor.user is not None
    sponsor.user.locale = "de"
    db.session.commit()
    login_as(sponsor.user.email)
    german = client.get("/sponsor/").get_data(as_text=True)
    assert "Untersuchungsgefängnis Nr. 1 (Minsk)" in german and "SIZO No. 1" not in german
    assert "СИЗО-1 Минск" in german
    sponsor.user.locale = "en"
    db.session.commit()
    assert "SIZO No. 1 (Minsk)" in client.get("/sponsor/").get_data(as_text=True)
