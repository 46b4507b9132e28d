"""`flask --app godparents users create` and `db upgrade`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from godparents.auth import services
from godparents.auth.models import Role
from godparents.types import utcnow
from tests.conftest import ENCRYPTION_KEY
from tests.factories import make_sponsor

ROOT = Path(__file__).resolve().parents[2]


def test_create_coordinator_with_password_from_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "Ops@Example.org", "--role", "coordinator"],
        input="a very long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created: ops@example.org coordinator" in result.output
    assert "a very long password" not in result.output
    user = services.authenticate("ops@example.org", "a very long password", utcnow())
    assert user is not None and user.role is Role.COORDINATOR


def test_create_sponsor_makes_the_godparent_record(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "mp@example.org",
            "--role",
            "sponsor",
            "--name",
            "Dr. Jana Nováková",
            "--body",
            "Poslanecká sněmovna",
            "--country",
            "cz",
        ],
        input="another long password\n",
    )
    assert result.exit_code == 0, result.output
    user = services.find_user("mp@example.org")
    assert user.sponsor.full_name == "Dr. Jana Nováková"
    assert user.sponsor.country == "CZ"


def test_create_delegate_for_a_sponsor(app: Flask, runner: FlaskCliRunner) -> None:
    sponsor = make_sponsor()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "office@example.org",
            "--role",
            "delegate",
            "--sponsor",
            sponsor.email,
        ],
        input="lantern passport 123\n",
    )
    assert result.exit_code == 0, result.output
    delegate = services.find_user("office@example.org")
    assert [d.sponsor_id for d in delegate.delegations] == [sponsor.id]


def test_create_refuses_bad_input_and_writes_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    short = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "coordinator"], input="short\n"
    )
    assert short.exit_code == 1 and "Use at least 12 characters." in short.output
    assert services.find_user("a@example.org") is None

    runner.invoke(
        args=["users", "create", "b@example.org", "--role", "coordinator"],
        input="a good long password\n",
    )
    again = runner.invoke(
        args=["users", "create", "B@example.org", "--role", "sponsor"],
        input="a good long password\n",
    )
    assert again.exit_code == 1 and "already exists" in again.output

    orphan = runner.invoke(
        args=["users", "create", "c@example.org", "--role", "delegate"],
        input="a good long password\n",
    )
    assert orphan.exit_code == 2 and "--sponsor" in orphan.output
    bad_role = runner.invoke(args=["users", "create", "d@example.org", "--role", "admin"])
    assert bad_role.exit_code == 2
    assert services.find_user("c@example.org") is None
    assert services.find_user("d@example.org") is None


def test_db_upgrade_from_the_command_line(tmp_path: Path) -> None:
    """The real command, as cron lines and deploy scripts call it."""
    database = tmp_path / "cli.db"
    env = {
        "GODPARENTS_SECRET_KEY": "x" * 40,
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "PATH": str(Path(sys.executable).parent),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "godparents", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "godparents", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "(head)" in check.stdout


def test_create_refuses_an_address_with_a_line_break(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "ops@example.org\r\nBcc: evil@example.org",
            "--role",
            "coordinator",
        ],
        input="lantern passport 123\n",
    )
    assert result.exit_code != 0 and "Enter an email address such as" in result.output
    assert services.find_user("ops@example.org") is None
