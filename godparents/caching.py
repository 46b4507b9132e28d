"""A small in-process cache for pages and numbers that are read far more than written.

Keys carry a version of the data the value shows: the dashboard the data version
(``audit.services.data_version``, moved by any create, change or delete), a godparent's home
the versions of that team's sponsors (``sponsors.home_cache``, moved only by changes that
concern that team). A cached value is never older than the last change it could show. ``max_age``
bounds what the version cannot see (time passing, bulk loads that skip the audit hook).
Each server process has its own cache; nothing is shared between users unless the key says so.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class LocalCache:
    def __init__(self, max_entries: int = 512) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: Hashable, max_age: float, compute: Callable[[], T]) -> T:
        """The value cached under ``key`` if younger than ``max_age`` seconds, else
        ``compute()`` (stored for next time). ``max_age`` 0 turns the cache off."""
        if max_age <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < max_age:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cache = LocalCache()
