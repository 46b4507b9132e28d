"""Search, sort and paginate for the registry lists, the same way on every list."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, SQLColumnExpression, func, select

from godparents.extensions import db

PER_PAGE = 50
# Far past the end of any list (50 million rows): a larger page number would overflow the
# database's integer in OFFSET (a 500 instead of an empty page).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Sort:
    """The chosen sort key and direction, from ``?sort=name`` or ``?sort=-name``."""

    key: str
    descending: bool

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    def toggled(self, key: str) -> str:
        """The ``sort`` parameter for a column header link: flip if already sorted by it."""
        if key == self.key:
            return key if self.descending else f"-{key}"
        return key


def sort_from_request(columns: Collection[str], default: str) -> Sort:
    """The requested sort if it names one of ``columns``, else ``default``; never raw SQL."""
    raw = request.args.get("sort", default)
    key = raw.removeprefix("-")
    if key not in columns:
        raw, key = default, default.removeprefix("-")
    return Sort(key, raw.startswith("-"))


def apply_sort(
    query: Select[Any],
    sort: Sort,
    columns: Mapping[str, SQLColumnExpression[Any]],
    tiebreak: SQLColumnExpression[Any],
) -> Select[Any]:
    column = columns[sort.key]
    return query.order_by(column.desc() if sort.descending else column.asc(), tiebreak)


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def paginate(query: Select[Any], per_page: int = PER_PAGE) -> Pagination:
    """One page of ``query`` (two queries: the rows and the count); bad page numbers give 1."""
    return db.paginate(
        query, page=_page_number(), per_page=per_page, max_per_page=per_page, error_out=False
    )


class WindowPagination(Pagination):
    """A page whose rows carry the total (``COUNT(*) OVER ()``): one scan instead of two.

    For lists whose filter cannot use an index, such as a search inside every spelling of
    every name, the count query would repeat the whole scan. (Flask-SQLAlchemy documents
    subclassing ``Pagination`` through these two methods; creating one is not public API,
    so the tests of the prisoner list cover this class.)
    """

    def _query_items(self) -> list[Any]:
        query: Select[Any] = self._query_args["select"]
        counted = query.add_columns(func.count().over().label("_total"))
        rows = db.session.execute(counted.limit(self.per_page).offset(self._query_offset)).all()
        self._total = rows[0][-1] if rows else None
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return int(self._total)
        query: Select[Any] = self._query_args["select"]  # past the last page: count alone
        return (
            db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
            or 0
        )


def paginate_in_one_scan(query: Select[Any], per_page: int = PER_PAGE) -> Pagination:
    """Like ``paginate`` for a ``select`` of one entity, with the count in the same query."""
    return WindowPagination(
        select=query,
        page=_page_number(),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        count=True,
    )
