"""FHIR R4 export over HTTP (interchange.fhir): a patient's Bundle and NDJSON per resource type.

Scoped like every read: another site's patient answers 404, a site the caller does not belong to
404, and a bulk export without `site` covers the caller's own sites. Every export is audited
(interchange.fhir.services) before its first byte is sent. Errors keep the API's JSON shape.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import ref
from api.views import ID_PARAMETER, _object_id
from interchange.fhir.export import RESOURCE_TYPES, ndjson, patient_bundle
from interchange.fhir.selectors import export_site
from interchange.fhir.services import fhir_bulk_audit, fhir_bundle_audit
from registry.access import Action, NotVisible, patients_visible_to, sites_for
from registry.audit import Actor
from registry.errors import InputError

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class NDJSONRenderer(BaseRenderer):
    """Only negotiates: the export streams its lines itself."""

    media_type = FHIR_NDJSON
    format = "ndjson"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> Any:
        raise NotImplementedError("the NDJSON export is a StreamingHttpResponse")


class _FhirView(APIView):
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            # Errors (and OPTIONS' description) are the API's JSON error shape: one shape for a
            # client to read, whatever it asked for.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response


def _error(status: int, description: str) -> dict[Any, OpenApiResponse]:
    return {(status, "application/json"): OpenApiResponse(ref("Error"), description=description)}


UNAUTHENTICATED = _error(401, "No valid credentials.")


class PatientFhirView(_FhirView):
    renderer_classes = [FhirJSONRenderer, JSONRenderer]

    @extend_schema(
        tags=["fhir"],
        summary="A patient's records as a FHIR R4 Bundle (type collection)",
        description=(
            "Patient (site's pseudonymous id, sex, year-month of birth, deceasedDateTime from "
            "the vital status), Condition (diagnosis), Observations (enzymes with LOINC codes, "
            "UCUM units, ULN and interpretation; FVC, DLCO, globals, MMT-8, CMAS, HAQ-DI/CHAQ-DI, "
            "TIS and DOI), QuestionnaireResponses (HAQ/CHAQ items), MedicationStatements "
            "(treatment episodes) and AdverseEvents (seriousness, severity, outcome, causality "
            "per suspect treatment). Validates against the FHIR R4 models. The export is audited."
        ),
        parameters=[ID_PARAMETER],
        responses={
            (200, FHIR_JSON): OpenApiResponse(
                OpenApiTypes.OBJECT, description="A FHIR R4 Bundle of type collection."
            ),
            **UNAUTHENTICATED,
            **_error(404, "No such patient, or one of a site you are not a member of."),
        },
    )
    def get(self, request: Request, id: str) -> HttpResponse:
        patient, bundle = patient_bundle(patients_visible_to(request.user), _object_id(id))
        fhir_bundle_audit(actor=Actor(user=request.user, source="api"), patient=patient)
        body = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)
        return HttpResponse(body.encode(), content_type=FHIR_JSON)


class FhirExportView(_FhirView):
    renderer_classes = [NDJSONRenderer, JSONRenderer]

    @extend_schema(
        tags=["fhir"],
        summary="Bulk FHIR R4 export: NDJSON of one resource type",
        description=(
            "One resource per line, streamed, of the patients of `site` (or of every site you "
            "belong to). `CodeSystem` and `Questionnaire` are the registry's own definitions "
            "(its codes, the HAQ-DI and CHAQ), the same for every site. The export is audited "
            "(one event per site covered)."
        ),
        parameters=[
            OpenApiParameter(
                "type", str, required=True, enum=list(RESOURCE_TYPES), description="Resource type."
            ),
            OpenApiParameter("site", str, description="Only this site's patients (its code)."),
        ],
        responses={
            (200, FHIR_NDJSON): OpenApiResponse(
                OpenApiTypes.STR, description="Newline-delimited FHIR R4 resources of the type."
            ),
            **_error(400, "A missing or unknown `type`, or a malformed `site`."),
            **UNAUTHENTICATED,
            **_error(404, "No such site, or you are not a member of it."),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        resource_type = request.query_params.get("type")
        if resource_type not in RESOURCE_TYPES:
            raise InputError([("type", f"Must be one of: {', '.join(RESOURCE_TYPES)}.")])
        patients = patients_visible_to(request.user)
        code = request.query_params.get("site")
        if code is None:
            site_ids = list(sites_for(request.user, Action.READ).values_list("pk", flat=True))
        else:
            if "\x00" in code:  # PostgreSQL cannot even compare text with a NUL in it
                raise InputError([("site", "Must be the code of a site.")])
            site = export_site(request.user, code)
            if site is None:
                raise NotVisible("No such site.")
            patients, site_ids = patients.filter(site=site), [site.pk]
        fhir_bulk_audit(
            actor=Actor(user=request.user, source="api"), site_ids=site_ids, types=[resource_type]
        )
        response = StreamingHttpResponse(ndjson(resource_type, patients), content_type=FHIR_NDJSON)
        suffix = f"-{code}" if code else ""
        response["Content-Disposition"] = f'attachment; filename="{resource_type}{suffix}.ndjson"'
        return response
