"""Real concurrency against a served app: plain HTTP clients in threads, released together.

Each ``WebClient`` is one browser (its own cookies) that follows no redirects, so a test
sees the status a view answered with. ``at_once`` starts every call in its own thread and
lets them go at the same moment, as requests racing each other in production would.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import TypeVar

T = TypeVar("T")
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    location: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class WebClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers=headers or {},
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return Reply(
                    response.status, response.read().decode(), response.headers.get("Location", "")
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode(), error.headers.get("Location", ""))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str]) -> Reply:
        return self.request("POST", path, data=data)

    def csrf_token(self, path: str) -> str:
        match = CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def form(self, path: str, **fields: str) -> dict[str, str]:
        """The fields with the CSRF token of the form at ``path``, read as a browser would."""
        return {"csrf_token": self.csrf_token(path), **fields}


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in a thread of its own, all released at the same moment; the results
    in the order of the calls (an exception in a call is raised here)."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
