"""The Classification section of the patient page and its keyboard-first form."""

from datetime import date

import pytest
from django.urls import reverse

from crf.classification import classification_save, default_values
from crf.models import ClassificationAssessment
from registry.audit import Actor
from registry.models import AuditEvent
from registry.services import autoantibody_upsert
from scoring.services import score_patients

pytestmark = pytest.mark.django_db

ITEMS = (
    "weakness_proximal_upper", "weakness_proximal_lower", "neck_flexors_weaker",
    "legs_proximal_weaker_than_distal", "heliotrope", "gottron_papules", "gottron_sign",
    "dysphagia", "anti_jo1", "enzymes_raised", "endomysial_infiltrate",
    "perimysial_perivascular_infiltrate", "perifascicular_atrophy", "rimmed_vacuoles",
)  # fmt: skip


def form_data(**answers):
    data = {"assessed_on": "2020-01-08", "muscle_biopsy": "no", "treatment_response": "not_treated",
            "finger_flexor_weakness": ""}  # fmt: skip
    data.update({key: "" for key in ITEMS})
    data.update(answers)
    return data


def url(patient):
    return reverse("web:classification-edit", args=[patient.pk])


def test_outsider_gets_404(client, outsider, patient):
    client.force_login(outsider)
    assert client.get(url(patient)).status_code == 404
    assert client.post(url(patient), form_data()).status_code == 404
    assert client.get(reverse("web:patient", args=[patient.pk])).status_code == 404


def test_investigator_reads_but_cannot_edit(client, investigator, patient):
    values = default_values(date(2020, 1, 8))
    values["heliotrope"] = True
    classification_save(actor=Actor(None, "command"), patient=patient, values=values)
    score_patients(patient_ids=[patient.pk])
    client.force_login(investigator)
    page = client.get(reverse("web:patient", args=[patient.pk])).content.decode()
    assert 'id="classification"' in page
    assert url(patient) not in page
    assert client.get(url(patient)).status_code == 403
    assert client.post(url(patient), form_data(heliotrope="no")).status_code == 403
    assert ClassificationAssessment.objects.get().heliotrope is True


def test_form_lists_items_in_table_order_with_definitions_and_derived_values(
    client, coordinator, patient, baseline
):
    autoantibody_upsert(
        actor=Actor(None, "command"),
        patient=patient,
        values={
            "antibody": "anti-Jo-1",
            "result": "positive",
            "method": "line_blot",
            "intensity": "",
            "sample_date": date(2019, 6, 1),
        },  # fmt: skip
    )
    client.force_login(coordinator)
    page = client.get(url(patient)).content.decode()
    positions = [page.index(f'id="row-{key}"') for key in ITEMS]
    assert positions == sorted(positions)
    assert "Objective symmetric weakness, usually progressive, of the proximal upper" in page
    # CK 2000 > 200 at the earliest visit; anti-Jo-1 positive: both offered as derived.
    assert page.count("Derived: yes") == 2


def test_coordinator_saves_and_the_page_explains_the_result(
    client, coordinator, patient, baseline, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    data = form_data(weakness_proximal_upper="yes", weakness_proximal_lower="yes",
                     heliotrope="yes", gottron_papules="yes")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(patient), data)
    assert response.status_code == 302
    assessment = ClassificationAssessment.objects.get(patient=patient)
    assert assessment.heliotrope is True and assessment.enzymes_raised is None
    assert AuditEvent.objects.filter(
        object_type="crf.classificationassessment", source="web", actor_id=coordinator.pk
    ).exists()
    score_patients(patient_ids=[patient.pk])
    page = client.get(reverse("web:patient", args=[patient.pk])).content.decode()
    # Onset 2019-03 at 50: A2 2.1 + 0.7 + 0.8 + 3.1 + 2.1 + L2 1.3 (derived), items missing.
    assert "10.1*" in page
    assert "Definite IIM" in page and "Dermatomyositis" in page
    assert "derived" in page
    assert "biopsy-recommended" not in page


def test_biopsy_item_without_a_biopsy_is_shown_at_its_field(client, coordinator, patient):
    client.force_login(coordinator)
    response = client.post(url(patient), form_data(rimmed_vacuoles="yes"))
    assert response.status_code == 200
    assert "give it only with muscle_biopsy true" in response.content.decode()
    assert not ClassificationAssessment.objects.exists()


def test_correction_asks_for_a_reason_once_data_is_submitted(
    client, coordinator, patient, baseline
):
    client.force_login(coordinator)
    client.post(url(patient), form_data(heliotrope="yes"))
    response = client.post(url(patient), form_data(heliotrope="no"))
    assert response.status_code == 200
    assert ClassificationAssessment.objects.get().heliotrope is True
    response = client.post(url(patient), form_data(heliotrope="no", reason="was eczema"))
    assert response.status_code == 302
    assert ClassificationAssessment.objects.get().heliotrope is False
