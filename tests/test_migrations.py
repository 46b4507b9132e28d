"""The migrations build exactly the models' schema, and take it down again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from godparents import create_app
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
            connection.execute(text(
                "INSERT INTO outbox_messages (idempotency_key, recipient_email, subject_ref, "
                "locale, status, attempts, email_subject, created_at) VALUES "
                "(:key, :email, 'x', 'en', 'sent', 1, '', CURRENT_TIMESTAMP)"),
                {"key": key, "email": f"to{number}@example.org"})
    upgrade()
    new_keys = ["2026-12-26:3:17:prisoner:42", "2027-01-01:11:None:campaign:2", "manual:1"]
    assert _keys() == sorted(new_keys)
    downgrade(revision="5c2e7a9d41f0")
    assert _keys() == sorted(old_keys)


def _keys() -> list[str]:
    with db.engine.connect() as connection:
        return sorted(connection.scalars(text("SELECT idempotency_key FROM outbox_messages")))


def test_search_keys_are_computed_on_the_way_up_and_back_on_the_way_down(
        empty_app: Flask) -> None:
    upgrade(revision="8e3b1c7d2a55")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO prisoners (name_latin, name_be, name_ru, aliases, articles, status, "
            "can_receive_letters, has_public_consent, search_text, created_at, updated_at) "
            "VALUES ('Alena Krautsova', 'Алена Краўцова', 'Елена Кравцова', '[\"Olena K\"]', "
            "'[]', 'sentenced', true, false, 'old key', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO sponsors (full_name, body, country, language, has_public_consent, "
            "is_active, created_at, updated_at) VALUES ('Krzysztof Wiśniewski', 'Sejm', 'PL', "
            "'en', false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade()
    prisoner_key = _scalar("SELECT search_text FROM prisoners")
    assert {"alena", "krautsova", "krawzowa", "kravtsova", "olena"} <= set(prisoner_key.split())
    assert _scalar("SELECT search_text FROM sponsors") == " krzysztof wisniewski "
    vocabulary = set(_column("SELECT word FROM search_words"))
    assert set(prisoner_key.split()) | {"wisniewski"} <= vocabulary
    downgrade(revision="8e3b1c7d2a55")
    assert _scalar("SELECT search_text FROM prisoners") == (
        "alena krautsova\nалена краўцова\nелена кравцова\nolena k")
    assert "search_text" not in {c["name"] for c in inspect(db.engine).get_columns("sponsors")}


def _scalar(query: str) -> object:
    with db.engine.connect() as connection:
        return connection.scalar(text(query))


def _column(query: str) -> list[object]:
    with db.engine.connect() as connection:
        return list(connection.scalars(text(query)))
