"""What "today" is: a time zone decides, never the server's clock setting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_login import current_user


def campaign_today(timezone: str, now: datetime | None = None) -> date:
    """Today in ``timezone``; the campaign's time zone decides it for reminders."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def local_today(timezone: str | None, fallback: str, now: datetime | None = None) -> date:
    """Today where the reader is: their own time zone, else ``fallback`` (the campaign's)."""
    try:
        return campaign_today(timezone or fallback, now)
    except (ZoneInfoNotFoundError, ValueError):
        return campaign_today(fallback, now)


def reader_today() -> date:
    """Today for the logged-in reader of a page, in their own time zone (else the
    campaign's). For views only: it reads the request's user and the app's settings."""
    return local_today(current_user.timezone, current_app.config["TIMEZONE"])
