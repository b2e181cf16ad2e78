"""`GET /api/v1/reports/predictors/?drug=D&endpoint=NAME` (plus the outcomes report's filters):
response to an endpoint by baseline factor, odds ratios against each factor's reference level
and a multivariable logistic regression when every level has enough episodes
(reports.predictors). Investigators and data managers only; a missing drug or endpoint is a 400
naming it."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.reports import ENDPOINT_PARAMETER, PARAMETERS
from api.schema import ref
from reports.disclosure import Disclosure
from reports.filters import parse_filters
from reports.predictors import MIN_LEVEL_EPISODES, predictors, predictors_json
from reports.services import require_report


class PredictorRowSerializer(serializers.Serializer):
    factor = serializers.CharField()
    factor_label = serializers.CharField()
    level = serializers.CharField()
    level_label = serializers.CharField()
    reference = serializers.BooleanField(help_text="The factor's reference level (the largest).")
    episodes = serializers.IntegerField(allow_null=True)
    responders = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)
    odds_ratio = serializers.FloatField(allow_null=True, help_text="Against the reference level.")
    or_ci_low = serializers.FloatField(allow_null=True, help_text="95 % Woolf (logit) interval.")
    or_ci_high = serializers.FloatField(allow_null=True)
    haldane_corrected = serializers.BooleanField(
        allow_null=True, help_text="0.5 added to every cell: one was zero."
    )
    suppressed = serializers.BooleanField()


class MultivariableSerializer(serializers.Serializer):
    fitted = serializers.BooleanField(
        help_text=f"Fitted only when every factor level has at least {MIN_LEVEL_EPISODES} episodes."
    )
    reason = serializers.CharField(allow_null=True)
    episodes = serializers.IntegerField(allow_null=True)
    coefficients = serializers.ListField(child=serializers.DictField())


class PredictorsSerializer(serializers.Serializer):
    filters = serializers.DictField()
    endpoint = serializers.DictField()
    generated_at = serializers.DateTimeField()
    episodes = serializers.IntegerField(allow_null=True, help_text="Evaluable for the endpoint.")
    responders = serializers.IntegerField(allow_null=True)
    damage_tertile_cuts = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    rows = PredictorRowSerializer(many=True)
    multivariable = MultivariableSerializer()


class PredictorsView(APIView):
    @extend_schema(
        tags=["reports"],
        summary="Predictors of response to an endpoint, for a drug",
        parameters=[
            *[p for p in PARAMETERS if p.name not in ("format", "group_by", "stratify")],
            ENDPOINT_PARAMETER,
            OpenApiParameter("drug", str, required=True, description="The drug (required)."),
        ],
        responses={
            200: PredictorsSerializer,
            400: OpenApiResponse(ref("Error"), description="A bad or missing parameter."),
            401: OpenApiResponse(ref("Error"), description="No valid credentials."),
            403: OpenApiResponse(ref("Error"), description="Not an investigator or data manager."),
        },
    )
    def get(self, request: Request) -> Response:
        require_report(request.user)
        report = predictors(
            parse_filters(request.query_params), disclosure=Disclosure.for_user(request.user)
        )
        return Response(PredictorsSerializer(predictors_json(report)).data)
