"""One exception handler: domain errors and DRF's own, as one JSON error shape.

Every error body is {"detail": str, "code": str} plus, for invalid input, "errors": a list of
{"field": JSON path, "message": str}, so a site's script handles every failure the same way.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.access import NotVisible
from registry.errors import ConflictError, InputError, LockedError


def _flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested ValidationError detail as (JSON path, message) items."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            where = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            items += _flatten(value, where)
        return items
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": path, "message": str(item)} for item in detail]
        items = []
        for index, value in enumerate(detail):
            items += _flatten(value, f"{path}[{index}]")
        return items
    return [{"field": path, "message": str(detail)}]


def input_error_body(errors: list[tuple[str, str]], detail: str = "") -> dict[str, Any]:
    return {
        "detail": detail or "Invalid input: see `errors` for every offending field.",
        "code": "invalid",
        "errors": [{"field": path, "message": message} for path, message in errors],
    }


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, InputError):
        return Response(input_error_body(exc.errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        body = {"detail": str(exc), "code": "conflict"}
        if exc.current_version is not None:
            body["current_version"] = exc.current_version
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, LockedError):
        return Response({"detail": str(exc), "code": "locked"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotVisible):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = input_error_body(
            [(item["field"], item["message"]) for item in _flatten(exc.detail)]
        )
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": str(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response
