"""Output serializers of the read endpoints. Writes take the submission document's readers."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crf.api.schema import ref
from crf.documents import visit_document
from crf.models import Visit
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode


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
            "created_at",
            "updated_at",
        ]

    def get_birth_year_month(self, patient: Patient) -> str:
        return f"{patient.birth_year:04d}-{patient.birth_month:02d}"

    @extend_schema_field({"type": "string", "enum": ["adult", "juvenile"]})
    def get_population(self, patient: Patient) -> str:
        return patient.population


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
