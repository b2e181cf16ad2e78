"""The Kaplan–Meier chart of the survival report: one step curve per row with its 95 %
confidence band, censorings marked, and the numbers at risk under the chart — drawn with the
shapes of reports.charts, so that the page (SVG) and the PDF (ReportLab) show the same picture.

A band is the interval between two steps: a rectangle per interval, in a light tint of the
curve's colour, drawn under every curve.
"""

from __future__ import annotations

from reports.charts import FONT, SERIES_COLOURS, WIDTH, Chart, Line, Path, Rect, Text
from reports.survival import OUTCOME_CHOICES, TIME_ZERO_CHOICES, SurvivalReport, SurvivalRow

MAX_CURVES = 6
HORIZON_WEEKS = 104
TICK_WEEKS = (0, 26, 52, 78, 104)


def _tint(colour: str, share: float = 0.22) -> str:
    """`colour` mixed with white: `share` of the colour."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - c) * share) for c in (red, green, blue))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _label(row: SurvivalRow) -> str:
    return f"{row.stratum_label}: {row.treatment_label}" if row.stratum else row.treatment_label


def _at_risk(row: SurvivalRow, days: int) -> int:
    assert row.estimate is not None
    return row.estimate.at(days).at_risk


def survival_chart(report: SurvivalReport) -> Chart:
    """Kaplan–Meier curves of the report's largest rows (suppressed rows are left out)."""
    rows = [row for row in report.rows if row.estimate is not None and row.estimate.n]
    shown = sorted(rows, key=lambda r: -(r.episodes or 0))[:MAX_CURVES]
    shown = [row for row in rows if row in shown]
    outcome = dict(OUTCOME_CHOICES)[report.query.outcome]
    zero = dict(TIME_ZERO_CHOICES)[report.query.time_zero].lower()
    chart = Chart("chart-survival", f"{outcome} (Kaplan–Meier, 95 % CI)", WIDTH, 0)
    # Room on the left for the names of the rows of numbers at risk.
    left, right = 160, WIDTH - 20
    top, bottom = 20, 300
    horizon = HORIZON_WEEKS * 7

    def x_of(days: float) -> float:
        return left + (right - left) * min(days, horizon) / horizon

    def y_of(survival: float) -> float:
        return bottom - (bottom - top) * survival

    for percent in (0, 25, 50, 75, 100):
        y = y_of(percent / 100)
        chart.add(Line(left, y, right, y, stroke="#dddddd"))
        chart.add(Text(left - 6, y + 4, f"{percent} %", size=FONT - 1, anchor="end"))
    chart.add(Line(left, bottom, right, bottom))
    chart.add(Line(left, top, left, bottom))
    for weeks in TICK_WEEKS:
        chart.add(Text(x_of(weeks * 7), bottom + 14, str(weeks), size=FONT - 1, anchor="middle"))
    chart.add(Text((left + right) / 2, bottom + 30, f"weeks from {zero}", anchor="middle"))

    described = []
    for index, row in enumerate(shown):  # bands first, under every curve
        assert row.estimate is not None
        colour = _tint(SERIES_COLOURS[index])
        steps = [s for s in row.estimate.steps if s.time <= horizon]
        for step, following in zip(steps, [*steps[1:], None], strict=True):
            end = horizon if following is None else following.time
            if following is None and row.estimate.at(horizon).estimate is None:
                end = step.time  # not known beyond the last time
            low, high = y_of(step.high), y_of(step.low)
            if end > step.time and high > low:
                chart.add(Rect(x_of(step.time), low, x_of(end) - x_of(step.time), high - low,
                               colour))  # fmt: skip
    for index, row in enumerate(shown):
        assert row.estimate is not None
        colour = SERIES_COLOURS[index]
        points = [(x_of(0), y_of(1.0))]
        survival, last = 1.0, 0.0
        for step in row.estimate.steps:
            if step.time > horizon:
                break
            if step.events:
                points.append((x_of(step.time), y_of(survival)))
                survival = step.survival
                points.append((x_of(step.time), y_of(survival)))
            if step.censored:
                x, y = x_of(step.time), y_of(survival)
                chart.add(Line(x, y - 4, x, y + 4, stroke=colour, width=1.2))
            last = step.time
        end = horizon if row.estimate.at(horizon).estimate is not None else min(last, horizon)
        points.append((x_of(end), y_of(survival)))
        chart.add(Path(tuple(points), colour))
        figures = []
        for weeks in (26, 52, 104):
            found = row.at_weeks(weeks)
            if found is not None and found.estimate is not None:
                figures.append(
                    f"{weeks} weeks {100 * found.estimate:.0f} % "
                    f"({100 * (found.low or 0):.0f}–{100 * (found.high or 0):.0f})"
                )
        median = row.median_weeks
        described.append(
            f"{_label(row)}: {row.events} events in {row.episodes} episodes, median "
            f"{'not reached' if median is None else f'{median:g} weeks'}"
            + (f"; {', '.join(figures)}" if figures else "")
        )

    # Numbers at risk, one line per curve, under the axis.
    y = bottom + 54
    chart.add(Text(12, y, "Number at risk", size=FONT - 1, bold=True))
    for index, row in enumerate(shown):
        y += 16
        chart.add(Rect(12, y - 9, 10, 10, SERIES_COLOURS[index]))
        name = _label(row)
        chart.add(Text(26, y, name if len(name) <= 22 else name[:21] + "…", size=FONT - 1))
        for weeks in TICK_WEEKS:
            chart.add(
                Text(x_of(weeks * 7), y, str(_at_risk(row, weeks * 7)), size=FONT - 1,
                     anchor="middle")
            )  # fmt: skip
    if not shown:
        chart.add(Text(WIDTH / 2, (top + bottom) / 2, "No episodes to show.", anchor="middle"))
    chart.height = y + 16
    chart.description = "; ".join(described) or "No episodes to show."
    if len(rows) > len(shown):
        chart.note = f"The {len(shown)} largest of {len(rows)} groups are shown."
    return chart
