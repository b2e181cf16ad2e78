"""Views of the HTTP API: thin — parse, check site access, call a selector or a service, answer.

Access rules live in registry/access.py, writes in the services, errors in one handler
(api/exceptions.py). Another site's records answer 404 and never appear in lists.
"""

import base64
import binascii
from datetime import UTC, datetime, time
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.odm import odm_submission
from api.parsers import (
    JSONDocumentParser,
    MergePatchParser,
    XMLBody,
    XMLDocumentParser,
)
from api.patch import visit_patch
from api.responses import BAD_REQUEST, COMMON, NOT_FOUND, error_response
from api.schema import SUBMISSION_EXAMPLE, ref
from api.serializers import (
    MAX_ID,
    AuditEventSerializer,
    AuditFilterSerializer,
    PatientDetailSerializer,
    PatientSerializer,
    SiteSerializer,
    VisitSerializer,
)
from crf.models import LabResult, Visit
from crf.outcome_documents import OUTCOME_PREFETCH, OUTCOME_SELECT
from crf.selectors import visits_visible_to
from interchange.submissions import submission_process
from registry.access import Action, NotVisible, can_anywhere, patients_visible_to, sites_for
from registry.documents import parse_iso_date, parse_iso_datetime
from registry.models import AuditEvent, Patient, Site
from registry.selectors import audit_trail
from scoring import selectors as scoring_selectors

PATIENT_AUDIT_TYPES = (
    "registry.patient",
    "registry.autoantibodyresult",
    "registry.treatmentepisode",
    "crf.classificationassessment",
    "crf.vitalstatus",
    "crf.lungstatus",
    "crf.hrctassessment",
    "crf.adverseevent",
    "crf.adverseeventrelation",
)


ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The record's id.")
FILTERS = [
    OpenApiParameter("site", str, description="Only records of this site (code)."),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only records changed at or after this time (ISO 8601; a date means its "
        "midnight UTC), for incremental pulls.",
    ),
    OpenApiParameter("page_size", int, description="Records per page (default 100, max 1000)."),
]


def _digits(raw: str) -> bool:
    # str.isdigit alone accepts "²", which int() refuses: a server error for a bad parameter;
    # so would int() of more digits than sys.get_int_max_str_digits(). No id, page size or
    # cursor position has more digits than MAX_ID.
    return raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID))


class IdCursorPagination(CursorPagination):
    """Pages in id order: rows added while a client pages through appear at the end, once."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # DRF ignores a bad page size silently; a client that asked for one should know.
        if not _digits(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except Exception:  # DRF answers an invalid cursor with 404; it is a bad parameter
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None


def _object_id(raw: str) -> int:
    """A record id from the URL; anything that cannot be one is simply not found."""
    if not _digits(raw) or int(raw) > MAX_ID:
        raise NotVisible("No such record.")
    return int(raw)


def _updated_since(request: Request) -> datetime | None:
    raw = request.query_params.get("updated_since")
    if raw is None:
        return None
    moment = parse_iso_datetime(raw)
    if moment is None:
        day = parse_iso_date(raw)
        moment = datetime.combine(day, time.min) if day else None
    if moment is None:
        raise ValidationError(
            {"updated_since": ["Must be an ISO 8601 date (YYYY-MM-DD) or date-time."]}
        )
    try:
        # In UTC: PostgreSQL takes offsets up to ±15:59 only; ISO 8601 allows more.
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValidationError({"updated_since": ["Out of range."]}) from None


def _site_filter(queryset: QuerySet, request: Request, site_field: str) -> QuerySet:
    code = request.query_params.get("site")
    if code is None:
        return queryset
    if "\x00" in code:  # PostgreSQL cannot even compare text with a NUL in it
        raise ValidationError({"site": ["Must be the code of a site."]})
    # A site the caller does not belong to gives an empty list, like any other filter.
    return queryset.filter(**{f"{site_field}__code": code})


def _visits_with_instruments(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("patient__site", "mmt8", "haq").prefetch_related(
        Prefetch("labs", queryset=LabResult.objects.order_by("enzyme"))
    )


@extend_schema(tags=["sites"], responses={200: SiteSerializer(many=True), **COMMON})
class SiteListView(generics.ListAPIView):
    """The sites you belong to."""

    serializer_class = SiteSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet:
        return sites_for(self.request.user, Action.READ).order_by("code")


class SubmissionView(APIView):
    parser_classes = [JSONDocumentParser, XMLDocumentParser]

    @extend_schema(
        tags=["submissions"],
        summary="Submit patients and visits (the submission document)",
        description=(
            "Stores a submission document (docs/data-dictionary.md). Each patient with everything "
            "nested in it is one unit: a patient with any error is stored not at all, the others "
            "are stored. The answer lists every patient and visit in order with created / updated "
            "/ unchanged / error, ids, the JSON path and message of every error, and the "
            "scoring status. Re-sending a document changes nothing and duplicates nothing.\n\n"
            "Status: 200 when the document was processed (look at each patient's status: "
            "`summary.patients.error` counts those not stored); 400 when nothing was stored "
            "(the document itself is invalid, or every patient has errors). The body may be at "
            "most `API_MAX_BODY_BYTES` (20 MiB by default): larger gets 413.\n\n"
            "With `Content-Type: application/xml` the body is a CDISC ODM 1.3.2 Snapshot in the "
            "registry's OIDs (as GET /api/v1/exports/odm/ writes it): each SubjectData is a "
            "patient, stored through the same service and audited with source `import`; errors "
            "name the XML path. A DTD, entity or external reference is refused with 400."
        ),
        request={
            "application/json": ref("SubmissionDocument"),
            "application/xml": OpenApiTypes.BINARY,
        },
        parameters=[
            OpenApiParameter(
                "dry_run",
                bool,
                description="Validate and return the scores that would be "
                "computed, storing nothing.",
            ),
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Any unique string (1–255 printable ASCII characters). A retry with "
                "the same key and the same request gets the first answer for 24 hours "
                "(header `Idempotent-Replayed: true`); the same key with another request: "
                "422; while the first is still running: 409.",
            ),
        ],
        responses={
            200: OpenApiResponse(ref("SubmissionAnswer"), description="Processed."),
            400: OpenApiResponse(
                {"oneOf": [ref("SubmissionAnswer"), ref("Error")]},
                description="Nothing stored: the answer per patient, or the document's errors.",
            ),
            **COMMON,
            403: error_response(
                "Your role at this site may not submit (only coordinators and the "
                "site's submitter account may)."
            ),
            404: error_response("No such site, or you are not a member of it."),
            409: error_response("A request with this Idempotency-Key is still being processed."),
            413: error_response("The body is larger than the documented limit."),
            415: error_response("The body is not application/json or application/xml."),
            422: error_response("The Idempotency-Key was used with a different request."),
        },
        examples=[
            OpenApiExample("A patient with one visit", value=SUBMISSION_EXAMPLE, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        dry_run = _boolean(request, "dry_run")
        document = request.data
        if isinstance(document, XMLBody):  # an ODM 1.3.2 Snapshot (interchange.odm)
            return idempotent(request, lambda: odm_submission(request, document, dry_run=dry_run))
        return idempotent(
            request,
            lambda: submission_process(user=request.user, document=document, dry_run=dry_run),
        )


def _boolean(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValidationError({name: ["Must be true or false."]})


@extend_schema(
    tags=["patients"],
    parameters=FILTERS,
    responses={200: PatientSerializer(many=True), 400: BAD_REQUEST, **COMMON},
)
class PatientListView(generics.ListAPIView):
    """Patients of your sites, with autoantibodies, treatments and their visits' summaries."""

    serializer_class = PatientSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self) -> QuerySet:
        patients = _site_filter(patients_visible_to(self.request.user), self.request, "site")
        since = _updated_since(self.request)
        if since is not None:
            # A patient changed when it or anything nested in it changed; nested records have
            # no timestamps of their own, but every change of them is in the audit trail
            # (served by the registry_audit_patient index).
            # An export of the patient is in the trail too, but changes nothing.
            nested = AuditEvent.objects.filter(
                patient_id=OuterRef("pk"), at__gte=since, object_type__in=PATIENT_AUDIT_TYPES
            ).exclude(action=AuditEvent.Action.EXPORT)
            patients = patients.filter(Q(updated_at__gte=since) | Exists(nested))
        return patients.select_related(
            "site", "classification", "classification_record", *OUTCOME_SELECT
        ).prefetch_related(
            "autoantibodies",
            "treatments",
            Prefetch("visits", queryset=Visit.objects.order_by("visit_date")),
            *OUTCOME_PREFETCH,
        )


@extend_schema(
    tags=["patients"],
    parameters=[ID_PARAMETER],
    responses={200: PatientDetailSerializer, 404: NOT_FOUND, **COMMON},
)
class PatientDetailView(generics.RetrieveAPIView):
    """A patient of your sites, with autoantibodies, treatments, visits' summaries and the
    refractory status."""

    serializer_class = PatientDetailSerializer

    def get_object(self) -> Patient:
        patients = (
            patients_visible_to(self.request.user)
            .select_related("site", "classification", "classification_record", *OUTCOME_SELECT)
            .prefetch_related("autoantibodies", "treatments", "visits", *OUTCOME_PREFETCH)
        )
        patient = patients.filter(pk=_object_id(self.kwargs["id"])).first()
        if patient is None:
            raise NotVisible("No such patient.")
        return patient


def _visit_scores(visit_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The visits' `scores` as the API shows them (docs/api.md)."""
    if not visit_ids:
        return {}
    scores = scoring_selectors.scores_for_visits(visit_ids)
    return {visit: [score.as_json() for score in found] for visit, found in scores.items()}


@extend_schema(
    tags=["visits"],
    parameters=[
        OpenApiParameter("patient", int, description="Only this patient's visits (its id)."),
        *FILTERS,
    ],
    responses={200: VisitSerializer(many=True), 400: BAD_REQUEST, **COMMON},
)
class VisitListView(generics.ListAPIView):
    """Visits of your sites with their instruments and computed scores."""

    serializer_class = VisitSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self) -> QuerySet:
        visits = _site_filter(visits_visible_to(self.request.user), self.request, "patient__site")
        raw = self.request.query_params.get("patient")
        if raw is not None:
            if not _digits(raw) or int(raw) > MAX_ID:
                raise ValidationError({"patient": ["Must be a patient id (a whole number)."]})
            visits = visits.filter(patient_id=int(raw))
        since = _updated_since(self.request)
        if since is not None:
            visits = visits.filter(updated_at__gte=since)
        return _visits_with_instruments(visits)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        scores = _visit_scores([visit.pk for visit in page])
        data = VisitSerializer(page, many=True, context={"scores": scores}).data
        return self.get_paginated_response(data)


class VisitDetailView(APIView):
    parser_classes = [JSONDocumentParser, MergePatchParser]

    def _visit(self, request: Request, pk: str) -> Visit:
        visits = _visits_with_instruments(visits_visible_to(request.user))
        visit = visits.filter(pk=_object_id(pk)).first()
        if visit is None:
            raise NotVisible("No such visit.")
        return visit

    def _answer(self, visit: Visit) -> Response:
        scores = _visit_scores([visit.pk])
        return Response(VisitSerializer(visit, context={"scores": scores}).data)

    @extend_schema(
        tags=["visits"],
        parameters=[ID_PARAMETER],
        responses={200: VisitSerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, id: str) -> Response:
        return self._answer(self._visit(request, id))

    @extend_schema(
        tags=["visits"],
        summary="Change a visit, made against the version read",
        parameters=[ID_PARAMETER],
        description=(
            "`instruments` is a JSON merge patch (RFC 7386) of the visit's instruments as read: "
            "a key sets that value, null removes it, an object is merged into the stored one. "
            "`version` is the visit's version as read: if it changed since, nothing is stored "
            "and the answer is 409 with the current version — reload, re-apply, send again. A "
            "submitted visit needs a `reason` for the change."
        ),
        request={
            "application/json": ref("VisitPatch"),
            "application/merge-patch+json": ref("VisitPatch"),
        },
        responses={
            200: VisitSerializer,
            400: BAD_REQUEST,
            **COMMON,
            403: error_response("Your role at this site may not change visits."),
            404: NOT_FOUND,
            409: error_response("The visit changed since the version you read, or it is locked."),
            413: error_response("The body is larger than the documented limit."),
            415: error_response("The body is not JSON."),
        },
    )
    def patch(self, request: Request, id: str) -> Response:
        visit = self._visit(request, id)
        updated = visit_patch(user=request.user, visit=visit, patch=request.data)
        return self._answer(self._visit(request, str(updated.pk)))


# --- audit trail ------------------------------------------------------------------------------


class AuditCursor(NamedTuple):
    at: datetime
    id: int
    forward: bool  # the page after (at, id), or the page before it


class AuditCursorPagination(IdCursorPagination):
    """Pages of the audit trail in (at, id) order, by keyset on both columns.

    DRF's cursor pages on one column and steps through equal values with an offset, capped at
    1000 rows; one bulk submission stamps thousands of events with the same `at`, so that
    would repeat or lose events. Here a cursor is the (at, id) of the last (or first) row
    shown, and a page is the rows strictly after (or before) it: no duplicates, no gaps, and
    each page is one indexed range query however deep the client is.
    """

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        raw = request.query_params.get(self.cursor_query_param)
        cursor = None if raw is None else self.decode_cursor(request)
        self.next_cursor: AuditCursor | None = None
        self.previous_cursor: AuditCursor | None = None
        if cursor is None or cursor.forward:
            if cursor is not None:
                # at >= X first, so that an index on at bounds the scan; ties broken by id.
                queryset = queryset.filter(at__gte=cursor.at).filter(
                    Q(at__gt=cursor.at) | Q(id__gt=cursor.id)
                )
            rows = list(queryset.order_by("at", "id")[: size + 1])
            page = rows[:size]
            if len(rows) > size:
                self.next_cursor = AuditCursor(page[-1].at, page[-1].id, forward=True)
            if cursor is not None:
                # Everything up to the cursor's row is before this page, shown or not.
                first = (page[0].at, page[0].id) if page else (cursor.at, cursor.id + 1)
                self.previous_cursor = AuditCursor(*first, forward=False)
            return page
        queryset = queryset.filter(at__lte=cursor.at).filter(
            Q(at__lt=cursor.at) | Q(id__lt=cursor.id)
        )
        rows = list(queryset.order_by("-at", "-id")[: size + 1])
        page = rows[:size][::-1]
        if len(rows) > size:
            self.previous_cursor = AuditCursor(page[0].at, page[0].id, forward=False)
        last = (page[-1].at, page[-1].id) if page else (cursor.at, cursor.id - 1)
        self.next_cursor = AuditCursor(*last, forward=True)
        return page

    def decode_cursor(self, request: Request) -> AuditCursor:
        raw = request.query_params[self.cursor_query_param]
        try:
            text = base64.urlsafe_b64decode(raw.encode("ascii")).decode("ascii")
            direction, at, pk = text.split("|")
            moment = datetime.fromisoformat(at)
            if direction not in ("n", "p") or moment.tzinfo is None or not _digits(pk):
                raise ValueError(text)
            return AuditCursor(moment, int(pk), forward=direction == "n")
        except (UnicodeError, binascii.Error, ValueError):
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None

    def encode_cursor(self, cursor: AuditCursor) -> str:
        text = f"{'n' if cursor.forward else 'p'}|{cursor.at.isoformat()}|{cursor.id}"
        token = base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        return None if self.next_cursor is None else self.encode_cursor(self.next_cursor)

    def get_previous_link(self) -> str | None:
        if self.previous_cursor is None:
            return None
        return self.encode_cursor(self.previous_cursor)


class IsDataManager(BasePermission):
    """The whole audit trail is registry-wide: data managers only (registry.access, AUDIT)."""

    message = "The audit trail is for data managers only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_anywhere(request.user, Action.AUDIT)


@extend_schema(
    tags=["audit"],
    summary="The audit trail (data managers)",
    description=(
        "Every recorded change — one event per changed field; a creation or deletion is one "
        "event holding the whole record as JSON — oldest first, filtered as the CSV export at "
        "/audit/ is. `since` and `until` are inclusive; a date is a whole UTC day. Follow "
        "`next` to the end; to pull only what is new later, start again with `since` set to "
        "the last `at` you stored and skip the ids you have (events of that very instant come "
        "again). `old_value` / `new_value` are text; null means no value. Only data managers "
        "may read it: anyone else gets 403."
    ),
    parameters=[
        AuditFilterSerializer,
        OpenApiParameter("page_size", int, description="Events per page (default 100, max 1000)."),
    ],
    responses={
        200: AuditEventSerializer(many=True),
        400: BAD_REQUEST,
        **COMMON,
        403: error_response("Only data managers may read the audit trail."),
    },
)
class AuditListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    pagination_class = AuditCursorPagination
    permission_classes = [IsAuthenticated, IsDataManager]

    def get_queryset(self) -> QuerySet:
        # A plain dict: as a QueryDict, DRF would take an empty value for "not given" and drop
        # the filter silently; here `?site=` is refused like any other bad value.
        filters = AuditFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return audit_trail(**filters.validated_data).select_related("actor")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        ids = {event.site_id for event in page if event.site_id is not None}
        codes = dict(Site.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}
        data = AuditEventSerializer(page, many=True, context={"site_codes": codes}).data
        return self.get_paginated_response(data)
