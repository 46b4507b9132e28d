"""How fast search by name answers at ten times the campaign, on SQLite and on PostgreSQL.

Builds a throw-away database (SQLite in a temporary directory, or a database of its own on
the PostgreSQL server named by ``--postgresql``, dropped afterwards), migrates it and runs
`flask --app godparents demo seed --scale N` (10: the demo campaign plus 15,000 prisoners
and 6,000 godparents, each prisoner's search key with every generated spelling). Then it
logs in as the demo coordinator through the real forms (password and second factor) and
times requests in-process with Flask's test client, so the figures are the app's own, no
network or HTTP client in them:

- the prisoner registry searched (``/coordinator/prisoners/?q=``),
- the pairing page's prisoner picker and godparent picker (the lists the script fetches),

for 30 queries a coordinator would type: whole names in either order, prefixes, Cyrillic,
the German, Polish, ICAO and national spellings, typos (which look words up in the
vocabulary: pg_trgm on PostgreSQL). Each query is asked ``--rounds`` times after one
warm-up round. Prints the p50 and p95 of each kind of request and of all together; exit
code 0 when every p50 is at most ``--budget`` (50) ms.

Run from the project root:

    .venv/bin/python bench/search.py [--scale 10] [--rounds 5]
    .venv/bin/python bench/search.py --postgresql postgresql+psycopg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pyotp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from godparents import create_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOGIN_LINE = re.compile(r"^login: (\S+) coordinator$", re.MULTILINE)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
QUERIES = (
    "Vasilenka",
    "Andrei Vasilenka",
    "Vasilenka Andrei",
    "Andrei V",
    "vas",
    "Wassilenko",
    "Wasilenka",
    "Krautsova",
    "Kravtsova",
    "Krawzowa",
    "Krawcowa",
    "Alena Kr",
    "Zhuk",
    "Schuk",
    "Żuk",
    "Žuk",
    "Васіленка",
    "Василенко",
    "Кравцова Елена",
    "Жук Павел",
    "Karaliou",
    "Koroljow",
    "Lapitskaya",
    "Łapickaja",
    "Vasilneka",
    "Krautsowa",
    "Tsvirko Darya",
    "Hrynkevich",
    "Grinkevich",
    "Maryia Sakalouskaya",
)
KINDS = {
    "registry": "/coordinator/prisoners/?q={q}",
    "prisoner picker": "/coordinator/sponsorships/new?prisoner_q={q}&part=prisoners",
    "godparent picker": "/coordinator/sponsorships/new?sponsor_q={q}&part=sponsors",
}
GODPARENT_QUERIES = (
    "Anna",
    "Müller",
    "Kowalski Jan",
    "smith",
    "Wagnr",
    "Maria N",
    "Tamm",
    "Peter Huber",
    "Janssen",
    "Berg",
)


def flask(env: dict[str, str], *args: str) -> str:
    command = [str(BIN / "flask"), "--app", "godparents", *args]
    result = subprocess.run(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(url: str, scale: int, rounds: int, budget: float) -> int:
    password, key = secrets.token_urlsafe(12), pyotp.random_base32()
    env = {
        **os.environ,
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": url,
        "GODPARENTS_SECRET_KEY": f"bench-{secrets.token_hex(32)}",
        "GODPARENTS_DEMO_PASSWORD": password,
        "GODPARENTS_DEMO_TOTP_KEY": key,
    }
    flask(env, "db", "upgrade")
    started = time.perf_counter()
    output = flask(env, "demo", "seed", "--public-demo", "--scale", str(scale))
    print(
        f"{make_url(url).get_backend_name()}: seeded scale {scale} in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    email = LOGIN_LINE.search(output).group(1)  # type: ignore[union-attr]
    # The planner's statistics, as a database in use has them (PostgreSQL's autovacuum
    # analyses after bulk changes, in its own time; SQLite only when told).
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()

    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SESSION_COOKIE_SECURE": False,
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    client = app.test_client()
    token = CSRF.search(client.get("/auth/login").text).group(1)  # type: ignore[union-attr]
    client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    token = CSRF.search(client.get("/auth/two-factor").text).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/auth/two-factor", data={"code": pyotp.TOTP(key).now(), "csrf_token": token}
    )
    if done.status_code != 302 or done.headers["Location"].startswith("/auth/"):
        raise SystemExit("could not log in as the demo coordinator")

    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found: dict[str, int] = {}
    for round_number in range(rounds + 1):
        for kind, pattern in KINDS.items():
            queries = GODPARENT_QUERIES if kind == "godparent picker" else QUERIES
            for query in queries:
                path = pattern.format(q=quote(query))
                began = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                if round_number:
                    times[kind].append(elapsed)
                elif kind != "registry":
                    found[f"{kind}: {query}"] = response.text.count("data-")
    empty = [name for name, count in found.items() if count == 0]
    if empty:
        print(f"queries that found nothing: {empty}")
    ok = True
    everything: list[float] = []
    for kind, values in times.items():
        everything += values
        p50 = statistics.median(values)
        ok &= p50 <= budget
        print(
            f"  {kind:17}: p50 {p50:5.1f} ms, p95 {percentile(values, 0.95):5.1f} ms, "
            f"max {max(values):5.1f} ms ({len(values)} requests)"
        )
    p50 = statistics.median(everything)
    print(
        f"  {'all':17}: p50 {p50:5.1f} ms, p95 {percentile(everything, 0.95):5.1f} ms; "
        f"budget p50 <= {budget:g} ms: {'OK' if ok else 'TOO SLOW'}",
        flush=True,
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=50.0, help="p50 budget in ms")
    parser.add_argument("--postgresql", help="a PostgreSQL server URL (else SQLite)")
    args = parser.parse_args()
    if not args.postgresql:
        with tempfile.TemporaryDirectory(prefix="godparents-bench-") as directory:
            return measure(
                f"sqlite:///{Path(directory) / 'bench.db'}", args.scale, args.rounds, args.budget
            )
    server = make_url(args.postgresql)
    name = f"godparents_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
    try:
        return measure(
            server.set(database=name).render_as_string(hide_password=False),
            args.scale,
            args.rounds,
            args.budget,
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
