"""The restore drill's writer: a process of its own logging actions, one commit each.

``python -m tests.backup_writer DATABASE_URL SPONSORSHIP_ID LOG STOP_FILE`` appends
``<id> <unix time>`` to LOG after each commit, until STOP_FILE exists (or 120 s have passed,
so that it always ends by itself).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from godparents import create_app
from godparents.actions.models import Action, ActionKind
from godparents.extensions import db

LIMIT_SECONDS = 120


def main(url: str, sponsorship_id: int, log: Path, stop: Path) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    deadline = time.monotonic() + LIMIT_SECONDS
    with app.app_context(), log.open("a") as out:
        number = 0
        while not stop.exists() and time.monotonic() < deadline:
            number += 1
            action = Action(
                sponsorship_id=sponsorship_id,
                kind=ActionKind.LETTER,
                occurred_on=date(2026, 12, 1),
                summary=f"drill letter {number}",
            )
            db.session.add(action)
            db.session.commit()
            out.write(f"{action.id} {time.time()}\n")  # only after the commit returned
            out.flush()
        db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
