"""The predictors of response page (reports.predictors) with its forest plot, and its PDF.
Investigators and data managers only (Action.REPORT)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry.errors import InputError
from reports import charts
from reports.disclosure import SUPPRESSED, Disclosure
from reports.endpoints import endpoint_choices
from reports.filters import ReportFilters, parse_filters
from reports.predictors import predictors
from reports.predictors_chart import forest_chart, multivariable_text, predictors_pdf
from reports.services import require_report
from web.views.reports import _bad_request, _form_context, _stamp


@login_required
@require_GET
def predictors_page(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    report = None
    errors: list[tuple[str, str]] = []
    filters = ReportFilters()
    if request.GET:
        try:
            filters = parse_filters(request.GET, form=True)
            report = predictors(filters, disclosure=Disclosure.for_user(request.user))
        except InputError as exc:
            errors = exc.errors
    context = _form_context(filters, errors)
    context["choices"]["endpoints"] = endpoint_choices()
    if report is not None:
        chart = forest_chart(report)
        context.update(
            report=report,
            chart=chart,
            chart_svg=charts.to_svg(chart),
            multivariable=multivariable_text(report),
            suppressed_text=SUPPRESSED,
            query=filters.query_string(),
        )
    return render(request, "reports/predictors.html", context, status=400 if errors else 200)


@login_required
@require_GET
def predictors_download(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    try:
        report = predictors(
            parse_filters(request.GET), disclosure=Disclosure.for_user(request.user)
        )
    except InputError as exc:
        return _bad_request(exc)
    response = HttpResponse(predictors_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="predictors-{_stamp()}.pdf"'
    return response
