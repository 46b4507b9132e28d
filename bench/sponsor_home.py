"""How fast the sponsor home page is served, next to the health check on the same server.

Builds a throw-away SQLite database (migrations, the demo data and ``--scale`` bulk units),
starts one gunicorn server on it (``--workers`` workers of ``--server-threads`` threads, as
deploy/godparents-web.service runs it; 1 thread: sync workers), logs in as the demo sponsor
with the most active godchildren, and measures ``GET /healthz`` and ``GET /sponsor/`` with
wrk in alternating rounds (healthz, sponsor, healthz, sponsor, ...), the same wrk settings
and the same Lua script for both (every response checked: 200 and the page's marker, or it
is an error). Passes (exit code 0) when the sponsor home serves at least half as many
requests per second as healthz in the best rounds of each.

Run from the project root (wrk from Debian's package):

    .venv/bin/python bench/sponsor_home.py [--scale 10] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from common import (
    COOKIE_NAME,
    HOST,
    LOGIN_LINE,
    Session,
    WrkRun,
    base_env,
    describe,
    fetch,
    free_port,
    log_in,
    progress,
    require_wrk,
    run_flask,
    run_wrk,
    server_env,
    session_cookie,
    start_gunicorn,
    stop_gunicorn,
    wait_until_healthy,
    write_sessions,
)

REQUIRED_RATIO = 0.5
MARKERS = {"/healthz": '"status":"ok"', "/sponsor/": 'class="card'}


def busiest_sponsor(database: Path, seed_output: str) -> tuple[str, int]:
    """The demo sponsor login with the most active pairings, and that number."""
    emails = [email for email, role in LOGIN_LINE.findall(seed_output) if role == "sponsor"]
    marks = ", ".join("?" for _ in emails)
    connection = sqlite3.connect(database)
    try:
        row = connection.execute(
            "SELECT users.email, COUNT(sponsorships.id) AS active FROM users"  # noqa: S608  (placeholders only)
            " JOIN sponsors ON sponsors.user_id = users.id"
            " LEFT JOIN sponsorships ON sponsorships.sponsor_id = sponsors.id"
            "  AND sponsorships.status = 'active'"
            f" WHERE users.email IN ({marks})"
            " GROUP BY users.email ORDER BY active DESC, users.email LIMIT 1",
            emails,
        ).fetchone()
    finally:
        connection.close()
    if row is None:
        sys.exit("none of the demo sponsor logins has a sponsor record")
    return str(row[0]), int(row[1])


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    database = workdir / "bench.db"
    password = secrets.token_urlsafe(18)
    env = base_env(f"sqlite:///{database}", password)
    progress(f"database: {database}")
    run_flask(["db", "upgrade"], env)
    began = time.monotonic()
    seed_output = run_flask(["demo", "seed", "--public-demo", "--scale", str(args.scale)], env)
    progress(
        f"seeded --scale {args.scale} in {time.monotonic() - began:.1f} s: "
        f"{seed_output.strip().splitlines()[-1]}"
    )
    email, godchildren = busiest_sponsor(database, seed_output)
    progress(f"sponsor: {email} ({godchildren} active pairings)")

    port = free_port()
    log = workdir / "gunicorn.log"
    server = start_gunicorn(
        port, args.workers, server_env(env, args.workers), log, threads=args.server_threads
    )
    try:
        wait_until_healthy(server, port, log)
        kind = (
            f"gthread workers x {args.server_threads} threads"
            if args.server_threads > 1
            else "sync workers"
        )
        progress(
            f"gunicorn: {args.workers} {kind} on {HOST}:{port}; wrk --threads "
            f"{args.threads} --connections {args.connections}"
        )
        cookie = log_in(port, email, password)
        # The first page puts the CSRF token into the (cookie) session and shows the login's
        # message: take the cookie it sends back, as a browser would, and check it is stable.
        for _view in range(2):
            status, headers, page = fetch(port, "GET", "/sponsor/", headers={"Cookie": cookie})
            renewed = session_cookie(headers)
            cookie = f"{COOKIE_NAME}={renewed}" if renewed else cookie
        cards = page.count('<article class="card')
        if status != 200 or cards == 0 or renewed:
            sys.exit(
                f"GET /sponsor/: status {status}, {cards} godchild cards, "
                f"cookie {'still changing' if renewed else 'stable'}"
            )
        progress(f"GET /sponsor/: 200, {len(page):,} bytes, {cards} godchild cards")
        sessions = workdir / "sessions.tsv"
        write_sessions([Session(cookie, 0, "")], sessions)

        def measure(path: str, seconds: float) -> WrkRun:
            return run_wrk(
                f"http://{HOST}:{port}",
                threads=args.threads,
                connections=args.connections,
                seconds=seconds,
                server_pid=server.pid,
                lua_env={
                    "WRK_SESSIONS": str(sessions),
                    "WRK_PATH": path,
                    "WRK_EXPECT": MARKERS[path],
                },
            )

        for path in MARKERS:  # warm-up, not counted
            measure(path, args.warmup)
        best: dict[str, float] = {}
        for number in range(1, args.rounds + 1):
            for path in MARKERS:
                run = measure(path, args.seconds)
                progress(f"round {number} {describe(path, run)}")
                if run.result["errors"]:
                    progress(
                        f"errors on {path}: {run.result['first_error']}\n{log.read_text()[-3000:]}"
                    )
                    return 1
                rate = run.result["home"]["count"] / run.result["seconds"]
                best[path] = max(best.get(path, 0.0), rate)
    finally:
        stop_gunicorn(server)

    ratio = best["/sponsor/"] / best["/healthz"] if best.get("/healthz") else 0.0
    verdict = "OK" if ratio >= REQUIRED_RATIO else "TOO SLOW"
    progress(
        f"sponsor home: {best['/sponsor/']:.1f} req/s, healthz: {best['/healthz']:.1f} "
        f"req/s (best rounds), ratio {ratio:.2f} (needs >= {REQUIRED_RATIO:.2f}): {verdict}"
    )
    return 0 if ratio >= REQUIRED_RATIO else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=int,
        default=10,
        help="bulk units to seed (1,500 prisoners, 50,000 actions each)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path, interleaved")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--server-threads",
        type=int,
        default=4,
        help="threads per gunicorn worker, as deployed (1: sync workers)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per path")
    args = parser.parse_args(argv)
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as directory:
        return benchmark(args, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
