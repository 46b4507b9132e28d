"""The migrations build exactly the models' schema, and take it down again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from godparents import create_app, encryption
from godparents.extensions import db
from tests.conftest import Databases


@pytest.fixture
def empty_app(databases: Databases) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": databases.create()})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _differences() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_to_head_matches_the_models(empty_app: Flask) -> None:
    upgrade()
    assert _differences() == []
    tables = set(inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables


def test_downgrade_to_base_removes_everything(empty_app: Flask) -> None:
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()  # and back up again, from nothing
    assert _differences() == []


def test_stored_outbox_keys_are_rewritten_date_first_and_back(empty_app: Flask) -> None:
    """A reminder planned before the key's format changed is still recognised after it."""
    upgrade(revision="5c2e7a9d41f0")
    old_keys = ["3:17:prisoner:42:2026-12-26", "11:None:campaign:2:2027-01-01", "manual:1"]
    with db.engine.begin() as connection:
        for number, key in enumerate(old_keys):
            connection.execute(
                text(
                    "INSERT INTO outbox_messages (idempotency_key, recipient_email, subject_ref, "
                    "locale, status, attempts, email_subject, created_at) VALUES "
                    "(:key, :email, 'x', 'en', 'sent', 1, '', CURRENT_TIMESTAMP)"
                ),
                {"key": key, "email": f"to{number}@example.org"},
            )
    upgrade(revision="8e3b1c7d2a55")
    new_keys = ["2026-12-26:3:17:prisoner:42", "2027-01-01:11:None:campaign:2", "manual:1"]
    assert _keys() == sorted(new_keys)
    downgrade(revision="5c2e7a9d41f0")
    assert _keys() == sorted(old_keys)


def _keys() -> list[str]:
    with db.engine.connect() as connection:
        return sorted(connection.scalars(text("SELECT idempotency_key FROM outbox_messages")))


def test_inactive_godparents_accounts_are_switched_off(empty_app: Flask) -> None:
    """Finding 6 of the second security round: an inactive godparent's account that was
    left on (the demo seed made one) is switched off; downgrading leaves it off."""
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        for number, (sponsor_active, user_active) in enumerate(
            [(False, True), (True, True), (False, False)], start=1
        ):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, role, is_active, locale, timezone, "
                    "session_generation, reminder_opt_outs, birthday_card_days, created_at) VALUES "
                    "(:id, :email, 'sponsor', :active, 'en', 'UTC', 1, '[]', 30, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"id": number, "email": f"s{number}@example.org", "active": user_active},
            )
            connection.execute(
                text(
                    "INSERT INTO sponsors (full_name, body, country, language, is_active, "
                    "has_public_consent, user_id, created_at, updated_at) VALUES "
                    "(:name, 'Bundestag', 'DE', 'de', :active, false, :id, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"name": f"Sponsor {number}", "active": sponsor_active, "id": number},
            )
    upgrade()
    assert _active_users() == [2]
    downgrade(revision="8e3b1c7d2a55")
    assert _active_users() == [2]


def _active_users() -> list[int]:
    with db.engine.connect() as connection:
        return sorted(
            connection.scalars(text("SELECT id FROM users WHERE is_active = :on"), {"on": True})
        )


def test_totp_keys_are_encrypted_and_decrypted_again(empty_app: Flask) -> None:
    """The second security round: the keys move into columns of their own, encrypted with
    the key outside the database; the columns that held them in clear are emptied."""
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, role, is_active, locale, timezone, totp_secret, "
                "session_generation, reminder_opt_outs, birthday_card_days, created_at) VALUES "
                "(1, 'c@example.org', 'coordinator', :on, 'en', 'UTC', 'JBSWY3DPEHPK3PXPJBSWY3DP', "
                "1, '[]', 30, CURRENT_TIMESTAMP)"
            ),
            {"on": True},
        )
        connection.execute(
            text(
                "INSERT INTO user_sessions (token_hash, user_id, generation, created_at, "
                "last_seen_at, remember, pending_totp_secret) VALUES ('h', 1, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :off, 'KRSXG5CTMVRXEZLUKRSXG5CT')"
            ),
            {"off": False},
        )
    upgrade()
    with db.engine.connect() as connection:
        clear, stored = connection.execute(text("SELECT totp_secret, totp_key FROM users")).one()
        pending_clear, pending = connection.execute(
            text("SELECT pending_totp_secret, pending_totp_key FROM user_sessions")
        ).one()
    assert clear is None and pending_clear is None
    assert "JBSWY3DP" not in stored and encryption.decrypt(stored) == "JBSWY3DPEHPK3PXPJBSWY3DP"
    assert encryption.decrypt(pending) == "KRSXG5CTMVRXEZLUKRSXG5CT"
    downgrade(revision="8e3b1c7d2a55")
    with db.engine.connect() as connection:
        assert (
            connection.scalar(text("SELECT totp_secret FROM users")) == "JBSWY3DPEHPK3PXPJBSWY3DP"
        )
        assert (
            connection.scalar(text("SELECT pending_totp_secret FROM user_sessions"))
            == "KRSXG5CTMVRXEZLUKRSXG5CT"
        )


def test_records_stored_before_versions_start_at_version_one_and_keep_their_data(
    empty_app: Flask,
) -> None:
    """The edit versions (concurrency.py) are added to rows already there: each starts at 1,
    and the first edit after the upgrade is checked against it; downgrading keeps the rows."""
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO prisoners (name_latin, aliases, search_text, status, articles, "
                "can_receive_letters, has_public_consent, created_at, updated_at) VALUES "
                "('Ihar', '[]', 'ihar', 'sentenced', '[]', true, false, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO sponsors (full_name, body, country, language, has_public_consent, "
                "is_active, created_at, updated_at) VALUES ('Anna', 'Bundestag', 'DE', 'de', "
                "false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name_latin, version FROM prisoners")).all() == [
            ("Ihar", 1)
        ]
        assert connection.execute(text("SELECT full_name, version FROM sponsors")).all() == [
            ("Anna", 1)
        ]
    downgrade(revision="8e3b1c7d2a55")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name_latin FROM prisoners")).all() == [("Ihar",)]
        assert "version" not in {c["name"] for c in inspect(connection).get_columns("sponsors")}
        assert "form_submissions" not in inspect(connection).get_table_names()


def test_search_keys_are_computed_on_the_way_up_and_back_on_the_way_down(empty_app: Flask) -> None:
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO prisoners (name_latin, name_be, name_ru, aliases, articles, status, "
                "can_receive_letters, has_public_consent, search_text, created_at, updated_at) "
                "VALUES ('Alena Krautsova', 'Алена Краўцова', 'Елена Кравцова', '[\"Olena K\"]', "
                "'[]', 'sentenced', true, false, 'old key', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO sponsors (full_name, body, country, language, has_public_consent, "
                "is_active, created_at, updated_at) VALUES ('Krzysztof Wiśniewski', 'Sejm', 'PL', "
                "'en', false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade()
    prisoner_key = _scalar("SELECT search_text FROM prisoners")
    assert {"alena", "krautsova", "krawzowa", "kravtsova", "olena"} <= set(prisoner_key.split())
    assert _scalar("SELECT search_text FROM sponsors") == " krzysztof wisniewski "
    vocabulary = set(_column("SELECT word FROM search_words"))
    assert set(prisoner_key.split()) | {"wisniewski"} <= vocabulary
    downgrade(revision="8e3b1c7d2a55")
    assert _scalar("SELECT search_text FROM prisoners") == (
        "alena krautsova\nалена краўцова\nелена кравцова\nolena k"
    )
    assert "search_text" not in {c["name"] for c in inspect(db.engine).get_columns("sponsors")}


def _scalar(query: str) -> object:
    with db.engine.connect() as connection:
        return connection.scalar(text(query))


def _column(query: str) -> list[object]:
    with db.engine.connect() as connection:
        return list(connection.scalars(text(query)))


def test_addresses_become_facility_references_and_back(empty_app: Flask) -> None:
    """Existing address rows point to facilities made from them, keeping their own text; a
    facility without a postal address survives the way down as an empty address."""
    upgrade(revision="8e3b1c7d2a55")
    colony = "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"
    with db.engine.begin() as connection:
        for number in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO prisoners (name_latin, aliases, articles, status, "
                    "can_receive_letters, has_public_consent, search_text, created_at, updated_at) "
                    "VALUES (:name, '[]', '[]', 'sentenced', true, false, '', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"name": f"Prisoner {number}"},
            )
        rows = [
            (1, "Penal colony No. 3 (Viciebsk)", colony),
            (2, "Penal colony No. 3 (Viciebsk)", colony + " (отряд 5)"),
            (2, None, "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"),
        ]
        for prisoner, facility, address in rows:
            connection.execute(
                text(
                    "INSERT INTO prisoner_addresses (prisoner_id, facility, postal_address, "
                    "valid_from, created_at) VALUES (:p, :f, :a, '2024-01-01', CURRENT_TIMESTAMP)"
                ),
                {"p": prisoner, "f": facility, "a": address},
            )
        connection.execute(
            text(
                "INSERT INTO sponsors (full_name, body, country, language, has_public_consent, "
                "is_active, created_at, updated_at) VALUES ('A', 'Sejm', 'PL', 'en', false, true, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade()
    with db.engine.connect() as connection:
        linked = connection.execute(
            text(
                "SELECT a.facility, a.postal_address, f.name_en, f.name_ru, f.kind, f.postcode, "
                "f.town, f.institution, f.postal_address FROM prisoner_addresses a "
                "JOIN facilities f ON f.id = a.facility_id ORDER BY a.id"
            )
        ).all()
    assert [row[:2] for row in linked] == [row[1:] for row in rows]  # the text is kept
    colony_record = (
        "Penal colony No. 3 (Viciebsk)",
        None,
        "penal_colony",
        "211300",
        "г. Витебск",
        "ИК-3",
        colony,
    )
    assert linked[0][2:] == colony_record and linked[1][2:] == colony_record
    assert linked[2][2:6] == (None, "СИЗО-1", "pretrial", "220030")
    assert _scalar("SELECT count(*) FROM facilities") == 2
    with db.engine.begin() as connection:  # what the new schema allows
        connection.execute(
            text(
                "INSERT INTO prisoner_addresses (prisoner_id, facility, facility_id, valid_from, "
                "created_at) VALUES (1, 'IK-9', 1, '2025-01-01', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO sponsorships (sponsor_id, prisoner_id, status, end_reason, "
                "has_public_consent, created_at) VALUES (1, 1, 'ended', 'deported', false, "
                "CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(  # a row that refers to the pairing, rebuilt on SQLite
                "INSERT INTO actions (sponsorship_id, kind, occurred_on, summary, is_public, "
                "created_at, updated_at) VALUES (1, 'letter', '2025-01-02', 'A letter', false, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    downgrade(revision="8e3b1c7d2a55")
    assert _column("SELECT sponsorship_id FROM actions") == [1]
    assert _column("SELECT postal_address FROM prisoner_addresses ORDER BY id") == [
        *(row[2] for row in rows),
        colony,
    ]
    assert _column("SELECT end_reason FROM sponsorships") == ["released"]
    assert "facilities" not in inspect(db.engine).get_table_names()
    upgrade()  # and up again, with the rows of the way down
    assert _scalar("SELECT count(*) FROM prisoner_addresses WHERE facility_id IS NULL") == 0


def test_the_outbox_keeps_its_messages_and_bodies_when_its_key_becomes_columns(
    empty_app: Flask,
) -> None:
    """The exactly-once migration rebuilds the outbox's table (SQLite): every message keeps
    its columns and its body (the bodies' table refers to it, ON DELETE CASCADE)."""
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, role, is_active, locale, timezone, "
                "session_generation, reminder_opt_outs, birthday_card_days, created_at) VALUES "
                "(7, 'mp@example.org', 'sponsor', :on, 'en', 'UTC', 1, '[]', 30, "
                "CURRENT_TIMESTAMP)"
            ),
            {"on": True},
        )
        rule = connection.scalar(text("SELECT min(id) FROM reminder_rules"))
        connection.execute(
            text(
                "INSERT INTO outbox_messages (id, idempotency_key, rule_id, recipient_user_id, "
                "recipient_email, subject_ref, occurs_on, locale, status, attempts, email_subject, "
                "created_at) VALUES (3, :key, :rule, 7, 'mp@example.org', 'prisoner:42', "
                "'2026-12-26', 'en', 'sent', 1, 'Card', CURRENT_TIMESTAMP)"
            ),
            {"key": f"2026-12-26:{rule}:7:prisoner:42", "rule": rule},
        )
        connection.execute(
            text("INSERT INTO outbox_contents (message_id, body_text) VALUES (3, 'Dear MP')")
        )
    upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(
            text(
                "SELECT occurs_on, rule_id, recipient_user_id, subject_ref, status "
                "FROM outbox_messages"
            )
        ).one()[1:] == (rule, 7, "prisoner:42", "sent")
        assert connection.scalar(text("SELECT body_text FROM outbox_contents")) == "Dear MP"
    downgrade(revision="8e3b1c7d2a55")
    with db.engine.connect() as connection:
        assert (
            connection.scalar(text("SELECT idempotency_key FROM outbox_messages"))
            == f"2026-12-26:{rule}:7:prisoner:42"
        )
        assert connection.scalar(text("SELECT body_text FROM outbox_contents")) == "Dear MP"


def test_letters_flag_may_be_not_known_and_notice_rules_come_and_go(empty_app: Flask) -> None:
    """Issue 16: prisoners keep their word on letters; a not-known one is yes again below;
    the news and the weekly question have rules, gone again with their messages below."""
    upgrade(revision="e5b8d2f4a6c1")
    insert = (
        "INSERT INTO prisoners (name_latin, aliases, search_text, status, articles, "
        "former_external_ids, can_receive_letters, has_public_consent, created_at, "
        "updated_at) VALUES ('{name}', '[]', '', 'sentenced', '[]', '[]', {letters}, false, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with db.engine.begin() as connection:
        connection.execute(text(insert.format(name="Ihar", letters="false")))
    upgrade()
    with db.engine.begin() as connection:
        connection.execute(text(insert.format(name="New", letters="NULL")))
        rows = connection.execute(
            text("SELECT name_latin, can_receive_letters FROM prisoners ORDER BY id")
        ).all()
        assert [(name, None if v is None else bool(v)) for name, v in rows] == [
            ("Ihar", False),
            ("New", None),
        ]
        triggers = (
            connection.execute(
                text(
                    "SELECT \"trigger\" FROM reminder_rules WHERE template LIKE 'notice_%' "
                    "OR template = 'letter_outcomes' ORDER BY \"trigger\""
                )
            )
            .scalars()
            .all()
        )
        assert triggers == [
            "letter_outcomes",
            "notice_hearing",
            "notice_release",
            "notice_sentence",
            "notice_transfer",
        ]
    downgrade(revision="e5b8d2f4a6c1")
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name_latin, can_receive_letters FROM prisoners ORDER BY id")
        ).all()
        assert [(name, bool(v)) for name, v in rows] == [("Ihar", False), ("New", True)]
        assert (
            connection.execute(
                text("SELECT count(*) FROM reminder_rules WHERE \"trigger\" LIKE 'notice_%'")
            ).scalar()
            == 0
        )
        assert "change_notices" not in inspect(connection).get_table_names()


def test_parliaments_as_typed_are_linked_and_academic_titles_moved(empty_app: Flask) -> None:
    """Issue 17: godparents whose parliament, as typed, is on the new list (in English or
    German) are linked to it; a lone academic title moves to where salutations read it; the
    campaign days get their German names. Downgrading puts the title back."""
    upgrade(revision="e16a4b2c8d10")
    rows = [
        ("Anna", "Bundestag", "MdB"),
        ("Bernd", "Österreichischer  Nationalrat", "Dr."),
        ("Clara", "Landtag Brandenburg", "Prof. Dr."),
    ]
    with db.engine.begin() as connection:
        for name, body, title in rows:
            connection.execute(
                text(
                    "INSERT INTO sponsors (full_name, title, body, country, language, is_active, "
                    "has_public_consent, search_text, created_at, updated_at) VALUES (:name, "
                    ":title, :body, 'DE', 'de', :on, :off, '', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"name": name, "title": title, "body": body, "on": True, "off": False},
            )
        connection.execute(
            text(
                "INSERT INTO campaign_days (name, month, day, is_active) "
                "VALUES ('Human Rights Day', 12, 10, :on)"
            ),
            {"on": True},
        )
    upgrade()
    query = (
        "SELECT s.full_name, s.body, p.name_de, s.title, s.academic_title, s.form_of_address "
        "FROM sponsors s LEFT JOIN parliaments p ON p.id = s.parliament_id ORDER BY s.full_name"
    )
    with db.engine.connect() as connection:
        assert [tuple(row) for row in connection.execute(text(query))] == [
            ("Anna", "Bundestag", "Bundestag", "MdB", None, "neutral"),
            ("Bernd", "Austrian National Council", "Österreichischer Nationalrat", None, "dr",
             "neutral"),
            ("Clara", "Landtag Brandenburg", None, None, "prof_dr", "neutral"),
        ]  # fmt: skip
        assert connection.scalar(text("SELECT name_de FROM campaign_days")) == (
            "Tag der Menschenrechte"
        )
    downgrade(revision="e16a4b2c8d10")
    with db.engine.connect() as connection:
        titles = connection.execute(text("SELECT title FROM sponsors ORDER BY full_name"))
        assert [title for (title,) in titles] == ["MdB", "Dr.", "Prof. Dr."]
