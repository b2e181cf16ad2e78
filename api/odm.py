"""ODM 1.3.2 over HTTP: the export (GET /api/v1/exports/odm/) and the import of a Snapshot posted
to the submissions endpoint as application/xml (SubmissionView hands it to `odm_submission`)."""

import io
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from api.responses import error_response
from interchange.odm.export import TYPES, odm_export
from interchange.odm.importing import odm_import
from interchange.odm.xml import MalformedXML, UnsafeXML


def odm_submission(request: Request, body: bytes, *, dry_run: bool) -> tuple[int, dict[str, Any]]:
    """An ODM Snapshot through the submission service (interchange.odm.importing); a file that
    cannot be read safely or is not well-formed is a 400 naming the problem."""
    try:
        return odm_import(user=request.user, stream=io.BytesIO(body), dry_run=dry_run)
    except (UnsafeXML, MalformedXML) as exc:
        raise ParseError(str(exc)) from None


class FirstRenderer(BaseContentNegotiation):
    """The file is the answer whatever the Accept header; errors are JSON."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class OdmExportView(APIView):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        tags=["exports"],
        summary="CDISC ODM 1.3.2 export (streamed XML)",
        description=(
            "The registry's data as a CDISC ODM 1.3.2 file, valid against the ODM 1.3.2 XSD: "
            "the Study metadata (forms, items with range checks, code lists, units, derived "
            "items with their methods), AdminData (users by login and role, sites, signature "
            "meanings) and ClinicalData. `type=snapshot` (default): the current data, with a "
            "Signature on each signed visit. `type=transactional`: every audit event as ItemData "
            "with TransactionType and AuditRecord. Streamed as it is read. Data managers export "
            "every site, investigators their own sites; every export is audited."
        ),
        parameters=[
            OpenApiParameter(
                "site",
                str,
                description="Only this site (code); default: all the sites you may export.",
            ),  # fmt: skip
            OpenApiParameter(
                "type", str, enum=list(TYPES), description="snapshot or transactional"
            ),
        ],
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="ODM"),
            400: error_response("`type` is not snapshot or transactional, or `site` is malformed."),
            403: error_response("Your role may not export (data managers and investigators may)."),
            404: error_response("No such site, or you are not a member of it."),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        export = odm_export(
            user=request.user,
            kind=request.query_params.get("type", "snapshot"),
            site_code=request.query_params.get("site") or None,
            source="api",
        )
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in export.stream()),
            content_type="application/xml; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
