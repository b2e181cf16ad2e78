"""The survival and safety reports as PDF: filters, the table (the safety one shaped like the
ProDERM safety table), the Kaplan–Meier chart or the deaths by cause, and the definitions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from reports.charts import to_drawing
from reports.disclosure import SUPPRESSED
from reports.outcome_exports import (
    SAFETY_NOTES,
    SURVIVAL_NOTES,
    comparison_lines,
    safety_description,
    survival_description,
)
from reports.safety import CATEGORIES, CAUSES, COUNTS, SafetyCounts, SafetyReport
from reports.survival import READ_AT, SurvivalReport
from reports.survival_chart import survival_chart

# The ProDERM safety table's rows beyond the patient counts: the categories it reports.
HIGHLIGHTED = ("infusion_reaction", "thromboembolic", "infection", "opportunistic_infection")


def _document(title: str, build: Callable[[Any, float, Any, Any], list[Any]]) -> bytes:
    """A landscape A4 PDF: `build(para, width, styles, table)` gives the story after the title."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    from reports.pdf_fonts import FONT_BOLD, FONT_REGULAR, pdf_text, register_fonts

    register_fonts()
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontName=FONT_REGULAR, fontSize=9)
    styles = {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9),
        "heading": ParagraphStyle("h", parent=sheet["Heading2"], fontName=FONT_BOLD),
        "title": ParagraphStyle("t", parent=sheet["Title"], fontName=FONT_BOLD),
    }

    def para(text: str, style: str = "body") -> Paragraph:
        escaped = pdf_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, styles[style])

    def table(data: list[list[Any]], widths: list[float]) -> Table:
        laid = Table(
            [[para(str(c), "small") if isinstance(c, str) else c for c in r] for r in data],
            repeatRows=1,
            colWidths=widths,
        )
        laid.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return laid

    buffer = io.BytesIO()
    page = landscape(A4)
    document = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
        author="Myositis registry",
    )
    width = page[0] - 28 * mm
    story = [para(title, "title"), *build(para, width, styles, table)]
    document.build(story)
    return buffer.getvalue()


def _percent(low: float | None, high: float | None, estimate: float | None) -> str:
    if estimate is None:
        return "—"
    return f"{100 * estimate:.0f} % ({100 * (low or 0):.0f}–{100 * (high or 0):.0f})"


def survival_pdf(report: SurvivalReport) -> bytes:
    def build(para: Any, width: float, styles: Any, table: Any) -> list[Any]:
        from reportlab.platypus import KeepTogether, PageBreak, Spacer

        story: list[Any] = [
            para(" · ".join(f"{n}: {v}" for n, v in survival_description(report)), "small"),
            Spacer(1, 8),
        ]
        head = ["Treatment", "Patients", "Events", "Censored", "Median, weeks",
                *(f"{w} weeks (95 % CI); at risk" for w in READ_AT)]  # fmt: skip
        data: list[list[Any]] = [head]
        for row in report.rows:
            label = (
                f"{row.stratum_label}: {row.treatment_label}"
                if row.stratum
                else row.treatment_label
            )
            if row.suppressed:
                data.append([label, *[SUPPRESSED] * (len(head) - 1)])
                continue
            median = row.median_weeks
            cells = [label, str(row.patients), str(row.events), str(row.censored),
                     "not reached" if median is None else f"{median:g}"]  # fmt: skip
            for weeks in READ_AT:
                found = row.at_weeks(weeks)
                assert found is not None
                cells.append(f"{_percent(found.low, found.high, found.estimate)}; {found.at_risk}")
            data.append(cells)
        story.append(
            table(data, [width * f for f in (0.22, 0.08, 0.08, 0.08, 0.09, 0.15, 0.15, 0.15)])
        )
        if not report.rows:
            story.append(para("No treatment episodes match these filters."))
        for name, value in comparison_lines(report):
            story.append(para(f"{name}: {value}"))
        chart = survival_chart(report)
        story += [PageBreak(), KeepTogether([para(chart.title, "heading"),
                                             to_drawing(chart, width * 0.9, 440)])]  # fmt: skip
        if chart.note:
            story.append(para(chart.note, "small"))
        story += [PageBreak(), para("Definitions", "heading")]
        story += [para(f"{name}: {text}", "small") for name, text in SURVIVAL_NOTES]
        return story

    return _document("Survival by treatment", build)


def _count_cell(counts: SafetyCounts, name: str) -> str:
    share = counts.share(name)
    if share.percent is None:
        return str(getattr(counts, name))
    return (
        f"{share.count} ({share.percent:.1f} %; {100 * (share.low or 0):.1f}–"
        f"{100 * (share.high or 0):.1f})"
    )


def safety_table_rows(report: SafetyReport) -> tuple[list[str], list[list[str]]]:
    """The ProDERM-shaped table: one column per row of the report, one line per measure."""
    columns = [
        f"{r.stratum_label}: {r.treatment_label}" if r.stratum else r.treatment_label
        for r in report.rows
    ]
    lines: list[list[str]] = []

    def line(name: str, cell: Callable[[Any], str]) -> None:
        lines.append([name, *(SUPPRESSED if r.suppressed else cell(r) for r in report.rows)])

    line("Patients exposed", lambda r: str(r.patients_exposed))
    line("Patient-years", lambda r: f"{r.patient_years:.1f}")
    for name, label in COUNTS:
        line(label, lambda r, name=name: _count_cell(r.counts, name))
    line(
        "Events per 100 patient-years (95 % CI)",
        lambda r: (
            "—"
            if r.counts.rate.estimate is None
            else f"{r.counts.events}: {r.counts.rate.estimate:.1f} ({r.counts.rate.low:.1f}–"
            f"{r.counts.rate.high:.1f})"
        ),
    )
    for category in HIGHLIGHTED + tuple(c for c in CATEGORIES if c not in HIGHLIGHTED):
        line(
            f"  {category.replace('_', ' ').capitalize()}",
            lambda r, c=category: _count_cell(r.by_category[c], "patients_with_ae"),
        )
    line("Deaths", lambda r: str(r.deaths))
    for cause in CAUSES:
        if any(r.deaths_by_cause.get(cause) for r in report.rows if not r.suppressed):
            line(
                f"  {cause.replace('_', ' ')}",
                lambda r, c=cause: str(r.deaths_by_cause.get(c, 0)),
            )
    return columns, lines


def safety_pdf(report: SafetyReport) -> bytes:
    def build(para: Any, width: float, styles: Any, table: Any) -> list[Any]:
        from reportlab.platypus import PageBreak, Spacer

        story: list[Any] = [
            para(" · ".join(f"{n}: {v}" for n, v in safety_description(report)), "small"),
            Spacer(1, 8),
        ]
        columns, lines = safety_table_rows(report)
        if not columns:
            return [*story, para("No treatment episodes match these filters.")]
        # At most six treatments side by side per table, as the trial's table.
        for start in range(0, len(columns), 6):
            part = columns[start : start + 6]
            data = [["", *part], *[[ln[0], *ln[1 + start : 1 + start + 6]] for ln in lines]]
            share = 0.75 / len(part)
            story += [table(data, [width * 0.25, *[width * share] * len(part)]), Spacer(1, 8)]
        story += [PageBreak(), para("Definitions", "heading")]
        story += [para(f"{name}: {text}", "small") for name, text in SAFETY_NOTES]
        return story

    return _document("Safety by treatment", build)
