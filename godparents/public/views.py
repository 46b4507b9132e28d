"""The campaign's public pages and the open data feed: no login, only consented records.

Every answer is made from the public snapshot (``services``) and kept in a cache keyed by
the public data's version (``versioning``): any change to what they show, a consent
withdrawn included, makes the next request on any server build it anew. While the
coordinators have not switched the pages on, every address here answers 404.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import force_locale, format_date, get_locale
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import http_date, parse_accept_header
from werkzeug.wrappers import Response

from godparents import caching
from godparents.extensions import db, limiter
from godparents.labels import label
from godparents.prisoners.models import PrisonerStatus
from godparents.public import bp, feed, services
from godparents.public import consent as _consent  # noqa: F401  (the consent hook)
from godparents.public import versioning as _versioning  # noqa: F401  (the cache's version)
from godparents.security import public
from godparents.timeutil import campaign_today

cache = caching.LocalCache(max_entries=4096)
GZIP_FROM = 1024  # bytes: smaller answers are sent as they are
# Asked on every public request, on a pooled DBAPI connection: neither an ORM session nor a
# SQLAlchemy Connection is made for a cached answer (50 us here, against 160 us through a
# Connection and 320 us through the session; bench/README.md).
_STATE_SQL = "SELECT is_enabled, version FROM public_settings WHERE id = 1"
PUBLIC_ENDPOINTS = frozenset(
    f"public.{name}"
    for name in (
        "index",
        "godparents",
        "prisoner",
        "news",
        "join",
        "news_feed",
        "sitemap",
        "data_json",
        "data_csv",
    )
)


@functools.lru_cache(maxsize=8)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


@bp.before_request
def _throttle() -> None:
    """Every public answer counts against the reader's address (``PUBLIC_LIMIT_PER_ADDRESS``),
    in Flask-Limiter's storage and strategy. Checked here rather than with ``limiter.limit``
    on each view: Flask-Limiter's per-view machinery cost more CPU than serving the cached
    page itself (bench/README.md). The coordinators' settings page is not counted."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        return
    item = _limit(current_app.config["PUBLIC_LIMIT_PER_ADDRESS"])
    if not limiter.limiter.hit(item, "public", get_remote_address()):
        abort(429)


def _language() -> str:
    """``?lang=`` if given, else the browser's choice."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang", "")
    if asked in languages:
        return asked
    return _best_language(request.headers.get("Accept-Language", ""), tuple(languages))


@functools.lru_cache(maxsize=256)
def _best_language(header: str, languages: tuple[str, ...]) -> str:
    """The browser's choice among ``languages`` (browsers send a handful of distinct
    headers, so each is parsed once)."""
    return parse_accept_header(header, LanguageAccept).best_match(languages) or "en"


def _country_name(code: str) -> str:
    return str(get_locale().territories.get(code.upper()) or code)


def _status_label(value: str) -> str:
    return label(PrisonerStatus(value))


def _format_day(value: str) -> str:
    return format_date(date.fromisoformat(value), "long")


def _snapshot() -> tuple[tuple[Any, ...], services.Snapshot]:
    """The snapshot and its cache key; 404 while the public pages are off."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(_STATE_SQL)
        state = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()  # back to the pool, rolled back
    if state is None or not state[0]:
        abort(404)
    today = campaign_today(current_app.config["TIMEZONE"])
    key = (int(state[1]), today.isoformat())
    max_age = current_app.config["PUBLIC_CACHE_SECONDS"]
    snapshot = cache.get(("snapshot", *key), max_age, lambda: services.build_snapshot(today))
    if not snapshot.is_enabled:  # switched off between the two reads
        abort(404)
    return key, snapshot


def _base_url() -> str:
    return str(current_app.config["BASE_URL"] or request.host_url).rstrip("/")


@dataclass(frozen=True)
class _Answer:
    """A body as sent, as is and gzipped, each with its headers: made once per data version,
    so a cached answer is a lookup and a response, nothing more."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    gzipped: bytes | None
    gzipped_headers: tuple[tuple[str, str], ...]


def _answer(
    key: tuple[Any, ...],
    build: Callable[[], bytes],
    content_type: str,
    extra: tuple[tuple[str, str], ...] = (),
    vary: str = "Accept-Encoding",
) -> _Answer:
    def make() -> _Answer:
        body = build()
        etag = feed.etag_of(body)
        common = (("Content-Type", content_type), ("Vary", vary), *extra)
        plain = (*common, ("ETag", f'"{etag}"'))
        if len(body) <= GZIP_FROM:
            return _Answer(body, plain, None, ())
        packed = (*common, ("Content-Encoding", "gzip"), ("ETag", f'"{etag}-gzip"'))
        return _Answer(body, plain, gzip.compress(body, 9), packed)

    return cache.get(key, current_app.config["PUBLIC_CACHE_SECONDS"], make)


def _respond(answer: _Answer) -> Response:
    """The answer, gzipped for readers that take it (every browser does)."""
    if answer.gzipped is not None and request.accept_encodings["gzip"]:
        return Response(answer.gzipped, headers=list(answer.gzipped_headers))
    return Response(answer.body, headers=list(answer.headers))


def _page(
    name: str,
    template: str,
    found: tuple[tuple[Any, ...], services.Snapshot] | None = None,
    **extra: Any,
) -> Response:
    key, snapshot = found or _snapshot()
    language = _language()
    args = tuple(sorted(extra.items(), key=lambda item: item[0]))

    def render() -> bytes:
        with force_locale(language):
            return render_template(
                template,
                snapshot=snapshot,
                services=services,
                language=language,
                country_name=_country_name,
                status_label=_status_label,
                format_day=_format_day,
                **extra,
            ).encode()

    answer = _answer(
        ("page", *key, language, name, args),
        render,
        "text/html; charset=utf-8",
        extra=(("Content-Language", language),),
        vary="Accept-Encoding, Accept-Language",
    )
    return _respond(answer)


# Let any website read the feeds from a browser (these GETs only).
OPEN_TO_ALL = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", "ETag"))


def _dated(last_modified: datetime, *more: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """A feed's headers: readers may keep a copy, and ask whether it is current."""
    return (("Last-Modified", http_date(last_modified)), ("Cache-Control", "no-cache"), *more)


def _conditional(answer: _Answer) -> Response:
    """The answer, or 304 when the reader's copy is current (its ETag or date)."""
    response = _respond(answer)
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
        return response.make_conditional(request)
    return response


@bp.get("/public/")
@public
def index() -> Response:
    """The campaign's figures and the way in."""
    return _page("index", "public/index.html")


@bp.get("/public/godparents")
@public
def godparents() -> Response:
    """The godparents, by country and parliament, each with their public godchildren."""
    return _page("godparents", "public/godparents.html")


@bp.get("/public/prisoners/<int:prisoner_id>")
@public
def prisoner(prisoner_id: int) -> Response:
    """A prisoner's public profile: only with their consent, else 404."""
    found = _snapshot()
    if prisoner_id not in found[1].prisoners_by_id:
        abort(404)
    return _page("prisoner", "public/prisoner.html", found, prisoner_id=prisoner_id)


@bp.get("/public/news")
@public
def news() -> Response:
    """New godparenthoods and releases."""
    return _page("news", "public/news.html")


@bp.get("/public/join")
@public
def join() -> Response:
    """Become a godparent: who to write to."""
    return _page("join", "public/join.html")


@bp.get("/public/news.atom")
@public
def news_feed() -> Response:
    key, snapshot = _snapshot()
    language = _language()
    base_url = _base_url()

    def render() -> bytes:
        with force_locale(language):
            return render_template(
                "public/news_atom.xml",
                items=services.news(snapshot),
                snapshot=snapshot,
                base_url=base_url,
                language=language,
            ).encode()

    answer = _answer(
        ("atom", *key, language, base_url),
        render,
        "application/atom+xml",
        extra=_dated(snapshot.last_modified),
    )
    return _conditional(answer)


@bp.get("/public/sitemap.xml")
@public
def sitemap() -> Response:
    key, snapshot = _snapshot()
    base_url = _base_url()

    def render() -> bytes:
        return render_template("public/sitemap.xml", snapshot=snapshot, base_url=base_url).encode()

    answer = _answer(
        ("sitemap", *key, base_url), render, "application/xml", _dated(snapshot.last_modified)
    )
    return _conditional(answer)


@bp.get("/public/data.json")
@public
def data_json() -> Response:
    """The open data feed (docs/open-data.md)."""
    key, snapshot = _snapshot()
    base_url = _base_url()
    answer = _answer(
        ("json", *key, base_url),
        lambda: feed.feed_json(snapshot, base_url),
        "application/json",
        _dated(snapshot.last_modified, *OPEN_TO_ALL),
    )
    return _conditional(answer)


@bp.get("/public/data.csv")
@public
def data_csv() -> Response:
    """One table of the open data feed as CSV: ``?table=`` godparenthoods (the default),
    prisoners, godparents or deleted."""
    key, snapshot = _snapshot()
    table = request.args.get("table", "godparenthoods")
    if table not in feed.CSV_TABLES:
        abort(404)
    base_url = _base_url()
    disposition = ("Content-Disposition", f"inline; filename=godparents-{table}.csv")
    answer = _answer(
        ("csv", *key, base_url, table),
        lambda: feed.feed_csv(snapshot, base_url, table),
        "text/csv; charset=utf-8",
        _dated(snapshot.last_modified, *OPEN_TO_ALL, disposition),
    )
    return _conditional(answer)
