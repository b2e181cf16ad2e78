"""The 2017 EULAR/ACR classification assessment of a patient: the items as a coordinator recorded
them (crf.classification reads and writes them; scoring.classifying scores them)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from registry.models import Patient


def _item(label: str) -> models.BooleanField:
    """An item of the 2017 EULAR/ACR criteria: yes, no or unanswered (null)."""
    return models.BooleanField(label, null=True, blank=True)


class ClassificationAssessment(models.Model):
    """A patient's baseline assessment for the 2017 EULAR/ACR classification criteria (docs:
    docs/classification.md). Field names are the item keys of scoring.instruments.classification;
    the age at onset is the patient's. Scored per patient by the scoring app."""

    class TreatmentResponse(models.TextChoices):
        IMPROVED = "improved", "Improved"
        NOT_IMPROVED = "not_improved", "Not improved"
        NOT_TREATED = "not_treated", "Not treated"

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="classification")
    assessed_on = models.DateField()
    muscle_biopsy = models.BooleanField(default=False)
    weakness_proximal_upper = _item("W1 proximal upper extremity weakness")
    weakness_proximal_lower = _item("W2 proximal lower extremity weakness")
    neck_flexors_weaker = _item("W3 neck flexors weaker than extensors")
    legs_proximal_weaker_than_distal = _item("W4 legs: proximal weaker than distal")
    heliotrope = _item("S1 heliotrope rash")
    gottron_papules = _item("S2 Gottron's papules")
    gottron_sign = _item("S3 Gottron's sign")
    dysphagia = _item("C1 dysphagia or oesophageal dysmotility")
    anti_jo1 = _item("L1 anti-Jo-1 present")
    enzymes_raised = _item("L2 CK, LDH, AST or ALT above ULN")
    endomysial_infiltrate = _item("B1 endomysial infiltrate")
    perimysial_perivascular_infiltrate = _item("B2 perimysial/perivascular infiltrate")
    perifascicular_atrophy = _item("B3 perifascicular atrophy")
    rimmed_vacuoles = _item("B4 rimmed vacuoles")
    finger_flexor_weakness = models.BooleanField(null=True, blank=True)
    treatment_response = models.CharField(
        max_length=12, choices=TreatmentResponse.choices, default=TreatmentResponse.NOT_TREATED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Biopsy findings only where a muscle biopsy was done (the biopsy column).
            models.CheckConstraint(
                condition=Q(muscle_biopsy=True)
                | Q(
                    endomysial_infiltrate__isnull=True,
                    perimysial_perivascular_infiltrate__isnull=True,
                    perifascicular_atrophy__isnull=True,
                    rimmed_vacuoles__isnull=True,
                ),
                name="crf_classification_biopsy_items_need_biopsy",
            ),
            models.CheckConstraint(
                condition=Q(treatment_response__in=["improved", "not_improved", "not_treated"]),
                name="crf_classification_treatment_response_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Classification of {self.patient} ({self.assessed_on})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.assessed_on:
            if self.assessed_on > date.today():
                errors["assessed_on"] = "The assessment date cannot be in the future."
            elif self.patient_id and self.assessed_on < self.patient.birth_month_start:
                errors["assessed_on"] = "The assessment date cannot be before the month of birth."
        if errors:
            raise ValidationError(errors)
