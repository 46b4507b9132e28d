"""``flask --app godparents doctor``: is this host ready to serve? One line per check.

Each check looks at one thing a deployment gets wrong (a missing key, a plain-http base URL,
a mail server that does not answer, a database behind the migrations, per-process throttling
under several workers, an unknown time zone, catalogs that were never compiled) and says
``ok``, ``warn`` or ``FAIL`` with what it saw. The exit code is 1 when any check failed.
It changes nothing: it reads the configuration, connects and disconnects.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from limits.storage import storage_from_string
from sqlalchemy import String, select, text, type_coerce
from sqlalchemy.exc import SQLAlchemyError

from godparents import catalogs, encryption
from godparents.auth.models import User
from godparents.database import schema_revisions
from godparents.extensions import db

OK, WARN, FAIL = "ok", "warn", "FAIL"
MIN_SECRET_KEY_LENGTH = 32
SMTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Result:
    status: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def is_development(app: Flask) -> bool:
    """The development server (``--debug``); tests check production rules unless they ask."""
    return bool(app.debug)


def check_secret_key(app: Flask) -> Result:
    key = app.config.get("SECRET_KEY") or ""
    if not key:
        return Result(FAIL, "secret key", "not set (GODPARENTS_SECRET_KEY)")
    if "change-me" in key:
        return Result(FAIL, "secret key", "still the example's placeholder (change-me...)")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return Result(
            FAIL,
            "secret key",
            f"only {len(key)} characters; use at least "
            f"{MIN_SECRET_KEY_LENGTH} random ones (secrets.token_hex(32))",
        )
    return Result(OK, "secret key", f"set ({len(key)} characters)")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(app: Flask) -> Result:
    """The address every emailed link starts with: https, a real host outside development,
    and the one the app's link builder (the emails', the invitations') actually uses."""
    base = app.config.get("BASE_URL") or ""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Result(FAIL, "base url", f"{base!r} is not an http(s) address (GODPARENTS_BASE_URL)")
    if parts.query or parts.fragment:
        return Result(FAIL, "base url", f"{base!r} must not carry a query or fragment")
    from godparents.reminders.messages import external_url, url_context  # the emails' own

    with url_context():
        link = external_url("sponsors.home")
    if not link.startswith(base.rstrip("/") + "/"):
        return Result(FAIL, "base url", f"links come out as {link}, not on {base}")
    if not is_development(app):
        if parts.scheme != "https":
            return Result(
                FAIL,
                "base url",
                f"{base} is plain http: links in emails must be https outside development",
            )
        if _is_loopback(parts.hostname):
            return Result(
                FAIL,
                "base url",
                f"{base} points at this machine: nobody who gets an email can open it",
            )
    return Result(OK, "base url", f"{base} (links look like {link})")


def check_mail(app: Flask) -> Result:
    """Connect, greet, STARTTLS when configured (the certificate is checked), log in when a
    user is configured, then leave without sending anything."""
    # Flask-Mail's defaults when unset.
    host = app.config.get("MAIL_SERVER") or "localhost"
    port = int(app.config.get("MAIL_PORT") or 25)
    where = f"{host}:{port}"
    context = ssl.create_default_context()
    try:
        if app.config.get("MAIL_USE_SSL"):
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with connection:
            connection.ehlo()
            if app.config.get("MAIL_USE_TLS"):
                connection.starttls(context=context)
                connection.ehlo()
            if app.config.get("MAIL_USERNAME"):
                connection.login(app.config["MAIL_USERNAME"], app.config.get("MAIL_PASSWORD") or "")
            code, _message = connection.noop()
    except (OSError, smtplib.SMTPException) as error:
        return Result(
            FAIL, "mail server", f"{where} does not answer: {type(error).__name__}: {error}".strip()
        )
    if code != 250:
        return Result(FAIL, "mail server", f"{where} answered {code} to NOOP")
    return Result(
        OK,
        "mail server",
        f"{where} answers"
        + (", TLS" if app.config.get("MAIL_USE_TLS") or app.config.get("MAIL_USE_SSL") else "")
        + (", logged in" if app.config.get("MAIL_USERNAME") else ""),
    )


def check_database(app: Flask) -> Result:
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, heads = schema_revisions()  # what the reminder job checks before it runs
    except SQLAlchemyError as error:
        return Result(
            FAIL,
            "database",
            f"{url} does not answer: {error.__class__.__name__}: {str(error).splitlines()[0]}",
        )
    if current != heads:
        have = ", ".join(sorted(current)) or "never migrated"
        return Result(
            FAIL,
            "database",
            f"{url} is at {have}, the migrations' head is "
            f"{', '.join(sorted(heads))}: run `flask --app godparents db upgrade`",
        )
    return Result(OK, "database", f"{url} answers, at the migrations' head ({', '.join(heads)})")


def check_encryption_key(app: Flask) -> Result:
    """The key of the two-factor keys: there (the app would not start without it), and the
    right one: it opens a stored key, if there is one."""
    try:
        configured = encryption.keys()
        column = User.__table__.c.totp_key
        stored = db.session.scalar(
            select(type_coerce(column, String))  # as stored
            .where(column.is_not(None))
            .limit(1)
        )
    except SQLAlchemyError:
        db.session.rollback()
        return Result(
            WARN,
            "encryption key",
            f"{len(configured)} key(s); no stored two-factor "
            "key could be read to try it (see the database line)",
        )
    finally:
        db.session.remove()
    if stored is None:
        return Result(
            OK,
            "encryption key",
            f"{len(configured)} key(s); no two-factor key stored yet to try it on",
        )
    try:
        encryption.decrypt(stored)
    except encryption.EncryptionKeyError:
        return Result(
            FAIL,
            "encryption key",
            "it does not open the two-factor keys stored in "
            "the database: the key of another installation, or one rotated away",
        )
    return Result(
        OK, "encryption key", f"{len(configured)} key(s); they open the stored two-factor keys"
    )


def worker_count(explicit: int | None) -> int:
    """--workers, else gunicorn's own environment variable WEB_CONCURRENCY, else 1."""
    if explicit:
        return explicit
    try:
        return max(1, int(os.environ.get("WEB_CONCURRENCY", "1")))
    except ValueError:
        return 1


def check_throttling(app: Flask, workers: int) -> Result:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory://"):
        if workers > 1:
            return Result(
                FAIL,
                "throttling storage",
                f"memory:// counts per process: with "
                f"{workers} workers a login may be tried {workers} times as often; "
                "set GODPARENTS_RATELIMIT_STORAGE_URI=redis://...",
            )
        return Result(OK, "throttling storage", "memory:// (one worker)")
    shown = urlsplit(uri)._replace(netloc=urlsplit(uri).hostname or "").geturl()
    try:
        reachable = storage_from_string(uri).check()
    except Exception as error:  # the storage library raises its backend's own errors
        return Result(FAIL, "throttling storage", f"{shown}: {type(error).__name__}: {error}")
    if not reachable:
        return Result(FAIL, "throttling storage", f"{shown} does not answer")
    return Result(OK, "throttling storage", f"{shown} answers (shared by {workers} workers)")


def check_timezone(app: Flask) -> Result:
    name = app.config.get("TIMEZONE") or ""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return Result(FAIL, "time zone", f"{name!r} is not a time zone (GODPARENTS_TIMEZONE)")
    now = datetime.now(zone)
    return Result(
        OK, "time zone", f"{name}: reminders plan for {now:%Y-%m-%d} (now {now:%H:%M %Z})"
    )


def check_catalogs(app: Flask) -> Result:
    """Every catalog in the directories Flask-Babel reads is compiled and current; and the
    templates are there (an install that lost one usually lost the other)."""
    configured = app.config.get("BABEL_TRANSLATION_DIRECTORIES") or "translations"
    directories = [Path(app.root_path) / d for d in str(configured).split(";")]
    sources = [po for directory in directories for po in catalogs.sources(directory)]
    if not sources:
        return Result(FAIL, "catalogs", "no catalogs in " + ", ".join(map(str, directories)))
    missing = [po for directory in directories for po in catalogs.stale(directory)]
    if missing:
        names = ", ".join(str(po.with_suffix(".mo")) for po in missing)
        return Result(FAIL, "catalogs", f"not compiled, or older than the .po: {names}")
    templates = Path(app.root_path) / (app.template_folder or "templates")
    if not (templates / "base.html").exists():
        return Result(FAIL, "catalogs", f"compiled, but no templates at {templates}")
    return Result(OK, "catalogs", "compiled: " + ", ".join(p.parent.parent.name for p in sources))


Check = Callable[[Flask], Result]


def checks(app: Flask, workers: int) -> Iterator[Result]:
    from godparents.backup import keys as backup_keys  # imports this module's Result

    plain: list[Check] = [
        check_secret_key,
        backup_keys.check,
        check_encryption_key,
        check_base_url,
        check_mail,
        check_database,
        check_timezone,
        check_catalogs,
    ]
    for check in plain:
        try:
            yield check(app)
        except Exception as error:  # one broken check must not hide the others' lines
            yield Result(
                FAIL,
                check.__name__.removeprefix("check_").replace("_", " "),
                f"{type(error).__name__}: {error}",
            )
    yield check_throttling(app, workers)


@click.command("doctor")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Server processes sharing this configuration (default: WEB_CONCURRENCY, else 1).",
)
@with_appcontext
def doctor(workers: int | None) -> None:
    """Check this host's configuration, one line per check; exit code 1 if any failed."""
    failed = False
    for result in checks(current_app, worker_count(workers)):
        click.echo(result.line())
        failed = failed or result.status == FAIL
    if failed:
        raise SystemExit(1)
