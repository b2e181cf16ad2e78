"""`GET /api/v1/reports/outcomes-by-treatment/?format=json|csv|xlsx` (issue 7).

The same filters as the investigator pages (reports.filters). JSON and CSV hold the
registry-wide aggregates; the XLSX adds the episodes sheet, which holds the episodes of the
caller's own sites only. Investigators and data managers may ask (Action.REPORT); other roles get
403, requests without credentials 401, bad parameters 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import ref
from registry.errors import InputError
from reports import builders, xlsx
from reports.disclosure import MIN_PATIENTS, Disclosure
from reports.filters import LUNG_CHOICES, GroupBy, Stratify, parse_filters
from reports.outcomes import OutcomesReport, outcomes_by_treatment
from reports.selectors import episodes_for_drilldown, outcome_rows
from reports.services import require_report

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CSVRenderer(BaseRenderer):
    """The summary table as CSV (reports.dictionary.SUMMARY_COLUMNS)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> Any:
        return builders.summary_csv(data).encode("utf-8")


class XLSXRenderer(BaseRenderer):
    """Summary, episodes (the caller's own sites) and data dictionary sheets."""

    media_type = XLSX_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> Any:
        request = (context or {})["request"]
        episodes = episodes_for_drilldown(request.user, data.filters)
        return xlsx.workbook(
            data, outcome_rows(episodes, detail=True), episode_total=episodes.count()
        )


class FormatNegotiation(DefaultContentNegotiation):
    """An unknown ?format= is a 400 naming the parameter, not DRF's bare 404."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            allowed = ", ".join(renderer.format for renderer in renderers)
            raise InputError([("format", f"Must be one of: {allowed}.")]) from None


class _ProportionSerializer(serializers.Serializer):
    count = serializers.IntegerField(allow_null=True)
    of = serializers.IntegerField(allow_null=True, help_text="The denominator.")
    percent = serializers.FloatField(allow_null=True)
    ci95 = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="95 % Wilson score interval, in percent.",
    )


class _SummarySerializer(serializers.Serializer):
    n = serializers.IntegerField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    iqr = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class _CategoriesSerializer(serializers.Serializer):
    none = serializers.IntegerField(allow_null=True)
    minimal = serializers.IntegerField(allow_null=True)
    moderate = serializers.IntegerField(allow_null=True)
    major = serializers.IntegerField(allow_null=True)


class _BestCategorySerializer(_CategoriesSerializer):
    not_computed = serializers.IntegerField(
        allow_null=True, help_text="Evaluable, TIS not computable."
    )


class _WeekSerializer(serializers.Serializer):
    tis = _SummarySerializer()
    category = _CategoriesSerializer()


class _TimeToDoiSerializer(serializers.Serializer):
    n = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True, help_text="Kaplan–Meier median.")


class _EndpointRespondersSerializer(serializers.Serializer):
    count = serializers.IntegerField(allow_null=True)
    evaluable = serializers.IntegerField(
        allow_null=True,
        help_text="The denominator: episodes with a scored visit within the endpoint's window.",
    )
    percent = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval, percent.")
    ci_high = serializers.FloatField(allow_null=True)


class OutcomeRowSerializer(serializers.Serializer):
    """One row; a suppressed row (`suppressed`) has every figure null, its labels kept."""

    treatment = serializers.CharField(help_text="Drug or drug class code (group_by).")
    treatment_label = serializers.CharField()
    stratum = serializers.CharField(allow_null=True)
    stratum_label = serializers.CharField(allow_null=True)
    episodes = serializers.IntegerField(allow_null=True)
    with_baseline = serializers.IntegerField(allow_null=True)
    evaluable = serializers.IntegerField(allow_null=True)
    doi_responders = serializers.IntegerField(allow_null=True)
    confirmed_responders = serializers.IntegerField(allow_null=True)
    confirmed_deteriorations = serializers.IntegerField(allow_null=True)
    best_category = _BestCategorySerializer()
    median_tis = serializers.FloatField(allow_null=True, help_text="Median best TIS.")
    tis = _SummarySerializer()
    proportions = serializers.DictField(child=_ProportionSerializer())
    weeks = serializers.DictField(child=_WeekSerializer(), help_text='Keys "12", "24", "52".')
    time_to_doi = _TimeToDoiSerializer()
    glucocorticoid_change = _SummarySerializer()
    pending_records = serializers.IntegerField(allow_null=True)
    failed_records = serializers.IntegerField(allow_null=True)
    endpoint_responders = _EndpointRespondersSerializer(
        required=False,
        help_text="Only with ?endpoint=: the endpoint's responders among the episodes "
        "evaluable for it (null figures when the row is suppressed).",
    )
    suppressed = serializers.BooleanField(
        help_text=(
            f"Computed from fewer than {MIN_PATIENTS} patients, at least one at a site you are "
            "not a member of (never for a data manager, nor for your own sites' data alone): "
            "every figure of the row is null."
        )
    )


class OutcomesReportSerializer(serializers.Serializer):
    filters = serializers.DictField()
    generated_at = serializers.DateTimeField()
    episodes = serializers.IntegerField(allow_null=True)
    pending_records = serializers.IntegerField(allow_null=True)
    failed_records = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField(
        help_text="The totals above are withheld as a row would be (they are null)."
    )
    endpoint = serializers.DictField(
        allow_null=True, help_text="The endpoint version used (?endpoint=), as listed."
    )
    rows = OutcomeRowSerializer(many=True)


def _list(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, many=True, explode=True, description=f"{description} Repeat or comma-separate."
    )


PARAMETERS = [
    OpenApiParameter("format", str, enum=["json", "csv", "xlsx"], description="Default json."),
    _list("site", "Site codes."),
    _list("diagnosis", "Diagnosis codes."),
    _list("serology", "Serological group codes."),
    _list("drug", "Drug codes."),
    _list("drug_class", "Drug class codes."),
    _list(
        "classification",
        "2017 EULAR/ACR categories of the patient's classification record (not_iim, possible, "
        "probable, definite), or probable_or_definite.",
    ),
    _list("classification_subgroup", "2017 EULAR/ACR subgroups (jdm, dm, adm, ibm, pm, ...)."),
    OpenApiParameter("population", str, enum=["adult", "juvenile"]),
    OpenApiParameter(
        "refractory",
        str,
        enum=["yes", "no"],
        description="Episodes whose patient was (yes) or was not (no) refractory "
        "(refractory_v1 candidate or confirmed) at the episode's start.",
    ),
    OpenApiParameter(
        "lung",
        str,
        enum=[code for code, _ in LUNG_CHOICES],
        description="Episodes of patients whose lung record says interstitial lung disease "
        "(ild), rapidly progressive ILD (rp_ild) or no ILD (no_ild).",
    ),
    OpenApiParameter("start_from", OpenApiTypes.DATE, description="Episodes started on or after."),
    OpenApiParameter("start_to", OpenApiTypes.DATE, description="Episodes started on or before."),
    OpenApiParameter("group_by", str, enum=[code for code, _ in GroupBy.CHOICES]),
    OpenApiParameter("stratify", str, enum=[code for code, _ in Stratify.CHOICES]),
]


ENDPOINT_PARAMETER = OpenApiParameter(
    "endpoint",
    str,
    description="An endpoint's name (its latest version) or NAME@VERSION (GET "
    "/api/v1/endpoints/): adds `endpoint_responders` to every row.",
)


class OutcomesByTreatmentView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    content_negotiation_class = FormatNegotiation

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and not isinstance(response.data, OutcomesReport):
            # Errors (and OPTIONS' description) are JSON whatever format was asked for: a
            # client reads one error shape. Only a report becomes CSV or XLSX.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    @extend_schema(
        tags=["reports"],
        summary="Outcomes by treatment (registry-wide aggregates)",
        parameters=[*PARAMETERS, ENDPOINT_PARAMETER],
        responses={
            (200, "application/json"): OutcomesReportSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The summary table."),
            (200, XLSX_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Summary, episodes (your own sites) and data dictionary sheets.",
            ),
            (400, "application/json"): OpenApiResponse(
                ref("Error"), description="A bad parameter, named in `errors`."
            ),
            (401, "application/json"): OpenApiResponse(
                ref("Error"), description="No valid credentials."
            ),
            (403, "application/json"): OpenApiResponse(
                ref("Error"), description="Not an investigator or data manager."
            ),
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        require_report(request.user)
        params = request.query_params.copy()
        params.pop("format", None)
        report = outcomes_by_treatment(
            parse_filters(params), disclosure=Disclosure.for_user(request.user)
        )
        renderer = request.accepted_renderer
        if renderer.format == "json":
            return Response(OutcomesReportSerializer(builders.report_json(report)).data)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        return Response(
            report,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="outcomes-by-treatment-{stamp}.{renderer.format}"'
                )
            },
        )
