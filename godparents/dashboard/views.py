"""The coordinator's dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, render_template
from flask_login import current_user

from godparents.actions import outcomes
from godparents.auth.models import Role
from godparents.dashboard import charts, services
from godparents.reminders import outbox as reminder_outbox
from godparents.security import roles_required
from godparents.timeutil import local_today

bp = Blueprint("dashboard", __name__, url_prefix="/coordinator")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    today = local_today(current_user.timezone, current_app.config["TIMEZONE"])
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
