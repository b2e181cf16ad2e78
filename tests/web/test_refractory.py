"""Refractory status on the patient page and its attestation: an investigator of the patient's
site re-enters the password; other roles are refused (403), another site's investigator sees
nothing (404)."""

from datetime import date

import pytest
from django.urls import reverse

from crf.models import RefractoryAttestation
from registry.audit import Actor
from registry.models import AuditEvent
from registry.services import treatment_upsert
from scoring.models import RefractoryRecord
from tests.web.conftest import member


@pytest.fixture
def candidate(patient, coordinator, django_capture_on_commit_callbacks):
    actor = Actor(user=coordinator, source="web")
    for drug, start, stop, reason in (
        ("prednisone", date(2020, 1, 1), date(2020, 3, 1), "inefficacy"),
        ("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "adverse_event"),
    ):
        values = {"drug": drug, "start_date": start, "stop_date": stop, "stop_reason": reason}
        with django_capture_on_commit_callbacks(execute=True):
            treatment_upsert(actor=actor, patient=patient, values=values)
    assert RefractoryRecord.objects.get(patient=patient).status == "candidate"
    return patient


def attest(client, patient, password="pw"):
    url = reverse("web:refractory-attest", args=[patient.pk])
    return client.post(url, {"meaning": "exclusion", "password": password})


def test_patient_page_shows_the_status_and_the_attest_button(client, investigator, candidate):
    client.force_login(investigator)
    page = client.get(reverse("web:patient", args=[candidate.pk])).content.decode()
    assert "Refractory candidate" in page
    assert "Prednisone" in page and "Not tolerated (adverse event)" in page
    assert reverse("web:refractory-attest", args=[candidate.pk]) in page


def test_investigator_confirms_a_candidate_by_re_entering_the_password(
    client, investigator, candidate
):
    client.force_login(investigator)
    assert attest(client, candidate).status_code == 302
    record = RefractoryRecord.objects.get(patient=candidate)
    assert record.status == "confirmed"
    attestation = RefractoryAttestation.objects.get()
    assert (record.attestation, attestation.attested_by) == (attestation, investigator)
    assert AuditEvent.objects.filter(
        object_type="crf.refractoryattestation", action="create", actor=investigator
    ).exists()
    page = client.get(reverse("web:patient", args=[candidate.pk])).content.decode()
    assert "Refractory, confirmed" in page


def test_wrong_password_is_refused_and_stores_nothing(client, investigator, candidate):
    client.force_login(investigator)
    answer = attest(client, candidate, password="wrong")
    assert answer.status_code == 400
    assert "The password is not correct." in answer.content.decode()
    assert not RefractoryAttestation.objects.exists()
    assert RefractoryRecord.objects.get(patient=candidate).status == "candidate"


def test_a_patient_who_is_not_a_candidate_cannot_be_confirmed(client, investigator, patient):
    client.force_login(investigator)
    answer = attest(client, patient)
    assert answer.status_code == 400
    assert "Only a refractory candidate can be confirmed" in answer.content.decode()
    assert not RefractoryAttestation.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "monitor", "data_manager"])
def test_roles_that_may_not_attest_are_refused(client, site, candidate, role):
    client.force_login(member(None if role == "data_manager" else site, role, f"{role}-x"))
    assert attest(client, candidate).status_code == 403
    assert not RefractoryAttestation.objects.exists()


def test_another_sites_investigator_does_not_see_the_patient(client, other_site, candidate):
    client.force_login(member(other_site, "investigator", "inv-lds"))
    assert attest(client, candidate).status_code == 404
    assert not RefractoryAttestation.objects.exists()


def test_treatment_form_offers_the_codes_and_reads_free_text(
    client, coordinator, patient, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    page = client.get(reverse("web:treatment-new", args=[patient.pk])).content.decode()
    assert 'value="adverse_event"' in page and 'name="stop_reason_other"' in page
    data = {"drug": "azathioprine", "start_date": "2020-02-01", "stop_date": "2020-05-01",
            "stop_reason": "other", "stop_reason_other": "moved abroad"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("web:treatment-new", args=[patient.pk]), data).status_code == 302
    episode = patient.treatments.get()
    assert (episode.stop_reason, episode.stop_reason_other) == ("other", "moved abroad")
    # The other text only beside "other".
    data.update(stop_reason="completed", stop_reason_other="x")
    edit = reverse("web:treatment-edit", args=[episode.pk])
    answer = client.post(edit, {**data, "reason": "typo"})
    assert answer.status_code == 200
    assert "only with stop_reason" in answer.content.decode()
