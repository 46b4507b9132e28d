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
from sqlalchemy import select
from werkzeug.wrappers import Response

from godparents import caching
from godparents.extensions import db, limiter
from godparents.labels import label
from godparents.prisoners.models import PrisonerStatus
from godparents.public import bp, feed, services
from godparents.public import consent as _consent  # noqa: F401  (the consent hook)
from godparents.public import versioning as _versioning  # noqa: F401  (the cache's version)
from godparents.public.models import PublicSettings
from godparents.security import public
from godparents.timeutil import campaign_today

cache = caching.LocalCache(max_entries=4096)
GZIP_FROM = 1024  # bytes: smaller answers are sent as they are
# Asked on every public request: one primary-key read.
_STATE = select(PublicSettings.is_enabled, PublicSettings.version).where(PublicSettings.id == 1)
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
    return request.accept_languages.best_match(languages) or "en"


def _country_name(code: str) -> str:
    return str(get_locale().territories.get(code.upper()) or code)


def _status_label(value: str) -> str:
    return label(PrisonerStatus(value))


def _format_day(value: str) -> str:
    return format_date(date.fromisoformat(value), "long")


def _snapshot() -> tuple[tuple[Any, ...], services.Snapshot]:
    """The snapshot and its cache key; 404 while the public pages are off."""
    state = db.session.execute(_STATE).first()
    if state is None or not state.is_enabled:
        abort(404)
    today = campaign_today(current_app.config["TIMEZONE"])
    key = (state.version, today.isoformat())
    max_age = current_app.config["PUBLIC_CACHE_SECONDS"]
    snapshot = cache.get(("snapshot", *key), max_age, lambda: services.build_snapshot(today))
    if not snapshot.is_enabled:  # switched off between the two reads
        abort(404)
    return key, snapshot


def _base_url() -> str:
    return str(current_app.config["BASE_URL"] or request.host_url).rstrip("/")


@dataclass(frozen=True)
class _Answer:
    """A body as sent: as is and gzipped (made once per data version), and its tag."""

    body: bytes
    gzipped: bytes | None
    etag: str


def _answer(key: tuple[Any, ...], build: Callable[[], bytes]) -> _Answer:
    def make() -> _Answer:
        body = build()
        gzipped = gzip.compress(body, 6) if len(body) > GZIP_FROM else None
        return _Answer(body, gzipped, feed.etag_of(body))

    return cache.get(key, current_app.config["PUBLIC_CACHE_SECONDS"], make)


def _respond(answer: _Answer, mimetype: str) -> Response:
    """The answer, gzipped for readers that take it (every browser does)."""
    if answer.gzipped is not None and request.accept_encodings["gzip"]:
        response = Response(answer.gzipped, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(answer.etag + "-gzip")
    else:
        response = Response(answer.body, mimetype=mimetype)
        response.set_etag(answer.etag)
    response.vary.add("Accept-Encoding")
    return response


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

    answer = _answer(("page", *key, language, name, args), render)
    response = _respond(answer, "text/html; charset=utf-8")
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def _conditional(answer: _Answer, mimetype: str, last_modified: datetime) -> Response:
    """An answer with ETag and Last-Modified, 304 when the reader's copy is current."""
    response = _respond(answer, mimetype)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _open(response: Response) -> Response:
    """Let any website read the feed from a browser (these GETs only)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
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

    answer = _answer(("atom", *key, language, base_url), render)
    return _conditional(answer, "application/atom+xml", snapshot.last_modified)


@bp.get("/public/sitemap.xml")
@public
def sitemap() -> Response:
    key, snapshot = _snapshot()
    base_url = _base_url()

    def render() -> bytes:
        return render_template("public/sitemap.xml", snapshot=snapshot, base_url=base_url).encode()

    answer = _answer(("sitemap", *key, base_url), render)
    return _conditional(answer, "application/xml", snapshot.last_modified)


@bp.get("/public/data.json")
@public
def data_json() -> Response:
    """The open data feed (docs/open-data.md)."""
    key, snapshot = _snapshot()
    base_url = _base_url()
    answer = _answer(("json", *key, base_url), lambda: feed.feed_json(snapshot, base_url))
    return _open(_conditional(answer, "application/json", snapshot.last_modified))


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
    answer = _answer(
        ("csv", *key, base_url, table), lambda: feed.feed_csv(snapshot, base_url, table)
    )
    response = _open(_conditional(answer, "text/csv; charset=utf-8", snapshot.last_modified))
    response.headers["Content-Disposition"] = f"inline; filename=godparents-{table}.csv"
    return response
