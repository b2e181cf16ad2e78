"""The stateless calculators: IMACS/ACR-EULAR response (docs/scoring.md §6) and the 2017 EULAR/ACR
classification criteria. They store nothing; the rules are scoring.instruments'."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import DecimalJSONParser
from api.responses import BAD_REQUEST, COMMON, error_response
from api.schema import ref
from registry.errors import InputError
from scoring.instruments import CalculatorInputError, calculate, classify


class CalculatorView(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        tags=["calculator"],
        summary="The stateless calculator (docs/scoring.md §6)",
        description="One case, or a list of cases, in; the same shape out, in order. Stores "
        "nothing. Numbers are read exactly as typed.",
        request={"application/json": ref("CalculatorRequest")},
        responses={
            200: OpenApiResponse(ref("CalculatorResponse")),
            400: BAD_REQUEST,
            **COMMON,
            413: error_response("The body is larger than the documented limit."),
            415: error_response("The body is not JSON."),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            result = calculate(request.data)
        except CalculatorInputError as exc:
            raise InputError(exc.errors) from None
        except OverflowError:
            # A percent change from a baseline within a hair of 0 (say 1e-300 cm) is exact but
            # beyond what a JSON number can hold: the input, not the server, is at fault.
            raise InputError(
                [
                    (
                        "",
                        "The values give results too large to answer as JSON "
                        "numbers; give the measures at their scales' resolution.",
                    )
                ]
            ) from None
        return Response(result)


class ClassificationCalculatorView(APIView):
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        tags=["calculator"],
        summary="The 2017 EULAR/ACR classification criteria for IIM",
        description="One case, or a list of cases, in; the same shape out, in order. Stores "
        "nothing. Lundberg IE et al., Ann Rheum Dis 2017;76:1955–64: the score from the "
        "biopsy column if and only if a muscle biopsy was done, its category, the derived "
        "probability and, for probable or definite cases, the subgroup.",
        request={"application/json": ref("ClassificationRequest")},
        responses={
            200: OpenApiResponse(ref("ClassificationResponse")),
            400: BAD_REQUEST,
            **COMMON,
            413: error_response("The body is larger than the documented limit."),
            415: error_response("The body is not JSON."),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            return Response(classify(request.data))
        except CalculatorInputError as exc:
            raise InputError(exc.errors) from None
