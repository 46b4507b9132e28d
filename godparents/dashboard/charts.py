"""Server-side SVG geometry for the dashboard's two charts: no chart library, no script.

The template draws what these functions compute; every chart also has a data table for
screen readers and for anyone who wants the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from godparents.dashboard.services import Coverage, MonthlyActions

WIDTH, HEIGHT = 600, 220
LEFT, BOTTOM, TOP = 40, 24, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    family: str
    value: int


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


def nice_max(value: int) -> int:
    """A round upper bound for an axis: 10, 20, 50, 100, 200, 500, ..."""
    magnitude = 10
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def stacked_bars(data: MonthlyActions) -> tuple[list[Bar], int]:
    """One stacked bar per month; returns the bars and the axis maximum."""
    top = nice_max(max(data.totals, default=0))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(data.months)
    bars = []
    for index in range(len(data.months)):
        y: float = HEIGHT - BOTTOM
        for family, values in data.by_family.items():
            value = values[index]
            if not value:
                continue
            height = plot_height * value / top
            y -= height
            bars.append(
                Bar(
                    LEFT + index * slot + slot * 0.15,
                    round(y, 1),
                    round(slot * 0.7, 1),
                    round(height, 1),
                    family,
                    value,
                )
            )
    return bars, top


def line_points(data: Coverage) -> list[tuple[float, float, float]]:
    """(x, y, share) for each month with held prisoners; y for 0 % at the bottom, 100 % at top."""
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(data.months)
    points = []
    for index, share in enumerate(data.shares):
        if share is not None:
            points.append(
                (
                    round(LEFT + index * slot + slot / 2, 1),
                    round(HEIGHT - BOTTOM - plot_height * share, 1),
                    share,
                )
            )
    return points


def month_ticks(count: int) -> list[float]:
    slot = (WIDTH - LEFT) / count
    return [round(LEFT + index * slot + slot / 2, 1) for index in range(count)]
