"""The patient, autoantibody and treatment pages of a patient with submitted data ask for a reason
for a correction or deletion, and show the services' refusal at the reason field (issue 13)."""

from datetime import date

import pytest
from django.urls import reverse

from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from tests.factories import TreatmentFactory

pytestmark = pytest.mark.django_db

REQUIRED = "required: the patient has submitted data"


@pytest.fixture
def antibody(patient):
    return AutoantibodyResult.objects.create(
        patient=patient, antibody="anti-Jo-1", result="positive", method="elisa",
        sample_date=date(2019, 5, 2),
    )  # fmt: skip


@pytest.fixture
def episode(patient):
    return TreatmentFactory(patient=patient, start_date=date(2020, 2, 1))


def reason_error(response) -> str:
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"reason"}, errors
    assert 'id="id_reason-error"' in response.content.decode()
    return errors["reason"][0]


def test_a_patient_correction_without_a_reason_is_refused_at_the_field(
    as_coordinator, patient, baseline
):
    url = reverse("web:patient-edit", args=[patient.pk])
    page = as_coordinator.get(url)
    assert REQUIRED in page.content.decode()
    data = {**page.context["form"].initial, "diagnosis": "polymyositis", "sex": "male"}

    message = reason_error(as_coordinator.post(url, data))

    assert "reason" in message
    patient.refresh_from_db()
    assert (patient.diagnosis, patient.sex) == ("dermatomyositis", "female")
    assert as_coordinator.post(url, {**data, "reason": "typo"}).status_code == 302
    assert AuditEvent.objects.get(field="diagnosis").reason == "typo"


def test_without_submitted_data_no_reason_is_required(as_coordinator, patient, antibody):
    url = reverse("web:patient-edit", args=[patient.pk])
    page = as_coordinator.get(url)
    assert REQUIRED not in page.content.decode()
    data = {**page.context["form"].initial, "diagnosis": "polymyositis"}
    assert as_coordinator.post(url, data).status_code == 302
    delete = reverse("web:antibody-delete", args=[antibody.pk])
    assert as_coordinator.post(delete, {"reason": ""}).status_code == 302
    assert Patient.objects.get().diagnosis == "polymyositis"


def test_an_antibody_correction_or_deletion_without_a_reason_is_refused(
    as_coordinator, patient, baseline, antibody
):
    edit = reverse("web:antibody-edit", args=[antibody.pk])
    assert REQUIRED in as_coordinator.get(edit).content.decode()
    reason_error(as_coordinator.post(edit, {"result": "negative", "method": "elisa"}))
    delete = reverse("web:antibody-delete", args=[antibody.pk])
    assert "the patient has submitted data" in as_coordinator.get(delete).content.decode()
    reason_error(as_coordinator.post(delete, {"reason": "  "}))
    antibody.refresh_from_db()
    assert antibody.result == "positive"

    assert as_coordinator.post(delete, {"reason": "wrong patient"}).status_code == 302
    assert not AutoantibodyResult.objects.exists()


def test_a_treatment_correction_or_deletion_without_a_reason_is_refused(
    as_coordinator, patient, baseline, episode
):
    edit = reverse("web:treatment-edit", args=[episode.pk])
    assert REQUIRED in as_coordinator.get(edit).content.decode()
    data = {"drug": "ivig", "dose": "1", "dose_unit": "g/kg", "route": "iv",
            "start_date": "2020-02-01"}  # fmt: skip
    reason_error(as_coordinator.post(edit, data))
    delete = reverse("web:treatment-delete", args=[episode.pk])
    reason_error(as_coordinator.post(delete, {"reason": ""}))
    episode.refresh_from_db()
    assert episode.dose == 2

    assert as_coordinator.post(edit, {**data, "reason": "dose misread"}).status_code == 302
    episode.refresh_from_db()
    assert episode.dose == 1


def test_a_first_stop_date_needs_no_reason(as_coordinator, patient, baseline, episode):
    edit = reverse("web:treatment-edit", args=[episode.pk])
    data = {"drug": "ivig", "dose": "2", "dose_unit": "g/kg", "route": "iv",
            "start_date": "2020-02-01", "stop_date": "2020-09-01",
            "stop_reason": "remission"}  # fmt: skip
    assert as_coordinator.post(edit, data).status_code == 302
    assert TreatmentEpisode.objects.get().stop_date == date(2020, 9, 1)
