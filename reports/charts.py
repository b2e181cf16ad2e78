"""The report's charts, drawn once and rendered twice: as inline SVG for the pages and as
ReportLab drawings for the PDF — no JavaScript, no CDN, nothing fetched.

A chart is a list of shapes on a canvas whose origin is the top left corner (as in SVG); the PDF
renderer flips the y axis. Charts:
- best ACR/EULAR category by treatment (stacked bars, percent of evaluable episodes);
- cumulative proportion meeting the IMACS DOI over time (1 − Kaplan–Meier, one step line per
  treatment, censorings marked);
- median TIS at weeks 12, 24 and 52 by treatment, with interquartile ranges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports.outcomes import NOT_COMPUTED, OutcomeRow, OutcomesReport
from reports.selectors import CATEGORIES, WEEKS

# Okabe & Ito's palette, distinguishable with the common colour vision deficiencies.
SERIES_COLOURS = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#999933",
)  # fmt: skip
CATEGORY_COLOURS = {
    "none": "#d9d9d9",
    "minimal": "#9ecae1",
    "moderate": "#4292c6",
    "major": "#08306b",
    NOT_COMPUTED: "#ffffff",
}
CATEGORY_LABELS = {
    "none": "None",
    "minimal": "Minimal",
    "moderate": "Moderate",
    "major": "Major",
    NOT_COMPUTED: "Not computed",
}
# More lines than this on one chart cannot be told apart: the largest groups are drawn.
MAX_SERIES = 8
MAX_BARS = 40
FONT = 11
WIDTH = 720


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#444444"
    width: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Path:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 2.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = FONT
    anchor: str = "start"  # start, middle, end
    fill: str = "#222222"
    bold: bool = False


@dataclass
class Chart:
    """Shapes on a `width` × `height` canvas, with a title and a text description of the data
    (for screen readers, and for anyone who wants the numbers behind the picture)."""

    chart_id: str
    title: str
    width: float
    height: float
    description: str = ""
    shapes: list[Any] = field(default_factory=list)
    note: str = ""

    def add(self, shape: Any) -> None:
        self.shapes.append(shape)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _series_label(row: OutcomeRow) -> str:
    return f"{row.stratum_label}: {row.treatment_label}" if row.stratum else row.treatment_label


def _short(text: str, limit: int = 30) -> str:
    """A label that fits the space beside a bar (the full one is in the description)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shown_rows(report: OutcomesReport) -> list[OutcomeRow]:
    """The rows a chart may draw: not those withheld from the viewer (reports.disclosure)."""
    return [row for row in report.rows if not row.suppressed]


def _largest(rows: Sequence[OutcomeRow], limit: int) -> list[OutcomeRow]:
    """The `limit` rows with the most evaluable episodes, in report order."""
    chosen = sorted(rows, key=lambda r: -r.evaluable.count)[:limit]
    keep = {id(row) for row in chosen}
    return [row for row in rows if id(row) in keep]


def _legend(chart: Chart, entries: Sequence[tuple[str, str]], y: float, left: float) -> float:
    """Colour swatches with labels, wrapped over lines; returns the y below the legend."""
    x = left
    for label, colour in entries:
        width = 18 + 6.2 * len(label) + 14
        if x + width > chart.width - 10 and x > left:
            x = left
            y += 18
        chart.add(Rect(x, y - 9, 12, 12, colour, stroke="#666666"))
        chart.add(Text(x + 17, y + 1, label, size=FONT - 1))
        x += width
    return y + 18


def best_category_chart(report: OutcomesReport) -> Chart:
    """Stacked bars: the best ACR/EULAR category of the evaluable episodes, per treatment."""
    rows = [row for row in _shown_rows(report) if row.evaluable.count]
    shown = _largest(rows, MAX_BARS)
    label_width = 230
    left, right = label_width + 10, WIDTH - 20
    bar_h, gap = 16, 8
    chart = Chart(
        "chart-best-category",
        "Best ACR/EULAR improvement by treatment (% of evaluable episodes)",
        WIDTH,
        0,
    )
    keys = (*CATEGORIES, NOT_COMPUTED)
    top = _legend(chart, [(CATEGORY_LABELS[k], CATEGORY_COLOURS[k]) for k in keys], 16, left)
    top += 4
    described = []
    for index, row in enumerate(shown):
        y = top + index * (bar_h + gap)
        label = f"{_short(_series_label(row))} (n={row.evaluable.count})"
        chart.add(Text(label_width, y + bar_h - 4, label, anchor="end"))
        x = float(left)
        parts = []
        for key in keys:
            share = row.best_category[key]
            fraction = share.fraction or 0.0
            width = (right - left) * fraction
            if width > 0:
                chart.add(
                    Rect(x, y, width, bar_h, CATEGORY_COLOURS[key], stroke="#666666",
                         title=f"{CATEGORY_LABELS[key]}: {share.count} ({_fmt(100 * fraction)} %)")
                )  # fmt: skip
            x += width
            parts.append(f"{CATEGORY_LABELS[key].lower()} {share.count}")
        described.append(f"{_series_label(row)}: " + ", ".join(parts))
    bottom = top + len(shown) * (bar_h + gap)
    for percent in (0, 25, 50, 75, 100):
        x = left + (right - left) * percent / 100
        chart.add(Line(x, top - 2, x, bottom, stroke="#bbbbbb", dash=True))
        chart.add(Text(x, bottom + 14, f"{percent} %", size=FONT - 1, anchor="middle"))
    if not shown:
        chart.add(Text(WIDTH / 2, top + 20, "No evaluable episodes.", anchor="middle"))
        bottom = top + 30
    chart.height = bottom + 24
    chart.description = "; ".join(described) or "No evaluable episodes."
    if len(rows) > len(shown):
        chart.note = f"The {len(shown)} largest of {len(rows)} groups are shown."
    return chart


def _plot_frame(
    chart: Chart,
    left: float,
    top: float,
    right: float,
    bottom: float,
    y_ticks: Sequence[float],
    y_max: float,
    y_label: str,
) -> None:
    for tick in y_ticks:
        y = bottom - (bottom - top) * tick / y_max
        chart.add(Line(left, y, right, y, stroke="#dddddd"))
        chart.add(Text(left - 6, y + 4, _fmt(tick), size=FONT - 1, anchor="end"))
    chart.add(Line(left, bottom, right, bottom, stroke="#444444"))
    chart.add(Line(left, top, left, bottom, stroke="#444444"))
    chart.add(Text(12, top - 8, y_label, size=FONT - 1))


# Steps of a weeks axis, from which `week_ticks` takes the first that gives few enough labels:
# whole weeks, months of four weeks, quarters (12 or 13 weeks), half years and years.
WEEK_STEPS = (1, 2, 4, 8, 12, 26, 52)


def week_ticks(horizon_weeks: float, most: int = 10) -> list[int]:
    """Tick weeks for an axis from 0 to `horizon_weeks`: one step of WEEK_STEPS, every label
    once and none past the end of the axis (the axis ends at the data)."""
    if horizon_weeks <= 0:
        return [0]
    step = next(
        (step for step in WEEK_STEPS if int(horizon_weeks // step) + 1 <= most), WEEK_STEPS[-1]
    )
    return list(range(0, int(horizon_weeks) + 1, step))


def nice_top(value: float, steps: int = 4) -> tuple[float, list[float]]:
    """An axis from 0 that holds `value`: its end and its ticks (1, 2, 2.5 or 5 × 10^k apart),
    each label once."""
    if value <= 0:
        return 1.0, [0.0, 1.0]
    raw = value / steps
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    count = math.ceil(value / step - 1e-9)
    return step * count, [round(step * i, 6) for i in range(count + 1)]


def time_to_doi_chart(report: OutcomesReport) -> Chart:
    """Cumulative proportion meeting the IMACS DOI (1 − Kaplan–Meier) by weeks of treatment."""
    rows = [row for row in _shown_rows(report) if row.time_to_doi.n]
    shown = _largest(rows, MAX_SERIES)
    chart = Chart(
        "chart-time-to-doi",
        "Time to first IMACS improvement (cumulative %, 1 − Kaplan–Meier)",
        WIDTH,
        360,
    )
    left, right = 60, WIDTH - 20
    legend_bottom = _legend(
        chart,
        [(_short(_series_label(row)), SERIES_COLOURS[i]) for i, row in enumerate(shown)],
        16,
        left,
    )
    top, bottom = legend_bottom + 18, chart.height - 40
    # The axis ends at the last time observed (two years at most): no empty stretch after it.
    last = max((s.time for row in shown for s in row.time_to_doi.steps), default=0)
    horizon = max(min(last, 104 * 7), 7)
    _plot_frame(chart, left, top, right, bottom, (0, 25, 50, 75, 100), 100, "% meeting DOI")
    for week in week_ticks(horizon / 7):
        x = left + (right - left) * week * 7 / horizon
        chart.add(Text(x, bottom + 14, str(week), size=FONT - 1, anchor="middle"))
    chart.add(Text((left + right) / 2, bottom + 30, "weeks since start", anchor="middle"))

    def at(time: float, survival: float) -> tuple[float, float]:
        return (
            left + (right - left) * min(time, horizon) / horizon,
            bottom - (bottom - top) * (1 - survival),
        )

    described = []
    for index, row in enumerate(shown):
        colour = SERIES_COLOURS[index]
        points = [at(0, 1.0)]
        survival = 1.0
        for step in row.time_to_doi.steps:
            if step.time > horizon:
                break
            if step.events:
                points.append(at(step.time, survival))
                survival = step.survival
                points.append(at(step.time, survival))
            if step.censored:
                x, y = at(step.time, survival)
                chart.add(Line(x, y - 4, x, y + 4, stroke=colour, width=1.2))
        points.append(at(horizon, survival))
        chart.add(Path(tuple(points), colour))
        median = row.time_to_doi.median
        described.append(
            f"{_series_label(row)}: {row.time_to_doi.events} of {row.time_to_doi.n} met the "
            f"DOI, median {'not reached' if median is None else f'{median:g} days'}"
        )
    if not shown:
        chart.add(Text(WIDTH / 2, (top + bottom) / 2, "No scored episodes.", anchor="middle"))
    chart.description = "; ".join(described) or "No scored episodes."
    if len(rows) > len(shown):
        chart.note = f"The {len(shown)} largest of {len(rows)} groups are shown."
    return chart


@dataclass(frozen=True)
class PanelPoint:
    """A median with its interquartile range, of `n` values, at a week of treatment."""

    week: int
    median: float
    q1: float
    q3: float
    n: int


@dataclass(frozen=True)
class Panel:
    """One small chart of a set: a treatment's medians over time."""

    label: str
    points: tuple[PanelPoint, ...]
    # What the panel says where a week has no value ("week 52 no visits").
    missing: tuple[int, ...] = ()


# Three panels to a line; four, on a wider canvas, from more than six panels, so that twelve
# fit on a landscape PDF page with legible labels.
PANEL_COLUMNS = 3
WIDE_PANEL_COLUMNS = 4
PANEL_HEIGHT = 150
MAX_PANELS = 12


def small_multiples(
    chart: Chart,
    panels: Sequence[Panel],
    *,
    x_ticks: Sequence[int],
    y_max: float,
    y_ticks: Sequence[float],
    guides: Sequence[tuple[float, str]] = (),
    unit: str = "",
    empty: str,
) -> Chart:
    """One small panel per treatment, PANEL_COLUMNS (or WIDE_PANEL_COLUMNS) to a line, on the
    same axes: weeks of treatment from 0 to the last of `x_ticks` (the last week with data) and
    0 to `y_max`.
    Each week's median is a dot with its interquartile range as a whisker, the dots joined.
    Several treatments on one plot hide each other; side by side they can be compared."""
    gap = 14
    columns = PANEL_COLUMNS if len(panels) <= 2 * PANEL_COLUMNS else WIDE_PANEL_COLUMNS
    chart.width = WIDTH * columns / PANEL_COLUMNS
    width = (chart.width - 20 - gap * (columns - 1)) / columns
    x_end = max(x_ticks) or 1
    described = []
    for index, panel in enumerate(panels):
        column, line = index % columns, index // columns
        x0 = 10 + column * (width + gap)
        y0 = 10 + line * (PANEL_HEIGHT + gap)
        left, right = x0 + 34, x0 + width - 10
        top, bottom = y0 + 26, y0 + PANEL_HEIGHT - 22
        chart.add(Text(x0 + 2, y0 + 12, _short(panel.label, 34), size=FONT - 1, bold=True))

        def x_of(week: float, left: float = left, right: float = right) -> float:
            return left + (right - left) * week / x_end

        def y_of(value: float, top: float = top, bottom: float = bottom) -> float:
            return bottom - (bottom - top) * min(value, y_max) / y_max

        for tick in y_ticks:
            chart.add(Line(left, y_of(tick), right, y_of(tick), stroke="#e6e6e6"))
            chart.add(Text(left - 4, y_of(tick) + 3, _fmt(tick), size=FONT - 3, anchor="end"))
        for value, _ in guides:
            chart.add(Line(left, y_of(value), right, y_of(value), stroke="#9e9e9e", dash=True))
        chart.add(Line(left, bottom, right, bottom))
        chart.add(Line(left, top, left, bottom))
        for week in x_ticks:
            chart.add(Text(x_of(week), bottom + 12, str(week), size=FONT - 3, anchor="middle"))
        colour = SERIES_COLOURS[0]
        parts = []
        for point in panel.points:
            x = x_of(point.week)
            chart.add(Line(x, y_of(point.q1), x, y_of(point.q3), stroke=colour, width=1.5))
            title = (
                f"week {point.week}: median {_fmt(point.median)}{unit} "
                f"(IQR {_fmt(point.q1)}–{_fmt(point.q3)}, n={point.n})"
            )
            chart.add(Rect(x - 3, y_of(point.median) - 3, 6, 6, colour, title=title))
            parts.append(
                (point.week, f"week {point.week} median {_fmt(point.median)}{unit} "
                 f"(IQR {_fmt(point.q1)}–{_fmt(point.q3)}, n={point.n})")
            )  # fmt: skip
        if len(panel.points) > 1:
            line_points = tuple((x_of(p.week), y_of(p.median)) for p in panel.points)
            chart.add(Path(line_points, colour, width=1.5))
        parts += [(week, f"week {week} no visits") for week in panel.missing]
        described.append(f"{panel.label}: " + ", ".join(text for _, text in sorted(parts)))
    lines = math.ceil(len(panels) / columns)
    bottom = 10 + lines * (PANEL_HEIGHT + gap)
    if guides:
        text = "Dashed lines: " + "; ".join(f"{name} {_fmt(value)}{unit}" for value, name in guides)
        chart.add(Text(10, bottom + 4, text, size=FONT - 2, fill="#616161"))
        bottom += 14
    chart.add(Text(chart.width / 2, bottom + 8, "weeks since start", size=FONT - 1,
                   anchor="middle"))  # fmt: skip
    if not panels:
        chart.add(Text(chart.width / 2, 40, empty, anchor="middle"))
        bottom = 60
    chart.height = bottom + 20
    chart.description = "; ".join(described) or empty
    return chart


def tis_over_time_chart(report: OutcomesReport) -> Chart:
    """Median TIS (with interquartile range) at weeks 12, 24 and 52: a small panel per
    treatment, the largest MAX_PANELS."""
    rows = [row for row in _shown_rows(report) if any(row.weeks[w].tis.n for w in WEEKS)]
    shown = _largest(rows, MAX_PANELS)
    chart = Chart(
        "chart-tis-over-time", "Total improvement score over time (median and IQR)", WIDTH, 0
    )
    panels = []
    for row in shown:
        points, missing = [], []
        for week in WEEKS:
            summary = row.weeks[week].tis
            if summary.median is None or summary.q1 is None or summary.q3 is None:
                missing.append(week)
                continue
            points.append(PanelPoint(week, summary.median, summary.q1, summary.q3, summary.n))
        label = f"{_series_label(row)} (n={row.evaluable.count})"
        panels.append(Panel(label, tuple(points), tuple(missing)))
    weeks_with_data = [p.week for panel in panels for p in panel.points]
    small_multiples(
        chart,
        panels,
        x_ticks=[0, *(w for w in WEEKS if w <= max(weeks_with_data, default=WEEKS[-1]))],
        y_max=100,
        y_ticks=(0, 20, 40, 60, 80, 100),
        # ACR/EULAR thresholds of the adult criteria (Aggarwal et al., Arthritis Rheumatol
        # 2017): minimal ≥ 20, moderate ≥ 40, major ≥ 60.
        guides=((20, "minimal (adult)"), (40, "moderate"), (60, "major")),
        empty="No visits near these weeks.",
    )
    if len(rows) > len(shown):
        chart.note = f"The {len(shown)} largest of {len(rows)} groups are shown."
    return chart


def report_charts(report: OutcomesReport) -> list[Chart]:
    return [best_category_chart(report), time_to_doi_chart(report), tis_over_time_chart(report)]


# ---------------------------------------------------------------------------------------------
# Renderers


def to_svg(chart: Chart) -> SafeString:
    """Inline SVG; every text is escaped."""
    anchor = {"start": "start", "middle": "middle", "end": "end"}
    classes = "report-chart wide" if chart.width > WIDTH else "report-chart"
    parts = [
        f'<svg class="{classes}" viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" '
        f'role="img" aria-labelledby="{chart.chart_id}-title {chart.chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">',
        f'<title id="{chart.chart_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{chart.chart_id}-desc">{escape(chart.description)}</desc>',
    ]
    for shape in chart.shapes:
        if isinstance(shape, Line):
            dash = ' stroke-dasharray="4 3"' if shape.dash else ""
            parts.append(
                f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                f'y2="{shape.y2:.1f}" stroke="{shape.stroke}" stroke-width="{shape.width}"'
                f"{dash}/>"
            )
        elif isinstance(shape, Rect):
            stroke = f' stroke="{shape.stroke}" stroke-width="0.5"' if shape.stroke else ""
            title = f"<title>{escape(shape.title)}</title>" if shape.title else ""
            parts.append(
                f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                f'height="{shape.h:.1f}" fill="{shape.fill}"{stroke}>{title}</rect>'
            )
        elif isinstance(shape, Path):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{shape.stroke}" '
                f'stroke-width="{shape.width}"/>'
            )
        elif isinstance(shape, Text):
            weight = ' font-weight="bold"' if shape.bold else ""
            parts.append(
                f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size}" '
                f'text-anchor="{anchor[shape.anchor]}" fill="{shape.fill}"{weight}>'
                f"{escape(shape.text)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def to_drawing(chart: Chart, width: float, height: float) -> Any:
    """A ReportLab Drawing of the chart scaled to fit `width` × `height` points (PDF)."""
    from reportlab.graphics.shapes import Drawing, Group, PolyLine, String
    from reportlab.graphics.shapes import Line as RLLine
    from reportlab.graphics.shapes import Rect as RLRect
    from reportlab.lib.colors import HexColor

    from reports.pdf_fonts import FONT_BOLD, FONT_REGULAR, pdf_text, register_fonts

    register_fonts()
    scale = min(width / chart.width, height / chart.height)
    group = Group()
    for shape in chart.shapes:
        if isinstance(shape, Line):
            line = RLLine(shape.x1, chart.height - shape.y1, shape.x2, chart.height - shape.y2)
            line.strokeColor = HexColor(shape.stroke)
            line.strokeWidth = shape.width
            if shape.dash:
                line.strokeDashArray = [4, 3]
            group.add(line)
        elif isinstance(shape, Rect):
            rect = RLRect(shape.x, chart.height - shape.y - shape.h, shape.w, shape.h)
            rect.fillColor = HexColor(shape.fill)
            rect.strokeColor = HexColor(shape.stroke) if shape.stroke else None
            rect.strokeWidth = 0.5
            group.add(rect)
        elif isinstance(shape, Path):
            flat = [value for x, y in shape.points for value in (x, chart.height - y)]
            poly = PolyLine(flat)
            poly.strokeColor = HexColor(shape.stroke)
            poly.strokeWidth = shape.width
            group.add(poly)
        elif isinstance(shape, Text):
            text = String(
                shape.x,
                chart.height - shape.y,
                pdf_text(shape.text),
                fontName=FONT_BOLD if shape.bold else FONT_REGULAR,
                fontSize=shape.size,
                textAnchor=shape.anchor,
                fillColor=HexColor(shape.fill),
            )
            group.add(text)
    group.scale(scale, scale)
    drawing = Drawing(chart.width * scale, chart.height * scale)
    drawing.add(group)
    return drawing
