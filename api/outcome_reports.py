"""`GET /api/v1/reports/survival/` and `GET /api/v1/reports/safety/` (issue 14), each with
`?format=json|csv|xlsx` and the outcomes report's filters (reports.filters).

Survival adds `outcome=os|pfs`, `time_zero=episode|ild_onset|diagnosis`, `definition` (lung
progression, for PFS) and `compare=A,B`, and a grouping of its own, `group_by=regimen`: one row
per patient, `combined` (up-front) or `step_up` (reports.regimens), compared with
`compare=combined,step_up`; the safety report refuses it (400 naming group_by). Investigators
and data managers may ask (Action.REPORT); other roles get 403, requests without credentials
401, bad parameters 400 naming the parameter. Rows withheld from the caller by the small-cells
rule (reports.disclosure) have null figures and `"suppressed": true`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.reports import PARAMETERS, XLSX_TYPE, FormatNegotiation
from api.schema import ref
from reports import outcome_exports
from reports.disclosure import Disclosure
from reports.filters import GroupBy, parse_filters
from reports.safety import safety_report
from reports.services import require_report
from reports.survival import (
    OUTCOME_CHOICES,
    TIME_ZERO_CHOICES,
    parse_survival,
    parse_survival_filters,
    survival_report,
)
from scoring.instruments.outcomes import LUNG_DEFINITIONS


@dataclass(frozen=True)
class Download:
    """A built report on its way to a file renderer: `files[format]()` gives its bytes."""

    name: str
    files: dict[str, Callable[[], bytes]]


class _FileRenderer(BaseRenderer):
    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> Any:
        return data.files[self.format]()


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(_FileRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"


class _ReportView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    content_negotiation_class = FormatNegotiation

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and not isinstance(response.data, Download):
            # Errors are JSON whatever format was asked for; only a report becomes a file.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    def respond(
        self, request: Request, payload: Callable[[], dict[str, Any]], download: Download
    ) -> Response:
        if request.accepted_renderer.format == "json":
            return Response(payload())
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        name = f"{download.name}-{stamp}.{request.accepted_renderer.format}"
        return Response(download, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _params(request: Request) -> Any:
    params = request.query_params.copy()
    params.pop("format", None)
    return params


class _FigureSerializer(serializers.Serializer):
    estimate = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class _SurvivalAtSerializer(_FigureSerializer):
    at_risk = serializers.IntegerField(allow_null=True)


class _SurvivalRowSerializer(serializers.Serializer):
    treatment = serializers.CharField()
    treatment_label = serializers.CharField()
    stratum = serializers.CharField(allow_null=True)
    stratum_label = serializers.CharField(allow_null=True)
    patients = serializers.IntegerField(allow_null=True)
    episodes = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    censored = serializers.IntegerField(allow_null=True)
    median_weeks = serializers.FloatField(allow_null=True, help_text="Null when not reached.")
    at_26_weeks = _SurvivalAtSerializer(help_text="Read at 183 days.")
    at_52_weeks = _SurvivalAtSerializer(help_text="Read at 364 days.")
    at_104_weeks = _SurvivalAtSerializer(help_text="Read at 728 days.")
    suppressed = serializers.BooleanField()


class _ComparisonSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField(help_text="The reference group.")
    n_a = serializers.IntegerField(
        help_text="Episodes of A (patients, grouped by initial regimen)."
    )
    n_b = serializers.IntegerField()
    patients_a = serializers.IntegerField()
    patients_b = serializers.IntegerField()
    logrank_p = serializers.FloatField(allow_null=True)
    hazard_ratio = serializers.FloatField(allow_null=True, help_text="A relative to B (Cox).")
    hr_ci_low = serializers.FloatField(allow_null=True)
    hr_ci_high = serializers.FloatField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class SurvivalReportSerializer(serializers.Serializer):
    filters = serializers.DictField()
    outcome = serializers.CharField()
    time_zero = serializers.CharField()
    definition = serializers.CharField()
    compare = serializers.CharField(allow_null=True)
    generated_at = serializers.DateTimeField()
    episodes = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField(help_text="The whole report is withheld (small cells).")
    rows = _SurvivalRowSerializer(many=True)
    comparison = _ComparisonSerializer(allow_null=True)


class _SafetyCountsSerializer(serializers.Serializer):
    patients_with_ae = serializers.IntegerField(allow_null=True)
    patients_with_serious_ae = serializers.IntegerField(allow_null=True)
    patients_with_related_ae = serializers.IntegerField(allow_null=True)
    patients_withdrawn_for_ae = serializers.IntegerField(allow_null=True)
    patients_with_fatal_ae = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    events_per_100_patient_years = _FigureSerializer(help_text="Exact Poisson 95 % interval.")
    percentages = serializers.DictField(
        child=_FigureSerializer(), help_text="Of the patients exposed, 95 % Wilson intervals."
    )


class _SafetyRowSerializer(_SafetyCountsSerializer):
    treatment = serializers.CharField()
    treatment_label = serializers.CharField()
    stratum = serializers.CharField(allow_null=True)
    stratum_label = serializers.CharField(allow_null=True)
    patients_exposed = serializers.IntegerField(allow_null=True)
    episodes = serializers.IntegerField(allow_null=True)
    patient_years = serializers.FloatField(allow_null=True)
    deaths = serializers.IntegerField(allow_null=True)
    by_category = serializers.DictField(child=_SafetyCountsSerializer())
    deaths_by_cause = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    suppressed = serializers.BooleanField()


class SafetyReportSerializer(serializers.Serializer):
    filters = serializers.DictField()
    generated_at = serializers.DateTimeField()
    episodes = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField(help_text="The whole report is withheld (small cells).")
    rows = _SafetyRowSerializer(many=True)


def _responses(serializer: Any, what: str) -> dict[Any, Any]:
    return {
        (200, "application/json"): serializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=f"The {what} table."),
        (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="Table and notes."),
        (400, "application/json"): OpenApiResponse(
            ref("Error"), description="A bad parameter, named in `errors`."
        ),
        (401, "application/json"): OpenApiResponse(
            ref("Error"), description="No valid credentials."
        ),
        (403, "application/json"): OpenApiResponse(
            ref("Error"), description="Not an investigator or data manager."
        ),
    }


SURVIVAL_PARAMETERS = [
    OpenApiParameter(
        "group_by",
        str,
        enum=[code for code, _ in GroupBy.SURVIVAL_CHOICES],
        description="Rows per drug (default), drug class, or initial regimen: one row per "
        "patient, combined (at least two non-glucocorticoid immunosuppressants started within "
        "14 days of the first treatment) or step_up.",
    ),
    OpenApiParameter(
        "outcome", str, enum=[c for c, _ in OUTCOME_CHOICES], description="Default os."
    ),
    OpenApiParameter(
        "time_zero", str, enum=[c for c, _ in TIME_ZERO_CHOICES], description="Default episode."
    ),
    OpenApiParameter(
        "definition",
        str,
        enum=list(LUNG_DEFINITIONS),
        description="Lung progression definition for pfs (default relative_fvc10_dlco15).",
    ),
    OpenApiParameter(
        "compare",
        str,
        description="Two treatment codes A,B (grouped by regimen: combined,step_up): log-rank p "
        "and Cox hazard ratio of A relative to B.",
    ),
]


class SurvivalView(_ReportView):
    @extend_schema(
        tags=["reports"],
        summary="Survival by treatment (Kaplan–Meier, registry-wide aggregates)",
        parameters=[*(p for p in PARAMETERS if p.name != "group_by"), *SURVIVAL_PARAMETERS],
        responses=_responses(SurvivalReportSerializer, "survival"),
    )
    def get(self, request: Request) -> Response | HttpResponse:
        require_report(request.user)
        params = _params(request)
        filters = parse_survival_filters(params)
        report = survival_report(
            filters,
            parse_survival(params, filters),
            disclosure=Disclosure.for_user(request.user),
        )
        return self.respond(
            request,
            lambda: SurvivalReportSerializer(outcome_exports.survival_json(report)).data,
            Download(
                f"survival-{report.query.outcome}",
                {
                    "csv": lambda: outcome_exports.survival_csv(report).encode("utf-8"),
                    "xlsx": lambda: outcome_exports.survival_workbook(report),
                },
            ),
        )


class SafetyView(_ReportView):
    @extend_schema(
        tags=["reports"],
        summary="Safety by treatment (registry-wide aggregates)",
        parameters=PARAMETERS,
        responses=_responses(SafetyReportSerializer, "safety"),
    )
    def get(self, request: Request) -> Response | HttpResponse:
        require_report(request.user)
        report = safety_report(
            parse_filters(_params(request)), disclosure=Disclosure.for_user(request.user)
        )
        return self.respond(
            request,
            lambda: SafetyReportSerializer(outcome_exports.safety_json(report)).data,
            Download(
                "safety",
                {
                    "csv": lambda: outcome_exports.safety_csv(report).encode("utf-8"),
                    "xlsx": lambda: outcome_exports.safety_workbook(report),
                },
            ),
        )
