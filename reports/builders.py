"""The report in every shape it leaves the registry in: JSON, CSV, XLSX, PDF, and the long export.

Builders take what the selectors and reports.outcomes computed and only lay it out; the columns
and their meaning are in reports.dictionary. Row producers are generators, so that a download
of the whole registry streams (StreamingHttpResponse) instead of being built in memory, and the
XLSX is written in openpyxl's write-only mode for the same reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from registry.vocabularies import DRUG_CLASS
from reports import dictionary
from reports.charts import report_charts, to_drawing
from reports.dictionary import CATEGORY_NAMES, EPISODE_COLUMNS, SUMMARY_COLUMNS
from reports.outcomes import NOT_COMPUTED, OutcomeRow, OutcomesReport
from reports.selectors import (
    DOI,
    TIS,
    WEEKS,
    WORSENING,
    EpisodeOutcome,
    long_export_links,
    long_export_records,
)
from reports.statistics import Proportion, Summary

Progress = Callable[[int, str], None]


def _round(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


# ---------------------------------------------------------------------------------------------
# JSON (the API)


def _proportion_json(share: Proportion) -> dict[str, Any]:
    return {
        "count": share.count,
        "of": share.total,
        "percent": _round(share.percent),
        "ci95": None if share.low is None else [_percent(share.low), _percent(share.high)],
    }


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "n": summary.n,
        "median": _round(summary.median, 2),
        "iqr": None if summary.q1 is None else [_round(summary.q1, 2), _round(summary.q3, 2)],
    }


def row_json(row: OutcomeRow) -> dict[str, Any]:
    """One treatment's row as the API gives it: counts first (issue 7's required keys), then
    the proportions with their Wilson intervals and the distributions."""
    proportions = {
        "with_baseline": row.with_baseline,
        "evaluable": row.evaluable,
        "doi_responders": row.doi_responders,
        "confirmed_responders": row.confirmed_responders,
        "confirmed_deteriorations": row.confirmed_deteriorations,
        **{f"best_{name}": share for name, share in row.best_category.items()},
    }
    return {
        "treatment": row.treatment,
        "treatment_label": row.treatment_label,
        "stratum": row.stratum,
        "stratum_label": row.stratum_label or None,
        "episodes": row.episodes,
        "with_baseline": row.with_baseline.count,
        "evaluable": row.evaluable.count,
        "doi_responders": row.doi_responders.count,
        "confirmed_responders": row.confirmed_responders.count,
        "confirmed_deteriorations": row.confirmed_deteriorations.count,
        "best_category": {name: share.count for name, share in row.best_category.items()},
        "median_tis": _round(row.tis.median, 2),
        "tis": _summary_json(row.tis),
        "proportions": {name: _proportion_json(share) for name, share in proportions.items()},
        "weeks": {
            str(week): {
                "tis": _summary_json(outcome.tis),
                "category": dict(outcome.categories),
            }
            for week, outcome in row.weeks.items()
        },
        "time_to_doi": {
            "n": row.time_to_doi.n,
            "events": row.time_to_doi.events,
            "median_days": row.time_to_doi.median,
        },
        "glucocorticoid_change": _summary_json(row.glucocorticoid_change),
        "pending_records": row.pending_records,
        "failed_records": row.failed_records,
    }


def report_json(report: OutcomesReport) -> dict[str, Any]:
    return {
        "filters": report.filters.as_dict(),
        "generated_at": report.generated_at.isoformat(),
        "episodes": report.episodes,
        "pending_records": report.pending_records,
        "failed_records": report.failed_records,
        "rows": [row_json(row) for row in report.rows],
    }


# ---------------------------------------------------------------------------------------------
# Flat rows (CSV and XLSX)


def _share_cells(share: Proportion) -> list[Any]:
    return [share.count, _round(share.percent), _percent(share.low), _percent(share.high)]


def _summary_cells(summary: Summary, n: bool = True) -> list[Any]:
    cells = [_round(summary.median, 2), _round(summary.q1, 2), _round(summary.q3, 2)]
    return [summary.n, *cells] if n else cells


def summary_cells(row: OutcomeRow) -> list[Any]:
    """One row of the summary table, in SUMMARY_COLUMNS order."""
    cells: list[Any] = [row.stratum or "", row.stratum_label, row.treatment, row.treatment_label]
    cells.append(row.episodes)
    for share in (
        row.with_baseline,
        row.evaluable,
        row.doi_responders,
        row.confirmed_responders,
        row.confirmed_deteriorations,
    ):
        cells += _share_cells(share)
    for name in (*CATEGORY_NAMES, NOT_COMPUTED):
        cells += _share_cells(row.best_category[name])
    cells += _summary_cells(row.tis)
    for week in WEEKS:
        outcome = row.weeks[week]
        cells += _summary_cells(outcome.tis)
        cells += [outcome.categories[name] for name in CATEGORY_NAMES]
    cells += [row.time_to_doi.n, row.time_to_doi.events, row.time_to_doi.median]
    cells += _summary_cells(row.glucocorticoid_change)
    cells += [row.pending_records, row.failed_records]
    assert len(cells) == len(SUMMARY_COLUMNS)
    return cells


def _flag(value: bool) -> int:
    return 1 if value else 0


def episode_cells(episode: EpisodeOutcome) -> list[Any]:
    """One row of the episodes sheet, in EPISODE_COLUMNS order."""
    cells: list[Any] = [
        episode.id,
        episode.site,
        episode.site_patient_id,
        episode.diagnosis,
        episode.serology,
        episode.population,
        episode.drug,
        episode.drug_other,
        str(DRUG_CLASS[episode.drug]),
        episode.start_date,
        episode.stop_date,
        episode.baseline_date,
        episode.last_visit_date,
        _flag(episode.has_baseline),
        _flag(episode.evaluable),
        _flag(episode.doi_met),
        episode.first_doi_day if episode.doi_met else None,
        episode.last_scored_day,
        episode.best_score,
        episode.best_category,
    ]
    for week in WEEKS:
        cells += list(episode.weeks[week])
    cells += [
        _flag(episode.confirmed_response),
        _flag(episode.confirmed_deterioration),
        episode.baseline_gc,
        episode.last_gc,
        episode.glucocorticoid_change,
        episode.pending,
        episode.failed,
    ]
    assert len(cells) == len(EPISODE_COLUMNS)
    return cells


# ---------------------------------------------------------------------------------------------
# The long export


_MEASURES = ("physician_global", "patient_global", "extramuscular", "haq", "mmt", "enzyme")


def _measure_values(
    measure: str, reference: dict[str, Any], visit: dict[str, Any], doi: dict[str, Any] | None
) -> tuple[str, Any, Any, Any, Any, Any, str]:
    """(instrument, reference value, visit value, scale max, reference ULN, visit ULN, unit)
    of one measure, from the measures a record was computed from."""
    if measure == "mmt":
        instrument = (doi or {}).get("strength_instrument") or "mmt"
        if instrument == "cmas":
            return "cmas", reference.get("cmas"), visit.get("cmas"), 52, None, None, ""
        ref_mmt, visit_mmt = reference.get("mmt") or {}, visit.get("mmt") or {}
        scale = ref_mmt.get("max") or visit_mmt.get("max")
        return "mmt", ref_mmt.get("total"), visit_mmt.get("total"), scale, None, None, ""
    if measure == "enzyme":
        enzyme = (doi or {}).get("enzyme")
        if not enzyme:
            return "", None, None, None, None, None, ""
        ref_lab = (reference.get("enzymes") or {}).get(enzyme) or {}
        visit_lab = (visit.get("enzymes") or {}).get(enzyme) or {}
        unit = ref_lab.get("unit") or visit_lab.get("unit") or ""
        return (
            enzyme,
            ref_lab.get("value"),
            visit_lab.get("value"),
            None,
            ref_lab.get("uln"),
            visit_lab.get("uln"),
            unit,
        )
    return "", reference.get(measure), visit.get(measure), None, None, None, ""


def _comparison_rows(
    first: Any, records: dict[str, Any], episodes: list[tuple[int, str]]
) -> Iterator[list[Any]]:
    """The six measure rows of one comparison (its three records), formatted for CSV (`cell`):
    the cells the six rows share are formatted once."""
    statuses = {record.status for record in records.values()}
    status = "failed" if "failed" in statuses else "pending" if "pending" in statuses else "done"
    done = status == "done"
    results = {
        algorithm: (record.result if done else None) for algorithm, record in records.items()
    }
    doi, tis, worsening = results.get(DOI), results.get(TIS), results.get(WORSENING)
    # The three records hold the same reference and visit measures. A pending record's were
    # read before the change that is waiting to be scored: not shown.
    inputs: dict[str, Any] = {}
    if status != "pending":
        inputs = next((r.measures for r in records.values() if r.measures), None) or {}
    reference = (inputs.get("reference") or {}).get("measures") or {}
    visit = (inputs.get("visit") or {}).get("measures") or {}
    current = (worsening or {}).get("current") or {}
    computed = [r.computed_at for r in records.values() if r.computed_at is not None]
    visit_date, reference_date = first.visit__visit_date, first.reference_visit__visit_date
    common_before = [
        cell(value)
        for value in (
            first.patient__site__code,
            first.patient__patient_id,
            first.patient__diagnosis,
            first.patient__serology_group,
            first.population,
            first.visit_id,
            visit_date,
            first.reference_visit_id,
            reference_date,
            first.reference_kind,
            (visit_date - reference_date).days,
            " ".join(str(episode) for episode, _ in episodes),
            " ".join(drug for _, drug in episodes),
            first.visit__glucocorticoid_mg_per_day,
        )
    ]
    common_after = [
        cell(value)
        for value in (
            None if doi is None or doi.get("met") is None else _flag(doi["met"]),
            None if tis is None else tis.get("score"),
            None if tis is None else tis.get("category"),
            None if tis is None or tis.get("complete") is None else _flag(tis["complete"]),
            None if current.get("worsened") is None else _flag(current["worsened"]),
            None if worsening is None else _flag(bool(worsening.get("confirmed"))),
            status,
            " ".join(sorted(records)),
            max(computed) if computed else None,
            " ".join(sorted({r.computed_by for r in records.values() if r.computed_by})),
        )
    ]
    for measure in _MEASURES:
        instrument, ref_value, visit_value, scale, ref_uln, visit_uln, unit = _measure_values(
            measure, reference, visit, doi
        )
        doi_measure = ((doi or {}).get("measures") or {}).get(measure) or {}
        tis_measure = ((tis or {}).get("measures") or {}).get(measure) or {}
        cells = (
            measure,
            instrument,
            ref_value,
            visit_value,
            scale,
            ref_uln,
            visit_uln,
            unit,
            doi_measure.get("percent_change"),
            doi_measure.get("status"),
            tis_measure.get("percent_improvement"),
            tis_measure.get("points"),
            (current.get("percent_worsening") or {}).get(measure),
        )
        yield [*common_before, *[cell(value) for value in cells], *common_after]


def long_rows(user: Any, *, chunk_size: int = 2000) -> Iterator[list[Any]]:
    """The long export of the caller's own sites: one row per scored visit, reference visit
    and core set measure, with the values as scored and every record's provenance.

    Two ordered streams (records, and their episodes) merged on (visit, reference visit): two
    queries whatever the size of the registry, and memory for one comparison at a time.
    """
    links = iter(long_export_links(user).iterator(chunk_size=chunk_size * 2))
    pending_link = next(links, None)
    group_key: tuple[int, int] | None = None
    first: Any = None
    records: dict[str, Any] = {}

    def episodes_for(key: tuple[int, int]) -> list[tuple[int, str]]:
        nonlocal pending_link
        found = []
        while pending_link is not None and (pending_link[0], pending_link[1]) <= key:
            if (pending_link[0], pending_link[1]) == key:
                found.append((pending_link[2], pending_link[3]))
            pending_link = next(links, None)
        return found

    for record in long_export_records(user).iterator(chunk_size=chunk_size):
        key = (record.visit_id, record.reference_visit_id)
        if key != group_key:
            if group_key is not None:
                yield from _comparison_rows(first, records, episodes_for(group_key))
            group_key, first, records = key, record, {}
        records[record.algorithm] = record
    if group_key is not None:
        yield from _comparison_rows(first, records, episodes_for(group_key))


# ---------------------------------------------------------------------------------------------
# CSV


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


# A text cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV
# injection"): such cells get a leading apostrophe. Site, patient and drug names come from users.
_FORMULA_START = frozenset("=+-@\t\r")


def cell(value: Any) -> Any:
    """A value as CSV writes it: exact decimals, ISO dates, empty for None, no formulas."""
    kind = type(value)
    if kind is str:
        return "'" + value if value and value[0] in _FORMULA_START else value
    if value is None:
        return ""
    if kind is int:
        return value
    if kind is float:
        return f"{value:.10g}"
    if kind is bool:
        return int(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def csv_lines(
    header: Iterable[str], rows: Iterable[list[Any]], *, formatted: bool = False
) -> Iterator[str]:
    """CSV text, one line at a time (for StreamingHttpResponse). With `formatted`, the rows'
    cells went through `cell` already."""
    writer = csv.writer(_Line())
    yield writer.writerow(list(header))
    if formatted:
        for row in rows:
            yield writer.writerow(row)
    else:
        for row in rows:
            yield writer.writerow([cell(value) for value in row])


def summary_csv(report: OutcomesReport) -> str:
    return "".join(
        csv_lines([c.name for c in SUMMARY_COLUMNS], (summary_cells(r) for r in report.rows))
    )


def filters_description(report: OutcomesReport) -> list[tuple[str, str]]:
    filters = report.filters
    described = [
        ("Generated", report.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Grouped by", "drug class" if filters.group_by == "drug_class" else "drug"),
        ("Stratified by", filters.stratify or "—"),
        ("Sites", ", ".join(filters.sites) or "all"),
        ("Diagnoses", ", ".join(filters.diagnoses) or "all"),
        ("Serological groups", ", ".join(filters.serology) or "all"),
        ("Drugs", ", ".join(filters.drugs) or "all"),
        ("Drug classes", ", ".join(filters.drug_classes) or "all"),
        ("Adult or juvenile", filters.population or "both"),
        (
            "Period (episode start)",
            f"{filters.start_from or '…'} to {filters.start_to or '…'}"
            if filters.start_from or filters.start_to
            else "all",
        ),
        ("Episodes", str(report.episodes)),
        ("Records pending", str(report.pending_records)),
        ("Records failed", str(report.failed_records)),
    ]
    return described


# ---------------------------------------------------------------------------------------------
# XLSX


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value and value[0] in _FORMULA_START:
        return "'" + value  # openpyxl would store "=…" as a formula
    return value


def workbook(
    report: OutcomesReport,
    episodes: Iterable[EpisodeOutcome],
    *,
    episode_total: int,
    progress: Progress | None = None,
) -> bytes:
    """The XLSX: Summary (registry-wide), Episodes (the caller's own sites) and a Data
    dictionary sheet. Written row by row in write-only mode: memory does not grow with the
    number of episodes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(sheet: Any, names: Iterable[str]) -> None:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary = book.create_sheet("Summary")
    summary.freeze_panes = "E2"
    header(summary, (c.name for c in SUMMARY_COLUMNS))
    for row in report.rows:
        summary.append([_xlsx_value(v) for v in summary_cells(row)])
    if progress:
        progress(5, "Summary written")

    sheet = book.create_sheet("Episodes")
    sheet.freeze_panes = "D2"
    header(sheet, (c.name for c in EPISODE_COLUMNS))
    step = max(episode_total // 20, 500)
    for index, episode in enumerate(episodes, start=1):
        sheet.append([_xlsx_value(v) for v in episode_cells(episode)])
        if progress and index % step == 0:
            done = 5 + int(85 * min(index / max(episode_total, 1), 1))
            progress(done, f"{index:,} of {episode_total:,} episodes written")

    about = book.create_sheet("Data dictionary")
    header(about, ("name", "description"))
    for name, value in filters_description(report):
        about.append([name, value])
    about.append([])
    for name, value in dictionary.RULES:
        about.append([name, value])
    for title, columns in (
        ("Summary sheet", SUMMARY_COLUMNS),
        ("Episodes sheet", EPISODE_COLUMNS),
    ):
        about.append([])
        about.append([WriteOnlyCell(about, value=title)])
        for column in columns:
            about.append([column.name, column.description])
    if progress:
        progress(95, "Saving the workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF


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
    data: list[list[Any]] = [[para(h, small) for h in head]]
    for row in report.rows:
        label = (
            f"{row.stratum_label}: {row.treatment_label}" if row.stratum else row.treatment_label
        )
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
            ]
        )
    table = Table(data, repeatRows=1, colWidths=[width * f for f in (
        0.17, 0.06, 0.07, 0.15, 0.14, 0.13, 0.11, 0.09, 0.08)])  # fmt: skip
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
