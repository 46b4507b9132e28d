"""What tests share beyond fixtures: logging in (through the forms, or by writing the
session), reading forms and their errors, posting them, counting rows and queries."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import pyotp
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier
from sqlalchemy import func, select

from godparents.auth import sessions, twofactor
from godparents.auth.models import User, normalise_email
from godparents.extensions import db
from godparents.sponsors.models import Sponsor
from godparents.types import utcnow

CSRF_PATTERN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
VERSION_PATTERN = re.compile(r'<input[^>]*name="version"[^>]*value="([^"]*)"')


class BrowserlikeClient(FlaskClient):
    """A test client that, like a browser, sends back the hidden ``version`` of the edit
    form it last read at a path when it posts to that path (tests that want a stale form
    post a ``version`` themselves; see tests/app/test_concurrency.py)."""

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


def log_in(client: FlaskClient, who: User | Sponsor | str, remember: bool = False) -> User:
    """Log ``client`` in without the forms: write a server-side session as a login does
    (auth/sessions.py) and put its token in the client's cookie session where Flask-Login
    looks for it, so every check the app makes on a request runs as after a real login.
    ``who`` is a ``User``, a ``Sponsor`` (its login) or an email. Runs in the test's app
    context. Tests of logging in itself (passwords, two factors, passkeys, throttling, the
    login's own audit events) go through the forms with ``Auth``."""
    if isinstance(who, str):
        user = db.session.scalar(select(User).where(User.email == normalise_email(who)))
        assert user is not None, f"no account for {who}"
    else:
        user = who.user if isinstance(who, Sponsor) else who
    assert user is not None, f"{who} has no login"
    remember = remember and not user.is_coordinator
    token = sessions.start(user, utcnow(), remember=remember)
    db.session.commit()
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()  # Flask-Login's mark of this browser
    with client.session_transaction() as session:
        locale = session.get("locale")
        session.clear()  # as a login does: nothing of the session before it carries over
        if locale:
            session["locale"] = locale
        session.update(_user_id=token, _fresh=True, _id=identifier)
        session.permanent = remember
    return user


LoginAs = Callable[..., User]

ERROR_PATTERN = re.compile(r'id="([\w-]+)-error" class="invalid-feedback[^"]*">([^<]*)<')


def field_errors(response: Any) -> dict[str, str]:
    """The error message shown at each field of a re-rendered form, by field id."""
    return {
        field: html.unescape(message)
        for field, message in ERROR_PATTERN.findall(response.get_data(as_text=True))
    }


def summary_links(response: Any, prefix: str = "") -> list[str]:
    """The field ids the error summary at the top of a form links to, in order (the
    summary of the form whose prefix is ``prefix`` where a page has several)."""
    text = response.get_data(as_text=True)
    marker = f'id="{prefix}error-summary-title"'
    if marker not in text:
        return []
    summary = text.split(marker, 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([\w-]+)"', summary)


def error_text(response: Any) -> str:
    """Every error message shown at a field, in one string."""
    return " ".join(re.findall(r'class="invalid-feedback[^"]*">([^<]*)<', response.text))


def post_form(client: FlaskClient, path: str, form_page: str | None = None, **data: Any) -> Any:
    """Post ``data`` to ``path`` with the CSRF token of the form at ``form_page`` (the same
    path unless given), as a browser that read that form would."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data})


def count_rows(model: Any, *where: Any) -> int:
    """How many rows of ``model`` (matching ``where``) the database holds."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


class QueryCounter:
    """Counts the SQL statements the served app runs while it is active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)
