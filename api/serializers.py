"""Output serializers of the read endpoints, and the audit list's query parameters. Writes take
the submission document's readers."""

from datetime import UTC, date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.schema import ref
from crf.classification import classification_document
from crf.documents import visit_document
from crf.models import ClassificationAssessment, Visit
from registry.documents import parse_iso_date, parse_iso_datetime
from registry.models import AuditEvent, AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.selectors import day_start
from scoring.classification_reads import record_json
from scoring.models import ClassificationRecord
from scoring.selectors import refractory_record

# The largest id a BigAutoField holds; a larger number in a URL or filter matches nothing.
MAX_ID = 2**63 - 1


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["code", "name", "country"]


class AutoantibodySerializer(serializers.ModelSerializer):
    class Meta:
        model = AutoantibodyResult
        fields = ["id", "antibody", "result", "method", "intensity", "sample_date"]


class TreatmentSerializer(serializers.ModelSerializer):
    dose = serializers.DecimalField(
        max_digits=10, decimal_places=3, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = TreatmentEpisode
        fields = [
            "id",
            "drug",
            "drug_other",
            "dose",
            "dose_unit",
            "route",
            "frequency",
            "start_date",
            "stop_date",
            "stop_reason",
            "stop_reason_other",
        ]


class VisitSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = ["id", "visit_date", "kind", "status", "version", "updated_at"]


class PatientSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    birth_year_month = serializers.SerializerMethodField()
    population = serializers.SerializerMethodField()
    autoantibodies = AutoantibodySerializer(many=True)
    treatments = TreatmentSerializer(many=True)
    visits = VisitSummarySerializer(many=True)
    classification = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "site",
            "patient_id",
            "sex",
            "birth_year_month",
            "diagnosis",
            "onset_date",
            "diagnosis_date",
            "serology_group",
            "population",
            "autoantibodies",
            "treatments",
            "visits",
            "classification",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(ref("PatientClassification"))
    def get_classification(self, patient: Patient) -> dict[str, Any] | None:
        """The assessment in the document's shape and its computed classification, or null.
        The views select both with the patient (select_related)."""
        try:
            assessment = patient.classification
        except ClassificationAssessment.DoesNotExist:
            return None
        try:
            record = patient.classification_record
        except ClassificationRecord.DoesNotExist:
            record = None
        return {**classification_document(assessment), "scoring": record_json(record)}

    def get_birth_year_month(self, patient: Patient) -> str:
        return f"{patient.birth_year:04d}-{patient.birth_month:02d}"

    @extend_schema_field({"type": "string", "enum": ["adult", "juvenile"]})
    def get_population(self, patient: Patient) -> str:
        return patient.population


class PatientDetailSerializer(PatientSerializer):
    """A patient as the detail endpoint shows it: with its refractory status (null until the
    scoring pipeline has computed it)."""

    refractory = serializers.SerializerMethodField()

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "refractory"]

    @extend_schema_field({"allOf": [ref("RefractoryStatus")], "nullable": True})
    def get_refractory(self, patient: Patient) -> dict[str, Any] | None:
        record = refractory_record(patient.pk)
        if record is None:
            return None
        attestation = record.attestation
        return {
            "definition": record.definition,
            "status": record.status,
            "as_of": record.as_of.isoformat(),
            "episodes": [
                {
                    "id": row["episode"],
                    "drug": row["drug"],
                    "start_date": row["start_date"],
                    "role": row["role"],
                    "reason": row["reason"],
                }
                for row in record.episodes
            ],
            "attested_by": None if attestation is None else attestation.attested_by.get_username(),
            "attested_at": None if attestation is None else attestation.attested_at.isoformat(),
        }


class VisitSerializer(serializers.ModelSerializer):
    """A visit with its instruments in the submission document's shape and its scores.

    The view passes the page's scores in the context (one call for the page, not one per visit).
    """

    patient_id = serializers.CharField(source="patient.patient_id")
    site = serializers.CharField(source="patient.site.code")
    instruments = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "patient",
            "patient_id",
            "site",
            "visit_date",
            "kind",
            "status",
            "version",
            "created_at",
            "updated_at",
            "instruments",
            "scores",
        ]

    @extend_schema_field(ref("VisitInstruments"))
    def get_instruments(self, visit: Visit) -> dict[str, Any]:
        document = visit_document(visit)
        document.pop("visit_date", None)
        document.pop("kind", None)
        return document

    @extend_schema_field({"type": "array", "items": ref("ResponseRecord")})
    def get_scores(self, visit: Visit) -> list[dict[str, Any]]:
        return self.context.get("scores", {}).get(visit.pk, [])


class AuditEventSerializer(serializers.ModelSerializer):
    """One recorded change: one field of one record, or a whole record created or deleted."""

    actor = serializers.CharField(
        source="actor.username",
        read_only=True,
        allow_null=True,
        help_text="Who made the change (username); null when no person did (commands, scoring).",
    )
    # The trail keeps plain site ids (it outlives what it describes): the view passes the page's
    # codes in the context, read in one query for the whole page.
    site = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "source",
            "action",
            "site",
            "patient_id",
            "object_type",
            "object_id",
            "field",
            "old_value",
            "new_value",
            "reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "patient_id": {"help_text": "The patient's id (as in /api/v1/patients/)."},
            "object_type": {"help_text": "The kind of record (app.model), such as crf.visit."},
            "field": {"help_text": "The changed field; empty for a creation or deletion."},
            "old_value": {
                "help_text": "The value before, as text (a deleted record: all of it, as JSON); "
                "null for no value."
            },
            "new_value": {
                "help_text": "The value after, as text (a created record: all of it, as JSON); "
                "null for no value."
            },
            "reason": {"help_text": "The reason given for the change (required for amendments)."},
        }

    @extend_schema_field({"type": "string", "nullable": True, "description": "The site's code."})
    def get_site(self, event: AuditEvent) -> str | None:
        return self.context["site_codes"].get(event.site_id)


@extend_schema_field(
    {"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
)
class DateOrDateTimeField(serializers.Field):
    """An ISO 8601 date (kept a date: the selector reads it as a whole UTC day) or date-time
    (in UTC; without an offset it is taken as UTC)."""

    default_error_messages = {
        # A raw + in a query string reads as a space: the usual cause of a refused offset.
        "invalid": "Must be an ISO 8601 date or date-time (write the + of an offset as %2B).",
        "range": "Out of range.",
    }

    def to_internal_value(self, data: Any) -> date | datetime:
        # A date first: a date-time parser would read "2024-06-01" as its midnight.
        day = parse_iso_date(data)
        if day is not None:
            return day
        moment = parse_iso_datetime(data)
        if moment is None:
            self.fail("invalid")
        try:
            # In UTC: PostgreSQL takes offsets up to ±15:59 only; ISO 8601 allows more.
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        except OverflowError:
            self.fail("range")

    def to_representation(self, value: date | datetime) -> str:
        return value.isoformat()


def _whole_number(description: str, what: str, **kwargs: Any) -> serializers.IntegerField:
    message = f"Must be {what} (a whole number)."
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=description,
        error_messages={key: message for key in ("invalid", "min_value", "max_value")},
        **kwargs,
    )


def _choice(choices: type, description: str) -> serializers.ChoiceField:
    values = ", ".join(value for value, _ in choices.choices)
    return serializers.ChoiceField(
        choices=choices.choices,
        required=False,
        help_text=description,
        error_messages={"invalid_choice": f"Must be one of {values}."},
    )


class AuditFilterSerializer(serializers.Serializer):
    """The audit list's filters, as query parameters. The validated data are the keyword
    arguments of registry.selectors.audit_trail (hence the sources)."""

    site = serializers.CharField(
        required=False,
        source="site_id",
        max_length=Site._meta.get_field("code").max_length,
        help_text="Only events of this site (its code, as /api/v1/sites/ shows it).",
    )
    patient = _whole_number(
        "Only events of this patient (their id).", "a patient id", source="patient_id"
    )
    object_type = serializers.RegexField(
        r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        required=False,
        max_length=AuditEvent._meta.get_field("object_type").max_length,
        help_text="Only events of this kind of record, such as crf.visit or registry.patient.",
        error_messages={"invalid": "Must be a record type such as crf.visit (app.model)."},
    )
    object_id = _whole_number(
        "Only events of the record with this id (with object_type: ids repeat across types).",
        "a record id",
    )
    source = _choice(AuditEvent.Source, "Only events written through this path.")
    action = _choice(AuditEvent.Action, "Only creations, updates or deletions.")
    since = DateOrDateTimeField(
        required=False,
        help_text="Only events at or after this time. A date means from its start (00:00 UTC); "
        "a date-time without an offset is UTC.",
    )
    until = DateOrDateTimeField(
        required=False,
        help_text="Only events at or before this time. A date means up to its end (the whole "
        "UTC day, as the CSV export reads it); a date-time without an offset is UTC.",
    )
    actor = serializers.CharField(
        required=False,
        source="actor_id",
        max_length=get_user_model()._meta.get_field("username").max_length,
        help_text="Only events written by this user (their username).",
    )

    def validate_site(self, code: str) -> int:
        site_id = Site.objects.filter(code=code).values_list("pk", flat=True).first()
        if site_id is None:
            raise serializers.ValidationError("No site with this code.")
        return site_id

    def validate_actor(self, username: str) -> int:
        users = get_user_model().objects.filter(username=username)
        user_id = users.values_list("pk", flat=True).first()
        if user_id is None:
            raise serializers.ValidationError("No user with this username.")
        return user_id

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "object_id" in attrs and "object_type" not in attrs:
            # Ids are per table: object_id alone would mix unrelated records.
            raise serializers.ValidationError({"object_id": ["Give object_type with object_id."]})
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and _after(since, until):
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return attrs


def _after(since: date | datetime, until: date | datetime) -> bool:
    """Whether the period starts after it ends (a date `until` lasts to the end of its day)."""
    start = since if isinstance(since, datetime) else day_start(since)
    return start > until if isinstance(until, datetime) else start.date() > until
