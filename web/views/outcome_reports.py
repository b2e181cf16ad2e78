"""Investigator pages of the survival and safety reports (issue 14), and their downloads.

Thin views, with the outcomes report's rules (web.views.reports): registry-wide aggregates for
investigators and data managers (Action.REPORT; anyone else 403, anonymous users the login
page), the same filters, rows withheld by the small-cells rule shown as "< 5". The downloads —
CSV, XLSX, PDF — are built in the request: they hold one row per treatment, not episodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crf.models import VitalStatus
from registry.errors import InputError
from reports import builders, charts, outcome_exports, outcome_pdf
from reports.disclosure import SUPPRESSED, Disclosure
from reports.filters import GroupBy, ReportFilters
from reports.safety import SafetyReport, safety_report
from reports.selectors import validate_sites
from reports.services import require_report
from reports.survival import (
    DEFINITION_CHOICES,
    OUTCOME_CHOICES,
    READ_AT,
    TIME_ZERO_CHOICES,
    SurvivalQuery,
    SurvivalReport,
    SurvivalRow,
    parse_survival,
    parse_survival_filters,
    survival_report,
)
from reports.survival_chart import survival_chart
from web.views.reports import _bad_request, _filters, _form_context, _stamp

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _survival_request(request: HttpRequest) -> tuple[ReportFilters, SurvivalQuery, list]:
    # As web.views.reports._filters, with the survival report's own grouping by regimen.
    errors: list[tuple[str, str]] = []
    try:
        filters = parse_survival_filters(request.GET, form=True)
        validate_sites(filters)
    except InputError as exc:
        filters, errors = ReportFilters(), exc.errors
    query = SurvivalQuery()
    try:
        query = parse_survival(request.GET, filters)
    except InputError as exc:
        errors = [*errors, *exc.errors]
    return filters, query, errors


def _common(context: dict[str, Any]) -> dict[str, Any]:
    context.update(
        suppressed_text=SUPPRESSED,
        suppression_note=builders.SUPPRESSION_NOTE,
    )
    return context


@login_required
@require_GET
def survival(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    filters, query, errors = _survival_request(request)
    context = _common(_form_context(filters, errors))
    context["choices"]["group_by"] = GroupBy.SURVIVAL_CHOICES
    context.update(
        query=query,
        extra_fields="reports/_survival_fields.html",
        survival_choices={
            "outcomes": OUTCOME_CHOICES,
            "time_zeros": TIME_ZERO_CHOICES,
            "definitions": DEFINITION_CHOICES,
        },
        weeks=list(READ_AT),
    )
    if not errors:
        report = survival_report(filters, query, disclosure=Disclosure.for_user(request.user))
        chart = survival_chart(report)
        context.update(
            report=report,
            chart=chart,
            svg=charts.to_svg(chart),
            rows=[(row, _cells(row)) for row in report.rows],
            comparison=outcome_exports.comparison_lines(report),
            has_suppressed=any(row.suppressed for row in report.rows),
            download_query=filters.query_string() + "&" + _pairs(query.query_pairs()),
        )
    return render(request, "reports/survival.html", context, status=400 if errors else 200)


def _cells(row: SurvivalRow) -> list[dict[str, Any]]:
    """The row's survival at 26, 52 and 104 weeks as the page prints it."""
    cells = []
    for weeks in READ_AT:
        found = row.at_weeks(weeks)
        if found is None or found.estimate is None:
            cells.append({"estimate": "—", "interval": "", "at_risk": found and found.at_risk})
            continue
        interval = ""
        if found.low is not None and found.high is not None:
            interval = f"{100 * found.low:.0f}–{100 * found.high:.0f}"
        cells.append(
            {"estimate": f"{100 * found.estimate:.0f} %", "interval": interval,
             "at_risk": found.at_risk}
        )  # fmt: skip
    return cells


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


def _deaths_by_cause(report: SafetyReport) -> list[tuple[str, list[Any]]]:
    causes = VitalStatus.Cause
    lines = []
    for code, label in causes.choices:
        counts = [
            SUPPRESSED if row.suppressed else row.deaths_by_cause.get(code, 0)
            for row in report.rows
        ]
        if any(count not in (0, SUPPRESSED) for count in counts):
            lines.append((str(label), counts))
    return lines


@login_required
@require_GET
def safety(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    filters, errors = _filters(request)
    context = _common(_form_context(filters, errors))
    if not errors:
        report = safety_report(filters, disclosure=Disclosure.for_user(request.user))
        columns, lines = outcome_pdf.safety_table_rows(report)
        context.update(
            report=report,
            columns=columns,
            lines=lines,
            deaths=_deaths_by_cause(report),
            has_suppressed=any(row.suppressed for row in report.rows),
            download_query=filters.query_string(),
        )
    return render(request, "reports/safety.html", context, status=400 if errors else 200)


def _download(name: str, kind: str, content: Callable[[], bytes]) -> HttpResponse:
    types = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE, "pdf": "application/pdf"}
    response = HttpResponse(content(), content_type=types[kind])
    response["Content-Disposition"] = f'attachment; filename="{name}-{_stamp()}.{kind}"'
    return response


@login_required
@require_GET
def survival_download(request: HttpRequest, kind: str) -> HttpResponse:
    require_report(request.user)
    filters, query, errors = _survival_request(request)
    if errors:
        return _bad_request(InputError(errors))
    report: SurvivalReport = survival_report(
        filters, query, disclosure=Disclosure.for_user(request.user)
    )
    builders_by_kind = {
        "csv": lambda: outcome_exports.survival_csv(report).encode("utf-8"),
        "xlsx": lambda: outcome_exports.survival_workbook(report),
        "pdf": lambda: outcome_pdf.survival_pdf(report),
    }
    if kind not in builders_by_kind:
        raise Http404("No such download.")
    return _download(f"survival-{query.outcome}", kind, builders_by_kind[kind])


@login_required
@require_GET
def safety_download(request: HttpRequest, kind: str) -> HttpResponse:
    require_report(request.user)
    filters, errors = _filters(request)
    if errors:
        return _bad_request(InputError(errors))
    report = safety_report(filters, disclosure=Disclosure.for_user(request.user))
    builders_by_kind = {
        "csv": lambda: outcome_exports.safety_csv(report).encode("utf-8"),
        "xlsx": lambda: outcome_exports.safety_workbook(report),
        "pdf": lambda: outcome_pdf.safety_pdf(report),
    }
    if kind not in builders_by_kind:
        raise Http404("No such download.")
    return _download("safety", kind, builders_by_kind[kind])
