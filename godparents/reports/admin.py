"""The impact report's pages: the figures of a period with their charts, and the same as a
PDF and as a workbook (one sheet per table)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from godparents import spreadsheets
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.letters.pdf import pdf_response
from godparents.reports import bp, charts, periods
from godparents.reports.services import impact_report
from godparents.reports.tables import Table, tables
from godparents.security import roles_required
from godparents.timeutil import reader_today


def _started_on() -> date:
    return current_app.config["CAMPAIGN_STARTED_ON"]  # a date: config._check_values


def _period() -> tuple[periods.Period | None, str | None]:
    return periods.parse(request.args, reader_today(), _started_on())


def _tables(period: periods.Period) -> list[Table]:
    return tables(impact_report(db.session(), period.start, period.end, _started_on()))


def number(value: Any, share: bool = False) -> str:
    """A figure as the reader writes it: 1,234 or 1.234; a share as a percentage."""
    if value is None:
        return "–"
    if share:
        return format_percent(value, "#,##0.0 %")
    return format_decimal(value, "#,##0.#")


def _title() -> str:
    return _("Impact report")


def _page(period: periods.Period | None, error: str | None) -> str:
    today = reader_today()
    return render_template(
        "reports/index.html",
        period=period,
        error=error,
        chosen=request.args.get("period") or periods.YEAR,
        year=request.args.get("year", ""),
        date_from=request.args.get("from", ""),
        date_to=request.args.get("to", ""),
        this_year=today.year,
        campaign_year=periods.current_campaign_year(_started_on(), today),
        started_on=_started_on(),
        tables=_tables(period) if period else [],
        bar_chart=charts.bar_chart,
        number=number,
    )


@bp.get("/coordinator/reports/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    """The report of a period (this calendar year unless the query string asks for
    another); a period that cannot be is said above the form, and nothing else shown."""
    return _page(*_period())


def _wanted_period() -> periods.Period | tuple[str, int]:
    """The period to download, or the page with what is wrong with it (400)."""
    period, error = _period()
    if period is None:
        return _page(None, error), 400
    return period


@bp.get("/coordinator/reports/report.pdf")
@roles_required(Role.COORDINATOR)
def report_as_pdf() -> Response | tuple[str, int]:
    period = _wanted_period()
    if not isinstance(period, periods.Period):
        return period
    # Imported here: fpdf2 is a fifth of the app's import time, paid by every process
    # (the reminder job, each CLI command), few of which ever make a PDF.
    from godparents.reports.pdf import report_pdf

    content = report_pdf(
        f"{_title()}: {period.label()}",
        _(
            "%(start)s to %(end)s, both included. Made on %(today)s.",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            today=reader_today().isoformat(),
        ),
        _tables(period),
        number,
        lambda page: _("Page %(page)d", page=page),
        _("Nothing in this period."),
    )
    return pdf_response(content, f"impact-report-{period.slug()}.pdf")


@bp.get("/coordinator/reports/report.xlsx")
@roles_required(Role.COORDINATOR)
def report_as_xlsx() -> Response | tuple[str, int]:
    period = _wanted_period()
    if not isinstance(period, periods.Period):
        return period
    sheets = [
        spreadsheets.Sheet(
            table.sheet,
            table.columns,
            table.rows,
            dict.fromkeys(table.shares, spreadsheets.PERCENT),
        )
        for table in _tables(period)
    ]
    response = Response(spreadsheets.workbook(sheets), mimetype=spreadsheets.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="impact-report-{period.slug()}.xlsx"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
