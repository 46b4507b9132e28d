"""Facilities as records: the list, the edit form, the address form that matches them."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.extensions import db
from godparents.prisoners.facilities import postal_parts
from godparents.prisoners.models import Facility, FacilityKind, PrisonerAddress
from tests.factories import make_coordinator, make_prisoner
from tests.helpers import LoginAs, csrf_token

LIST = "/coordinator/prisoners/facilities/"


def _facility(**fields: object) -> Facility:
    facility = Facility(**{"name_en": "Penal colony No. 9 (Horki)", **fields})
    db.session.add(facility)
    db.session.commit()
    return facility


def test_the_list_shows_names_kind_address_and_who_is_held_there(
    login_as: LoginAs, client: FlaskClient
) -> None:
    known = _facility(kind=FacilityKind.PENAL_COLONY, postal_address="213410, г. Горки,\nИК-9")
    unknown = _facility(name_en="SIZO No. 8 (Žodzina)", kind=FacilityKind.PRETRIAL)
    prisoner = make_prisoner(address=None)
    prisoner.addresses.append(
        PrisonerAddress(facility="IK-9", facility_record=known, valid_from=date(2024, 1, 1))
    )
    db.session.commit()
    login_as(make_coordinator().email)
    page = client.get(LIST).text
    row = page.split(f'data-facility="{known.id}"')[1].split("</tr>")[0]
    assert "Penal colony" in row and "213410, г. Горки" in row and ">1</td>" in row
    only_unknown = client.get(LIST, query_string={"unknown": "1"}).text
    assert f'data-facility="{unknown.id}"' in only_unknown
    assert f'data-facility="{known.id}"' not in only_unknown


def test_the_form_saves_names_and_address_and_refuses_a_facility_without_a_name(
    login_as: LoginAs, client: FlaskClient
) -> None:
    facility = _facility()
    login_as(make_coordinator().email)
    path = f"/coordinator/prisoners/facilities/{facility.id}/edit"
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "kind": "penal_colony", "name_en": " "})
    assert refused.status_code == 200
    assert 'id="name_en-error"' in refused.text and "at least one language" in refused.text
    db.session.refresh(facility)
    assert facility.name_en == "Penal colony No. 9 (Horki)"
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "penal_colony",
            "name_en": "Penal colony No. 9 (Horki)",
            "name_de": "Strafkolonie Nr. 9 (Horki)",
            "name_ru": "ИК-9 (Горки)",
            "postal_address": "213410, Могилёвская обл.,\r\nг. Горки,\r\nул. Пролетарская, 17,"
            "\r\nИК-9",
        },
    )
    assert done.status_code == 302
    db.session.refresh(facility)
    assert facility.name_de == "Strafkolonie Nr. 9 (Horki)"
    assert (
        facility.postcode,
        facility.region,
        facility.town,
        facility.street,
        facility.institution,
    ) == ("213410", "Могилёвская обл.", "г. Горки", "ул. Пролетарская, 17", "ИК-9")
    assert facility.postal_address.splitlines()[-1] == "ИК-9"


def test_the_address_form_matches_a_facility_by_any_name_and_allows_no_postal_address(
    login_as: LoginAs, client: FlaskClient
) -> None:
    facility = _facility(name_ru="ИК-9", postal_address="213410, г. Горки,\nИК-9")
    prisoner = make_prisoner()
    login_as(make_coordinator().email)
    path = f"/coordinator/prisoners/{prisoner.id}/address"
    form = client.get(path).text
    assert '<option value="ИК-9">' in form  # the names are offered while typing
    done = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "facility": "ик-9",
            "valid_from": date.today().isoformat(),
        },
    )
    assert done.status_code == 302
    db.session.expire_all()
    current = db.session.get(type(prisoner), prisoner.id).current_address
    assert current.facility_id == facility.id and current.postal_address is None
    assert current.envelope_address == "213410, г. Горки,\nИК-9"  # the facility's
    assert db.session.scalar(select(func.count()).select_from(Facility)) == 1
    refused = client.post(
        path, data={"csrf_token": csrf_token(client, path), "valid_from": date.today().isoformat()}
    )
    assert "Enter the facility, the postal address" in refused.text


def test_postal_addresses_are_read_into_their_parts() -> None:
    parts = postal_parts("225295, Брестская обл.,\nИвацевичский р-н, п. Доманово,\nИК-22")
    assert (parts.postcode, parts.region, parts.town, parts.institution) == (
        "225295",
        "Брестская обл., Ивацевичский р-н",
        "п. Доманово",
        "ИК-22",
    )
    assert postal_parts("") == postal_parts(None)
