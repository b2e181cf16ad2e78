"""The trial-style endpoints page: every version of every endpoint, and a form saving one
(reports.services.endpoint_define). Investigators and data managers only (Action.REPORT)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from registry.audit import Actor
from registry.errors import InputError
from reports.endpoints import LEAST_CATEGORIES, Parameters, endpoint_list
from reports.models import EndpointDefinition
from reports.services import endpoint_define, require_report

FIELDS = ("name", "measure", "threshold", "category", "horizon_weeks", "window_weeks",
          "description")  # fmt: skip
FLAGS = ("consecutive", "deterioration")


@login_required
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    require_report(request.user)
    errors: list[tuple[str, str]] = []
    values: dict[str, str] = {"horizon_weeks": "16", "window_weeks": "4"}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in FIELDS}
        data: dict[str, object] = {name: value for name, value in values.items() if value != ""}
        data.update({name: name in request.POST for name in FLAGS})
        try:
            definition, created = endpoint_define(
                actor=Actor(user=request.user, source="web"), data=data
            )
        except InputError as exc:
            errors = exc.errors
            values.update({name: "on" for name in FLAGS if name in request.POST})
        else:
            return redirect(
                f"{reverse('reports:endpoints')}?saved={definition.name}@{definition.version}"
                f"&new={int(created)}"
            )
    listed = [(d, Parameters.of(d).describe()) for d in endpoint_list()]
    return render(
        request,
        "reports/endpoints.html",
        {
            "nav": "reports",
            "endpoints": listed,
            "errors": errors,
            "error_fields": {field for field, _ in errors},
            "values": values,
            "measures": EndpointDefinition.Measure.choices,
            "categories": LEAST_CATEGORIES,
            "saved": request.GET.get("saved", ""),
            "new": request.GET.get("new") == "1",
        },
        status=400 if errors else 200,
    )
