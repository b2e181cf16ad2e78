"""Investigator pages: the outcomes report, drill-down to episodes, downloads and export jobs.

Thin views: parse the filters, check access, call a selector or a service, render. Access:
- the report and its aggregate downloads are registry-wide and need Action.REPORT somewhere
  (investigators, data managers; anyone else gets 403, anonymous users the login page);
- episodes, the episodes CSV, the long export and the XLSX's episodes sheet hold single patients'
  data and show only the caller's own sites (Action.READ); another site's episode is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from registry.access import Action, NotVisible, require, sites_for
from registry.errors import InputError
from registry.models import Site, TreatmentEpisode
from registry.vocabularies import Diagnosis, Drug, DrugClass, SerologyGroup
from reports import builders, charts, long_export
from reports.dictionary import (
    EPISODE_COLUMNS,
    LONG_COLUMNS,
    RULES,
    SAFETY_DICTIONARY,
    SUMMARY_COLUMNS,
    SURVIVAL_DICTIONARY,
)
from reports.disclosure import SUPPRESSED, Disclosure
from reports.endpoints import endpoint_choices
from reports.filters import (
    LUNG_CHOICES,
    PROBABLE_OR_DEFINITE,
    REFRACTORY_CHOICES,
    UNCLASSIFIED,
    GroupBy,
    ReportFilters,
    Stratify,
    parse_filters,
)
from reports.glucocorticoid import dose_over_time, glucocorticoid_chart
from reports.models import ExportJob
from reports.outcomes import (
    CLASSIFICATION_LABELS,
    NOT_COMPUTED,
    POPULATION_LABELS,
    OutcomeRow,
    OutcomesReport,
    outcomes_by_treatment,
)
from reports.selectors import (
    CATEGORIES,
    WEEKS,
    episode_records,
    episodes_for_drilldown,
    outcome_rows,
    validate_sites,
)
from reports.services import export_job_create, require_report
from scoring.models import ResponseRecord

log = logging.getLogger(__name__)

EPISODES_PAGE_SIZE = 50


def _filters(request: HttpRequest) -> tuple[ReportFilters, list[tuple[str, str]]]:
    """The filters of the request, or the defaults and the errors to show beside the form."""
    try:
        filters = parse_filters(request.GET, form=True)
        validate_sites(filters)
    except InputError as exc:
        return ReportFilters(), exc.errors
    return filters, []


CLASSIFICATION_CHOICES = [
    (PROBABLE_OR_DEFINITE, "Probable or definite only"),
    *CLASSIFICATION_LABELS[Stratify.CLASSIFICATION].items(),
]


def _form_context(filters: ReportFilters, errors: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "nav": "reports",
        "filters": filters,
        "errors": errors,
        "error_fields": {field for field, _ in errors},
        # Typed as YYYY-MM-DD, like every date of the registry's forms (web.forms.DATE_HINT):
        # a browser's date picker shows the user's locale instead, e.g. mm/dd/yyyy.
        "date_fields": [
            ("start_from", "Started from", filters.start_from),
            ("start_to", "Started up to", filters.start_to),
        ],
        "choices": {
            "sites": list(Site.objects.order_by("code").values_list("code", "name")),
            "diagnoses": Diagnosis.choices,
            "serology": SerologyGroup.choices,
            "drugs": Drug.choices,
            "drug_classes": DrugClass.choices,
            "populations": list(POPULATION_LABELS.items()),
            "refractory": REFRACTORY_CHOICES,
            "lung": LUNG_CHOICES,
            "group_by": GroupBy.CHOICES,
            "stratify": Stratify.CHOICES,
            "classification": CLASSIFICATION_CHOICES,
            "classification_subgroups": list(
                CLASSIFICATION_LABELS[Stratify.CLASSIFICATION_SUBGROUP].items()
            ),
        },
    }


def drilldown_query(filters: ReportFilters, row: OutcomeRow) -> str:
    """The filters that narrow a report to one of its rows (for the row's episodes link)."""
    narrowed: dict[str, Any] = {
        "drug": row.treatment if filters.group_by == GroupBy.DRUG else None,
        "drug_class": row.treatment if filters.group_by == GroupBy.DRUG_CLASS else None,
    }
    # Unclassified patients have no filter of their own: their link keeps the report's filters.
    if row.stratum is not None and row.stratum != UNCLASSIFIED:
        parameter = {
            Stratify.SITE: "site",
            Stratify.DIAGNOSIS: "diagnosis",
            Stratify.SEROLOGY: "serology",
            Stratify.POPULATION: "population",
            Stratify.REFRACTORY: "refractory",
            Stratify.CLASSIFICATION: "classification",
            Stratify.CLASSIFICATION_SUBGROUP: "classification_subgroup",
        }[filters.stratify or ""]
        narrowed[parameter] = row.stratum
    return filters.query_string(stratify=None, **narrowed)


def best_category_cells(row: OutcomeRow) -> list[dict[str, Any]]:
    """The best ACR/EULAR category counts of a row, in category order and then "not computed",
    each with its name and share for the cell's tooltip."""
    cells = []
    for key in (*CATEGORIES, NOT_COMPUTED):
        share = row.best_category[key]
        percent = "" if share.percent is None else f" ({share.percent:.0f} %)"
        name = charts.CATEGORY_LABELS[key]
        cells.append({"key": key, "count": share.count, "title": f"{name}: {share.count}{percent}"})
    return cells


def _charts(report: OutcomesReport, disclosure: Disclosure) -> list[charts.Chart]:
    """The page's charts: the report's, and the glucocorticoid doses over time (one more query,
    not made for a report without rows, which draws no chart)."""
    if not report.rows:
        return []
    doses = dose_over_time(report.filters, disclosure=disclosure)
    return [*charts.report_charts(report), glucocorticoid_chart(doses)]


@login_required
@require_GET
def outcomes(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    filters, errors = _filters(request)
    report = None
    if not errors:
        try:
            disclosure = Disclosure.for_user(request.user)
            report = outcomes_by_treatment(filters, disclosure=disclosure)
        except InputError as exc:
            # An endpoint that does not exist (the other filters were checked above).
            filters, errors = ReportFilters(), exc.errors
    context = _form_context(filters, errors)
    context["choices"]["endpoints"] = endpoint_choices()
    if report is not None:
        context.update(
            report=report,
            rows=[
                (row, drilldown_query(filters, row), best_category_cells(row))
                for row in report.rows
            ],
            charts=[(chart, charts.to_svg(chart)) for chart in _charts(report, disclosure)],
            query=filters.query_string(),
            weeks=WEEKS,
            categories=CATEGORIES,
            own_sites=list(sites_for(request.user, Action.READ).values_list("code", flat=True)),
            has_suppressed=any(row.suppressed for row in report.rows),
            suppressed_text=SUPPRESSED,
            suppression_note=builders.SUPPRESSION_NOTE,
            # The table's figure columns (Episodes to Pending · failed), one cell when withheld.
            figure_columns=11 + len(WEEKS) + (report.endpoint is not None),
        )
    context["exports"] = list(ExportJob.objects.filter(user=request.user).defer("content")[:5])
    return render(request, "reports/outcomes.html", context, status=400 if errors else 200)


@login_required
@require_GET
def definitions(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    return render(
        request,
        "reports/definitions.html",
        {
            "nav": "reports",
            "rules": RULES,
            "tables": [
                ("Summary (CSV, XLSX, API)", SUMMARY_COLUMNS),
                ("Episodes (CSV, XLSX; your own sites)", EPISODE_COLUMNS),
                ("Long export (CSV; your own sites)", LONG_COLUMNS),
                ("Survival (CSV, XLSX, API)", SURVIVAL_DICTIONARY),
                ("Safety (CSV, XLSX, API)", SAFETY_DICTIONARY),
            ],
        },
    )


def _csv_response(lines: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M")


def _valid_filters(request: HttpRequest) -> ReportFilters:
    filters, errors = _filters(request)
    if errors:
        raise InputError(errors)
    return filters


def _bad_request(exc: InputError) -> HttpResponse:
    text = "\n".join(f"{field}: {message}" for field, message in exc.errors)
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def summary_csv(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    try:
        report = outcomes_by_treatment(
            _valid_filters(request), disclosure=Disclosure.for_user(request.user)
        )
    except InputError as exc:
        return _bad_request(exc)
    response = HttpResponse(builders.summary_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-by-treatment-{_stamp()}.csv"'
    return response


@login_required
@require_GET
def episodes(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    filters, errors = _filters(request)
    context = _form_context(filters, errors)
    if not errors:
        matching = episodes_for_drilldown(request.user, filters)
        page = Paginator(matching.order_by("pk"), EPISODES_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        ids = [episode.pk for episode in page.object_list]
        rows = list(outcome_rows(TreatmentEpisode.objects.filter(pk__in=ids), detail=True))
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            page=page,
            rows=rows,
            querystring=query.urlencode(),
            query=filters.query_string(),
            weeks=WEEKS,
            own_sites=list(sites_for(request.user, Action.READ).values_list("code", flat=True)),
            drug_labels=dict(Drug.choices),
        )
    return render(request, "reports/episodes.html", context, status=400 if errors else 200)


@login_required
@require_GET
def episodes_csv(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    try:
        filters = _valid_filters(request)
    except InputError as exc:
        return _bad_request(exc)
    rows = outcome_rows(episodes_for_drilldown(request.user, filters), detail=True)
    lines = builders.csv_lines(
        [c.name for c in EPISODE_COLUMNS], (builders.episode_cells(e) for e in rows)
    )
    return _csv_response(lines, f"episodes-{_stamp()}.csv")


@login_required
@require_GET
def long_csv(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    # Counts only in the log: who exported, not what.
    log.info("long export by user %s", request.user.pk)
    lines = builders.csv_lines(
        [c.name for c in LONG_COLUMNS], long_export.long_rows(request.user), formatted=True
    )
    return _csv_response(lines, f"long-export-{_stamp()}.csv")


@login_required
@require_GET
def episode_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_report(request.user)
    episode = TreatmentEpisode.objects.select_related("patient__site").filter(pk=pk).first()
    if episode is None:
        raise Http404("No such treatment episode.")
    try:
        require(request.user, Action.READ, episode.patient.site_id)
    except NotVisible:
        raise Http404("No such treatment episode.") from None
    outcome = next(outcome_rows(TreatmentEpisode.objects.filter(pk=pk), detail=True))
    records = (
        episode_records(episode.pk)
        .select_related("visit", "reference_visit")
        .order_by("visit__visit_date", "algorithm")
    )
    visits: dict[int, dict[str, Any]] = {}
    for record in records:
        entry = visits.setdefault(
            record.visit_id,
            {"visit": record.visit, "reference": record.reference_visit, "records": {}},
        )
        entry["records"][record.algorithm] = record
    return render(
        request,
        "reports/episode_detail.html",
        {
            "nav": "reports",
            "episode": episode,
            "outcome": outcome,
            "visits": [
                {
                    **entry,
                    "day": (entry["visit"].visit_date - episode.start_date).days,
                    "doi": entry["records"].get(ResponseRecord.Algorithm.IMACS_DOI),
                    "tis": entry["records"].get(ResponseRecord.Algorithm.ACR_EULAR),
                    "worsening": entry["records"].get(ResponseRecord.Algorithm.WORSENING),
                }
                for entry in visits.values()
            ],
            "weeks": [(week, *outcome.weeks[week]) for week in WEEKS],
        },
    )


@login_required
@require_POST
def export_new(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_filters(request.POST, form=True)
        job = export_job_create(
            user=request.user, kind=request.POST.get("kind", ""), filters=filters
        )
    except InputError as exc:
        return _bad_request(exc)
    return redirect("reports:export", pk=job.pk)


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    # Another user's job answers 404: its existence is nobody else's business.
    job = ExportJob.objects.defer("content").filter(pk=pk, user=request.user).first()
    if job is None:
        raise Http404("No such export.")
    return job


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    return render(
        request,
        "reports/export_detail.html",
        {"nav": "reports", "job": job, "query": parse_filters(job.filters).query_string()},
    )


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    if job.status != ExportJob.Status.DONE:
        raise Http404("This export is not ready.")
    content = ExportJob.objects.values_list("content", flat=True).get(pk=job.pk)
    response = HttpResponse(bytes(content), content_type=job.content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response
