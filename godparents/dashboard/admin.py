"""The coordinator's dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template

from godparents.actions import outcomes
from godparents.auth.models import Role
from godparents.dashboard import bp, charts, services
from godparents.reminders import outbox as reminder_outbox
from godparents.security import roles_required
from godparents.timeutil import reader_today


@bp.get("/coordinator/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    today = reader_today()
    data = services.dashboard(
        today,
        current_app.config["DASHBOARD_CACHE_SECONDS"],
        current_app.config["SQLALCHEMY_DATABASE_URI"],
    )
    bars, bars_top = charts.stacked_bars(data.actions)
    return render_template(
        "dashboard/index.html",
        data=data,
        counts=data.counts,
        today=today,
        bars=bars,
        bars_top=bars_top,
        line=charts.line_points(data.coverage),
        ticks=charts.month_ticks(len(data.actions.months)),
        chart=charts,
        families=services.FAMILIES,
        # Live, beside the cached numbers: a few queries, whatever the outbox's size.
        reminders=reminder_outbox.health(datetime.now(UTC)),
        bounced=reminder_outbox.undeliverable_addresses(services.WORK_LIST_LENGTH),
        # Letters returned or censored lately (actions/outcomes.py): two queries, live.
        letters_back=outcomes.came_back(today, limit=services.WORK_LIST_LENGTH),
    )
