"""How fast the impact report is made for a year at ten times the campaign's size.

Method: builds a throw-away SQLite database (migrations, then ``demo seed --scale 10``:
15,000 prisoners, 6,000 godparents, 500,000 actions), logs in as the demo coordinator
through the real forms (password, then the two-factor code; ``bench/dashboard.py``) and
times requests in-process with Flask's test client (no network: the app's own time): the
report page, its PDF and its workbook for last calendar year and for the current campaign
year, each ``--requests`` times after one warm-up. Nothing is cached between requests:
each one runs the report's queries anew. Each request's wall-clock time and the CPU time
of this process over it (SQLite runs in the process, so that is the app's and the
database's work together) are printed with the load average: on a shared machine the wall
clock also measures the other processes. Passes (exit code 0) when every wall-clock median
is at most 2 s.

Run from the project root:

    .venv/bin/python bench/report.py [--scale 10] [--requests 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from dashboard import logged_in_coordinator

BUDGET_MS = 2000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as tmp:
        client = logged_in_coordinator(Path(tmp), args.scale)
        logging.getLogger("godparents.requests").setLevel(logging.WARNING)  # a line each

        last_year = date.today().year - 1
        ok = True
        for period in (f"period=year&year={last_year}", "period=campaign"):
            for name, path in (
                ("page", "/coordinator/reports/"),
                ("PDF", "/coordinator/reports/report.pdf"),
                ("XLSX", "/coordinator/reports/report.xlsx"),
            ):
                times, cpu = [], []
                for _ in range(args.requests + 1):
                    started, used = time.perf_counter(), time.process_time()
                    response = client.get(f"{path}?{period}")
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - used) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}?{period} answered {response.status_code}")
                median = statistics.median(times[1:])
                ok &= median <= BUDGET_MS
                print(
                    f"{period} {name}: median {median:.0f} ms, max {max(times[1:]):.0f} ms, "
                    f"CPU median {statistics.median(cpu[1:]):.0f} ms, warm-up {times[0]:.0f} ms "
                    f"(budget {BUDGET_MS:.0f} ms): {'OK' if median <= BUDGET_MS else 'TOO SLOW'}; "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
