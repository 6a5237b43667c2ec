"""The dashboard's daily-totals chart, drawn on the server as SVG.

No chart library and no script: the picture is plain SVG elements the template writes out, so
it needs nothing but the page itself (and passes a ``script-src 'self'`` policy trivially).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from staff.selectors import DayTotal

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str
    today: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    plot_left: int
    plot_right: int
    baseline: float
    summary: str


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value``: round axis labels."""
    if value <= 0:
        return Decimal("1000")
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _short(amount: Decimal) -> str:
    if amount >= 1_000_000:
        return f"{amount / 1_000_000:.1f}M".replace(".0M", "M")
    if amount >= 1_000:
        return f"{amount / 1_000:.0f}k"
    return f"{amount:.0f}"


def daily_chart(days: list[DayTotal]) -> Chart:
    top = _nice_ceiling(max((day.amount for day in days), default=Decimal("0")))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = float(day.amount / top) * plot_h if top else 0.0
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(TOP + plot_h - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=day.day.strftime("%d %b") if index % 5 == 4 or index == 0 else "",
                title=f"{day.day:%a %d %b}: KES {day.amount:,.2f} in {day.count:,} payments",
                today=index == len(days) - 1,
            )
        )
    ticks = [
        Tick(y=round(TOP + plot_h - plot_h * i / 4, 1), label=_short(top * i / 4)) for i in range(5)
    ]
    total = sum((day.amount for day in days), Decimal("0"))
    summary = (
        f"Daily payments received, {days[0].day:%d %b} to {days[-1].day:%d %b}: "
        f"KES {total:,.2f} in total."
        if days
        else "No days to show."
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        baseline=TOP + plot_h,
        summary=summary,
    )
