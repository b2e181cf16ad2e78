"""The report as JSON (the API) and as flat rows (CSV, and the sheets of reports.xlsx).

Builders take what the selectors and reports.outcomes computed and only lay it out; the columns
and their meaning are in reports.dictionary. The other shapes the report leaves the registry in
have a module each: reports.xlsx (the workbook), reports.pdf (the PDF with its charts) and
reports.long_export (one row per scored visit, reference visit and measure). Row producers are
generators, so that a download of the whole registry streams (StreamingHttpResponse) instead of
being built in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from registry.vocabularies import DRUG_CLASS
from reports.dictionary import (
    CATEGORY_NAMES,
    ENDPOINT_COLUMNS,
    EPISODE_COLUMNS,
    SUMMARY_COLUMNS,
    Column,
)
from reports.disclosure import MIN_PATIENTS, SUPPRESSED
from reports.endpoints import Parameters
from reports.filters import LUNG_CHOICES, ReportFilters
from reports.models import EndpointDefinition
from reports.outcomes import NOT_COMPUTED, OutcomeRow, OutcomesReport
from reports.selectors import WEEKS, EpisodeOutcome
from reports.statistics import Proportion, Summary

Progress = Callable[[int, str], None]

SUPPRESSION_NOTE = (
    f'"{SUPPRESSED}": fewer than {MIN_PATIENTS} patients, some at sites you are not a member of; '
    "not shown."
)


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


def _withheld(value: Any) -> Any:
    """The same shape with every figure null (a suppressed row, reports.disclosure)."""
    if isinstance(value, dict):
        return {key: _withheld(item) for key, item in value.items()}
    return None


_LABELS = ("treatment", "treatment_label", "stratum", "stratum_label")


def row_json(row: OutcomeRow) -> dict[str, Any]:
    """One treatment's row as the API gives it: counts first (issue 7's required keys), then
    the proportions with their Wilson intervals and the distributions. A suppressed row keeps
    its labels and the shape of the others, with every figure null."""
    data = _row_figures_json(row)
    if row.suppressed:
        data = {key: value if key in _LABELS else _withheld(value) for key, value in data.items()}
    data["suppressed"] = row.suppressed
    return data


def _row_figures_json(row: OutcomeRow) -> dict[str, Any]:
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
        **(
            {}
            if row.endpoint_responders is None
            else {"endpoint_responders": endpoint_json(row.endpoint_responders)}
        ),
    }


def endpoint_json(share: Proportion) -> dict[str, Any]:
    """An endpoint's responders: count, percent and 95 % Wilson interval (in percent) of the
    episodes evaluable for the endpoint (reports.outcomes)."""
    return {
        "count": share.count,
        "evaluable": share.total,
        "percent": _round(share.percent),
        "ci_low": _percent(share.low),
        "ci_high": _percent(share.high),
    }


def report_json(report: OutcomesReport) -> dict[str, Any]:
    return {
        "filters": report.filters.as_dict(),
        "generated_at": report.generated_at.isoformat(),
        "episodes": report.episodes,
        "pending_records": report.pending_records,
        "failed_records": report.failed_records,
        "suppressed": report.suppressed,
        "endpoint": None if report.endpoint is None else endpoint_definition_json(report.endpoint),
        "rows": [row_json(row) for row in report.rows],
    }


def endpoint_definition_json(definition: EndpointDefinition) -> dict[str, Any]:
    """One endpoint version as the API lists it."""
    user = definition.created_by
    parameters = Parameters.of(definition)
    return {
        "name": definition.name,
        "version": definition.version,
        "description": definition.description,
        "parameters": parameters.as_dict(),
        "summary": parameters.describe(),
        "created_by": None if user is None else user.get_username(),
        "created_at": definition.created_at.isoformat(),
    }


# ---------------------------------------------------------------------------------------------
# Flat rows (CSV and XLSX)


def _share_cells(share: Proportion) -> list[Any]:
    return [share.count, _round(share.percent), _percent(share.low), _percent(share.high)]


def _summary_cells(summary: Summary, n: bool = True) -> list[Any]:
    cells = [_round(summary.median, 2), _round(summary.q1, 2), _round(summary.q3, 2)]
    return [summary.n, *cells] if n else cells


def summary_columns(report: OutcomesReport) -> tuple[Column, ...]:
    """The summary table's columns: SUMMARY_COLUMNS, and the endpoint's when one is chosen."""
    return SUMMARY_COLUMNS + (ENDPOINT_COLUMNS if report.endpoint is not None else ())


def summary_cells(row: OutcomeRow) -> list[Any]:
    """One row of the summary table, in `summary_columns` order."""
    cells = _summary_cells_of(row)
    if row.endpoint_responders is not None:
        share = row.endpoint_responders
        cells += (
            [SUPPRESSED] * len(ENDPOINT_COLUMNS)
            if row.suppressed
            else [share.total, *_share_cells(share)]
        )
    return cells


def _summary_cells_of(row: OutcomeRow) -> list[Any]:
    cells: list[Any] = [row.stratum or "", row.stratum_label, row.treatment, row.treatment_label]
    if row.suppressed:
        return cells + [SUPPRESSED] * (len(SUMMARY_COLUMNS) - len(cells))
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


def flag(value: bool) -> int:
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
        flag(episode.has_baseline),
        flag(episode.evaluable),
        flag(episode.doi_met),
        episode.first_doi_day if episode.doi_met else None,
        episode.last_scored_day,
        episode.best_score,
        episode.best_category,
    ]
    for week in WEEKS:
        cells += list(episode.weeks[week])
    cells += [
        flag(episode.confirmed_response),
        flag(episode.confirmed_deterioration),
        episode.baseline_gc,
        episode.last_gc,
        episode.glucocorticoid_change,
        episode.pending,
        episode.failed,
    ]
    assert len(cells) == len(EPISODE_COLUMNS)
    return cells


# ---------------------------------------------------------------------------------------------
# CSV


class _Line:
    """A file-like object that hands back what csv.writer writes (one line at a time)."""

    def write(self, value: str) -> str:
        return value


# A text cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV
# injection"): such cells get a leading apostrophe. Site, patient and drug names come from users.
FORMULA_START = frozenset("=+-@\t\r")


def cell(value: Any) -> Any:
    """A value as CSV writes it: exact decimals, ISO dates, empty for None, no formulas."""
    kind = type(value)
    if kind is str:
        return "'" + value if value and value[0] in FORMULA_START else value
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
        csv_lines(
            [c.name for c in summary_columns(report)], (summary_cells(r) for r in report.rows)
        )
    )


# How filters_lines names a grouping (regimen: the survival report's, reports.regimens).
GROUPED_BY = {
    "drug_class": "drug class",
    "regimen": "initial regimen (combined up-front or step-up)",
}


def filters_lines(filters: ReportFilters, generated_at: datetime) -> list[tuple[str, str]]:
    """When a report was made and what it counts, as (name, value) lines: every report's."""
    return [
        ("Generated", generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Grouped by", GROUPED_BY.get(filters.group_by, "drug")),
        ("Stratified by", filters.stratify or "—"),
        ("Sites", ", ".join(filters.sites) or "all"),
        ("Diagnoses", ", ".join(filters.diagnoses) or "all"),
        ("Serological groups", ", ".join(filters.serology) or "all"),
        ("Drugs", ", ".join(filters.drugs) or "all"),
        ("Drug classes", ", ".join(filters.drug_classes) or "all"),
        ("Adult or juvenile", filters.population or "both"),
        *(
            [("EULAR/ACR classification", ", ".join(filters.classification))]
            if filters.classification
            else []
        ),
        *(
            [("EULAR/ACR subgroups", ", ".join(filters.classification_subgroups))]
            if filters.classification_subgroups
            else []
        ),
        *([("Refractory at start", filters.refractory)] if filters.refractory else []),
        *([("Lung", dict(LUNG_CHOICES)[filters.lung])] if filters.lung else []),
        *([("Endpoint", filters.endpoint)] if filters.endpoint else []),
        (
            "Period (episode start)",
            f"{filters.start_from or '…'} to {filters.start_to or '…'}"
            if filters.start_from or filters.start_to
            else "all",
        ),
    ]


def filters_description(report: OutcomesReport) -> list[tuple[str, str]]:
    described = [
        *filters_lines(report.filters, report.generated_at),
        *[
            (name, SUPPRESSED if value is None else str(value))
            for name, value in (
                ("Episodes", report.episodes),
                ("Records pending", report.pending_records),
                ("Records failed", report.failed_records),
            )
        ],
    ]
    if any(row.suppressed for row in report.rows):
        described.append(("Suppressed rows", SUPPRESSION_NOTE))
    return described
