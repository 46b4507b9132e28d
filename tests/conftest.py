"""The test harness: an app on its own database, a client, a CLI runner, helpers to log in.

Tests run on SQLite by default. With ``GODPARENTS_TEST_DATABASE_URL`` naming a PostgreSQL
server (for example ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) they run on a
database created on that server for this run and dropped after it.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import stamp
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url

from godparents import create_app
from godparents.auth import twofactor
from godparents.auth.models import User, normalise_email
from godparents.extensions import db

pytest_plugins = ["tests.browser", "tests.smtp", "tests.processes"]

SERVER_URL = os.environ.get("GODPARENTS_TEST_DATABASE_URL")

_ROOT = Path(__file__).resolve().parent.parent
# The sample CSV files: shared/data beside the project (as in CI), else the copies here.
SAMPLE_DATA = next(
    path
    for path in (_ROOT.parent / "shared" / "data", _ROOT / "tests" / "data")
    if (path / "prisoners-sample.csv").exists()
)


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection: Any, connection_record: Any) -> None:
    """Test databases are thrown away: SQLite need not wait for the disk on every commit."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
# The key that encrypts the two-factor keys in the database (godparents/encryption.py): one
# for the run, so that every app of a test reads what another wrote.
ENCRYPTION_KEY = Fernet.generate_key().decode()


class Databases:
    """Creates empty databases for this test run, on SQLite or the PostgreSQL server."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def create(self) -> str:
        name = f"godparents_test_{uuid.uuid4().hex[:12]}"
        if not SERVER_URL:
            return f"sqlite:///{self.tmp / name}.db"
        server = make_url(SERVER_URL)
        engine = create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        engine.dispose()
        self.created.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        engine = create_engine(make_url(SERVER_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    created = Databases(tmp_path_factory.mktemp("databases"))
    yield created
    created.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> str:
    """The run's shared database, its tables made once from the models."""
    url = databases.create()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        stamp()  # made from the models, which are the migrations' head (test_migrations)
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture
def config(request: pytest.FixtureRequest, database_url: str) -> dict[str, Any]:
    """The test's configuration; change it with ``@pytest.mark.settings(KEY=value)``."""
    values: dict[str, Any] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": "http://godparents.test",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "DASHBOARD_CACHE_SECONDS": 0,
        "PAGE_CACHE_SECONDS": 0,
        **FAST_HASHING,
    }
    if "smtp_server" in request.fixturenames:
        # Mail goes to the test's real SMTP server instead of being suppressed.
        server = request.getfixturevalue("smtp_server")
        values.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
    for marker in reversed(list(request.node.iter_markers("settings"))):
        values.update(marker.kwargs)
    return values


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    """The app whose context the test's own code runs in (factories, assertions).

    The database is emptied after each test.
    """
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web_app(app: Flask, config: dict[str, Any]) -> Iterator[Flask]:
    """A second instance of the app that serves the client, the CLI runner and the browser.

    Being another app object, each of its requests gets its own app context, ``g`` and
    database session, as in production; with one shared app, every request would reuse the
    test's context and its cached user, CSRF token and session.
    """
    served = create_app(config)
    served.test_client_class = BrowserlikeClient
    yield served
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


@pytest.fixture
def runner(web_app: Flask) -> FlaskCliRunner:
    return web_app.test_cli_runner()


CSRF_PATTERN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
VERSION_PATTERN = re.compile(r'<input[^>]*name="version"[^>]*value="([^"]*)"')


class BrowserlikeClient(FlaskClient):
    """A test client that, like a browser, sends back the hidden ``version`` of the edit
    form it last read at a path when it posts to that path (tests that want a stale form
    post a ``version`` themselves; see tests/test_concurrency.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_versions: dict[str, str] = {}

    def post(self, *args: Any, **kwargs: Any) -> Any:
        path = args[0] if args else kwargs.get("path", "")
        data = kwargs.get("data")
        version = self.form_versions.get(str(path).split("?")[0])
        if isinstance(data, dict) and version is not None and "version" not in data:
            kwargs["data"] = {**data, "version": version}
        return super().post(*args, **kwargs)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``, as a browser would read it (and,
    for a ``BrowserlikeClient``, the form's version, sent back when it posts there)."""
    response = client.get(path, follow_redirects=True)
    page = response.get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    version = VERSION_PATTERN.search(page)
    if isinstance(client, BrowserlikeClient) and version:
        client.form_versions[path.split("?")[0]] = version.group(1)
    return match.group(1)


class Auth:
    """Logs the test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(
        self,
        email: str,
        password: str = "correct horse battery",
        next: str = "",
        remember: bool = False,
    ):
        """Log in through the form; for an account with two factors, then through the code
        form with the code its authenticator app would show now."""
        token = csrf_token(self.client, "/auth/login")
        data = {"email": email, "password": password, "csrf_token": token, "next": next}
        if remember:
            data["remember"] = "y"
        response = self.client.post("/auth/login", data=data)
        if response.headers.get("Location") == "/auth/two-factor":
            return self.second_factor(email)
        return response

    def second_factor(self, email: str, code: str | None = None):
        token = csrf_token(self.client, "/auth/two-factor")
        return self.client.post(
            "/auth/two-factor", data={"code": code or totp_code(email), "csrf_token": token}
        )

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/auth/logout", data={"csrf_token": token})


def totp_code(email: str, lasting: float = 2.0) -> str:
    """The code an authenticator app would show for this account, for a time step the app has
    not accepted yet (a code works once) and that it will still accept ``lasting`` seconds from
    now: the server takes the step before, the current and the next one, so a code for the
    step before expires at the next boundary and is used only when that is far enough away
    (under load, a request may wait seconds before it is checked)."""
    with db.engine.connect() as connection:  # a fresh look, whatever the test's session holds
        secret, last = connection.execute(
            select(User.totp_secret, User.totp_last_step).where(
                User.email == normalise_email(email)
            )
        ).one()
    assert secret, f"{email} has no two factors"
    now = time.time()
    current = int(now) // twofactor.STEP_SECONDS
    left = twofactor.STEP_SECONDS - now % twofactor.STEP_SECONDS
    usable = [
        step
        for offset, step in enumerate((current - 1, current, current + 1))
        if (last is None or step > last) and left + offset * twofactor.STEP_SECONDS >= lasting
    ]
    assert usable, "too many two-factor logins for this account in 30 seconds"
    step = usable[0]
    return pyotp.TOTP(secret).generate_otp(step)


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


class QueryCounter:
    """Counts the SQL statements the served app runs while it is active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(web_app: Flask) -> Iterator[Callable[[], QueryCounter]]:
    """``with count_queries() as counter:`` around requests; ``counter.count`` after."""
    with web_app.app_context():
        engine = db.engine

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    yield counting
