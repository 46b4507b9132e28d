"""Possible duplicates are flagged with a link; two records of one prisoner are merged and
nothing is lost."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select

from godparents.actions.models import Action, ActionKind
from godparents.audit.models import AuditEvent
from godparents.extensions import db
from godparents.prisoners.import_plan import plan_import
from godparents.prisoners.import_read import read_prisoners
from godparents.prisoners.models import (
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerPhoto,
)
from godparents.sponsorships.models import Sponsorship
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs, count_rows, csrf_token


def test_a_prisoner_created_twice_is_flagged_with_a_link(
    login_as: LoginAs, client: FlaskClient
) -> None:
    first = make_prisoner(
        name_latin="Alena Krautsova",
        name_be="Алена Краўцова",
        birth_year=1988,
        external_id="viasna-1",
    )
    make_prisoner(name_latin="Alena Krautsova", birth_year=1960)  # another Alena
    login_as(make_coordinator().email)
    token = csrf_token(client, "/coordinator/prisoners/new")
    created = client.post(
        "/coordinator/prisoners/new",
        data={
            "csrf_token": token,
            "name_latin": "Olena Kravtsova",
            "name_ru": "Елена Кравцова",
            "birth_year": "1988",
            "status": "sentenced",
            "gender": "",
        },
    )
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).text
    panel = page.split('id="duplicates"')[1].split("</div>")[0]
    assert f'href="/coordinator/prisoners/{first.id}"' in panel and "viasna-1" in panel
    assert panel.count("data-duplicate=") == 1
    assert "/merge?other=" in panel


def _world() -> tuple[Prisoner, Prisoner]:
    """Two records of one person, each with godparents, actions, addresses, dates."""
    kept = make_prisoner(
        name_latin="Andrei Vasilenka",
        name_be="Андрэй Васіленка",
        external_id="viasna-17",
        birth_year=1979,
        aliases=["Andrej V."],
    )
    other = make_prisoner(
        name_latin="Andrey Vasilenko",
        name_ru="Андрей Василенко",
        external_id="hrc-3",
        birth_date=date(1979, 3, 14),
        birth_year=1979,
        address="211300, г. Витебск,\nИК-3",
        detained_on=date(2021, 7, 1),
        sentence="8 years",
        articles=["342"],
    )
    both, only_other = make_sponsor(full_name="Both"), make_sponsor(full_name="Only other")
    make_sponsorship(both, kept)
    for pairing in (make_sponsorship(both, other), make_sponsorship(only_other, other)):
        db.session.add(
            Action(
                sponsorship=pairing,
                kind=ActionKind.LETTER,
                occurred_on=date(2025, 5, 1),
                summary="A letter",
            )
        )
    db.session.add(KeyDate(prisoner=other, kind=KeyDateKind.APPEAL, occurs_on=date(2026, 2, 1)))
    db.session.add(
        PrisonerPhoto(prisoner_id=other.id, content=b"\xff\xd8jpeg", mimetype="image/jpeg")
    )
    db.session.commit()
    return kept, other


def test_merging_moves_everything_and_loses_nothing(login_as: LoginAs, client: FlaskClient) -> None:
    kept, other = _world()
    kept_id, other_id = kept.id, other.id
    before = {
        model: count_rows(model)
        for model in (Sponsorship, Action, PrisonerAddress, KeyDate, PrisonerPhoto)
    }
    coordinator = make_coordinator()
    login_as(coordinator.email)
    path = f"/coordinator/prisoners/{kept_id}/merge?other={other_id}"
    page = client.get(path)
    assert page.status_code == 200 and "Andrey Vasilenko" in page.text
    done = client.post(
        f"/coordinator/prisoners/{kept_id}/merge",
        data={"csrf_token": csrf_token(client, path), "other": str(other_id)},
    )
    assert done.status_code == 302
    assert (
        "2 godparenthoods, 2 actions, 1 addresses and 1 key dates"
        in client.get(done.headers["Location"]).text
    )

    db.session.expire_all()
    after = {model: count_rows(model) for model in before}
    assert after == before  # every pairing, action, address, date and the photo
    assert db.session.get(Prisoner, other_id) is None
    kept = db.session.get(Prisoner, kept_id)
    statuses = sorted((p.sponsor.full_name, p.status.value) for p in kept.sponsorships)
    assert statuses == [("Both", "active"), ("Both", "ended"), ("Only other", "active")]
    assert count_rows(Action, Action.sponsorship_id.in_([p.id for p in kept.sponsorships])) == 2
    assert (kept.birth_date, kept.detained_on, kept.sentence) == (
        date(1979, 3, 14),
        date(2021, 7, 14),
        "8 years",
    )  # its own date kept, gaps filled
    assert kept.name_ru == "Андрей Василенко" and "Andrey Vasilenko" in kept.aliases
    assert kept.articles == ["342"] and kept.former_external_ids == ["hrc-3"]
    assert len(kept.addresses) == 2 and len(kept.key_dates) == 1
    assert db.session.get(PrisonerPhoto, kept_id) is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert event.actor_id == coordinator.id and event.object_id == kept_id
    assert event.changes["merged"]["external_id"] == "hrc-3"
    assert event.changes["pairings_ended"] == 1
    # An import naming the merged record's id finds the kept one.
    plan = plan_import(
        read_prisoners(
            "external_id,name_latin,sentence\r\nhrc-3,Andrey Vasilenko,9 years\r\n"
        ).rows,
        db.session,
    )
    assert plan.created == [] and [c.prisoner_id for c in plan.changed] == [kept_id]


def test_merging_a_record_with_itself_or_nothing_is_refused(
    login_as: LoginAs, client: FlaskClient
) -> None:
    kept, _other = _world()
    login_as(make_coordinator().email)
    path = f"/coordinator/prisoners/{kept.id}/merge"
    assert client.get(path).status_code == 404  # no other record named
    assert client.get(f"{path}?other=999999").status_code == 404
    refused = client.post(
        path,
        data={"csrf_token": csrf_token(client, f"{path}?other={kept.id}"), "other": str(kept.id)},
    )
    assert refused.status_code == 302
    assert "Choose another prisoner" in client.get(refused.headers["Location"]).text
    assert count_rows(Prisoner) == 2
