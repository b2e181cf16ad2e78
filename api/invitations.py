"""Patient invitations over the API (issue 17): create, list, read and revoke.

A site's system invites a patient to answer the HAQ/CHAQ and the patient globals by a link
(crf/invitations.py). The link is in the answer to the creation only: the registry keeps its
digest, never the link.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import JSONDocumentParser
from api.responses import error_response
from api.serializers import MAX_ID
from api.views import (
    BAD_REQUEST,
    COMMON,
    ID_PARAMETER,
    NOT_FOUND,
    IdCursorPagination,
    _digits,
    _object_id,
)
from crf.invitations import (
    pro_invitation_create,
    pro_invitation_email,
    pro_invitation_revoke,
)
from crf.models import ProInvitation, Visit
from crf.pro_models import INSTRUMENTS
from registry.access import Action, NotVisible, patients_visible_to, restrict
from registry.audit import Actor
from registry.errors import InputError

CREATE_KEYS = ("visit", "patient", "visit_date", "instruments", "email")


class ProInvitationSerializer(serializers.ModelSerializer):
    state = serializers.CharField(
        read_only=True,
        help_text="sent, opened, submitted, expired (past expires_at) or revoked.",
    )
    instruments = serializers.ListField(child=serializers.ChoiceField(choices=INSTRUMENTS))

    class Meta:
        model = ProInvitation
        fields = [
            "id",
            "patient",
            "visit",
            "visit_date",
            "instruments",
            "haq_instrument",
            "respondent",
            "state",
            "expires_at",
            "created_at",
            "opened_at",
            "submitted_at",
            "revoked_at",
        ]


class ProInvitationCreatedSerializer(ProInvitationSerializer):
    url = serializers.CharField(
        read_only=True, help_text="The patient's link; shown once, never stored."
    )

    class Meta(ProInvitationSerializer.Meta):
        fields = ["id", "url", *ProInvitationSerializer.Meta.fields[1:]]


class ProInvitationRequestSerializer(serializers.Serializer):
    """For the schema only: the body is read by `_read_body`."""

    visit = serializers.IntegerField(required=False, help_text="A draft visit's id.")
    patient = serializers.IntegerField(
        required=False, help_text="A patient's id, with `visit_date`, for a planned visit."
    )
    visit_date = serializers.DateField(
        required=False,
        help_text="The planned visit's date (created as a draft when the answers arrive).",
    )
    instruments = serializers.ListField(
        child=serializers.ChoiceField(choices=INSTRUMENTS),
        help_text="`haq` is the CHAQ for a patient of juvenile onset.",
    )
    email = serializers.EmailField(
        required=False, help_text="Send the link to this address; it is never stored."
    )


def _id(body: dict, key: str) -> int | None:
    raw = body.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ID:
        raise InputError([(key, "Must be a record id (a whole number).")])
    return raw


def _read_body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError([("", "Must be a JSON object.")])
    unknown = [(key, "Unknown field.") for key in data if key not in CREATE_KEYS]
    if unknown:
        raise InputError(unknown)
    email = data.get("email")
    if email is not None:
        try:
            if not isinstance(email, str):
                raise DjangoValidationError("not a string")
            validate_email(email)
        except DjangoValidationError:
            raise InputError([("email", "Must be an e-mail address.")]) from None
    return {
        "visit": _id(data, "visit"),
        "patient": _id(data, "patient"),
        "visit_date": data.get("visit_date"),
        "instruments": data.get("instruments"),
        "email": email,
    }


def _visible(request: Request) -> QuerySet:
    invitations = restrict(
        ProInvitation.objects.all(), request.user, Action.READ, site_field="patient__site"
    )
    return invitations.select_related("patient")


class ProInvitationListView(generics.ListAPIView):
    serializer_class = ProInvitationSerializer
    pagination_class = IdCursorPagination
    parser_classes = [JSONDocumentParser]

    def get_queryset(self) -> QuerySet:
        invitations = _visible(self.request)
        raw = self.request.query_params.get("patient")
        if raw is not None:
            if not _digits(raw) or int(raw) > MAX_ID:
                raise ValidationError({"patient": ["Must be a patient id (a whole number)."]})
            invitations = invitations.filter(patient_id=int(raw))
        return invitations

    @extend_schema(
        tags=["pro-invitations"],
        summary="Invitations of your sites' patients, with their states",
        parameters=[
            OpenApiParameter("patient", int, description="Only this patient's invitations."),
            OpenApiParameter("page_size", int, description="Records per page (default 100)."),
        ],
        responses={200: ProInvitationSerializer(many=True), 400: BAD_REQUEST, **COMMON},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        tags=["pro-invitations"],
        summary="Invite a patient to answer the HAQ/CHAQ and the patient globals",
        description=(
            'Either `{"visit": ID}` (a draft visit) or `{"patient": ID, "visit_date": DATE}` '
            "(the visit planned on that date, created as a draft when the answers arrive), with "
            "`instruments` from `haq` (the CHAQ for juvenile onset), `patient_global`, "
            "`patient_global_damage`. The answer carries the patient's link (`url`) once; it "
            "expires after `PRO_INVITATION_DAYS` (14 by default). With `email`, the link is sent "
            "to that address, which is not stored. Revoke with "
            "`POST /api/v1/pro-invitations/{id}/revoke/`."
        ),
        request={"application/json": ProInvitationRequestSerializer},
        responses={
            201: ProInvitationCreatedSerializer,
            400: BAD_REQUEST,
            **COMMON,
            403: error_response(
                "Your role at this site may not invite patients (coordinators may)."
            ),
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request) -> Response:
        body = _read_body(request.data)
        visit = patient = None
        if body["visit"] is not None:
            visit = (
                restrict(Visit.objects.all(), request.user, site_field="patient__site")
                .select_related("patient__site")
                .filter(pk=body["visit"])
                .first()
            )
            if visit is None:
                raise NotVisible("No such visit.")
        if body["patient"] is not None:
            patient = patients_visible_to(request.user).filter(pk=body["patient"]).first()
            if patient is None:
                raise NotVisible("No such patient.")
        with transaction.atomic():
            invitation, token = pro_invitation_create(
                actor=Actor(user=request.user, source="api"),
                instruments=body["instruments"],
                visit=visit,
                patient=patient,
                visit_date=body["visit_date"],
            )
            url = request.build_absolute_uri(reverse("web:pro-answer", args=[token]))
            if body["email"]:
                address = body["email"]
                transaction.on_commit(
                    lambda: pro_invitation_email(invitation=invitation, url=url, address=address)
                )
        invitation.url = url  # type: ignore[attr-defined]
        return Response(ProInvitationCreatedSerializer(invitation).data, status=201)


def _invitation(request: Request, pk: str) -> ProInvitation:
    invitation = _visible(request).filter(pk=_object_id(pk)).first()
    if invitation is None:
        raise NotVisible("No such invitation.")
    return invitation


class ProInvitationDetailView(APIView):
    @extend_schema(
        tags=["pro-invitations"],
        parameters=[ID_PARAMETER],
        responses={200: ProInvitationSerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, id: str) -> Response:
        return Response(ProInvitationSerializer(_invitation(request, id)).data)


class ProInvitationRevokeView(APIView):
    parser_classes = [JSONDocumentParser]

    @extend_schema(
        tags=["pro-invitations"],
        summary="Revoke an invitation: its link answers 410 from now on",
        parameters=[ID_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(ProInvitationSerializer, description="Revoked (or was)."),
            400: error_response("The patient has submitted the answers already."),
            **COMMON,
            403: error_response("Your role at this site may not revoke invitations."),
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, id: str) -> Response:
        invitation = pro_invitation_revoke(
            actor=Actor(user=request.user, source="api"), invitation=_invitation(request, id)
        )
        return Response(ProInvitationSerializer(invitation).data)
