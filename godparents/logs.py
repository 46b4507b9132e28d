"""Logs a machine can read: one line per event, each with the request's id.

Every request gets an id: the reverse proxy's ``X-Request-ID`` when it sends a sane one
(so the proxy's log and ours can be joined), else a new random one; it goes back in the
response's ``X-Request-ID`` header and into every log line written while the request runs.
Each request also writes one summary line (method, route, status, milliseconds, user id).
The route is the URL rule (``/calendar/<token>.ics``), never the path itself: paths can hold
secret tokens, and logs travel further than the database.

``LOG_FORMAT``: ``text`` (default) or ``json`` (one object per line, for journald or a log
shipper); ``LOG_LEVEL``: ``INFO`` by default. The standard library does both: a formatter
of 30 lines needs no dependency.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request
from flask.logging import default_handler
from flask_login import current_user
from werkzeug.wrappers import Response

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# Fields a log call may add with ``extra=``; they appear in the JSON object.
FIELDS = ("method", "route", "status", "ms", "user_id", "endpoint")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def current_request_id() -> str:
    return _request_id.get()


def _begin() -> None:
    offered = request.headers.get(HEADER, "")
    request_id = offered if _SANE_ID.match(offered) else secrets.token_hex(8)
    g.request_id = request_id
    g.request_started = time.perf_counter()
    _request_id.set(request_id)


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:
        return response
    response.headers[HEADER] = request_id
    if request.endpoint != "static":
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        user_id = current_user.get_id() if current_user and current_user.is_authenticated else None
        logging.getLogger("godparents.requests").info(
            "%s %s %s %.0f ms",
            request.method,
            route,
            response.status_code,
            elapsed,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "ms": round(elapsed, 1),
                "user_id": user_id,
                "endpoint": request.endpoint,
            },
        )
    return response


def _forget(exc: BaseException | None) -> None:
    _request_id.set("-")


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    _godparents = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(app: Flask) -> None:
    """One handler on the app's logger (``godparents``), which every module's logger
    (``godparents.*``) reaches; building the app again replaces it rather than adding."""
    logger = logging.getLogger("godparents")
    logger.removeHandler(default_handler)
    for handler in [h for h in logger.handlers if getattr(h, "_godparents", False)]:
        logger.removeHandler(handler)
    handler = _StandardError()
    handler.addFilter(RequestIdFilter())
    if str(app.config.get("LOG_FORMAT", "text")).lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(str(app.config.get("LOG_LEVEL", "INFO")).upper())


def _template_context() -> dict[str, str | None]:
    """The request id for error pages, so that a report can be matched to the log."""
    return {"request_id": g.get("request_id")}


def init_app(app: Flask) -> None:
    configure(app)
    app.context_processor(_template_context)
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
