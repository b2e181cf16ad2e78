"""Hostile input typed into the smaller forms (issue 13): a message at the field, nothing stored,
never a server error — the same readers, and so the same rules, as the API's."""

import pytest
from django.urls import reverse

from registry.models import Patient, TreatmentEpisode
from tests.web.test_patients import NEW_PATIENT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_year_month", "1968- 4", "Must be a year and month as YYYY-MM."),
        ("birth_year_month", "１９６８-04", "Must be a year and month as YYYY-MM."),
        ("onset_date", "2021-W05-1", "Must be a date as YYYY-MM-DD."),
        ("diagnosis_date", "20210315", "Must be a date as YYYY-MM-DD."),
        ("patient_id", "MAN\u200b0042", "Must contain only visible characters"),
        ("patient_id", "\u202eMAN-0042", "Must contain only visible characters"),
        ("patient_id", "MAN-\U0001f600", "Must contain only visible characters"),
    ],
)
def test_a_hostile_patient_value_is_an_error_at_its_field(as_coordinator, field, value, message):
    response = as_coordinator.post(reverse("web:patient-new"), {**NEW_PATIENT, field: value})
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dose": "9" * 5000}, "dose"),
        ({"dose": "1" * 4400 + ",5"}, "dose"),
        ({"start_date": "2020-W05-6"}, "start_date"),
        ({"frequency": "weekly \u202e"}, "frequency"),
    ],
)
def test_a_hostile_treatment_value_is_an_error_at_its_field(as_coordinator, patient, change, field):
    data = {"drug": "ivig", "start_date": "2020-02-01", **change}
    response = as_coordinator.post(reverse("web:treatment-new", args=[patient.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not TreatmentEpisode.objects.exists()
