"""How fast, and in how much memory, `flask --app godparents prisoners import` takes 15,000 rows.

Writes a CSV file of ``--rows`` fictional prisoners (Cyrillic names, multi-line quoted
addresses, lists, some year-only birth dates) into a temporary directory, creates a fresh
SQLite database there with `flask --app godparents db upgrade`, then runs the real commands
as child processes, each timed (wall clock) and measured (peak resident set size, the
``ru_maxrss`` of that one child, from ``os.wait4``; ``resource.getrusage(RUSAGE_CHILDREN)``
reports the same field, but as the largest over all children so far, migrations included):

1. the first import (every row created),
2. the same file again (every row unchanged: nothing may be written),
3. a file in which every prisoner changed (another sentence, another facility and address),
4. the export of the registry (for comparison; not part of the verdict).

Each is reported with its wall time, CPU time (user + system, steadier on a busy machine)
and peak RSS.

Exit code 0 when every import takes under ``--seconds`` (15) and ``--megabytes`` (200).

Run from the project root:

    .venv/bin/python bench/import_prisoners.py [--rows 15000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from godparents.prisoners.csvio import COLUMNS  # the import format itself

# The key for the two-factor keys in the database: one for the bench's processes.
ENCRYPTION_KEY = Fernet.generate_key().decode()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: flask lives next to python
FIRST_NAMES = [
    ("Andrei", "Андрэй", "Андрей"),
    ("Alena", "Алена", "Елена"),
    ("Ihar", "Ігар", "Игорь"),
    ("Maryia", "Марыя", "Мария"),
    ("Pavel", "Павел", "Павел"),
    ("Volha", "Вольга", "Ольга"),
]
SURNAMES = [
    ("Vasilenka", "Васіленка", "Василенко"),
    ("Krautsova", "Краўцова", "Кравцова"),
    ("Lasitski", "Ласіцкі", "Лосицкий"),
    ("Zhuk", "Жук", "Жук"),
    ("Sidarenka", "Сідарэнка", "Сидоренко"),
]
FACILITIES = [
    ("Penal colony No. 3 (Viciebsk)", "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"),
    ("Penal colony No. 4 (Homiel)", "246035, г. Гомель,\nул. Антошкина, 3,\nИК-4"),
    ("SIZO No. 1 (Minsk)", "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"),
    ("Penal colony No. 15 (Mahilioŭ)", "212013, г. Могилёв,\nИК-15"),
]


@dataclass
class Run:
    name: str
    seconds: float
    cpu_seconds: float
    megabytes: float
    output: str


def progress(message: str) -> None:
    print(message, flush=True)


def prisoner_rows(count: int, changed: bool = False) -> list[list[str]]:
    """``count`` rows, the same each time; ``changed``: every one with news."""
    rng = random.Random(20260521)  # noqa: S311  (fictional data, not secrets)
    rows = []
    for number in range(1, count + 1):
        first, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        detained_on = date(2020, 8, 9) + timedelta(days=rng.randint(0, 1800))
        born = rng.randint(1950, 2002)
        facility = rng.choice(FACILITIES)
        if changed:
            facility = FACILITIES[(FACILITIES.index(facility) + 1) % len(FACILITIES)]
        rows.append(
            [
                f"bench-{number:06d}",
                f"{first[0]} {surname[0]}",
                f"{first[1]} {surname[1]}",
                f"{first[2]} {surname[2]}",
                f"{first[0][0]}. {surname[0]};{surname[0]} {first[0]}",
                rng.choice("mfx"),
                str(born) if number % 5 == 0 else f"{born}-{rng.randint(1, 12):02d}-01",
                rng.choice(["pretrial", "sentenced", "sentenced", "sentenced"]),
                detained_on.isoformat(),
                "",
                "342;361-1",
                "6 years, strict regime" if changed else "5 years, general regime",
                (detained_on + timedelta(days=5 * 365)).isoformat(),
                facility[0],
                facility[1],
                rng.choice(["yes", "no"]),
                f"https://example.org/prisoners/{number}",
                rng.choice(["yes", "no"]),
                "Detained after the protests; letters in Russian reach the colony, with delays.",
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def run_flask(name: str, args: list[str], env: dict[str, str], log: Path) -> Run:
    """Run ``flask --app godparents ARGS`` as a child: its wall time and its own peak RSS."""
    command = [str(BIN / "flask"), "--app", "godparents", *args]
    began = time.perf_counter()
    with log.open("wb") as output:
        child = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed ({child.returncode}):\n{text[-3000:]}")
    # ru_maxrss is in KiB on Linux
    return Run(name, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def expect(run: Run, summary: str) -> None:
    if summary not in run.output:
        sys.exit(f"{run.name}: expected {summary!r} in the output:\n{run.output[-3000:]}")


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    database = workdir / "bench.db"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        # The prefix keeps the value a string: Flask reads prefixed variables as JSON.
        "GODPARENTS_SECRET_KEY": f"bench-{secrets.token_hex(32)}",
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    first, changed = workdir / "prisoners.csv", workdir / "changed.csv"
    write_csv(first, prisoner_rows(args.rows))
    write_csv(changed, prisoner_rows(args.rows, changed=True))
    progress(f"{args.rows:,} rows: {first.stat().st_size / 1024 / 1024:.1f} MB ({first})")
    run_flask("db upgrade", ["db", "upgrade"], env, workdir / "upgrade.log")

    log = workdir / "flask.log"
    runs = [run_flask("first import", ["prisoners", "import", str(first)], env, log)]
    expect(runs[-1], f"Imported: {args.rows} created, 0 changed, 0 unchanged.")
    runs.append(run_flask("same file again", ["prisoners", "import", str(first)], env, log))
    expect(runs[-1], f"Imported: 0 created, 0 changed, {args.rows} unchanged.")
    runs.append(run_flask("every row changed", ["prisoners", "import", str(changed)], env, log))
    expect(runs[-1], f"Imported: 0 created, {args.rows} changed, 0 unchanged.")
    export = run_flask("export", ["prisoners", "export", str(workdir / "export.csv")], env, log)

    over = False
    for run in [*runs, export]:
        verdict = ""
        if run is not export:
            fits = run.seconds < args.seconds and run.megabytes < args.megabytes
            over = over or not fits
            verdict = "OK" if fits else "OVER BUDGET"
        progress(
            f"{run.name:>17}: {run.seconds:5.1f} s (CPU {run.cpu_seconds:4.1f} s), "
            f"peak RSS {run.megabytes:5.1f} MB  {verdict}"
        )
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    progress(f"getrusage(RUSAGE_CHILDREN).ru_maxrss, the largest child: {largest:.1f} MB")
    progress(
        f"budget per import: under {args.seconds:g} s and {args.megabytes:g} MB: "
        f"{'OVER BUDGET' if over else 'OK'}"
    )
    return 1 if over else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000, help="prisoners in the file")
    parser.add_argument("--seconds", type=float, default=15.0, help="time budget per import")
    parser.add_argument("--megabytes", type=float, default=200.0, help="peak RSS budget per import")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as directory:
        return benchmark(args, Path(directory))


if __name__ == "__main__":
    sys.exit(main())
