"""Small server-rendered SVG line charts for the patient page: no JavaScript library, nothing
fetched, readable without scripts and printable.

Treatment episodes are drawn as thin bars in lanes above the plot, one lane per episode that
overlaps another (so two drugs started the same day are two bars, one above the other, never one
muddy area), each labelled, with a faint dashed line down the plot where it starts and stops.
The time axis spans the data only and its ticks are whole months, quarters or years chosen from
that span, each label once."""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
LEFT, RIGHT, BOTTOM = 48, 14, 28
PLOT_HEIGHT = 142
# Pixels kept free inside the plot at each end, so that a point on the first or last date is
# drawn whole although the axis ends at the data.
INNER = 8
LANE_HEIGHT, LANE_GAP, LANES_TOP = 10, 3, 6
LABEL_CHAR = 5.4  # width of one character of a band label (9 px bold), to keep labels apart
EPISODE_COLOURS = ("#5b8def", "#e8a33d", "#3fa37c", "#b565c9", "#d9534f", "#6c757d")
MAX_DATE_TICKS = 6


@dataclass(frozen=True)
class Band:
    start: date
    stop: date | None
    label: str
    colour: str = ""


def colour_by_drug(episodes: list) -> None:
    """Give each episode (`.colour`) its drug's colour, drugs in order of first start: a drug
    given in several episodes is one colour on every chart and table."""
    colours: dict[str, str] = {}
    for episode in episodes:
        label = episode.drug_label
        if label not in colours:
            colours[label] = EPISODE_COLOURS[len(colours) % len(EPISODE_COLOURS)]
        episode.colour = colours[label]


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _step(low: float, high: float, count: int = 4) -> float:
    raw = (high - low) / count
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        return [low]
    step = _step(low, high, count)
    ticks, value = [], low
    while value <= high + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _nice_top(low: float, high: float) -> float:
    """`high` raised to the next tick, so that the top gridline is labelled."""
    if high <= low:
        return high
    step = _step(low, high)
    return low + math.ceil((high - low) / step - 1e-9) * step


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# Steps tried in turn, in months, with how a tick of that step is labelled; the first that gives
# at most `limit` ticks in the span is used.
_MONTH_STEPS = (
    (1, "month"),
    (2, "month"),
    (3, "quarter"),
    (6, "month"),
    (12, "year"),
    *((12 * years, "year") for years in (2, 5, 10, 20, 50, 100)),
)


def date_ticks(start: date, end: date, limit: int = MAX_DATE_TICKS) -> list[tuple[date, str]]:
    """Ticks for a time axis over [start, end]: (date, label) pairs, inside the span, in order,
    no label twice.

    Whole months ("2026-08"), quarters ("2026 Q3") or years ("2026") as the span allows, each
    tick on the first day of its period. A span of a few weeks, which holds fewer than two month
    starts, is ticked by days ("2026-08-14")."""
    if end < start:
        start, end = end, start
    first = start if start.day == 1 else _add_months(start, 1)
    ticks, unit = next(
        (
            (found, unit)
            for months, unit in _MONTH_STEPS
            if len(found := _period_ticks(first, end, months)) <= limit
        ),
        ([], "year"),
    )
    if len(ticks) >= 2:
        return [(day, _label(day, unit)) for day in ticks]
    span = (end - start).days
    if span == 0:
        return [(start, start.isoformat())]
    days = next((d for d in (1, 2, 7, 14) if span // d + 1 <= limit), 28)
    return [
        (day, day.isoformat())
        for day in (start + timedelta(days=days * i) for i in range(span // days + 1))
    ]


def _period_ticks(first: date, end: date, months: int) -> list[date]:
    """Month starts from `first` up to `end` on a multiple of `months` counted from January of
    year 0 (quarters start in January, April, July and October; 5-yearly ticks on 2025, 2030)."""
    day = first
    while (day.year * 12 + day.month - 1) % months:
        day = _add_months(day, 1)
    ticks = []
    while day <= end:
        ticks.append(day)
        day = _add_months(day, months)
    return ticks


def _label(day: date, unit: str) -> str:
    if unit == "year":
        return f"{day.year}"
    if unit == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return f"{day:%Y-%m}"


def _lanes(spans: list[tuple[float, float, float, str, float]]) -> list[tuple[int, bool]]:
    """A lane for each bar (start, stop, end of it and its label, drug, start of its label) in
    pixels, and whether its label is drawn. A bar that continues the same drug's bar (the next
    episode starting where the last stopped) goes on in that lane without a second label; any
    other bar takes the first lane where the last bar and its label end before it starts."""
    lanes: list[tuple[float, float, str]] = []  # per lane: label end, bar end, drug
    out = []
    for x0, x1, end, key, label_x in spans:
        lane = next(
            (i for i, (_, stop, k) in enumerate(lanes) if k == key and abs(stop - x0) <= 1),
            None,
        )
        if lane is not None:
            lanes[lane] = (max(lanes[lane][0], x1), x1, key)
            out.append((lane, False))
            continue
        begin = min(x0, label_x)
        lane = next((i for i, (taken, _, _) in enumerate(lanes) if taken + 4 <= begin), len(lanes))
        if lane == len(lanes):
            lanes.append((end, x1, key))
        else:
            lanes[lane] = (end, x1, key)
        out.append((lane, True))
    return out


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
    """An SVG chart of `points` over [x_start, x_end] with the episode `bands` above it."""
    span = (x_end - x_start).days
    plot_w = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        if span <= 0:
            return LEFT + plot_w / 2
        return LEFT + INNER + (plot_w - 2 * INNER) * (day - x_start).days / span

    shown = []
    for index, band in enumerate(bands):
        start = max(band.start, x_start)
        stop = min(band.stop or x_end, x_end)
        if stop < start or band.start > x_end:
            continue
        colour = band.colour or EPISODE_COLOURS[index % len(EPISODE_COLOURS)]
        # A band that began before the axis is drawn from its left end, marked as going on.
        earlier = band.start < x_start
        x0 = x(start) if not earlier else LEFT
        x1 = x(stop) if band.stop is not None and band.stop <= x_end else WIDTH - RIGHT
        x1 = max(x1, x0 + 3)
        label = ("◂ " if earlier else "") + band.label
        # A label that would run past the right edge ends there instead.
        label_x = min(x0 + 2, WIDTH - RIGHT - LABEL_CHAR * len(label) - 2)
        end = max(x1, label_x + LABEL_CHAR * len(label) + 2)
        shown.append((band, label, colour, x0, x1, end, label_x))
    lanes = _lanes(
        [(x0, x1, end, band.label, label_x) for band, _, _, x0, x1, end, label_x in shown]
    )
    lane_count = max(lane for lane, _ in lanes) + 1 if lanes else 0
    top = LANES_TOP + lane_count * (LANE_HEIGHT + LANE_GAP) + 10
    height = top + PLOT_HEIGHT + BOTTOM
    top_value = max([y_max] + [v for _, v in points])
    if top_value > y_max:
        top_value = _nice_top(y_min, top_value)

    def y(value: float) -> float:
        return top + PLOT_HEIGHT * (1 - (value - y_min) / (top_value - y_min or 1))

    parts: list[str] = []
    labels: list[str] = []  # drawn after every bar, so that no later bar covers a label
    for (band, label, colour, x0, x1, _, label_x), (lane, labelled) in zip(
        shown, lanes, strict=True
    ):
        ly = LANES_TOP + lane * (LANE_HEIGHT + LANE_GAP)
        period = f"{band.start.isoformat()} to {band.stop.isoformat() if band.stop else 'now'}"
        parts.append(
            f'<rect class="band" x="{x0:.1f}" y="{ly}" width="{x1 - x0:.1f}" '
            f'height="{LANE_HEIGHT}" fill="{colour}" fill-opacity="0.6" stroke="#fff">'
            f"<title>{escape(band.label)} {period}</title></rect>"
        )
        if labelled:
            labels.append(
                f'<text x="{label_x:.1f}" y="{ly + LANE_HEIGHT - 2}" class="band-label">'
                f"{escape(label)}</text>"
            )
        # Where the episode starts and stops, down the plot, in its colour.
        for edge, present in (
            (x0, band.start >= x_start),
            (x1, band.stop is not None and band.stop <= x_end),
        ):
            if present and x0 <= edge <= WIDTH - RIGHT:
                parts.append(
                    f'<line class="band-edge" x1="{edge:.1f}" x2="{edge:.1f}" y1="{ly}" '
                    f'y2="{top + PLOT_HEIGHT}" stroke="{colour}"/>'
                )
    parts += labels
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
    for tick_date, label in date_ticks(x_start, x_end):
        tx = x(tick_date)
        # A label near an edge is anchored inwards so that it is not cut.
        anchor = "start" if tx < LEFT + 30 else "end" if tx > WIDTH - RIGHT - 30 else "middle"
        parts.append(
            f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{top + PLOT_HEIGHT}" '
            f'y2="{top + PLOT_HEIGHT + 4}"/>'
            f'<text class="axis" x="{tx:.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<line class="axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{top + PLOT_HEIGHT}" y2="{top + PLOT_HEIGHT}"/>'
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
            f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{top + PLOT_HEIGHT / 2:.1f}" '
            'text-anchor="middle">no values yet</text>'
        )
    described = ", ".join(f"{d.isoformat()} {_fmt(v)}{unit}" for d, v in ordered) or "no values"
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(described)}</desc>' + "".join(parts) + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text is escaped above
