"""The coordinators' forms of vital status, lung status, HRCT and adverse events on the patient
page: saved through the services, errors at the field and in the summary, reasons, access."""

from datetime import date

import pytest
from django.urls import reverse

from crf.models import AdverseEvent, AdverseEventRelation, HRCTAssessment, LungStatus, VitalStatus
from registry.models import AuditEvent
from tests.factories import TreatmentFactory

AE_POST = {
    "term": "Pneumonia",
    "category": "infection",
    "onset_date": "2021-03-01",
    "end_date": "2021-03-20",
    "severity": "severe",
    "ctcae_grade": "3",
    "serious": "yes",
    "serious_criteria": ["hospitalisation"],
    "outcome": "recovered",
}


@pytest.fixture
def episode(patient):
    return TreatmentFactory(patient=patient, drug="rituximab", start_date=date(2021, 1, 5))


def test_the_coordinator_records_the_vital_status(as_coordinator, patient):
    url = reverse("web:vital-status-edit", args=[patient.pk])
    page = as_coordinator.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # Reading order is tab order: status first, the reason last (not asked on a first entry).
    assert (
        html.index('name="status"') < html.index('name="death_date"') < html.index('name="source"')
    )
    assert 'name="reason"' not in html
    response = as_coordinator.post(
        url,
        {"status": "dead", "death_date": "2023-03", "cause_category": "infection", "source": ""},
    )
    assert response.status_code == 302
    vital = VitalStatus.objects.get(patient=patient)
    assert (vital.death_date, vital.death_date_precision) == (date(2023, 3, 15), "month")
    assert AuditEvent.objects.get(object_type="crf.vitalstatus").source == "web"
    detail = as_coordinator.get(reverse("web:patient", args=[patient.pk])).content.decode()
    assert "died 2023-03" in detail


def test_errors_are_shown_at_the_field_and_in_the_summary(as_coordinator, patient):
    url = reverse("web:vital-status-edit", args=[patient.pk])
    page = as_coordinator.post(url, {"status": "alive", "death_date": "2023-03-04"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#id_death_date"' in html
    assert 'id="id_death_date-error"' in html
    assert not VitalStatus.objects.exists()


def test_lung_and_hrct_forms(as_coordinator, patient):
    response = as_coordinator.post(
        reverse("web:lung-edit", args=[patient.pk]),
        {"ild": "yes", "ild_onset_date": "2020-11-02", "rapidly_progressive": "yes"},
    )
    assert response.status_code == 302
    assert LungStatus.objects.get(patient=patient).rapidly_progressive is True
    response = as_coordinator.post(
        reverse("web:hrct-new", args=[patient.pk]),
        {"date": "2020-11-05", "pattern": "nsip", "progression": ""},
    )
    assert response.status_code == 302
    scan = HRCTAssessment.objects.get(patient=patient)
    assert scan.progression is None
    page = as_coordinator.post(
        reverse("web:hrct-new", args=[patient.pk]), {"date": "2020-11-05", "pattern": "uip"}
    )
    assert "already" in page.content.decode()
    assert as_coordinator.get(reverse("web:hrct-edit", args=[scan.pk])).status_code == 200
    response = as_coordinator.post(reverse("web:hrct-delete", args=[scan.pk]), {"reason": ""})
    assert response.status_code == 302
    assert not HRCTAssessment.objects.exists()


def test_the_adverse_event_form_with_its_suspect_episode(as_coordinator, patient, episode):
    url = reverse("web:adverse-event-new", args=[patient.pk])
    html = as_coordinator.get(url).content.decode()
    assert f'name="rel_{episode.pk}"' in html and f'name="act_{episode.pk}"' in html
    post = {**AE_POST, f"rel_{episode.pk}": "possible", f"act_{episode.pk}": ""}
    page = as_coordinator.post(url, post)
    # The action is required for a suspect episode: at that episode's field.
    assert f'id="id_act_{episode.pk}-error"' in page.content.decode()
    post[f"act_{episode.pk}"] = "interrupted"
    assert as_coordinator.post(url, post).status_code == 302
    event = AdverseEvent.objects.get()
    relation = AdverseEventRelation.objects.get()
    assert (event.criterion_hospitalisation, relation.episode_id, relation.action) == (
        True,
        episode.pk,
        "interrupted",
    )
    detail = as_coordinator.get(reverse("web:patient", args=[patient.pk])).content.decode()
    assert "Pneumonia" in detail and reverse("web:adverse-event-edit", args=[event.pk]) in detail


def test_a_correction_needs_a_reason_once_a_visit_is_submitted(
    as_coordinator, patient, episode, baseline
):
    url = reverse("web:adverse-event-new", args=[patient.pk])
    as_coordinator.post(
        url, {**AE_POST, f"rel_{episode.pk}": "possible", f"act_{episode.pk}": "none"}
    )
    event = AdverseEvent.objects.get()
    edit = reverse("web:adverse-event-edit", args=[event.pk])
    page = as_coordinator.get(edit).content.decode()
    assert "required: the patient has submitted data" in page
    relation = {f"rel_{episode.pk}": "possible", f"act_{episode.pk}": "none"}
    changed = {**AE_POST, "severity": "moderate", **relation}
    page = as_coordinator.post(edit, changed)
    assert page.status_code == 200
    assert 'id="id_reason-error"' in page.content.decode()
    assert AdverseEvent.objects.get().severity == "severe"
    assert as_coordinator.post(edit, {**changed, "reason": "re-graded"}).status_code == 302
    assert AuditEvent.objects.get(field="severity").reason == "re-graded"
    delete = reverse("web:adverse-event-delete", args=[event.pk])
    assert as_coordinator.post(delete, {"reason": ""}).status_code == 200
    assert as_coordinator.post(delete, {"reason": "duplicate"}).status_code == 302
    assert not AdverseEvent.objects.exists()


def test_another_site_is_404_and_reading_roles_cannot_write(
    client, patient, outsider, investigator, monitor
):
    scan = HRCTAssessment.objects.create(patient=patient, date=date(2021, 1, 1), pattern="op")
    event = AdverseEvent.objects.create(
        patient=patient,
        term="Rash",
        category="other",
        onset_date=date(2021, 1, 1),
        severity="mild",
        outcome="recovered",
    )
    urls = [
        reverse("web:vital-status-edit", args=[patient.pk]),
        reverse("web:lung-edit", args=[patient.pk]),
        reverse("web:hrct-new", args=[patient.pk]),
        reverse("web:hrct-edit", args=[scan.pk]),
        reverse("web:hrct-delete", args=[scan.pk]),
        reverse("web:adverse-event-new", args=[patient.pk]),
        reverse("web:adverse-event-edit", args=[event.pk]),
        reverse("web:adverse-event-delete", args=[event.pk]),
    ]
    client.force_login(outsider)
    assert {client.get(url).status_code for url in urls} == {404}
    assert {client.post(url, {"reason": "x"}).status_code for url in urls} == {404}
    for reader in (investigator, monitor):
        client.force_login(reader)
        assert {client.get(url).status_code for url in urls} == {403}
        assert {client.post(url, {"reason": "x"}).status_code for url in urls} == {403}
        page = client.get(reverse("web:patient", args=[patient.pk])).content.decode()
        assert "Rash" in page and reverse("web:adverse-event-edit", args=[event.pk]) not in page
    assert HRCTAssessment.objects.count() == 1 and AdverseEvent.objects.count() == 1
