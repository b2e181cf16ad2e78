"""The survival and safety reports as JSON (the API) and as flat tables (CSV, XLSX).

Layout only: the figures are reports.survival's and reports.safety's. A suppressed row
(reports.disclosure) keeps its labels; its figures are null in JSON and SUPPRESSED in files.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from reports.builders import SUPPRESSION_NOTE, csv_lines, filters_lines
from reports.disclosure import SUPPRESSED
from reports.filters import GroupBy
from reports.safety import CATEGORIES, CAUSES, COUNTS, SafetyCounts, SafetyReport, SafetyRow
from reports.statistics import Proportion, Rate, SurvivalAt
from reports.survival import (
    DEFINITION_CHOICES,
    OUTCOME_CHOICES,
    READ_AT,
    TIME_ZERO_CHOICES,
    SurvivalReport,
    SurvivalRow,
)

_LABELS = ("treatment", "treatment_label", "stratum", "stratum_label")


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def _labels(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _LABELS}


# ---------------------------------------------------------------------------------------------
# Survival


def _at_json(found: SurvivalAt | None) -> dict[str, Any]:
    if found is None:
        return {"estimate": None, "ci_low": None, "ci_high": None, "at_risk": None}
    return {
        "estimate": _round(found.estimate),
        "ci_low": _round(found.low),
        "ci_high": _round(found.high),
        "at_risk": found.at_risk,
    }


def survival_row_json(row: SurvivalRow) -> dict[str, Any]:
    return {
        **_labels(row),
        "patients": row.patients,
        "episodes": row.episodes,
        "events": row.events,
        "censored": row.censored,
        "median_weeks": row.median_weeks,
        **{f"at_{weeks}_weeks": _at_json(row.at_weeks(weeks)) for weeks in READ_AT},
        "suppressed": row.suppressed,
    }


def survival_json(report: SurvivalReport) -> dict[str, Any]:
    comparison = None
    if report.comparison is not None:
        found = report.comparison.result
        comparison = {
            "a": report.comparison.a,
            "b": report.comparison.b,
            "n_a": report.comparison.n_a,
            "n_b": report.comparison.n_b,
            "patients_a": report.comparison.patients_a,
            "patients_b": report.comparison.patients_b,
            "logrank_p": None if found is None else found.logrank_p,
            "hazard_ratio": None if found is None else _round(found.hazard_ratio),
            "hr_ci_low": None if found is None else _round(found.hr_low),
            "hr_ci_high": None if found is None else _round(found.hr_high),
            "note": report.comparison.reason,
        }
    return {
        "filters": report.filters.as_dict(),
        **report.query.as_dict(),
        "generated_at": report.generated_at,
        "episodes": report.episodes,
        "suppressed": report.episodes is None,
        "rows": [survival_row_json(row) for row in report.rows],
        "comparison": comparison,
    }


SURVIVAL_COLUMNS = (
    *_LABELS,
    "patients",
    "episodes",
    "events",
    "censored",
    "median_weeks",
    *(
        f"at_{weeks}_weeks_{part}"
        for weeks in READ_AT
        for part in ("estimate", "ci_low", "ci_high", "at_risk")
    ),
)


def survival_cells(row: SurvivalRow) -> list[Any]:
    labels = [getattr(row, name) for name in _LABELS]
    if row.suppressed:
        return [*labels, *[SUPPRESSED] * (len(SURVIVAL_COLUMNS) - len(labels))]
    cells = [*labels, row.patients, row.episodes, row.events, row.censored, row.median_weeks]
    for weeks in READ_AT:
        found = _at_json(row.at_weeks(weeks))
        cells += [found["estimate"], found["ci_low"], found["ci_high"], found["at_risk"]]
    return cells


def survival_csv(report: SurvivalReport) -> str:
    return "".join(csv_lines(SURVIVAL_COLUMNS, (survival_cells(row) for row in report.rows)))


def survival_description(report: SurvivalReport) -> list[tuple[str, str]]:
    query = report.query
    lines = [
        ("Outcome", dict(OUTCOME_CHOICES)[query.outcome]),
        ("Time zero", dict(TIME_ZERO_CHOICES)[query.time_zero]),
        *filters_lines(report.filters, report.generated_at),
        ("Episodes", SUPPRESSED if report.episodes is None else str(report.episodes)),
    ]
    if query.outcome == "pfs":
        lines.insert(2, ("Lung progression", str(dict(DEFINITION_CHOICES)[query.definition])))
    if any(row.suppressed for row in report.rows):
        lines.append(("Suppressed rows", SUPPRESSION_NOTE))
    return lines


def comparison_lines(report: SurvivalReport) -> list[tuple[str, str]]:
    found = report.comparison
    if found is None:
        return []
    head = f"{found.a_label} vs {found.b_label} (reference)"
    if report.filters.group_by == GroupBy.REGIMEN:  # one row per patient (reports.regimens)
        episodes = f"{found.patients_a} patients vs {found.patients_b}"
    else:
        episodes = (
            f"{found.n_a} episodes ({found.patients_a} patients) vs {found.n_b} "
            f"({found.patients_b})"
        )
    if found.result is None:
        return [(head, found.reason), ("Numbers", episodes)]
    result = found.result
    lines = [(head, episodes)]
    lines.append(("Log-rank p", "—" if result.logrank_p is None else f"{result.logrank_p:.4g}"))
    if result.hazard_ratio is None:
        lines.append(("Cox hazard ratio", "not estimable (a group without events)"))
    else:
        lines.append(
            (
                "Cox hazard ratio (95 % CI)",
                f"{result.hazard_ratio:.2f} ({result.hr_low:.2f}–{result.hr_high:.2f})",
            )
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Safety


def _share_json(share: Proportion) -> dict[str, Any]:
    return {
        "estimate": None if share.percent is None else round(share.percent, 1),
        "ci_low": None if share.low is None else round(100 * share.low, 1),
        "ci_high": None if share.high is None else round(100 * share.high, 1),
    }


def _rate_json(found: Rate | None) -> dict[str, Any]:
    if found is None:
        return {"estimate": None, "ci_low": None, "ci_high": None}
    return {
        "estimate": _round(found.estimate, 2),
        "ci_low": _round(found.low, 2),
        "ci_high": _round(found.high, 2),
    }


def _counts_json(counts: SafetyCounts | None) -> dict[str, Any]:
    names = [name for name, _ in COUNTS]
    if counts is None:
        return {
            **{name: None for name in names},
            "events": None,
            "events_per_100_patient_years": _rate_json(None),
            "percentages": {name: _rate_json(None) for name in names},
        }
    return {
        **{name: getattr(counts, name) for name in names},
        "events": counts.events,
        "events_per_100_patient_years": _rate_json(counts.rate),
        "percentages": {name: _share_json(counts.share(name)) for name in names},
    }


def safety_row_json(row: SafetyRow) -> dict[str, Any]:
    counts = row.counts
    return {
        **_labels(row),
        "patients_exposed": row.patients_exposed,
        "episodes": row.episodes,
        "patient_years": _round(row.patient_years, 2),
        "deaths": row.deaths,
        **_counts_json(counts),
        "by_category": {
            category: {
                key: value
                for key, value in _counts_json(
                    None if row.suppressed else row.by_category[category]
                ).items()
            }
            for category in CATEGORIES
        },
        "deaths_by_cause": None if row.suppressed else dict(row.deaths_by_cause),
        "suppressed": row.suppressed,
    }


def safety_json(report: SafetyReport) -> dict[str, Any]:
    return {
        "filters": report.filters.as_dict(),
        "generated_at": report.generated_at,
        "episodes": report.episodes,
        "suppressed": report.episodes is None,
        "rows": [safety_row_json(row) for row in report.rows],
    }


def _count_columns(prefix: str) -> list[str]:
    columns = []
    for name, _ in COUNTS:
        columns += [f"{prefix}{name}", f"{prefix}{name}_percent", f"{prefix}{name}_ci_low",
                    f"{prefix}{name}_ci_high"]  # fmt: skip
    columns += [f"{prefix}events", f"{prefix}events_per_100py", f"{prefix}events_per_100py_ci_low",
                f"{prefix}events_per_100py_ci_high"]  # fmt: skip
    return columns


SAFETY_COLUMNS = (
    *_LABELS,
    "patients_exposed",
    "episodes",
    "patient_years",
    "deaths",
    *_count_columns(""),
    *(column for category in CATEGORIES for column in _count_columns(f"{category}_")),
    *(f"deaths_{cause}" for cause in CAUSES),
)


def _count_cells(counts: SafetyCounts) -> list[Any]:
    cells: list[Any] = []
    for name, _ in COUNTS:
        share = _share_json(counts.share(name))
        cells += [getattr(counts, name), share["estimate"], share["ci_low"], share["ci_high"]]
    found = _rate_json(counts.rate)
    return [*cells, counts.events, found["estimate"], found["ci_low"], found["ci_high"]]


def safety_cells(row: SafetyRow) -> list[Any]:
    labels = [getattr(row, name) for name in _LABELS]
    if row.suppressed or row.counts is None:
        return [*labels, *[SUPPRESSED] * (len(SAFETY_COLUMNS) - len(labels))]
    cells = [*labels, row.patients_exposed, row.episodes, _round(row.patient_years, 2), row.deaths]
    cells += _count_cells(row.counts)
    for category in CATEGORIES:
        cells += _count_cells(row.by_category[category])
    cells += [row.deaths_by_cause.get(cause, 0) for cause in CAUSES]
    return cells


def safety_csv(report: SafetyReport) -> str:
    return "".join(csv_lines(SAFETY_COLUMNS, (safety_cells(row) for row in report.rows)))


def safety_description(report: SafetyReport) -> list[tuple[str, str]]:
    lines = [
        *filters_lines(report.filters, report.generated_at),
        ("Episodes", SUPPRESSED if report.episodes is None else str(report.episodes)),
    ]
    if any(row.suppressed for row in report.rows):
        lines.append(("Suppressed rows", SUPPRESSION_NOTE))
    return lines


# ---------------------------------------------------------------------------------------------
# XLSX


def table_workbook(
    title: str,
    columns: Iterable[str],
    rows: Iterable[list[Any]],
    description: list[tuple[str, str]],
    notes: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A workbook of one table sheet (columns fitted, numbers formatted: reports.xlsx) and an
    "About" sheet (filters, notes, definitions)."""
    from openpyxl import Workbook

    from reports.xlsx import TableSheet, about_row, about_sheet

    book = Workbook(write_only=True)
    sheet = TableSheet(book, title, list(columns), freeze="E2")
    for row in rows:
        sheet.append(row)
    sheet.close()
    about = about_sheet(book, "About")
    for name, value in [*description, *notes]:
        about_row(about, name, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def survival_workbook(report: SurvivalReport) -> bytes:
    return table_workbook(
        "Survival",
        SURVIVAL_COLUMNS,
        (survival_cells(row) for row in report.rows),
        survival_description(report),
        [*comparison_lines(report), *SURVIVAL_NOTES],
    )


def safety_workbook(report: SafetyReport) -> bytes:
    return table_workbook(
        "Safety",
        SAFETY_COLUMNS,
        (safety_cells(row) for row in report.rows),
        safety_description(report),
        SAFETY_NOTES,
    )


SURVIVAL_NOTES = [
    (
        "Kaplan–Meier",
        "Product-limit estimate per row (lifelines), 95 % intervals from Greenwood's variance "
        "on the log(−log) scale; times in whole days from the time zero; survival read at 183, "
        "364 and 728 days (26, 52, 104 weeks), at_risk: episodes whose time is at least that; "
        "median in weeks, empty when not reached.",
    ),
    (
        "Events",
        "Overall survival: death from any cause, censored at the last date known alive. "
        "Progression-free (patients with ILD): death or lung progression, censored at the last "
        "visit with FVC or DLCO.",
    ),
    (
        "Comparison",
        "Log-rank test and Cox proportional hazards (Efron ties) of A relative to B, over all "
        "strata; not computed when a group has fewer than 5 patients.",
    ),
]
SAFETY_NOTES = [
    (
        "Treatment-emergent",
        "Onset on or after the start and no later than 30 days after the stop (ongoing: up to "
        "the last follow-up), or related to the episode (possible, probable, definite).",
    ),
    (
        "Exposure",
        "Patient-years: (stop − start) days / 365.25, ongoing episodes to the last follow-up.",
    ),
    (
        "Intervals",
        "Percentages of the patients exposed with 95 % Wilson intervals; events per 100 "
        "patient-years with the exact (Garwood) Poisson interval.",
    ),
    (
        "Deaths",
        "Patients who died on or after an episode's start and no later than 30 days after its "
        "stop (ongoing: any time), by cause.",
    ),
]
