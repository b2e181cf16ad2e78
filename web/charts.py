"""Small server-rendered SVG line charts for the patient page: no JavaScript library, nothing
fetched, readable without scripts and printable. Treatment episodes are shaded bands."""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 210
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 40, 28
EPISODE_COLOURS = ("#5b8def", "#e8a33d", "#3fa37c", "#b565c9", "#d9534f", "#6c757d")


@dataclass(frozen=True)
class Band:
    start: date
    stop: date | None
    label: str


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    ticks, value = [], low
    while value <= high + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def line_chart(
    *,
    chart_id: str,
    title: str,
    points: list[tuple[date, float]],
    bands: list[Band],
    y_max: float,
    y_min: float = 0.0,
    unit: str = "",
    x_start: date,
    x_end: date,
    guides: list[tuple[float, str]] | None = None,
) -> SafeString:
    """An SVG chart of `points` over [x_start, x_end] with episode `bands` shaded."""
    if x_end <= x_start:
        x_end = x_start + timedelta(days=30)
    span = (x_end - x_start).days
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max([y_max] + [v for _, v in points])

    def x(day: date) -> float:
        return LEFT + plot_w * (day - x_start).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (top_value - y_min or 1))

    parts: list[str] = []
    # Bands first, so the data draw over them. Each band's bar and label go in the first of three
    # rows above the plot where they do not overlap an earlier one.
    row_ends: list[float] = []
    for index, band in enumerate(bands):
        start = max(band.start, x_start)
        stop = min(band.stop or x_end, x_end)
        if stop < start:
            continue
        colour = EPISODE_COLOURS[index % len(EPISODE_COLOURS)]
        x0, x1 = x(start), max(x(stop), x(start) + 2)
        end = max(x1, x0 + 5.5 * len(band.label) + 4)
        row = next((r for r, taken in enumerate(row_ends) if taken <= x0), len(row_ends))
        if row >= 3:
            row = min(range(3), key=lambda r: row_ends[r])
        if row == len(row_ends):
            row_ends.append(end)
        else:
            row_ends[row] = max(row_ends[row], end)
        parts.append(
            f'<rect class="band" x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" '
            f'fill="{colour}" fill-opacity="0.14"><title>{escape(band.label)}</title></rect>'
            f'<rect x="{x0:.1f}" y="{4 + row * 11}" width="{x1 - x0:.1f}" height="9" '
            f'fill="{colour}" fill-opacity="0.55"/>'
            f'<text x="{x0 + 2:.1f}" y="{12 + row * 11}" class="band-label">'
            f"{escape(band.label)}</text>"
        )
    for tick in _ticks(y_min, top_value):
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{_fmt(tick)}</text>"
        )
    for value, label in guides or ():
        gy = y(value)
        parts.append(
            f'<line class="guide" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>'
            f'<text class="guide-label" x="{WIDTH - RIGHT - 2}" y="{gy - 3:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    ticks = _date_ticks(x_start, x_end)
    for index, tick_date in enumerate(ticks):
        # The outer labels are anchored inwards so that they are not cut at the edges.
        anchor = "start" if index == 0 else "end" if index == len(ticks) - 1 else "middle"
        parts.append(
            f'<text class="axis" x="{x(tick_date):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{tick_date:%Y-%m}</text>"
        )
    parts.append(
        f'<line class="axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    ordered = sorted(points)
    if len(ordered) > 1:
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in ordered)
        parts.append(f'<polyline class="series" points="{path}"/>')
    for day, value in ordered:
        parts.append(
            f'<circle class="point" cx="{x(day):.1f}" cy="{y(value):.1f}" r="3.5">'
            f"<title>{day.isoformat()}: {_fmt(value)}{escape(unit)}</title></circle>"
        )
    if not ordered:
        parts.append(
            f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" '
            'text-anchor="middle">no values yet</text>'
        )
    described = ", ".join(f"{d.isoformat()} {_fmt(v)}{unit}" for d, v in ordered) or "no values"
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(described)}</desc>' + "".join(parts) + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text is escaped above


def _date_ticks(start: date, end: date, count: int = 5) -> list[date]:
    span = (end - start).days
    return [start + timedelta(days=round(span * i / (count - 1))) for i in range(count)]
