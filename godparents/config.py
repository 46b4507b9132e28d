"""Configuration defaults and the rules for loading the rest.

Order: these defaults, then ``instance/config.py``, then ``GODPARENTS_*`` environment
variables, then the mapping passed to ``create_app`` (tests).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from babel import Locale, UnknownLocaleError
from flask import Flask


class Defaults:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///godparents.db"  # relative to the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    SESSION_COOKIE_NAME = "godparents_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    # Sessions live on the server (auth/sessions.py): they end after this long without a
    # request, and in any case this long after logging in. "Keep me signed in" (never for
    # coordinators) keeps a session for SESSION_REMEMBER_DURATION instead; only then is the
    # cookie kept when the browser closes, for as long (PERMANENT_SESSION_LIFETIME).
    SESSION_IDLE_TIMEOUT = timedelta(hours=2)
    SESSION_IDLE_TIMEOUT_COORDINATOR = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    SESSION_REMEMBER_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    # Flask-Login's own remember-me cookie is never set (login_user(remember=False)).
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Between the password and the second factor: how long the code may take to type.
    TWO_FACTOR_PENDING_SECONDS = 300
    TOTP_ISSUER = "godparents"

    # Throttling (auth/throttling.py). Memory storage counts per process: with several
    # server processes set GODPARENTS_RATELIMIT_STORAGE_URI=redis://host:6379.
    # Logins, codes and password checks count failures only; reset requests every request.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "50 per 15 minutes"
    TWO_FACTOR_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    TWO_FACTOR_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    # A browser that logged in to the account before (auth/devices.py) is not held by the
    # account's limit: it has its own, and after a few failures waits 1, 2, 4, ... seconds
    # (at most 15 minutes) between attempts. Its cookie lasts a year.
    LOGIN_LIMIT_PER_DEVICE = "30 per day"
    LOGIN_BACKOFF_FREE_FAILURES = 5
    LOGIN_BACKOFF_MAX_SECONDS = 900
    LOGIN_DEVICE_DAYS = 365
    RESET_LIMIT_PER_ACCOUNT = "3 per hour"
    RESET_LIMIT_PER_ADDRESS = "20 per hour"
    # Refused pages recorded in the audit log, per user (errors.py); the rest are not.
    REFUSAL_AUDIT_LIMIT = "20 per 10 minutes"
    # A godparent's invitations of office staff (every one counts).
    TEAM_INVITE_LIMIT = "10 per day"
    # The current password asked again before sensitive changes, by a logged-in user.
    REAUTH_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    # Behind a reverse proxy: how many proxies set X-Forwarded-For (exactly; 0 for none).
    # Throttling and the audit log use the client address this gives.
    PROXY_HOPS = 0

    WTF_CSRF_TIME_LIMIT = 3600 * 12
    # Flask-WTF refuses a POST over HTTPS without a Referer header, and our
    # Referrer-Policy: no-referrer means browsers never send one: every form would fail in
    # production. The CSRF token, bound to the session, and SameSite cookies do the work.
    WTF_CSRF_SSL_STRICT = False
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    PRISONER_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    PRISONER_IMPORT_FOLDER: str | None = None  # None: instance/imports

    # The key that encrypts the two-factor keys in the database (godparents/encryption.py);
    # else instance/encryption.key. Required outside development and tests.
    ENCRYPTION_KEY: str | None = None

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "de")
    # How English dates, times and numbers are written: "en_GB" is "3 Dec 2026, 08:36";
    # "en_US" would be "Dec 3, 2026, 8:36 AM". Any English Babel locale (en_IE, en_AU, ...).
    ENGLISH_LOCALE = "en_GB"
    TIMEZONE = "Europe/Berlin"  # the campaign's: decides what "today" is for reminders
    # The day the campaign began (ISO date): the impact report's campaign years run from
    # its anniversaries, and a prisoner's wait for a godparent counts from it at the earliest.
    CAMPAIGN_STARTED_ON = "2020-10-01"
    BASE_URL = "http://127.0.0.1:5000"

    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "godparents@localhost"

    MAIL_TIMEOUT = 30  # seconds for each connect, read and write to the mail server

    # Reminders (godparents/reminders; docs/operations.md and docs/reminders.md explain them).
    # Missed days are caught up at most REMINDER_GRACE_DAYS back. A runner claims at most
    # REMINDER_BATCH_SIZE messages at a time, for at most REMINDER_BATCH_SECONDS, under a
    # lease of REMINDER_LEASE_SECONDS that it renews while it sends; one message may take
    # REMINDER_MESSAGE_SECONDS, a whole run REMINDER_RUN_SECONDS (below the timer's 15
    # minutes). A message the server turned away for now is tried again after these
    # delays and fails for good after the last.
    REMINDER_GRACE_DAYS = 7
    # A letter still only "sent" this many days after posting is asked about on Mondays.
    LETTER_OUTCOME_ASK_DAYS = 42
    REMINDER_BATCH_SIZE = 500
    REMINDER_BATCH_SECONDS = 60
    REMINDER_LEASE_SECONDS = 600
    REMINDER_MESSAGE_SECONDS = 30
    REMINDER_RUN_SECONDS = 600
    REMINDER_RETRY_MINUTES = (5, 30, 120, 480)
    # Monitoring (/reminders/status): failing when no run got through everything for this
    # long, or messages wait this long past their time. The token lets a monitor in
    # without a login (send it as "Authorization: Bearer TOKEN").
    REMINDER_STALE_MINUTES = 60
    REMINDER_STATUS_TOKEN: str | None = None
    # Bounces: the envelope sender bounces come back to (VERP: bounces+ID-SIG@domain),
    # and the mailbox they arrive in ("maildir:/path" or "imaps://user:pw@host/INBOX").
    REMINDER_BOUNCE_ADDRESS: str | None = None
    REMINDER_BOUNCE_MAILBOX: str | None = None

    # Retention (audit/retention.py, `flask --app godparents retention run`, daily): days
    # after which the app deletes what it no longer needs.
    RETENTION_OUTBOX_BODY_DAYS = 30  # bodies of sent, failed or cancelled emails
    RETENTION_OUTBOX_DAYS = 400  # the outbox messages themselves
    RETENTION_FAILED_LOGIN_DAYS = 90  # failed logins and codes, throttling, refused pages
    RETENTION_AUDIT_DAYS = 730  # every other audit event
    RETENTION_SESSION_DAYS = 7  # session rows, after the session ended

    # Backups (godparents/backup): the key (else instance/backup_key), where they go (None:
    # instance/backups), how many to keep: the newest of each of the last N days and weeks.
    BACKUP_KEY: str | None = None
    BACKUP_FOLDER: str | None = None
    BACKUP_TEMP_FOLDER: str | None = None  # plaintext on its way in or out; None: instance/
    BACKUP_KEEP_DAILY = 7
    BACKUP_KEEP_WEEKLY = 8
    BACKUP_PG_DUMP = "pg_dump"
    BACKUP_PG_RESTORE = "pg_restore"

    # Logs (godparents/logs.py): "text" or "json" lines on standard error, from this level.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"

    DASHBOARD_CACHE_SECONDS = 600  # see godparents/dashboard/services.py
    PAGE_CACHE_SECONDS = 600  # the sponsor home's content; see godparents/caching.py
    # The public pages and the open data feed (godparents/public/): how long a page may be
    # served from the cache at most (any change to the data empties it sooner), and how
    # many requests an address may make.
    PUBLIC_CACHE_SECONDS = 600
    PUBLIC_LIMIT_PER_ADDRESS = "300 per minute"

    INVITATION_MAX_AGE = timedelta(days=7)
    PASSWORD_RESET_MAX_AGE = timedelta(hours=1)
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 1024
    # argon2id cost; tests lower it so the suite stays fast
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4


class ConfigurationError(click.ClickException):
    """The app cannot start safely with this configuration.

    A ``ClickException``: the command line prints it as one line ("Error: ...") and exits 1
    instead of a traceback; ``wsgi.py`` does the same for gunicorn."""


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("GODPARENTS")
    if overrides:
        app.config.update(overrides)
    if app.debug or app.testing:
        # Plain http on 127.0.0.1: a Secure cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    _ensure_secret_key(app)
    _check_values(app)


def _check_values(app: Flask) -> None:
    """Values that would otherwise fail later, in a request or a reminder run."""
    zone = app.config.get("TIMEZONE")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(
            f"GODPARENTS_TIMEZONE {zone!r} is not a time zone (for example Europe/Berlin)."
        ) from error
    english = str(app.config.get("ENGLISH_LOCALE") or "")
    try:
        if Locale.parse(english).language != "en":
            raise ValueError(english)
    except (ValueError, TypeError, UnknownLocaleError) as error:
        raise ConfigurationError(
            f"GODPARENTS_ENGLISH_LOCALE {english!r} is not an English locale "
            "(for example en_GB or en_US)."
        ) from error
    base = str(app.config.get("BASE_URL") or "")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"GODPARENTS_BASE_URL {base!r} is not an http(s) address "
            "(for example https://godparents.example.org)."
        )
    started = app.config.get("CAMPAIGN_STARTED_ON")
    if not isinstance(started, date):
        try:
            app.config["CAMPAIGN_STARTED_ON"] = date.fromisoformat(str(started))
        except ValueError as error:
            raise ConfigurationError(
                f"GODPARENTS_CAMPAIGN_STARTED_ON {started!r} is not a date (e.g. 2020-10-01)."
            ) from error
    port = app.config.get("MAIL_PORT")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigurationError(f"GODPARENTS_MAIL_PORT {port!r} is not a port number.")


def _ensure_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    elif app.debug:
        app.config["SECRET_KEY"] = _development_secret_key(Path(app.instance_path))
    else:
        raise ConfigurationError(
            "No secret key: set GODPARENTS_SECRET_KEY (for example to the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`) "
            "or SECRET_KEY in instance/config.py."
        )


def _development_secret_key(instance: Path) -> str:
    """Read the development server's key from the instance folder, creating it once."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
