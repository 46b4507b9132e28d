"""How fast the public pages and the open data feed are served, next to the health check.

Builds a throw-away SQLite database (migrations, the demo data and ``--scale`` bulk units,
whose records consent at random: about 30 % of prisoners, godparents and pairings), switches
the public pages on, starts one gunicorn server on it (``--workers`` workers of
``--server-threads`` threads, as deploy/godparents-web.service runs it, Redis for the
throttling counts), and measures ``GET /healthz`` and each public page and the JSON feed with
wrk in alternating rounds (healthz, then each public path, ...), the same wrk settings and
the same Lua script for every path. A response counts only if it is 200 and carries the
page's marker: a throttled answer (429) is an error. The per-address limit is raised for the
run (``GODPARENTS_PUBLIC_LIMIT_PER_ADDRESS``), since wrk's every request comes from one
address; the limit is still checked on every request (one Redis round trip).

Passes (exit code 0) when every public path serves at least ``REQUIRED_RATIO`` (0.8) times
as many requests per second as healthz, best rounds of each compared.

Run from the project root (wrk from Debian's package, Redis running):

    .venv/bin/python bench/public.py [--scale 10] [--seconds 10] [--rounds 3]
    .venv/bin/python bench/public.py --database /tmp/seeded.db   # reuse a seeded database
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import (
    HOST,
    Session,
    WrkRun,
    base_env,
    describe,
    fetch,
    free_port,
    progress,
    require_wrk,
    run_flask,
    run_wrk,
    server_env,
    start_gunicorn,
    stop_gunicorn,
    wait_until_healthy,
    write_sessions,
)

REQUIRED_RATIO = 0.8
HEALTHZ = "/healthz"


def switch_on(database: Path) -> int:
    """The public pages on (as the coordinators' settings page does); a public prisoner's id
    from the middle of the registry."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("DELETE FROM public_settings")
        connection.execute(
            "INSERT INTO public_settings (id, is_enabled, contact_email, updated_at)"
            " VALUES (1, 1, 'join@campaign.example', ?)",
            (datetime.now(UTC).isoformat(),),
        )
        connection.commit()
        ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM prisoners WHERE has_public_consent ORDER BY id"
            )
        ]
    finally:
        connection.close()
    if not ids:
        sys.exit("no prisoner consents to being shown: nothing public to measure")
    return int(ids[len(ids) // 2])


def fetch_gzip(port: int, path: str) -> tuple[int, bytes]:
    """GET as a browser asks (gzip accepted): the status and the body, decoded."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        raw = response.read()
        encoded = response.headers.get("Content-Encoding") == "gzip"
        return response.status, gzip.decompress(raw) if encoded else raw
    finally:
        connection.close()


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    database = workdir / "bench.db"
    password = secrets.token_urlsafe(18)
    env = base_env(f"sqlite:///{database}", password)
    if args.database:
        shutil.copyfile(args.database, database)
        run_flask(["db", "upgrade"], env)
        progress(f"database: a copy of {args.database}")
    else:
        progress(f"database: {database}")
        run_flask(["db", "upgrade"], env)
        began = time.monotonic()
        seed = run_flask(["demo", "seed", "--public-demo", "--scale", str(args.scale)], env)
        progress(
            f"seeded --scale {args.scale} in {time.monotonic() - began:.1f} s: "
            f"{seed.strip().splitlines()[-1]}"
        )
    prisoner_id = switch_on(database)
    markers = {
        HEALTHZ: '"status":"ok"',
        "/public/": 'class="fs-3',
        "/public/godparents": "<section",
        f"/public/prisoners/{prisoner_id}": "<h1",
        "/public/news": "<li",
        "/public/data.json": '"schema_version"',
    }
    if args.only:
        markers = {
            p: m for p, m in markers.items() if p == HEALTHZ or any(o in p for o in args.only)
        }

    port = free_port()
    log = workdir / "gunicorn.log"
    environment = {
        **server_env(env, args.workers),
        "GODPARENTS_PUBLIC_LIMIT_PER_ADDRESS": "10000000 per minute",
    }
    server = start_gunicorn(port, args.workers, environment, log, threads=args.server_threads)
    try:
        wait_until_healthy(server, port, log)
        progress(
            f"gunicorn: {args.workers} gthread workers x {args.server_threads} threads on "
            f"{HOST}:{port}; wrk --threads {args.threads} --connections {args.connections}"
        )
        for path, marker in markers.items():
            status, _headers, body = fetch(port, "GET", path)
            if status != 200 or marker not in body:
                sys.exit(f"GET {path}: status {status}, marker {marker!r} missing")
            status, packed = fetch_gzip(port, path)
            if status != 200 or marker not in packed.decode():
                sys.exit(f"GET {path} (gzip): status {status}, marker {marker!r} missing")
            progress(f"GET {path}: 200, {len(body.encode()):,} bytes")
        sessions = workdir / "sessions.tsv"
        write_sessions([Session("bench=1", 0, "")], sessions)  # no login: any cookie

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
                    "WRK_EXPECT": markers[path],
                    **({"WRK_ACCEPT_ENCODING": "gzip"} if args.gzip else {}),
                },
            )

        for path in markers:  # warm-up (and the cache filled), not counted
            measure(path, args.warmup)
        best: dict[str, float] = {}
        best_per_cpu: dict[str, float] = {}
        for number in range(1, args.rounds + 1):
            for path in markers:
                run = measure(path, args.seconds)
                progress(f"round {number} {describe(path, run)}")
                if run.result["errors"]:
                    progress(
                        f"errors on {path}: {run.result['first_error']}\n{log.read_text()[-3000:]}"
                    )
                    return 1
                rate = run.result["home"]["count"] / run.result["seconds"]
                best[path] = max(best.get(path, 0.0), rate)
                # Requests per CPU-second of gunicorn: what a request costs the server,
                # whatever share of the cores the server got (the machine is shared).
                per_cpu = run.result["home"]["count"] / max(run.server_cpu, 1e-9)
                best_per_cpu[path] = max(best_per_cpu.get(path, 0.0), per_cpu)
    finally:
        stop_gunicorn(server)

    healthz = best.get(HEALTHZ, 0.0)
    passed = True
    for path in markers:
        if path == HEALTHZ:
            continue
        ratio = best[path] / healthz if healthz else 0.0
        verdict = "OK" if ratio >= REQUIRED_RATIO else "TOO SLOW"
        passed = passed and ratio >= REQUIRED_RATIO
        cpu_ratio = best_per_cpu[path] / best_per_cpu[HEALTHZ]
        progress(
            f"{path}: {best[path]:.1f} req/s, healthz {healthz:.1f} req/s (best rounds), "
            f"ratio {ratio:.2f} (needs >= {REQUIRED_RATIO:.2f}): {verdict}; per CPU-second "
            f"of gunicorn {best_per_cpu[path]:.0f} against {best_per_cpu[HEALTHZ]:.0f}, "
            f"ratio {cpu_ratio:.2f}"
        )
    return 0 if passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="bulk units to seed")
    parser.add_argument("--database", type=Path, help="a SQLite database seeded before")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path, interleaved")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--no-gzip",
        dest="gzip",
        action="store_false",
        help="ask without Accept-Encoding (browsers always send gzip; wrk does not)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--only", action="append", help="measure only the paths containing this (and healthz)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per path")
    args = parser.parse_args(argv)
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as directory:
        return benchmark(args, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
