"""How fast the sponsor home page is served, next to the health check on the same server.

Builds a throw-away SQLite database in a temporary directory (migrations, then the demo data
plus ``--scale`` bulk units), starts gunicorn on it, logs in as the demo sponsor with the most
active godchildren and loads ``GET /healthz`` and ``GET /sponsor/`` in turns (healthz, sponsor,
healthz, sponsor, ...) with a few client threads, each on its own HTTPConnection (gunicorn's
sync workers answer ``Connection: close``, so it reconnects for every request). It passes (exit
code 0) when the sponsor home serves at least half as many requests per second as healthz.

Run from the project root:

    .venv/bin/python bench/sponsor_home.py [--scale 10] [--seconds 10] [--clients 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from cryptography.fernet import Fernet

# The key for the two-factor keys in the database: one for the bench's processes.
ENCRYPTION_KEY = Fernet.generate_key().decode()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: flask and gunicorn live next to python
HOST = "127.0.0.1"
COOKIE_NAME = "godparents_session"
REQUIRED_RATIO = 0.5
LOGIN_LINE = re.compile(r"^login: (\S+) (\S+)$", re.MULTILINE)


@dataclass
class Round:
    """One fixed-duration load on one path."""

    path: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, 200 responses only
    failures: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # CPU seconds this process spent (the clients' own cost)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class _CsrfFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token":
            self.token = values.get("value")


def progress(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def run_flask(args: list[str], env: Mapping[str, str]) -> str:
    """Run ``flask --app godparents ARGS`` from the venv; its output, or exit on failure."""
    command = [str(BIN / "flask"), "--app", "godparents", *args]
    result = subprocess.run(  # noqa: S603  (our own venv's flask, fixed arguments)
        command, cwd=PROJECT_ROOT, env=dict(env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return result.stdout


def busiest_sponsor(database: Path, seed_output: str) -> tuple[str, int]:
    """The demo sponsor login with the most active pairings, and that number."""
    emails = [email for email, role in LOGIN_LINE.findall(seed_output) if role == "sponsor"]
    if not emails:
        sys.exit(f"the seed printed no sponsor login:\n{seed_output}")
    marks = ", ".join("?" for _ in emails)
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT users.email, COUNT(sponsorships.id) AS active FROM users"  # noqa: S608  (placeholders only)
            " JOIN sponsors ON sponsors.user_id = users.id"
            " LEFT JOIN sponsorships ON sponsorships.sponsor_id = sponsors.id"
            "  AND sponsorships.status = 'active'"
            f" WHERE users.email IN ({marks})"
            " GROUP BY users.email ORDER BY active DESC, users.email LIMIT 1",
            emails,
        ).fetchone()
    connection.close()
    if row is None:
        sys.exit("none of the demo sponsor logins has a sponsor record")
    return str(row[0]), int(row[1])


def start_gunicorn(port: int, workers: int, env: Mapping[str, str],
                   log: Path) -> subprocess.Popen[bytes]:
    command = [str(BIN / "gunicorn"), "--no-control-socket", "--workers", str(workers),
               "--bind", f"{HOST}:{port}", "wsgi:app"]
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603  (our own venv's gunicorn, fixed arguments)
            command, cwd=PROJECT_ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT
        )


def stop_gunicorn(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_until_healthy(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            status, _headers, _body = fetch(port, "GET", "/healthz")
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    sys.exit(f"/healthz did not answer 200 within 60 s:\n{log.read_text()}")


def fetch(port: int, method: str, path: str, body: str | None = None,
          headers: Mapping[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
    """One request on a fresh connection: status, headers and the body as text."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def session_cookie(headers: http.client.HTTPMessage, current: str | None) -> str | None:
    """The session cookie from the Set-Cookie headers, or the current one if none is set."""
    for value in headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0]
        name, _sep, cookie = pair.partition("=")
        if name.strip() == COOKIE_NAME:
            current = cookie
    return current


def log_in(port: int, email: str, password: str) -> str:
    """Log in through the real form; the ``Cookie`` header value of the new session."""
    status, headers, page = fetch(port, "GET", "/auth/login")
    cookie = session_cookie(headers, None)
    finder = _CsrfFinder()
    finder.feed(page)
    if status != 200 or cookie is None or not finder.token:
        sys.exit(f"GET /auth/login: status {status}, cookie {cookie is not None}, "
                 f"csrf token {bool(finder.token)}")
    form = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": finder.token, "next": ""}
    )
    status, headers, _page = fetch(port, "POST", "/auth/login", form, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"{COOKIE_NAME}={cookie}",
    })
    logged_in = session_cookie(headers, None)
    if status != 302 or logged_in is None:
        sys.exit(f"POST /auth/login: status {status} (expected a 302 with a new session)")
    return f"{COOKIE_NAME}={logged_in}"


def load(port: int, path: str, cookie: str, clients: int, seconds: float) -> Round:
    """``clients`` threads requesting ``path`` back to back for ``seconds``."""
    result = Round(path, seconds)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    headers = {"Cookie": cookie}

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        latencies: list[float] = []
        failures: list[str] = []
        start.wait()
        deadline = time.perf_counter() + seconds
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as error:
                    connection.close()  # the next request opens a new connection
                    failures.append(f"{type(error).__name__}: {error}")
                    continue
                if response.status == 200:
                    latencies.append(time.perf_counter() - began)
                else:
                    failures.append(f"status {response.status}")
        finally:
            connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.failures.extend(failures)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    start.wait()
    for thread in threads:
        thread.join()
    result.client_cpu = time.process_time() - cpu
    return result


def describe(name: str, rounds: list[Round]) -> str:
    best = max(rounds, key=lambda r: r.rate)
    each = ", ".join(f"{r.rate:.1f}" for r in rounds)
    return (f"{name}: best {best.rate:.1f} req/s (rounds: {each}); "
            f"latency median {best.percentile_ms(0.5):.1f} ms, "
            f"p95 {best.percentile_ms(0.95):.1f} ms; "
            f"client CPU {100 * best.client_cpu / best.seconds:.0f}% of one core")


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    database = workdir / "bench.db"
    password = secrets.token_urlsafe(18)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        # The prefix keeps the value a string: Flask reads prefixed variables as JSON.
        "GODPARENTS_SECRET_KEY": f"bench-{secrets.token_hex(32)}",
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "GODPARENTS_DEMO_PASSWORD": password,
    }

    progress(f"database: {database}")
    began = time.monotonic()
    run_flask(["db", "upgrade"], env)
    progress(f"migrated in {time.monotonic() - began:.1f} s; seeding the demo data "
             f"with --scale {args.scale} (this takes a while) ...")
    began = time.monotonic()
    seed_output = run_flask(["demo", "seed", "--scale", str(args.scale)], env)
    progress(f"seeded in {time.monotonic() - began:.1f} s: "
             f"{seed_output.strip().splitlines()[-1]}")
    email, godchildren = busiest_sponsor(database, seed_output)
    progress(f"sponsor: {email} ({godchildren} active pairings)")

    # Production settings mark the session cookie Secure; this server is plain http on
    # 127.0.0.1, so switch that off for it, as a browser would otherwise drop the cookie.
    # (The clients below send the Cookie header themselves and would work either way.)
    server_env = {**env, "GODPARENTS_SESSION_COOKIE_SECURE": "false"}
    port = free_port()
    log = workdir / "gunicorn.log"
    server = start_gunicorn(port, args.workers, server_env, log)
    try:
        wait_until_healthy(server, port, log)
        progress(f"gunicorn: {args.workers} workers on {HOST}:{port}")
        cookie = log_in(port, email, password)
        status, _headers, page = fetch(port, "GET", "/sponsor/", headers={"Cookie": cookie})
        cards = page.count('<article class="card')
        if status != 200 or cards == 0:
            sys.exit(f"GET /sponsor/: status {status}, {cards} godchild cards")
        progress(f"GET /sponsor/: 200, {len(page):,} bytes, {cards} godchild cards")

        for path in ("/healthz", "/sponsor/"):  # warm both workers up; not counted
            load(port, path, cookie, args.clients, args.warmup)
        rounds: dict[str, list[Round]] = {"/healthz": [], "/sponsor/": []}
        for number in range(1, args.rounds + 1):
            for path, measured in rounds.items():
                result = load(port, path, cookie, args.clients, args.seconds)
                progress(f"round {number} {path}: {result.rate:.1f} req/s, "
                         f"median {result.percentile_ms(0.5):.1f} ms, "
                         f"p95 {result.percentile_ms(0.95):.1f} ms")
                if result.failures:
                    progress(f"{len(result.failures)} failed requests on {path}, first: "
                             f"{result.failures[0]}\n{log.read_text()[-3000:]}")
                    return 1
                measured.append(result)
    finally:
        stop_gunicorn(server)

    progress(describe("healthz", rounds["/healthz"]))
    progress(describe("sponsor home", rounds["/sponsor/"]))
    healthz = max(r.rate for r in rounds["/healthz"])
    sponsor = max(r.rate for r in rounds["/sponsor/"])
    ratio = sponsor / healthz if healthz else 0.0
    verdict = "OK" if ratio >= REQUIRED_RATIO else "TOO SLOW"
    progress(f"sponsor home: {sponsor:.1f} req/s, healthz: {healthz:.1f} req/s, "
             f"ratio {ratio:.2f} (needs >= {REQUIRED_RATIO:.2f}): {verdict}")
    return 0 if ratio >= REQUIRED_RATIO else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10,
                        help="bulk units to seed (1,500 prisoners, 50,000 actions each)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per path, interleaved")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as directory:
        return benchmark(args, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
