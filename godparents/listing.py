"""Search, sort and paginate for the registry lists, the same way on every list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select
from sqlalchemy.sql.elements import ColumnElement

from godparents.extensions import db

PER_PAGE = 50


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


def sort_from_request(columns: Mapping[str, Any], default: str) -> Sort:
    """The requested sort if it names one of ``columns``, else ``default``; never raw SQL."""
    raw = request.args.get("sort", default)
    key = raw.removeprefix("-")
    if key not in columns:
        raw, key = default, default.removeprefix("-")
    return Sort(key, raw.startswith("-"))


def apply_sort(query: Select[Any], sort: Sort, columns: Mapping[str, ColumnElement[Any]],
               tiebreak: ColumnElement[Any]) -> Select[Any]:
    column = columns[sort.key]
    return query.order_by(column.desc() if sort.descending else column.asc(), tiebreak)


def paginate(query: Select[Any], per_page: int = PER_PAGE) -> Pagination:
    """One page of ``query`` (two queries: the rows and the count); bad page numbers give 1."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(query, page=max(page, 1), per_page=per_page, max_per_page=per_page,
                       error_out=False)
