"""The predictors report's forest plot (odds ratio and 95 % interval per factor level, on a log
scale, against each factor's reference level) and its PDF, drawn with the shapes of
reports.charts so that the page (SVG) and the PDF (ReportLab) show the same picture."""

from __future__ import annotations

import io
import math
from typing import Any

from reports.builders import filters_lines
from reports.charts import FONT, WIDTH, Chart, Line, Rect, Text, to_drawing
from reports.disclosure import SUPPRESSED
from reports.predictors import MIN_LEVEL_EPISODES, PredictorRow, PredictorsReport

# The axis: odds ratios beyond these ends are drawn at the end (the numbers say the rest).
LOWEST, HIGHEST = 0.01, 100.0
TICKS = (0.01, 0.1, 0.5, 1, 2, 10, 100)
ROW_HEIGHT = 18


def _label(row: PredictorRow) -> str:
    text = f"{row.factor_label}: {row.level_label}"
    return text if len(text) <= 48 else text[:47] + "…"


def forest_chart(report: PredictorsReport) -> Chart:
    """One line per level with an odds ratio (suppressed and reference levels left out)."""
    shown = [row for row in report.rows if row.odds_ratio is not None]
    chart = Chart("chart-forest", f"Odds ratio of responding ({report.endpoint}), 95 % CI",
                  WIDTH, 0)  # fmt: skip
    left, right, top = 300, WIDTH - 20, 20

    def x_of(value: float) -> float:
        clamped = min(max(value, LOWEST), HIGHEST)
        share = (math.log10(clamped) - math.log10(LOWEST)) / (
            math.log10(HIGHEST) - math.log10(LOWEST)
        )
        return left + (right - left) * share

    bottom = top + ROW_HEIGHT * max(len(shown), 1) + 6
    for tick in TICKS:
        chart.add(Line(x_of(tick), top, x_of(tick), bottom, stroke="#eeeeee"))
        chart.add(Text(x_of(tick), bottom + 14, f"{tick:g}", size=FONT - 1, anchor="middle"))
    chart.add(Line(x_of(1), top, x_of(1), bottom, dash=True))
    chart.add(Line(left, bottom, right, bottom))
    chart.add(Text((left + right) / 2, bottom + 30, "odds ratio (log scale)", anchor="middle"))
    described = []
    for index, row in enumerate(shown):
        assert row.or_ci_low is not None and row.or_ci_high is not None
        y = top + ROW_HEIGHT * index + ROW_HEIGHT / 2
        chart.add(Text(left - 8, y + 4, _label(row), size=FONT - 1, anchor="end"))
        chart.add(Line(x_of(row.or_ci_low), y, x_of(row.or_ci_high), y, width=1.5))
        x = x_of(row.odds_ratio or 1)
        figures = f"{row.odds_ratio:.2f} ({row.or_ci_low:.2f}–{row.or_ci_high:.2f})"
        chart.add(Rect(x - 4, y - 4, 8, 8, "#2166ac", title=figures))
        described.append(f"{row.factor_label} {row.level_label}: {figures}")
    if not shown:
        chart.add(Text(WIDTH / 2, top + 12, "No odds ratio to show.", anchor="middle"))
    chart.height = bottom + 40
    chart.description = "; ".join(described) or "No odds ratio to show."
    chart.note = "Each level against its factor's reference level (the largest)."
    return chart


def _number(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def predictors_table(report: PredictorsReport) -> list[list[str]]:
    """The rows as text cells (the PDF's table)."""
    cells = []
    for row in report.rows:
        if row.suppressed:
            figures = [SUPPRESSED] * 4
        else:
            ratio = (
                "reference"
                if row.reference
                else f"{_number(row.odds_ratio)} ({_number(row.or_ci_low)}–"
                f"{_number(row.or_ci_high)})"
                if row.odds_ratio is not None
                else "—"
            )
            figures = [str(row.episodes), str(row.responders), _number(row.percent, 0), ratio]
        cells.append([row.factor_label, row.level_label, *figures])
    return cells


def multivariable_text(report: PredictorsReport) -> str:
    model = report.multivariable
    if not model.fitted:
        return f"Multivariable logistic regression not fitted: {model.reason}"
    parts = [
        f"{c['factor']} {c['level']} vs {c['reference']}: OR {c['odds_ratio']:.2f} "
        f"({c['ci_low']:.2f}–{c['ci_high']:.2f}), p = {c['p_value']:.3f}"
        for c in model.coefficients
    ]
    return (
        f"Multivariable logistic regression ({model.episodes} episodes, every level with at "
        f"least {MIN_LEVEL_EPISODES}): " + "; ".join(parts)
    )


def predictors_pdf(report: PredictorsReport) -> bytes:
    """The report as a PDF: filters, the table, the forest plot and the regression."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    from reports.pdf_fonts import FONT_BOLD, FONT_REGULAR, pdf_text, register_fonts

    register_fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=FONT_REGULAR, fontSize=9)
    title = ParagraphStyle("t", parent=styles["Title"], fontName=FONT_BOLD)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        escaped = pdf_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, style)

    buffer = io.BytesIO()
    page = landscape(A4)
    document = SimpleDocTemplate(buffer, pagesize=page, title="Predictors of response",
                                 author="Myositis registry")  # fmt: skip
    width = page[0] - 2 * document.leftMargin
    lines = filters_lines(report.filters, report.generated_at)
    story: list[Any] = [
        para("Predictors of response", title),
        para(" · ".join(f"{name}: {value}" for name, value in lines)),
        para(
            f"Endpoint {report.endpoint}: episodes evaluable "
            f"{SUPPRESSED if report.episodes is None else report.episodes}"
        ),  # fmt: skip
        Spacer(1, 4 * mm),
    ]
    head = ["Factor", "Level", "Episodes", "Responders", "%", "Odds ratio (95 % CI)"]
    table = Table([head, *predictors_table(report)], repeatRows=1)
    table.setStyle(
        [("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 8)]
    )
    story += [table, Spacer(1, 4 * mm)]
    chart = forest_chart(report)
    story += [to_drawing(chart, width * 0.9, chart.height * width * 0.9 / chart.width)]
    story += [Spacer(1, 4 * mm), para(multivariable_text(report))]
    document.build(story)
    return buffer.getvalue()
