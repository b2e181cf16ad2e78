"""The PDF report: filters, the summary table, the three charts and the definitions."""

from __future__ import annotations

import io
from typing import Any

from reports import dictionary
from reports.builders import Progress, filters_description
from reports.charts import report_charts, to_drawing
from reports.dictionary import CATEGORY_NAMES
from reports.disclosure import SUPPRESSED
from reports.outcomes import OutcomesReport
from reports.statistics import Proportion, Summary


def pdf(report: OutcomesReport, *, progress: Progress | None = None) -> bytes:
    """The PDF report: filters, the summary table, the three charts and the definitions."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from reports.pdf_fonts import FONT_BOLD, FONT_REGULAR, pdf_text, register_fonts

    register_fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=FONT_REGULAR, fontSize=9)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9)
    heading = ParagraphStyle("h", parent=styles["Heading2"], fontName=FONT_BOLD)
    title = ParagraphStyle("t", parent=styles["Title"], fontName=FONT_BOLD)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        escaped = pdf_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, style)

    buffer = io.BytesIO()
    page = landscape(A4)
    document = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="Outcomes by treatment",
        author="Myositis registry",
    )
    width = page[0] - 28 * mm
    # Room for a chart under its heading and note on a page of its own.
    chart_height = page[1] - 24 * mm - 60
    story: list[Any] = [para("Outcomes by treatment", title)]
    story.append(
        para(" · ".join(f"{name}: {value}" for name, value in filters_description(report)), small)
    )
    story.append(Spacer(1, 4 * mm))

    def share(value: Proportion) -> str:
        if value.percent is None:
            return f"{value.count}"
        return (
            f"{value.count} ({value.percent:.0f} %; {100 * (value.low or 0):.0f}–"
            f"{100 * (value.high or 0):.0f})"
        )

    def one(value: float | None) -> str:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text

    def iqr(summary: Summary) -> str:
        if summary.median is None:
            return "—"
        return f"{one(summary.median)} ({one(summary.q1)}–{one(summary.q3)})"

    head = [
        "Treatment", "Episodes", "Evaluable", "IMACS DOI, n (%; 95 % CI)",
        "Confirmed response", "Confirmed deterioration", "Best: none / min / mod / major",
        "Median TIS (IQR)", "Median days to DOI",
    ]  # fmt: skip
    widths = [0.17, 0.06, 0.07, 0.15, 0.14, 0.13, 0.11, 0.09, 0.08]
    if report.endpoint is not None:
        head.append(f"Endpoint {report.endpoint}, n (%; 95 % CI)")
        widths = [w * 0.87 for w in widths] + [0.13]
    data: list[list[Any]] = [[para(h, small) for h in head]]
    for row in report.rows:
        label = (
            f"{row.stratum_label}: {row.treatment_label}" if row.stratum else row.treatment_label
        )
        if row.suppressed:
            data.append([para(label, small), *[SUPPRESSED] * (len(head) - 1)])
            continue
        categories = " / ".join(str(row.best_category[name].count) for name in CATEGORY_NAMES)
        median = row.time_to_doi.median
        data.append(
            [
                para(label, small),
                str(row.episodes),
                str(row.evaluable.count),
                share(row.doi_responders),
                share(row.confirmed_responders),
                share(row.confirmed_deteriorations),
                categories,
                iqr(row.tis),
                "not reached" if median is None else f"{median:g}",
                *([] if row.endpoint_responders is None else [share(row.endpoint_responders)]),
            ]
        )
    table = Table(data, repeatRows=1, colWidths=[width * f for f in widths])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    if not report.rows:
        story.append(para("No treatment episodes match these filters."))
    if progress:
        progress(40, "Summary table laid out")

    charts = report_charts(report)
    for index, chart in enumerate(charts):
        story.append(PageBreak())
        block = [para(chart.title, heading), to_drawing(chart, width * 0.9, chart_height)]
        if chart.note:
            block.append(para(chart.note, small))
        story.append(KeepTogether(block))
        if progress:
            progress(40 + 15 * (index + 1), f"Chart {index + 1} of {len(charts)} drawn")

    story.append(PageBreak())
    story.append(para("Definitions", heading))
    for name, text in dictionary.RULES:
        story.append(para(f"{name}: {text}", small))
    document.build(story)
    if progress:
        progress(98, "PDF written")
    return buffer.getvalue()
