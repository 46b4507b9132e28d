"""The production checklist (docs/operations.md), exercised where one machine can: the deploy files,
the environment example (real settings only; doctor passes once it is filled in and fails
while it is not), gunicorn as the unit runs it (request ids in header and JSON log), the
proxy example (forwarding headers, request id, no secret token in its log). Also the app's
own request ids and log lines."""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from godparents import create_app
from godparents.config import Defaults
from godparents.extensions import db
from tests.conftest import Databases
from tests.smtp import SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
PRODUCTION = OPERATIONS[OPERATIONS.index("## Production") : OPERATIONS.index("## Command line")]


def _environment_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "environment.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_every_file_the_checklist_names_is_there() -> None:
    named = set(re.findall(r"`(deploy/[^`\s]+)`", PRODUCTION))
    named |= {f"deploy/{stem}.timer" for stem in ("godparents-reminders", "godparents-backup")}
    assert len(named) >= 7, named
    assert [path for path in sorted(named) if not (ROOT / path).is_file()] == []


def test_the_environment_example_names_only_real_settings() -> None:
    example = _environment_example()
    settings = {key.removeprefix("GODPARENTS_") for key in example if key.startswith("GODPARENTS_")}
    known = {name for name in dir(Defaults) if name.isupper()}
    assert settings - known == set(), "not a setting the app reads"
    assert {
        "SECRET_KEY",
        "BACKUP_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "BASE_URL",
        "MAIL_SERVER",
        "RATELIMIT_STORAGE_URI",
        "PROXY_HOPS",
        "TIMEZONE",
    } <= settings
    assert set(example) - {f"GODPARENTS_{name}" for name in settings} == {"WEB_CONCURRENCY"}
    assert example["GODPARENTS_BASE_URL"].startswith("https://")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    made = Databases(tmp_path_factory.mktemp("production"))
    url = made.create()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()
    yield url
    made.drop_all()


def _filled_in(example: dict[str, str], url: str, smtp: SMTPServer) -> dict[str, str]:
    """The example with its placeholders filled in, pointed at this machine's services."""
    return {
        **example,
        "GODPARENTS_SECRET_KEY": "p" * 64,
        "GODPARENTS_BACKUP_KEY": Fernet.generate_key().decode(),
        "GODPARENTS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": url,
        "GODPARENTS_MAIL_SERVER": smtp.host,
        "GODPARENTS_MAIL_PORT": str(smtp.port),
        "GODPARENTS_MAIL_USE_TLS": "false",
        "GODPARENTS_MAIL_USERNAME": "",
        "GODPARENTS_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
    }


def _run(
    command: list[str], env: dict[str, str], tmp_path: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={"PATH": os.environ["PATH"], "GODPARENTS_INSTANCE_PATH": str(tmp_path), **env},
    )


@pytest.mark.slow
def test_doctor_fails_on_the_example_and_passes_once_it_is_filled_in(
    migrated: str, smtp_server: SMTPServer, tmp_path: Path
) -> None:
    flask = [str(Path(sys.prefix) / "bin" / "flask"), "--app", "godparents", "doctor"]
    example = _environment_example()
    as_shipped = _run(flask, {**example, "GODPARENTS_SQLALCHEMY_DATABASE_URI": migrated}, tmp_path)
    # Without the encryption key nothing starts: one line says which setting is missing.
    assert as_shipped.returncode != 0
    output = as_shipped.stdout + as_shipped.stderr
    assert "GODPARENTS_ENCRYPTION_KEY" in output and "Traceback" not in output, output
    with_key = _run(
        flask,
        {
            **example,
            "GODPARENTS_SQLALCHEMY_DATABASE_URI": migrated,
            "GODPARENTS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        },
        tmp_path,
    )
    assert with_key.returncode == 1
    assert "FAIL  secret key: still the example's placeholder" in with_key.stdout
    assert "FAIL  backup key" in with_key.stdout

    filled = _run(flask, _filled_in(example, migrated, smtp_server), tmp_path)
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert "shared by 3 workers" in filled.stdout  # WEB_CONCURRENCY from the example


def _exec_start(unit: Path) -> list[str]:
    text = unit.read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


@pytest.mark.one_database("the unit file and the request ids do not depend on the database")
@pytest.mark.slow
def test_gunicorn_as_the_unit_runs_it_answers_with_request_ids(
    migrated: str, smtp_server: SMTPServer, tmp_path: Path
) -> None:
    command = _exec_start(DEPLOY / "godparents-web.service")
    assert command[0].endswith("/.venv/bin/gunicorn") and command[-1] == "wsgi:app"
    assert "--access-logfile" not in command  # no paths (and tokens) in gunicorn's log
    port = free_port()
    bind = command.index("--bind")
    command[bind + 1] = f"127.0.0.1:{port}"
    command[0] = str(Path(sys.prefix) / "bin" / "gunicorn")
    env = {
        **_filled_in(_environment_example(), migrated, smtp_server),
        "WEB_CONCURRENCY": "2",
        "GODPARENTS_SESSION_COOKIE_SECURE": "false",
        "GODPARENTS_INSTANCE_PATH": str(tmp_path),
        "PATH": os.environ["PATH"],
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "proxy-id-0123456789"}
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    body, headers = response.read(), response.headers
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert json.loads(body) == {"status": "ok"}
        assert headers["X-Request-ID"] == "proxy-id-0123456789"
        assert "Strict-Transport-Security" in headers
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "proxy-id-0123456789"]
    assert mine and mine[0]["route"] == "/healthz" and mine[0]["status"] == 200, lines


def test_the_proxy_example_forwards_one_hop_and_the_request_id(web_app: Flask) -> None:
    config = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config  # one hop, not appended
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "proxy_set_header X-Request-ID $request_id;" in config
    assert "return 301 https://" in config and "ssl_certificate " in config
    assert _environment_example()["GODPARENTS_PROXY_HOPS"] == "1"


def test_the_proxy_log_redacts_every_route_that_carries_a_token(web_app: Flask) -> None:
    """A route with a secret in its path must be in the proxy's redaction map, or its
    tokens end up in the access log."""
    config = (DEPLOY / "nginx.conf").read_text()
    redacted = re.findall(r"~\^(/\S+)\s", config)
    secret_routes = [rule.rule for rule in web_app.url_map.iter_rules() if "token" in rule.rule]
    assert len(secret_routes) >= 4, secret_routes
    uncovered = [
        rule for rule in secret_routes if not any(rule.startswith(prefix) for prefix in redacted)
    ]
    assert uncovered == []
    assert "$godparents_logged_uri" in config.split("log_format godparents", 1)[1].split(";")[0]


# The app's request ids and log lines -------------------------------------------------------


def test_every_response_carries_a_request_id_and_its_log_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="godparents.requests"):
        first = client.get("/auth/login")
        second = client.get("/auth/login", headers={"X-Request-ID": "from-the-proxy-42"})
        refused = client.get("/healthz", headers={"X-Request-ID": "<script>id</script>"})
    ours = first.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", ours)
    assert second.headers["X-Request-ID"] == "from-the-proxy-42"
    assert re.fullmatch(r"[0-9a-f]{16}", refused.headers["X-Request-ID"])  # not echoed
    ids = [record.request_id for record in caplog.records]  # type: ignore[attr-defined]
    assert ours in ids and "from-the-proxy-42" in ids


def test_log_lines_name_the_route_never_the_token_in_the_path(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="godparents.requests"):
        client.get("/calendar/secret-calendar-token-123.ics")
    assert "secret-calendar-token-123" not in caplog.text
    assert "/calendar/<token>.ics" in caplog.text


@pytest.mark.settings(LOG_FORMAT="json")
def test_json_lines_carry_the_request_id(
    web_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    web_app.test_client().get("/healthz", headers={"X-Request-ID": "json-request-0001"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    entry = next(line for line in lines if line.get("request_id") == "json-request-0001")
    assert entry["route"] == "/healthz" and entry["status"] == 200 and entry["level"] == "INFO"


def test_an_error_page_gives_the_reference_that_is_in_the_log(
    config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    served = create_app({**config, "PROPAGATE_EXCEPTIONS": False})

    def broken() -> str:
        raise RuntimeError("something broke")

    broken._public = True  # type: ignore[attr-defined]
    served.add_url_rule("/broken", view_func=broken)
    with caplog.at_level(logging.INFO, logger="godparents"):
        response = served.test_client().get("/broken")
    reference = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert reference in response.get_data(as_text=True)
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed and failed[0].request_id == reference  # type: ignore[attr-defined]
    with served.app_context():
        db.engine.dispose()
