"""The report as tables, in the reader's language: the page, the PDF and the workbook all
show these, so that all three say the same. A table's first column names its rows; a
chart draws one of its number columns (``chart``), the table stays the truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from godparents.labels import label
from godparents.reports.services import Report


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    sheet: str  # the title of its sheet in the workbook: at most 31 characters
    columns: list[str]
    rows: list[list[Any]]  # the label(s) first, then numbers; a share is a float 0..1
    chart: int | None = None  # the column a bar chart draws
    shares: frozenset[int] = field(default_factory=frozenset)  # columns that are shares
    note: str | None = None
    labels: int = 1  # how many columns name the row; the rest are numbers

    def is_number(self, column: int) -> bool:
        return column >= self.labels

    def chart_rows(self) -> list[tuple[str, float]]:
        if self.chart is None:
            return []
        return [(str(row[0]), float(row[self.chart] or 0)) for row in self.rows]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def country_name(code: str) -> str:
    locale = get_locale()
    name = locale.territories.get(code.upper()) if locale is not None and code else None
    return f"{name} ({code})" if name else code


def tables(report: Report) -> list[Table]:
    actions = report.actions
    letters = report.letters_total
    waiting = report.waiting
    summary = Table(
        "summary",
        _("The period in figures"),
        _("Overview"),
        [_("Figure"), _("Number")],
        [
            [_("Actions"), actions],
            [_("Letters, cards and parcels"), letters],
            [_("Godparenthoods started"), report.pairings_started],
            [_("Godparenthoods ended"), report.pairings_ended_total],
            [_("Prisoners released while they had a godparent"), report.released_with_godparent],
            [_("Prisoners who got their first godparent"), waiting.prisoners],
            [_("Median days they waited for a godparent"), waiting.median_days],
        ],
        note=_(
            "Days waited: from the detention, or from the campaign's start on %(started)s "
            "if the detention was earlier, to the first godparenthood's start. Prisoners "
            "without a detention date are left out (%(count)d).",
            started=format_date(report.campaign_started_on, "long"),
            count=waiting.without_detention_date,
        ),
    )
    kinds = Table(
        "kinds",
        _("Actions by kind"),
        _("By kind"),
        [_("Kind"), _("Actions"), _("Share")],
        [[str(label(kind)), n, _share(n, actions)] for kind, n in report.actions_by_kind.items()],
        chart=1,
        shares=frozenset({2}),
    )
    parliaments = Table(
        "parliaments",
        _("Actions by parliament"),
        _("By parliament"),
        [_("Parliament"), _("Country"), _("Actions")],
        [[p.body, p.country, n] for p, n in report.actions_by_parliament.items()],
        chart=2,
        labels=2,
    )
    countries = Table(
        "countries",
        _("Actions by country"),
        _("By country"),
        [_("Country"), _("Actions"), _("Share")],
        [[country_name(c), n, _share(n, actions)] for c, n in report.actions_by_country.items()],
        chart=1,
        shares=frozenset({2}),
    )
    outcomes = Table(
        "letters",
        _("What became of the letters, cards and parcels"),
        _("Letters"),
        [_("Outcome"), _("Number"), _("Share")],
        [
            [str(label(outcome)) if outcome else _("Not recorded"), n, _share(n, letters)]
            for outcome, n in report.letters.items()
        ],
        chart=1,
        shares=frozenset({2}),
    )
    ended = Table(
        "ended",
        _("Godparenthoods ended, by reason"),
        _("Ended"),
        [_("Reason"), _("Number")],
        [
            [str(label(reason)) if reason else _("No reason given"), n]
            for reason, n in report.pairings_ended.items()
        ],
        chart=1,
    )
    godparents = Table(
        "godparents",
        _("Godparents who logged at least one action, by parliament"),
        _("Godparents"),
        [
            _("Parliament"),
            _("Country"),
            _("Logged an action"),
            _("Had a godchild"),
            _("Share"),
        ],
        [
            [p.body, p.country, acted, paired, _share(acted, paired)]
            for p, (acted, paired) in report.godparents_active.items()
        ],
        chart=2,
        shares=frozenset({4}),
        labels=2,
        note=_(
            "Had a godchild: godparents with a godparenthood that ran during the period. "
            "Actions count by the day they happened."
        ),
    )
    return [summary, kinds, parliaments, countries, outcomes, ended, godparents]
