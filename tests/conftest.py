"""The test harness: an app on its own database, a client, a CLI runner, helpers to log in.

Tests run on SQLite by default. With ``GODPARENTS_TEST_DATABASE_URL`` naming a PostgreSQL
server (for example ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) they run on a
database created on that server for this run and dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import stamp
from limits.storage import MemoryStorage
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from godparents import create_app
from godparents.auth import throttling
from godparents.auth.models import User
from godparents.extensions import db
from godparents.sponsors.models import Sponsor
from tests.helpers import (
    Auth,
    BrowserlikeClient,
    LoginAs,
    QueryCounter,
    log_in,
)

pytest_plugins = ["tests.browser", "tests.smtp", "tests.processes"]


SERVER_URL = os.environ.get("GODPARENTS_TEST_DATABASE_URL")

_ROOT = Path(__file__).resolve().parent.parent
# The sample CSV files: shared/data beside the project (as in CI), else the copies here.
SAMPLE_DATA = next(
    path
    for path in (_ROOT.parent / "shared" / "data", _ROOT / "tests" / "data")
    if (path / "prisoners-sample.csv").exists()
)


BROWSER_ON_POSTGRESQL = "a Chromium walk says nothing new on a second database"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first; on the PostgreSQL run, skip what says nothing new on a second
    database (TESTING.md): the browser journeys and the tests marked ``one_database("why")``.
    The reason shows in the run's summary of skipped tests.

    Order: pytest-xdist hands the workers one test (or one serial group) at a time, in this
    order; a long test handed out last (the Chromium walk takes most of a minute) leaves
    the other worker idle while it runs. Longest first, the short ones fill in at the end.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
    if not SERVER_URL:
        # The browser journeys on one worker: one Chromium for the run, not one per worker.
        for item in items:
            browser = item.get_closest_marker("browser") is not None
            if browser and item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group("browser"))
        return
    for item in items:
        marker = item.get_closest_marker("one_database")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"on PostgreSQL: {reason}"))
        elif item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=f"on PostgreSQL: {BROWSER_ON_POSTGRESQL}"))


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
    """DELETE every row, children before parents: on PostgreSQL ten times faster than
    ``TRUNCATE … CASCADE`` for tables this small (ids are not restarted: no test may count
    on them)."""
    tables = reversed(db.metadata.sorted_tables)
    if db.engine.dialect.name == "postgresql":
        # One round trip for all of them: 2 ms against 9 ms a test, one statement each.
        db.session.execute(text("; ".join(f'DELETE FROM "{table.name}"' for table in tables)))
    else:
        for table in tables:
            db.session.execute(table.delete())
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
        "PUBLIC_CACHE_SECONDS": 0,
        **FAST_HASHING,
    }
    if "smtp_server" in request.fixturenames:
        # Mail goes to the test's real SMTP server instead of being suppressed.
        server = request.getfixturevalue("smtp_server")
        values.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
    for marker in reversed(list(request.node.iter_markers("settings"))):
        values.update(marker.kwargs)
    return values


class AppPair:
    """The two apps of one configuration (see ``app`` and ``web_app``), built once per run:
    building them costs about 0.2 s each, more than most tests take."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.app = create_app(config)
        self.web_app = create_app(config)
        self.web_app.test_client_class = BrowserlikeClient
        self.configs = {id(app): dict(app.config) for app in (self.app, self.web_app)}

    def reset(self) -> None:
        """What a test may have changed on the apps goes back: their configuration (tests
        set ``app.config[...]``) and the throttling counts kept in memory."""
        for app in (self.app, self.web_app):
            app.config.clear()
            app.config.update(self.configs[id(app)])
            storage = app.extensions[throttling._STORAGE]
            if isinstance(storage, MemoryStorage):
                storage.reset()
        throttling.limiter.reset()

    def dispose(self) -> None:
        for app in (self.app, self.web_app):
            with app.app_context():
                db.engine.dispose()


class AppCache:
    """One ``AppPair`` per configuration, the few most recently used kept (tests with a
    configuration of their own, such as a temporary folder, make one each)."""

    KEEP = 4

    def __init__(self) -> None:
        self.pairs: OrderedDict[str, AppPair] = OrderedDict()

    def get(self, config: dict[str, Any]) -> AppPair:
        key = repr(sorted((name, repr(value)) for name, value in config.items()))
        if self.pairs and next(reversed(self.pairs)) != key:
            # The last pair's connections are closed while it waits (PostgreSQL's
            # connections are few, and other test runs may share the server).
            self.pairs[next(reversed(self.pairs))].dispose()
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = AppPair(config)
            while len(self.pairs) > self.KEEP:
                self.pairs.popitem(last=False)[1].dispose()
        self.pairs.move_to_end(key)
        return pair

    def dispose(self) -> None:
        for pair in self.pairs.values():
            pair.dispose()
        self.pairs.clear()


@pytest.fixture(scope="session")
def app_cache() -> Iterator[AppCache]:
    cache = AppCache()
    yield cache
    cache.dispose()


@pytest.fixture
def app_pair(app_cache: AppCache, config: dict[str, Any]) -> Iterator[AppPair]:
    pair = app_cache.get(config)
    pair.reset()
    yield pair
    pair.reset()


@pytest.fixture
def app(app_pair: AppPair) -> Iterator[Flask]:
    """The app whose context the test's own code runs in (factories, assertions).

    The database is emptied after each test.
    """
    app = app_pair.app
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()


@pytest.fixture
def web_app(app: Flask, app_pair: AppPair) -> Flask:
    """A second instance of the app that serves the client, the CLI runner and the browser.

    Being another app object, each of its requests gets its own app context, ``g`` and
    database session, as in production; with one shared app, every request would reuse the
    test's context and its cached user, CSRF token and session.
    """
    return app_pair.web_app


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


@pytest.fixture
def runner(web_app: Flask) -> FlaskCliRunner:
    return web_app.test_cli_runner()


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def login_as(client: FlaskClient) -> LoginAs:
    """``login_as(user)`` logs the test client in without the forms (see ``log_in``)."""

    def login(who: User | Sponsor | str, remember: bool = False) -> User:
        return log_in(client, who, remember=remember)

    return login


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
