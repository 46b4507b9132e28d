"""The real reminder command in processes of their own, on the test's database, for the
tests of crashes and races and for the browser journeys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parent.parent
# Short times, so that leases run out and deadlines pass within a test.
FAST = {
    "GODPARENTS_MAIL_TIMEOUT": "2",
    "GODPARENTS_REMINDER_MESSAGE_SECONDS": "1",
    "GODPARENTS_REMINDER_LEASE_SECONDS": "4",
    "GODPARENTS_REMINDER_BATCH_SIZE": "5",
}
TODAY = "2026-11-26"


class Runners:
    """The real command in processes of its own, on the test's database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.started: list[subprocess.Popen[str]] = []

    def start(
        self, server_port: int, *args: str, name: str = "runner", **settings: str
    ) -> subprocess.Popen[str]:
        env = {
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
            "GODPARENTS_SECRET_KEY": "s" * 40,
            "GODPARENTS_BASE_URL": "http://godparents.test",
            "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "GODPARENTS_SQLALCHEMY_DATABASE_URI": self.database_url,
            "GODPARENTS_MAIL_SERVER": "127.0.0.1",
            "GODPARENTS_MAIL_PORT": str(server_port),
            "GODPARENTS_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(
                {"pool_pre_ping": True, "connect_args": {"application_name": name}}
                if self.database_url.startswith("postgresql")
                else {"pool_pre_ping": True}
            ),
            **FAST,
            **settings,
        }
        command = args or ("reminders", "run", "--quiet", "--today", TODAY)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "godparents", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)


@pytest.fixture
def runners(app: Flask, database_url: str) -> Iterator[Runners]:
    found = Runners(database_url)
    yield found
    found.stop_all()
