"""Articles per day as an inline SVG bar chart, laid out on the server (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH = 600
HEIGHT = 120
DAYS = 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    first: date | None
    last: date | None
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def day_chart(counts: dict[date, int], *, days: int = DAYS) -> Chart:
    """The ``days`` days up to the newest day with an article, one bar each
    (empty days are gaps, so a site that stopped publishing shows it)."""
    if not counts:
        return Chart([], None, None, 0)
    last = max(counts)
    first = last - timedelta(days=days - 1)
    peak = max(counts.get(first + timedelta(days=i), 0) for i in range(days))
    slot = WIDTH / days
    bars = []
    for i in range(days):
        day = first + timedelta(days=i)
        count = counts.get(day, 0)
        height = (HEIGHT - 4) * count / peak if peak else 0
        bars.append(
            Bar(
                round(i * slot + 1, 2),
                round(HEIGHT - height, 2),
                round(slot - 2, 2),
                round(height, 2),
                day,
                count,
            )
        )
    return Chart(bars, first, last, peak)
