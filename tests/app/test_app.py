"""The factory and the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from godparents import create_app, encryption
from godparents.config import ConfigurationError
from tests.conftest import ENCRYPTION_KEY


def test_testing_app_gets_a_random_secret_key() -> None:
    first = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert first.testing
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


def test_production_without_secret_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("godparents.PROJECT_ROOT", tmp_path)  # no instance/config.py there
    monkeypatch.delenv("GODPARENTS_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationError, match="GODPARENTS_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_without_encryption_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two-factor keys are stored encrypted with a key kept outside the database."""
    monkeypatch.setattr("godparents.PROJECT_ROOT", tmp_path)
    monkeypatch.delenv("GODPARENTS_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(encryption.EncryptionKeyError, match="GODPARENTS_ENCRYPTION_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "s" * 40})


def test_environment_variables_configure_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("godparents.PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("GODPARENTS_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("GODPARENTS_TIMEZONE", "Europe/Vilnius")
    monkeypatch.setenv("GODPARENTS_MAIL_PORT", "2525")
    monkeypatch.setenv("GODPARENTS_SQLALCHEMY_DATABASE_URI", "sqlite://")
    monkeypatch.setenv("GODPARENTS_ENCRYPTION_KEY", ENCRYPTION_KEY)
    app = create_app()
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["TIMEZONE"] == "Europe/Vilnius"
    assert app.config["MAIL_PORT"] == 2525  # parsed as JSON, so a number
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_instance_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("godparents.PROJECT_ROOT", tmp_path)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text(
        "SECRET_KEY = 'from-the-instance-folder'\nTIMEZONE = 'Europe/Warsaw'\n"
    )
    (tmp_path / "instance" / "encryption.key").write_text(ENCRYPTION_KEY + "\n")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-the-instance-folder"
    assert app.config["TIMEZONE"] == "Europe/Warsaw"


def test_development_server_generates_and_keeps_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("godparents.PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.delenv("GODPARENTS_SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text() == first.config["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    # The key for secrets stored in the database, too.
    encryption_key = tmp_path / "instance" / "encryption.key"
    assert encryption_key.stat().st_mode & 0o077 == 0
    with first.app_context():
        assert encryption.keys() == [encryption_key.read_text().strip()]
    with second.app_context():
        assert encryption.keys() == [encryption_key.read_text().strip()]
    assert first.config["SESSION_COOKIE_SECURE"] is False  # plain http on 127.0.0.1
