"""How fast the print kit makes its PDFs: a label batch of 1,500 prisoners, and one envelope.

Method: a throw-away SQLite database (built from the models) holds 1,500 held prisoners,
each with a current address (a facility's three lines and the name with the birth year),
a godparent with a sender's address and a coordinator. Each figure is a whole request
through the app (Flask's test client in this process: routing, login and role checks, the
queries, the PDF, the response), logged in through the real forms; no HTTP server, so the
figures are the app's work and nothing else's. Every response is checked (200, a PDF, the
right number of pages). Each measurement runs ``--rounds`` times after one warm-up; the
median and the worst wall-clock time are reported, with the process's CPU time (the
machine is shared: CPU time moves less with other people's load than wall time).

Targets (2-core machine): 1,500 labels in one batch <= 10 s; one envelope <= 300 ms.
Exit code 0 when both are met.

Run from the project root:

    .venv/bin/python bench/letters.py [--prisoners 1500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyotp
from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from godparents import create_app  # noqa: E402
from godparents.auth.models import Role, User  # noqa: E402
from godparents.auth.passwords import hash_password  # noqa: E402
from godparents.extensions import db  # noqa: E402
from godparents.prisoners.models import Prisoner, PrisonerAddress, PrisonerStatus  # noqa: E402
from godparents.sponsors.models import Sponsor  # noqa: E402
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus  # noqa: E402

TARGET_LABELS, TARGET_ENVELOPE = 10.0, 0.3
PASSWORD = "bench letters passphrase"  # noqa: S105  # nosec B105: a throw-away database
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ADDRESS = "{code}, г. Мінск,\nвул. Валадарскага, {house},\nСІЗА № 1"
SENDER = "Dr. Anna Lindner MdB\nDeutscher Bundestag\nPlatz der Republik 1\n11011 Berlin\nGERMANY"


def build(count: int) -> tuple[int, str, str]:
    """The prisoners, a godparent of the first and a coordinator; (prisoner id, emails)."""
    password_hash = hash_password(PASSWORD)
    prisoners = []
    for number in range(count):
        prisoner = Prisoner(
            name_latin=f"Prisoner {number:04d}",
            name_be=f"Алесь Васілеўскі-{number:04d}",
            name_ru=f"Алесь Василевский-{number:04d}",
            birth_year=1960 + number % 40,
            status=PrisonerStatus.SENTENCED,
            detained_on=date(2021, 7, 14),
        )
        prisoner.addresses.append(
            PrisonerAddress(
                facility="SIZO No. 1 (Minsk)",
                postal_address=ADDRESS.format(code=220000 + number % 100, house=number % 90 + 1),
                valid_from=date(2021, 7, 14),
            )
        )
        prisoners.append(prisoner)
    db.session.add_all(prisoners)
    sponsor_user = User(email="sponsor@bench.example", role=Role.SPONSOR)
    sponsor_user.password_hash = password_hash
    sponsor = Sponsor(
        full_name="Anna Lindner",
        body="Bundestag",
        country="DE",
        postal_address=SENDER,
        user=sponsor_user,
    )
    db.session.add(
        Sponsorship(
            sponsor=sponsor,
            prisoner=prisoners[0],
            status=SponsorshipStatus.ACTIVE,
            started_on=date(2022, 1, 10),
        )
    )
    coordinator = User(
        email="coordinator@bench.example",
        role=Role.COORDINATOR,
        totp_secret=pyotp.random_base32(),
    )
    coordinator.password_hash = password_hash
    db.session.add(coordinator)
    db.session.commit()
    return prisoners[0].id, sponsor_user.email, coordinator.email


def log_in(client, email: str, secret: str | None) -> None:  # noqa: ANN001
    page = client.get("/auth/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    if response.headers.get("Location") == "/auth/two-factor" and secret:
        page = client.get("/auth/two-factor").get_data(as_text=True)
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        client.post(
            "/auth/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
        )
    if client.get("/").status_code != 302:
        raise SystemExit(f"{email} is not logged in")


def measure(label: str, rounds: int, request: Callable[[], bytes]) -> tuple[float, float]:
    """Median and worst wall time of ``rounds`` requests after a warm-up; prints both with
    the CPU time."""
    request()
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        request()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    median = statistics.median(walls)
    print(
        f"{label}: median {median * 1000:,.0f} ms, worst {max(walls) * 1000:,.0f} ms "
        f"(CPU median {statistics.median(cpus) * 1000:,.0f} ms) over {rounds} rounds"
    )
    return median, max(walls)


def pages_of(content: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", content))


def check(response, pages: int) -> None:  # noqa: ANN001
    """Every response must be the PDF asked for: anything else ends the bench."""
    if response.status_code != 200 or response.mimetype != "application/pdf":
        raise SystemExit(f"answered {response.status_code} {response.mimetype}")
    if pages_of(response.data) != pages:
        raise SystemExit(f"{pages_of(response.data)} pages, not {pages}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prisoners", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")

    with tempfile.TemporaryDirectory(prefix="bench-letters-") as folder:
        app = create_app(
            {
                "TESTING": False,
                "SECRET_KEY": os.urandom(32).hex(),
                "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
                "RATELIMIT_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
            }
        )
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            prisoner_id, sponsor_email, coordinator_email = build(args.prisoners)
            secret = db.session.query(User.totp_secret).filter_by(email=coordinator_email).scalar()
            print(f"built {args.prisoners:,} prisoners in {time.perf_counter() - started:.1f} s")

        sponsor, coordinator = app.test_client(), app.test_client()
        log_in(sponsor, sponsor_email, None)
        log_in(coordinator, coordinator_email, secret)
        sheets = -(-args.prisoners // 24)

        def labels() -> bytes:
            response = coordinator.get("/coordinator/letters/batch/labels.pdf?status=held")
            check(response, sheets)
            return response.data

        def envelope() -> bytes:
            path = f"/sponsor/letters/prisoners/{prisoner_id}/envelope.pdf?size=dl"
            response = sponsor.get(path)
            check(response, 1)
            return response.data

        batch, _worst = measure(
            f"{args.prisoners:,} labels ({sheets} A4 sheets)", max(args.rounds // 2, 2), labels
        )
        one, _worst = measure("one envelope (DL)", args.rounds * 4, envelope)

    print(f"load average after: {os.getloadavg()}")
    met = batch <= TARGET_LABELS and one <= TARGET_ENVELOPE
    print(
        f"targets: labels <= {TARGET_LABELS:.0f} s, envelope <= {TARGET_ENVELOPE * 1000:.0f} ms:"
        f" {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
