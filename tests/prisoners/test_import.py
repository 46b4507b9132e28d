"""Importing prisoners (CSV and XLSX): reading, planning, applying; command line and pages.

The sample files are in shared/data (``SAMPLE_DATA``); the other files are made here.
"""

from __future__ import annotations

import io
import os
import re
import stat
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from godparents.audit.models import AuditEvent
from godparents.dashboard import services as dashboard
from godparents.extensions import db
from godparents.prisoners import csvio, import_mapping
from godparents.prisoners.fullnames import split_full_name
from godparents.prisoners.import_apply import apply_import
from godparents.prisoners.import_plan import plan_import
from godparents.prisoners.import_read import read_prisoners
from godparents.prisoners.models import (
    Facility,
    FacilityKind,
    Gender,
    ImportMapping,
    Prisoner,
    PrisonerAddress,
    PrisonerStatus,
)
from godparents.search import key_words
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import Auth, LoginAs, count_rows, csrf_token
from tests.prisoners.test_csv import (
    BAD,
    CONFIRM,
    IMPORT,
    SAMPLE,
    SEMICOLON,
    TODAY,
    TOKEN_FIELD,
    _by_external_id,
    _events,
    _export,
    _import,
    _snapshot,
    _wipe_prisoners,
)


@pytest.fixture
def config(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Uploads wait in this test's own folder, not in the project's instance folder."""
    return {**config, "PRISONER_IMPORT_FOLDER": str(tmp_path / "imports")}


# Reading and checking -------------------------------------------------------------------------


def test_both_sample_files_import_identically(app) -> None:
    plan = _import(SAMPLE.read_bytes())
    assert (len(plan.created), len(plan.changed)) == (5, 0)
    comma = _snapshot()
    _wipe_prisoners()
    _import(SEMICOLON.read_bytes())
    assert _snapshot() == comma

    andrei = _by_external_id("demo-001")
    assert andrei.name_be == "Андрэй Васіленка" and andrei.gender is Gender.MALE
    assert {
        "andrei",
        "vasilenka",
        "андрэй",
        "васіленка",
        "андрей",
        "василенко",
        "andrej",
        "vasilenko",
        "andrey",
        "wassilenko",
    } <= set(key_words(andrei.search_text))
    assert andrei.aliases == ["Andrej Vasilenko", "Andrey Vasilenko"]
    assert andrei.articles == ["342", "361-1"]
    assert andrei.sentence == "8 years, reinforced-regime colony"
    assert (andrei.birth_date, andrei.birth_year) == (date(1979, 3, 14), 1979)
    assert andrei.has_public_consent is True and andrei.can_receive_letters is True
    assert andrei.public_bio == "Human rights defender; documented arrests at peaceful protests."
    [address] = andrei.addresses
    assert address.facility == "Penal colony No. 3 (Viciebsk)"
    assert address.postal_address == "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"
    assert address.valid_from == TODAY
    pavel = _by_external_id("demo-003")
    assert pavel.name_latin == 'Pavel "Pasha" Zhuk'
    assert (pavel.birth_year, pavel.birth_date) == (1965, None)
    assert pavel.status is PrisonerStatus.PRETRIAL and pavel.has_public_consent is False
    assert _by_external_id("demo-002").can_receive_letters is False
    ihar = _by_external_id("demo-004")
    assert ihar.addresses == [] and ihar.birth_year is None
    assert ihar.released_on == date(2025, 6, 21) and ihar.articles == ["342", "361-1", "130-3"]


def test_rows_are_numbered_by_the_physical_line_they_start_on(app) -> None:
    for path in (SAMPLE, SEMICOLON):  # quoted addresses span three lines each
        rows = read_prisoners(path.read_bytes()).rows
        assert [(row.line, row.external_id) for row in rows] == [
            (2, "demo-001"),
            (5, "demo-002"),
            (8, "demo-003"),
            (11, "demo-004"),
            (12, "demo-005"),
        ]


def test_bad_file_reports_every_problem_and_writes_nothing(app) -> None:
    result = read_prisoners(BAD.read_bytes())
    found = {(error.line, error.column) for error in result.errors}
    assert found == {
        (3, "name_latin"),  # missing required value
        (3, "birth_date"),  # impossible date 1970-13-01
        (4, "status"),  # unknown status
        (4, "can_receive_letters"),  # unknown boolean
        (5, "released_on"),  # released before detained
        (6, "external_id"),  # bad-001 again
    }
    messages = {(error.line, error.column): error.message for error in result.errors}
    assert "1970-13-01" in messages[(3, "birth_date")]
    assert "imprisoned" in messages[(4, "status")]
    assert "maybe" in messages[(4, "can_receive_letters")]
    assert "line 2" in messages[(6, "external_id")]
    assert [row.external_id for row in result.rows] == ["bad-001"]  # valid, but not written:
    assert count_rows(Prisoner) == 0


def _header(*columns: str) -> str:
    return ",".join(columns or csvio.COLUMNS) + "\r\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_header("external_id", "name_latin", "nickname"), [(1, "nickname")]),
        (_header("external_id", "status"), [(1, "name_latin")]),
        (_header("external_id", "name_latin", "name_latin"), [(1, "name_latin")]),
        (_header("external_id", "name_latin") + "a,A\r\nb,B,extra\r\n", [(3, "")]),
        (_header("external_id", "name_latin") + 'a,"A\r\nb,B\r\n', [(2, "")]),
        (
            _header("external_id", "name_latin") + "a,\r\na,A\r\n",
            [(2, "name_latin"), (3, "external_id")],
        ),
        (_header("external_id", "name_latin", ""), [(1, "")]),
        ("", [(1, "")]),
    ],
)
def test_file_level_problems(app, text: str, expected: list[tuple[int, str]]) -> None:
    result = read_prisoners(text)
    assert [(error.line, error.column) for error in result.errors] == expected


def test_not_utf8_and_binary_files_are_refused_with_the_line(app) -> None:
    latin1 = _header("external_id", "name_latin").encode() + "a,Łukasz\r\nb,Müller\r\n".encode(
        "cp1250"
    )
    [error] = read_prisoners(latin1).errors
    assert error.line == 2 and "UTF-8" in error.message
    [error] = read_prisoners(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").errors
    assert "binary" in error.message


def test_cells_are_read_leniently_where_it_is_safe(app) -> None:
    text = (
        _header(
            "external_id",
            "name_latin",
            "gender",
            "status",
            "aliases",
            "can_receive_letters",
            "is_public",
            "source_url",
            "birth_date",
        )
        + " x-1 , Name ,F,Sentenced, a ; ;b ,TRUE,0,https://example.org/x,\r\n"
        + "\r\n,,,,,,,,\r\n"  # a blank line and an empty row: skipped
        + "x-2,Other,,released,,,,,1990\r\n"
    )
    result = read_prisoners(text)
    assert result.ok, result.errors
    first, second = result.rows
    assert first.external_id == "x-1" and first.line == 2 and second.line == 5
    assert first.values["name_latin"] == "Name" and first.values["gender"] is Gender.FEMALE
    assert first.values["status"] is PrisonerStatus.SENTENCED
    assert first.values["aliases"] == ["a", "b"]
    assert (first.values["can_receive_letters"], first.values["is_public"]) == (True, False)
    assert second.values["can_receive_letters"] is None  # empty: not known (issue 16)
    assert second.values["birth_date"] == 1990


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("gender", "male"),
        ("birth_date", "03/14/1979"),
        ("birth_date", "2021-02-29"),
        ("detained_on", "2021-7-14"),
        ("source_url", "javascript:alert(1)"),
        ("source_url", "example.org"),
        ("is_public", "ja"),
        ("name_be", "Я" * 201),
    ],
)
def test_bad_cells_are_reported_at_their_column(app, column: str, cell: str) -> None:
    result = read_prisoners(_header("external_id", "name_latin", column) + f"x-1,Name,{cell}\r\n")
    assert [(error.line, error.column) for error in result.errors] == [(2, column)]


# Upsert ---------------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(app) -> None:
    _import(SAMPLE.read_bytes())
    before = (_snapshot(), count_rows(PrisonerAddress), count_rows(AuditEvent))
    plan = _import(SAMPLE.read_bytes(), today=date(2026, 3, 1))
    assert (len(plan.created), len(plan.changed), len(plan.unchanged)) == (0, 0, 5)
    assert (_snapshot(), count_rows(PrisonerAddress), count_rows(AuditEvent)) == before


def test_a_changed_address_starts_a_new_history_entry(app) -> None:
    _import(SAMPLE.read_bytes())
    moved = (
        SAMPLE.read_text(encoding="utf-8-sig")
        .replace("Penal colony No. 3 (Viciebsk)", "Penal colony No. 15 (Mahilioŭ)")
        .replace("211300, г. Витебск,\nул. Придвинская, 3,\nИК-3", "212013, г. Могилёв,\nИК-15")
        .replace("demo-002,Alena Krautsova", "demo-002,Alena Krautsova-Nowak")
    )
    result = read_prisoners(moved)
    plan = plan_import(result.rows, db.session)
    assert [change.row.external_id for change in plan.changed] == ["demo-001", "demo-002"]
    andrei, alena = plan.changed
    assert [column for column, _old, _new in andrei.shown()] == ["facility", "postal_address"]
    assert andrei.new_address and not alena.new_address
    assert alena.shown() == [("name_latin", "Alena Krautsova", "Alena Krautsova-Nowak")]

    apply_import(plan, db.session, date(2026, 2, 1))
    db.session.commit()
    prisoner = _by_external_id("demo-001")
    assert [(a.facility, a.valid_from) for a in prisoner.addresses] == [
        ("Penal colony No. 15 (Mahilioŭ)", date(2026, 2, 1)),
        ("Penal colony No. 3 (Viciebsk)", TODAY),
    ]
    assert prisoner.current_address.postal_address == "212013, г. Могилёв,\nИК-15"
    assert [a.valid_from for a in _by_external_id("demo-002").addresses] == [TODAY]
    assert "nowak" in _by_external_id("demo-002").search_text  # kept by the flush hook
    update = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "update",
            AuditEvent.object_type == "Prisoner",
            AuditEvent.object_id == alena.prisoner_id,
        )
    )
    assert update.changes["name_latin"] == ["Alena Krautsova", "Alena Krautsova-Nowak"]


def test_changes_to_different_columns_are_written_and_audited(app) -> None:
    _import(SAMPLE.read_bytes())
    ids = {external_id: _by_external_id(external_id).id for external_id in ("demo-001", "demo-003")}
    plan = _import(
        _header("external_id", "name_latin", "status", "birth_date", "aliases")
        + "demo-001,Andrei Vasilenka,released,1979-03-14,Andrej Vasilenko\r\n"
        + "demo-003,Paval Zhuk,pretrial,1965-05-05,\r\n"
    )
    assert len(plan.changed) == 2
    andrei, pavel = _by_external_id("demo-001"), _by_external_id("demo-003")
    assert andrei.status is PrisonerStatus.RELEASED and andrei.aliases == ["Andrej Vasilenko"]
    assert "andrey vasilenko" not in andrei.search_text
    assert (pavel.name_latin, pavel.birth_date, pavel.birth_year) == (
        "Paval Zhuk",
        date(1965, 5, 5),
        1965,
    )
    assert "paval zhuk" in pavel.search_text and pavel.sentence is None  # left as it was
    events = {
        event.object_id: event.changes
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update"))
    }
    assert events[ids["demo-001"]] == {
        "status": ["sentenced", "released"],
        "released_on": [None, TODAY.isoformat()],  # recorded as the release screen does
        "aliases": [["Andrej Vasilenko", "Andrey Vasilenko"], ["Andrej Vasilenko"]],
    }
    assert events[ids["demo-003"]] == {
        "name_latin": ['Pavel "Pasha" Zhuk', "Paval Zhuk"],
        "birth_date": [None, "1965-05-05"],
    }


def test_columns_left_out_keep_what_is_stored(app) -> None:
    _import(SAMPLE.read_bytes())
    plan = _import(
        _header("external_id", "name_latin", "status")
        + "demo-001,Andrei Vasilenka,released\r\nnew-1,New Person,pretrial\r\n"
    )
    assert len(plan.created) == 1 and plan.changed[0].shown() == [
        ("status", "sentenced", "released")
    ]
    andrei = _by_external_id("demo-001")
    assert andrei.status is PrisonerStatus.RELEASED and andrei.articles == ["342", "361-1"]
    assert len(andrei.addresses) == 1
    new = _by_external_id("new-1")
    # Letters: not known for a new prisoner until the coordinators say (issue 16).
    assert new.can_receive_letters is None and new.has_public_consent is False
    assert new.addresses == [] and new.aliases == []


# Command line ---------------------------------------------------------------------------------


def test_cli_import_export_and_dry_run(app, runner: FlaskCliRunner, tmp_path: Path) -> None:
    dry = runner.invoke(args=["prisoners", "import", str(SAMPLE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "create demo-001: Andrei Vasilenka" in dry.output
    assert "Dry run: 5 created, 0 changed, 0 unchanged. Nothing was written." in dry.output
    assert count_rows(Prisoner) == 0 and count_rows(AuditEvent) == 0

    done = runner.invoke(args=["prisoners", "import", str(SAMPLE)])
    assert done.exit_code == 0, done.output
    assert "Imported: 5 created, 0 changed, 0 unchanged." in done.output
    assert count_rows(Prisoner) == 5
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.changes["created"] == 5 and len(event.changes["file_sha256"]) == 64

    moved = tmp_path / "moved.csv"
    moved.write_text(
        SAMPLE.read_text(encoding="utf-8-sig").replace("ИК-3", "ИК-9"), encoding="utf-8"
    )
    before = _snapshot()
    dry = runner.invoke(args=["prisoners", "import", str(moved), "--dry-run"])
    assert "change demo-001: Andrei Vasilenka" in dry.output and "ИК-9" in dry.output
    assert "0 created, 1 changed, 4 unchanged" in dry.output
    assert _snapshot() == before

    target = tmp_path / "export.csv"
    exported = runner.invoke(args=["prisoners", "export", str(target)])
    assert exported.exit_code == 0 and "Exported 5 prisoner(s)." in exported.output
    assert target.read_bytes() == _export().encode("utf-8")
    to_stdout = runner.invoke(args=["prisoners", "export", "-"])
    assert to_stdout.stdout_bytes == _export().encode("utf-8")


def test_cli_lists_every_bad_row_and_exits_1(app, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["prisoners", "import", str(BAD)])
    assert result.exit_code == 1
    for line, column in [
        (3, "name_latin"),
        (3, "birth_date"),
        (4, "status"),
        (4, "can_receive_letters"),
        (5, "released_on"),
        (6, "external_id"),
    ]:
        assert f"line {line}, column {column}: " in result.output
    assert "6 problem(s) in 4 row(s); nothing was imported." in result.output
    assert count_rows(Prisoner) == 0 and count_rows(AuditEvent) == 0


# Pages ----------------------------------------------------------------------------------------


def _upload(client: FlaskClient, data: bytes, name: str = "prisoners.csv"):
    token = csrf_token(client, IMPORT)
    return client.post(
        IMPORT,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _confirm(client: FlaskClient, token: str):
    return client.post(CONFIRM, data={"csrf_token": csrf_token(client, IMPORT), "token": token})


def test_upload_preview_confirm(
    app, login_as: LoginAs, client: FlaskClient, tmp_path: Path
) -> None:
    coordinator = make_coordinator()
    login_as(coordinator.email)
    make_prisoner(name_latin="Andrei Vasilenka (old spelling)", external_id="demo-001")

    preview = _upload(client, SAMPLE.read_bytes())
    assert preview.status_code == 200
    assert "4 new prisoners" in preview.text and "1 changed" in preview.text
    assert "Andrei Vasilenka (old spelling)" in preview.text and "Confirm import" in preview.text
    assert count_rows(Prisoner) == 1
    [kept] = (tmp_path / "imports").iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.name not in preview.text  # only inside the signed token

    token = TOKEN_FIELD.search(preview.text).group(1)
    done = _confirm(client, token)
    assert done.status_code == 302 and done.headers["Location"] == "/coordinator/prisoners/"
    assert (
        "Import done: 4 created, 1 changed, 0 unchanged."
        in client.get(done.headers["Location"]).text
    )
    assert count_rows(Prisoner) == 5
    assert _by_external_id("demo-001").name_latin == "Andrei Vasilenka"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.actor_id == coordinator.id
    assert (event.changes["created"], event.changes["changed"]) == (4, 1)
    created = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.object_type == "Prisoner"
        )
    )
    assert sorted(e.changes["external_id"] for e in created if e.actor_id == coordinator.id) == [
        "demo-002",
        "demo-003",
        "demo-004",
        "demo-005",
    ]
    changed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
    assert changed.actor_id == coordinator.id
    assert changed.changes["name_latin"] == ["Andrei Vasilenka (old spelling)", "Andrei Vasilenka"]
    assert changed.changes["facility"] == ["SIZO No. 1 (Minsk)", "Penal colony No. 3 (Viciebsk)"]
    assert not kept.exists()

    again = _confirm(client, token)  # a second click: nothing more happens
    assert again.status_code == 302 and again.headers["Location"] == IMPORT
    assert _events("import") == 1


def test_upload_of_a_bad_file_lists_the_errors(
    app, login_as: LoginAs, client: FlaskClient, tmp_path: Path
) -> None:
    login_as(make_coordinator().email)
    page = _upload(client, BAD.read_bytes())
    assert page.status_code == 200 and "Nothing was imported." in page.text
    table = page.text.split('id="import-errors"')[1].split("</table>")[0]
    cells = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td><code>([a-z_]+)</code></td>", table)
    assert cells == [
        ("3", "name_latin"),
        ("3", "birth_date"),
        ("4", "status"),
        ("4", "can_receive_letters"),
        ("5", "released_on"),
        ("6", "external_id"),
    ]
    assert "Confirm import" not in page.text
    assert count_rows(Prisoner) == 0 and not (tmp_path / "imports").exists()


@pytest.mark.settings(PRISONER_IMPORT_MAX_BYTES=1000)
def test_uploads_that_are_not_csv_get_a_clear_message(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    page = _upload(client, picture, "photo.png")
    assert "Choose a CSV or XLSX file (its name ends in .csv or .xlsx)." in page.text
    page = _upload(client, picture, "renamed.csv")
    assert "This is not a CSV text file: it contains binary data." in page.text
    page = _upload(client, SAMPLE.read_bytes())  # 2 kB, over this test's limit
    assert "The file is larger than" in page.text
    assert count_rows(Prisoner) == 0


def test_a_tampered_or_foreign_token_is_refused(
    login_as: LoginAs, app, auth: Auth, client: FlaskClient, tmp_path: Path
) -> None:
    login_as(make_coordinator().email)
    preview = _upload(client, SAMPLE.read_bytes())
    token = TOKEN_FIELD.search(preview.text).group(1)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert _confirm(client, tampered).status_code == 400
    assert _confirm(client, "not-a-token").status_code == 400

    [kept] = (tmp_path / "imports").iterdir()
    kept.write_bytes(SAMPLE.read_bytes().replace(b"demo-005", b"evil-005"))
    assert _confirm(client, token).status_code == 400  # the content is not what was shown

    auth.logout()
    login_as(make_coordinator().email)
    kept.write_bytes(SAMPLE.read_bytes())
    assert _confirm(client, token).status_code == 400  # another coordinator's upload
    assert count_rows(Prisoner) == 0


def test_unconfirmed_uploads_are_removed_after_an_hour(
    app, login_as: LoginAs, client: FlaskClient, tmp_path: Path
) -> None:
    folder = tmp_path / "imports"
    folder.mkdir()
    old, recent = folder / f"{'a' * 32}.csv", folder / f"{'b' * 32}.csv"
    for path, age in ((old, 3700), (recent, 600)):
        path.write_bytes(b"external_id,name_latin\r\n")
        os.utime(path, (time.time() - age, time.time() - age))
    login_as(make_coordinator().email)
    _upload(client, SAMPLE.read_bytes())
    assert not old.exists() and recent.exists()
    assert len(list(folder.iterdir())) == 2  # the recent one and the new upload


def test_nothing_to_confirm_when_nothing_changes(
    app, login_as: LoginAs, client: FlaskClient, tmp_path: Path
) -> None:
    _import(SAMPLE.read_bytes())
    login_as(make_coordinator().email)
    page = _upload(client, SEMICOLON.read_bytes())
    assert "Nothing to import" in page.text and "Confirm import" not in page.text
    assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())


# Identity changes --------------------------------------------------------------------------


def _demo() -> None:
    from godparents.demo.seed import seed_demo

    seed_demo(TODAY, "not a password hash")
    db.session.commit()


def _open_godparents(external_id: str) -> list[str]:
    db.session.expire_all()
    prisoner = _by_external_id(external_id)
    return sorted(
        pairing.sponsor.full_name
        for pairing in prisoner.sponsorships
        if pairing.status in (SponsorshipStatus.ACTIVE, SponsorshipStatus.PROPOSED)
    )


def test_the_sample_over_the_demo_data_is_five_identity_changes(app) -> None:
    """demo-001 … demo-005 are other people in the demo data than in the sample file: each
    is held back, with the godparents who would follow the new person."""
    _demo()
    darya = _open_godparents("demo-001")
    assert darya and _by_external_id("demo-001").name_latin == "Darya Tsvirko"
    plan = plan_import(read_prisoners(SAMPLE.read_bytes()).rows, db.session)
    assert [c.row.external_id for c in plan.identity_changes] == [
        "demo-001",
        "demo-002",
        "demo-003",
        "demo-004",
        "demo-005",
    ]
    assert plan.changed == [] and plan.created == []
    first = plan.identity_changes[0]
    assert first.identity == ["name", "birth", "gender"] and first.godparents == darya
    assert ("name_latin", "Darya Tsvirko", "Andrei Vasilenka") in first.side_by_side()

    apply_import(plan, db.session, TODAY)  # nothing ticked: nothing written
    db.session.commit()
    assert _by_external_id("demo-001").name_latin == "Darya Tsvirko"
    assert _open_godparents("demo-001") == darya


def test_a_spelling_correction_is_an_ordinary_change(app) -> None:
    make_prisoner(
        name_latin="Andrei Vasilenka",
        name_be="Андрэй Васіленка",
        external_id="demo-001",
        birth_year=1979,
        gender=Gender.MALE,
    )
    text = (
        _header("external_id", "name_latin", "name_ru", "birth_date", "gender")
        + "demo-001,Andrej Wassilenko,Андрей Василенко,1979-03-14,m\r\n"
    )
    plan = plan_import(read_prisoners(text).rows, db.session)
    assert plan.identity_changes == [] and len(plan.changed) == 1
    for other, reason in (
        ("Andrei Tsvirko,,1979,m", "name"),
        ("Andrei Vasilenka,,1980,m", "birth"),
        ("Andrei Vasilenka,,1979,f", "gender"),
    ):
        row = (
            _header("external_id", "name_latin", "name_ru", "birth_date", "gender")
            + f"demo-001,{other}\r\n"
        )
        [change] = plan_import(read_prisoners(row).rows, db.session).identity_changes
        assert change.identity == [reason], other


def test_the_preview_lists_identity_changes_apart_and_applies_only_the_ticked(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    _demo()
    coordinator = make_coordinator()
    login_as(coordinator.email)
    zhuk_godparents = _open_godparents("demo-002")
    preview = _upload(client, SAMPLE.read_bytes())
    section = preview.text.split('id="import-identity"')[1].split("</section>")[0]
    for external_id in ("demo-001", "demo-002", "demo-003", "demo-004", "demo-005"):
        assert f'value="{external_id}"' in section
    assert "Darya Tsvirko" in section and "Andrei Vasilenka" in section
    for name in _open_godparents("demo-001"):
        assert name in section
    token = TOKEN_FIELD.search(preview.text).group(1)
    done = client.post(
        CONFIRM,
        data={"csrf_token": csrf_token(client, IMPORT), "token": token, "accept": ["demo-002"]},
    )
    assert done.status_code == 302
    assert "4 identity changes were not ticked" in client.get(done.headers["Location"]).text
    assert _by_external_id("demo-001").name_latin == "Darya Tsvirko"  # left out
    alena = _by_external_id("demo-002")
    assert alena.name_latin == "Alena Krautsova" and alena.gender is Gender.FEMALE
    assert _open_godparents("demo-002") == zhuk_godparents  # the ticked one moves as asked
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "update",
            AuditEvent.object_id == alena.id,
            AuditEvent.object_type == "Prisoner",
        )
    )
    assert event.actor_id == coordinator.id and event.changes["identity_change"] == [
        "name",
        "birth",
        "gender",
    ]
    assert event.changes["name_latin"] == ["Kanstantsin Zhuk", "Alena Krautsova"]
    summary = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert (summary.changes["identity_changes"], summary.changes["identity_changes_left"]) == (1, 4)


def test_the_command_line_refuses_identity_changes_unless_told(app, runner: FlaskCliRunner) -> None:
    _demo()
    refused = runner.invoke(args=["prisoners", "import", str(SAMPLE)])
    assert refused.exit_code == 1
    assert (
        "IDENTITY CHANGE demo-001 (name, birth, gender): 'Darya Tsvirko' would become "
        "'Andrei Vasilenka'" in refused.output
    )
    assert "5 row(s) would change who a prisoner is; nothing was imported." in refused.output
    assert _by_external_id("demo-001").name_latin == "Darya Tsvirko"
    done = runner.invoke(args=["prisoners", "import", str(SAMPLE), "--accept-identity-changes"])
    assert done.exit_code == 0, done.output
    assert _by_external_id("demo-001").name_latin == "Andrei Vasilenka"


# Releases, deaths, transfers -----------------------------------------------------------------


def test_a_release_a_death_and_a_transfer_arrive_by_import(app) -> None:
    released = make_prisoner(name_latin="Maryia Rubtsova", external_id="p-1")
    died = make_prisoner(name_latin="Ihar Lasitski", external_id="p-2")
    moved = make_prisoner(name_latin="Pavel Zhuk", external_id="p-3")
    godparents = [make_sponsor(full_name=name) for name in ("Anna", "Bernd", "Clara", "Dora")]
    make_sponsorship(godparents[0], released)
    make_sponsorship(godparents[1], released, status=SponsorshipStatus.PROPOSED, started_on=None)
    make_sponsorship(godparents[2], died)
    make_sponsorship(godparents[3], moved)
    text = (
        _header("external_id", "name_latin", "status", "released_on", "facility", "postal_address")
        + "p-1,Maryia Rubtsova,released,2026-01-10,,\r\n"
        + "p-2,Ihar Lasitski,died,,,\r\n"
        + 'p-3,Pavel Zhuk,sentenced,,Penal colony No. 9 (Horki),"213410, г. Горки,\n'
        'ИК-9"\r\n'
    )
    plan = plan_import(read_prisoners(text).rows, db.session)
    assert [(c.row.external_id, c.godparents) for c in plan.releases] == [
        ("p-1", ["Anna", "Bernd"]),
        ("p-2", ["Clara"]),
    ]
    done = apply_import(plan, db.session, TODAY)
    db.session.commit()
    assert done.pairings_ended == 3
    db.session.expire_all()
    ends = {
        (p.sponsor.full_name, p.status, p.ended_on, p.end_reason)
        for p in db.session.scalars(select(Sponsorship))
    }
    assert ends == {
        ("Anna", SponsorshipStatus.ENDED, date(2026, 1, 10), EndReason.RELEASED),
        ("Bernd", SponsorshipStatus.ENDED, date(2026, 1, 10), EndReason.RELEASED),
        ("Clara", SponsorshipStatus.ENDED, TODAY, EndReason.DIED),
        ("Dora", SponsorshipStatus.ACTIVE, None, None),
    }
    assert _by_external_id("p-2").released_on == TODAY  # the day, as the release screen
    waiting = {row.full_name for row in dashboard.freed_godparents()}
    assert waiting == {"Anna", "Bernd", "Clara"}
    ended = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "Sponsorship", AuditEvent.action == "update"
        )
    ).all()
    assert len(ended) == 3 and all(
        e.changes["status"] == ["active", "ended"] or e.changes["status"] == ["proposed", "ended"]
        for e in ended
    )
    pavel = _by_external_id("p-3")
    assert [a.facility for a in pavel.addresses] == [
        "Penal colony No. 9 (Horki)",
        "SIZO No. 1 (Minsk)",
    ]
    colony = pavel.addresses[0].facility_record
    assert (colony.name_en, colony.kind, colony.postcode, colony.institution) == (
        "Penal colony No. 9 (Horki)",
        FacilityKind.PENAL_COLONY,
        "213410",
        "ИК-9",
    )


def test_deported_and_pardoned_say_why_the_pairing_ended(app) -> None:
    for number in range(2):
        make_sponsorship(make_sponsor(), make_prisoner(external_id=f"x-{number}"))
    _import(
        _header("external_id", "name_latin", "status")
        + "x-0,Prisoner,deported\r\nx-1,Prisoner,pardoned\r\n"
    )
    reasons = {
        p.prisoner.external_id: p.end_reason for p in db.session.scalars(select(Sponsorship))
    }
    assert reasons == {"x-0": EndReason.DEPORTED, "x-1": EndReason.PARDONED}


# Facilities -----------------------------------------------------------------------------------


def test_a_facility_without_its_postal_address_imports(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    """Real lists name the prison without its address: the prisoner imports, godparents
    read that the address is unknown and whom to ask, the dashboard lists the prisoner."""
    sponsor = make_sponsor()
    text = (
        _header("external_id", "name_latin", "status", "facility")
        + "h-1,Ales Bialiatski,sentenced,Penal colony No. 9 (Horki)\r\n"
        + "h-2,Maryia Kalesnikava,sentenced,Penal colony No. 9 (Horki)\r\n"
    )
    _import(text)
    ales = _by_external_id("h-1")
    [address] = ales.addresses
    assert address.postal_address is None and address.envelope_address is None
    assert count_rows(Facility) == 1  # the second row found the first one's facility
    assert address.facility_record.kind is FacilityKind.PENAL_COLONY
    make_sponsorship(sponsor, ales)
    login_as(sponsor.email)
    home = client.get("/sponsor/").text
    assert "Postal address unknown." in home and "mailto:" in home
    assert "Copy address" not in home
    listed = {row.name_latin for row in dashboard.held_without_address()}
    assert listed == {"Ales Bialiatski", "Maryia Kalesnikava"}
    # Its address arrives later: every prisoner there has it.
    _import(
        _header("external_id", "name_latin", "facility", "postal_address")
        + 'h-1,Ales Bialiatski,Penal colony No. 9 (Horki),"213410, г. Горки,\nИК-9"\r\n'
    )
    assert dashboard.held_without_address() == []
    assert _by_external_id("h-2").current_address.envelope_address == "213410, г. Горки,\nИК-9"


# Workbooks, headings of their own, whole names ----------------------------------------------


def _workbook(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_workbook_imports_like_its_csv(app) -> None:
    data = _workbook(
        [
            [
                "external_id",
                "name_latin",
                "name_be",
                "birth_date",
                "status",
                "detained_on",
                "facility",
                "postal_address",
                "is_public",
            ],
            [
                "x-1",
                "Andrei Vasilenka",
                "Андрэй Васіленка",
                date(1979, 3, 14),
                "sentenced",
                date(2021, 7, 14),
                "Penal colony No. 3 (Viciebsk)",
                "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3",
                True,
            ],
            ["x-2", "Pavel Zhuk", None, 1965, "pretrial", None, None, None, False],
            [None, None, None, None, None, None, None, None, None],  # an empty row at the end
        ]
    )
    result = read_prisoners(data, "list.xlsx")
    assert result.ok, result.errors
    assert [row.line for row in result.rows] == [2, 3]
    _import(data)
    andrei = _by_external_id("x-1")
    assert (andrei.birth_date, andrei.detained_on, andrei.has_public_consent) == (
        date(1979, 3, 14),
        date(2021, 7, 14),
        True,
    )
    assert andrei.current_address.postal_address.splitlines()[-1] == "ИК-3"
    assert _by_external_id("x-2").birth_year == 1965


CYRILLIC_LIST = (
    "№,ФИО,Дата рождения,Место содержания,Статус\r\n"
    "v-1,Васіленка Андрэй Іванавіч,14.03.1979,Penal colony No. 3 (Viciebsk),"
    "sentenced\r\n"
    "v-2,Кравцова Елена,1988,СИЗО-1,pretrial\r\n"
)


def test_cyrillic_headings_need_a_mapping_and_a_guess_is_offered(app) -> None:
    result = read_prisoners(CYRILLIC_LIST.encode())
    assert result.needs_mapping and not result.ok
    assert import_mapping.guess(result.headings) == {
        "№": "external_id",
        "фио": "full_name",
        "дата рождения": "birth_date",
        "место содержания": "facility",
        "статус": "status",
    }
    mapped = read_prisoners(CYRILLIC_LIST.encode(), mapping=import_mapping.guess(result.headings))
    assert mapped.ok, mapped.errors
    first, second = (row.values for row in mapped.rows)
    assert (first["name_be"], first["name_latin"], first["birth_date"]) == (
        "Андрэй Васіленка",
        "Andrei Vasilenka",
        date(1979, 3, 14),
    )
    assert first["aliases"] == ["Васіленка Андрэй Іванавіч"]
    assert (second["name_ru"], second["name_latin"]) == ("Елена Кравцова", "Elena Kravtsova")


@pytest.mark.parametrize(
    ("whole", "first", "surname"),
    [
        ("Васіленка Андрэй Іванавіч", "Андрэй", "Васіленка"),  # surname first, patronymic
        ("Андрей Иванович Василенко", "Андрей", "Василенко"),  # patronymic in the middle
        ("Кравцова Елена", "Елена", "Кравцова"),  # a known first name second
        ("Alena Krautsova", "Alena", "Krautsova"),  # a known first name first
        ("Жук Павел", "Павел", "Жук"),
        ("Рубцова-Сідарэнка Марыя", "Марыя", "Рубцова-Сідарэнка"),
        ("Смирнов Аркадий", "Аркадий", "Смирнов"),  # unknown names in Cyrillic: surname first
    ],
)
def test_whole_names_are_split_sensibly(whole: str, first: str, surname: str) -> None:
    parts = split_full_name(whole)
    assert (parts.first, parts.surname) == (first, surname)


def test_the_mapping_step_is_taken_once_per_set_of_headings(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    page = _upload(client, CYRILLIC_LIST.encode(), "viasna.csv")
    assert "Which column of viasna.csv is which?" in page.text
    assert '<option selected value="full_name">' in page.text
    token = TOKEN_FIELD.search(page.text).group(1)
    form = {
        "csrf_token": csrf_token(client, IMPORT),
        "token": token,
        "columns-0": "external_id",
        "columns-1": "full_name",
        "columns-2": "birth_date",
        "columns-3": "facility",
        "columns-4": "status",
    }
    preview = client.post(f"{IMPORT}/mapping", data=form)
    assert preview.status_code == 200 and "2 new prisoners" in preview.text
    assert "The columns were read as you mapped them" in preview.text
    confirm = TOKEN_FIELD.search(preview.text).group(1)
    done = client.post(CONFIRM, data={"csrf_token": csrf_token(client, IMPORT), "token": confirm})
    assert done.status_code == 302 and count_rows(Prisoner) == 2
    assert _by_external_id("v-1").name_latin == "Andrei Vasilenka"
    # The same headings again, in another order and case: straight to the preview.
    again = _upload(
        client,
        (
            "статус,№,фио,дата рождения,место содержания\r\nsentenced,v-3,Жук Павел,1965,СИЗО-1\r\n"
        ).encode(),
        "more.csv",
    )
    assert "1 new prisoner" in again.text and "Which column" not in again.text


def test_a_mapping_without_an_id_or_a_name_is_asked_again(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_coordinator().email)
    page = _upload(client, CYRILLIC_LIST.encode(), "viasna.csv")
    token = TOKEN_FIELD.search(page.text).group(1)
    again = client.post(
        f"{IMPORT}/mapping",
        data={
            "csrf_token": csrf_token(client, IMPORT),
            "token": token,
            "columns-0": "",
            "columns-1": "",
            "columns-2": "birth_date",
            "columns-3": "facility",
            "columns-4": "status",
        },
    )
    assert again.status_code == 200 and 'id="mapping-errors"' in again.text
    assert "Say which column holds the name." in again.text
    assert count_rows(ImportMapping) == 0 and count_rows(Prisoner) == 0


# Hostile files ------------------------------------------------------------------------------


def test_hostile_files_are_refused_quickly_with_one_message(app) -> None:
    wide = ",".join(f"c{n}" for n in range(201)) + "\r\n"
    [error] = read_prisoners(wide).errors
    assert "201 columns" in error.message
    commas = _header("external_id", "name_latin") + "a," + "," * 1_000_000 + "\r\n"
    began = time.perf_counter()
    [error] = read_prisoners(commas).errors
    assert "1000002 cells" in error.message and time.perf_counter() - began < 5
    # 10 MB of bad rows: the first 200 problems, and no more reading.
    bad = _header("external_id", "name_latin", "birth_date") + "x,Name,not a date\r\n" * 600_000
    assert len(bad) > 10_000_000
    began = time.perf_counter()
    result = read_prisoners(bad)
    assert len(result.errors) == 200 and result.stopped_early
    assert time.perf_counter() - began < 5


def test_a_broken_workbook_is_one_clear_error(app) -> None:
    [error] = read_prisoners(b"PK\x03\x04 this is no workbook", "list.xlsx").errors
    assert "This workbook cannot be read" in error.message


# Duplicates ---------------------------------------------------------------------------------


def test_a_new_row_that_is_a_prisoner_under_another_id_is_flagged(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    known = make_prisoner(
        name_latin="Andrei Vasilenka",
        name_be="Андрэй Васіленка",
        external_id="viasna-17",
        birth_year=1979,
    )
    make_prisoner(name_latin="Andrei Vasilenka", external_id="other-1979", birth_year=1950)
    text = (
        _header("external_id", "name_latin", "name_ru", "birth_date")
        + "hrc-3,Andrej Wassilenko,Андрей Василенко,1979-03-14\r\n"
        + "hrc-4,Alena Krautsova,,1988\r\n"
    )
    plan = plan_import(read_prisoners(text).rows, db.session)
    assert {key: [c.id for c in found] for key, found in plan.duplicates.items()} == {
        "hrc-3": [known.id]
    }
    login_as(make_coordinator().email)
    preview = _upload(client, text.encode())
    assert f'data-duplicate="{known.id}"' in preview.text
    assert f'href="/coordinator/prisoners/{known.id}"' in preview.text
