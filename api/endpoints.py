"""`GET|POST /api/v1/endpoints/`: the trial-style endpoints (reports.endpoints).

GET lists every version of every endpoint (the built-in `proderm` among them); POST saves one:
a new name is version 1, a known name with other parameters its next version, the same
parameters again answer 200 with the latest version unchanged (201 when a version was added).
Investigators and data managers only (Action.REPORT): other roles get 403, requests without
credentials 401, bad input 400 naming the field.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import ref
from registry.audit import Actor
from reports.builders import endpoint_definition_json
from reports.endpoints import LEAST_CATEGORIES, MAX_HORIZON_WEEKS, MAX_WINDOW_WEEKS, endpoint_list
from reports.models import EndpointDefinition
from reports.services import endpoint_define, require_report


class EndpointParametersSerializer(serializers.Serializer):
    measure = serializers.ChoiceField(choices=EndpointDefinition.Measure.choices)
    threshold = serializers.FloatField(
        allow_null=True, required=False, help_text="TIS threshold (measure tis), 0–100."
    )
    category = serializers.ChoiceField(
        choices=LEAST_CATEGORIES,
        allow_null=True,
        required=False,
        help_text="Least ACR/EULAR category (measure category).",
    )
    horizon_weeks = serializers.IntegerField(min_value=1, max_value=MAX_HORIZON_WEEKS)
    window_weeks = serializers.IntegerField(
        min_value=0,
        max_value=MAX_WINDOW_WEEKS,
        help_text="± weeks around the horizon; the visit nearest to the horizon within it.",
    )
    consecutive = serializers.BooleanField(
        required=False, help_text="Must also hold at the visit before (default false)."
    )
    deterioration = serializers.BooleanField(
        required=False,
        help_text="A confirmed deterioration up to the horizon makes a non-responder "
        "(default false).",
    )


class EndpointInputSerializer(EndpointParametersSerializer):
    name = serializers.SlugField(max_length=60, help_text="Lower-case letters, digits, - and _.")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class EndpointSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    parameters = EndpointParametersSerializer()
    summary = serializers.CharField(help_text="The parameters in words.")
    created_by = serializers.CharField(allow_null=True, help_text="Null for built-in endpoints.")
    created_at = serializers.DateTimeField()


class EndpointListSerializer(serializers.Serializer):
    results = EndpointSerializer(many=True)


_ERRORS = {
    401: OpenApiResponse(ref("Error"), description="No valid credentials."),
    403: OpenApiResponse(ref("Error"), description="Not an investigator or data manager."),
}


class EndpointListView(APIView):
    @extend_schema(
        tags=["reports"],
        summary="Trial-style endpoints, every version",
        responses={200: EndpointListSerializer, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        require_report(request.user)
        results = [endpoint_definition_json(definition) for definition in endpoint_list()]
        return Response({"results": results})

    @extend_schema(
        tags=["reports"],
        summary="Save an endpoint (a new name, or a new version of a name)",
        request=EndpointInputSerializer,
        responses={
            201: EndpointSerializer,
            200: OpenApiResponse(
                EndpointSerializer, description="Same parameters as the latest version: it."
            ),
            400: OpenApiResponse(ref("Error"), description="A bad field, named in `errors`."),
            **_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        definition, created = endpoint_define(
            actor=Actor(user=request.user, source="api"), data=request.data
        )
        return Response(
            endpoint_definition_json(definition),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
