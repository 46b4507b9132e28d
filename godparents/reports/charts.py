"""Horizontal bar charts for the report, as geometry the template draws into SVG: no chart
library, no script, no style attribute (the CSP allows none); colours come from classes
in static/css/app.css. Each chart stands beside its table, which holds the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from godparents.dashboard.charts import nice_max

WIDTH = 640
LABEL_WIDTH = 250  # the labels' column, left of the bars
ROW = 22  # each bar's height with its gap
TOP, BOTTOM = 6, 22  # room above the first bar, and for the axis labels below the last
LABEL_CHARACTERS = 32  # a longer label is cut with "…" (the table has it whole)
MAX_BARS = 25  # a longer table is charted for its first rows (the table has them all)


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    width: float
    value: float
    text_x: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    top: int  # the axis maximum
    left: int
    right: int
    shown_of: int  # rows in the table

    @property
    def axis_y(self) -> int:
        return self.height - BOTTOM


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def bar_chart(rows: list[tuple[str, float]]) -> BarChart:
    shown = rows[:MAX_BARS]
    top = nice_max(int(max((value for _, value in shown), default=0)) or 1)
    span = WIDTH - LABEL_WIDTH - 60  # room for the number right of the longest bar
    bars = []
    for index, (text, value) in enumerate(shown):
        width = round(span * value / top, 1)
        bars.append(Bar(_short(text), TOP + index * ROW, width, value, LABEL_WIDTH + width + 4))
    return BarChart(bars, TOP + len(shown) * ROW + BOTTOM, top, LABEL_WIDTH, WIDTH - 10, len(rows))
