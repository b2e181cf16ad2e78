"""The `classification` object of the submission document: read once, stored through its
service, named by path when bad, previewed in a dry run, read back by the patient API."""

import copy

import pytest

from crf.models import ClassificationAssessment
from registry.models import AuditEvent, Patient
from scoring.services import score_patients
from tests.api.conftest import patient_document, token_client
from tests.factories import MembershipFactory, SiteFactory

URL = "/api/v1/submissions/"

CLASSIFICATION = {
    "assessed_on": "2020-01-08",
    "muscle_biopsy": False,
    "items": {
        "weakness_proximal_upper": True,
        "weakness_proximal_lower": True,
        "heliotrope": True,
        "gottron_papules": True,
        "dysphagia": False,
    },
    "finger_flexor_weakness": False,
    "treatment_response": "not_treated",
}


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def submitter(site):
    return token_client(MembershipFactory(site=site, role="submitter").user)


@pytest.fixture
def reader(site):
    return token_client(MembershipFactory(site=site, role="investigator").user)


def document(classification=CLASSIFICATION, **changes):
    patient = patient_document("MAN-0001", visits=2, **changes)
    patient["classification"] = copy.deepcopy(classification)
    return {"site": "MAN", "patients": [patient]}


def errors_of(body):
    return {item["field"] for item in body["errors"]}


@pytest.mark.parametrize("upsert", [False, True], ids=["new", "stored"])
def test_stored_and_read_back_with_its_classification(site, submitter, reader, upsert):
    if upsert:
        # A stored patient without an assessment: the row-by-row writer adds it.
        first = document()
        del first["patients"][0]["classification"]
        assert submitter.post(URL, first, format="json").status_code == 200
    response = submitter.post(URL, document(), format="json")
    assert response.status_code == 200, response.content
    entry = response.json()["patients"][0]["classification"]
    assessment = ClassificationAssessment.objects.get()
    assert (entry["status"], entry["id"], entry["errors"]) == ("created", assessment.pk, [])
    # Scored on commit: eagerly before the answer, or by a worker (here: now).
    assert entry["scoring"]["status"] in {"scored", "pending"}
    assert (
        AuditEvent.objects.filter(
            object_type="crf.classificationassessment", action="create", source="api"
        ).count()
        == 1
    )

    patient = Patient.objects.get()
    score_patients(patient_ids=[patient.pk])
    body = reader.get(f"/api/v1/patients/{patient.pk}/").json()
    shown = body["classification"]
    assert shown["scoring"]["status"] == "scored"
    sent = {key: value for key, value in shown.items() if key != "scoring"}
    assert sent["items"]["heliotrope"] is True and sent["items"]["gottron_sign"] is None
    assert {k: v for k, v in sent["items"].items() if v is not None} == CLASSIFICATION["items"]
    result = shown["scoring"]["result"]
    # Onset at 50 (A2 2.1) + W1 0.7 + W2 0.8 + S1 3.1 + S2 2.1 + L2 1.3 (CK 2000 > 200, derived)
    assert result["score"] == "10.1"
    assert (result["category"], result["subgroup"]) == ("definite", "dm")
    assert result["derived"] == ["enzymes_raised"]
    assert result["points"]["L2"] == "1.3" and result["intercept"] == "5.30"
    assert result["complete"] is False and "anti_jo1" in result["missing"]
    assert result["biopsy_recommended"] is False and result["probability"] > 0.99

    # What the API reads back is a document the submission accepts, unchanged.
    again = document(sent)
    response = submitter.post(URL, again, format="json")
    patient_answer = response.json()["patients"][0]
    assert patient_answer["status"] == "unchanged"
    assert patient_answer["classification"]["status"] == "unchanged"
    assert patient_answer["classification"]["id"] == assessment.pk


def test_a_changed_answer_updates_it(site, submitter):
    submitter.post(URL, document(), format="json")
    changed = copy.deepcopy(CLASSIFICATION)
    changed["items"]["gottron_sign"] = True  # adds data: no reason needed
    body = submitter.post(URL, document(changed), format="json").json()
    assert body["patients"][0]["status"] == "updated"
    assert body["patients"][0]["classification"]["status"] == "updated"
    assert ClassificationAssessment.objects.get().gottron_sign is True


def test_correcting_a_submitted_patients_answer_needs_a_reason(site, submitter):
    submitter.post(URL, document(), format="json")
    changed = copy.deepcopy(CLASSIFICATION)
    changed["items"]["heliotrope"] = False
    body = submitter.post(URL, document(changed), format="json").json()
    assert "patients[0].reason" in errors_of(body)
    assert ClassificationAssessment.objects.get().heliotrope is True
    fixed = document(changed)
    fixed["patients"][0]["reason"] = "rash was eczema"
    body = submitter.post(URL, fixed, format="json").json()
    assert body["patients"][0]["classification"]["status"] == "updated"
    event = AuditEvent.objects.get(object_type="crf.classificationassessment", field="heliotrope")
    assert event.reason == "rash was eczema"


def test_bad_values_are_named_by_path_and_nothing_is_stored(site, submitter):
    bad = copy.deepcopy(CLASSIFICATION)
    bad["items"]["heliotrope"] = "yes"
    bad["items"]["rimmed_vacuoles"] = True  # without a biopsy
    bad["items"]["aldolase_raised"] = True
    bad["age_at_onset"] = 50  # from the patient, never the document
    bad["treatment_response"] = "better"
    del bad["assessed_on"]
    response = submitter.post(URL, document(bad), format="json")
    assert response.status_code == 400
    body = response.json()
    prefix = "patients[0].classification"
    assert {
        f"{prefix}.items.heliotrope",
        f"{prefix}.items.rimmed_vacuoles",
        f"{prefix}.items.aldolase_raised",
        f"{prefix}.age_at_onset",
        f"{prefix}.treatment_response",
        f"{prefix}.assessed_on",
    } <= errors_of(body)
    entry = body["patients"][0]["classification"]
    assert entry["status"] == "error" and entry["scoring"]["status"] == "not_stored"
    assert {item["field"] for item in entry["errors"]} <= errors_of(body)
    assert not Patient.objects.exists()


def test_not_an_object_is_an_error_on_its_path(site, submitter):
    body = submitter.post(URL, document("yes"), format="json").json()
    assert "patients[0].classification" in errors_of(body)


def test_dry_run_previews_the_classification_and_stores_nothing(site, submitter):
    response = submitter.post(URL + "?dry_run=true", document(), format="json")
    entry = response.json()["patients"][0]["classification"]
    assert entry["status"] == "created" and entry["id"] is None
    assert entry["scoring"]["status"] == "preview"
    assert entry["scoring"]["result"]["score"] == "10.1"
    assert not ClassificationAssessment.objects.exists()
    assert not Patient.objects.exists()


def test_a_patient_without_one_reads_null(site, submitter, reader):
    plain = document()
    del plain["patients"][0]["classification"]
    body = submitter.post(URL, plain, format="json").json()
    assert "classification" not in body["patients"][0]
    patient = Patient.objects.get()
    assert reader.get(f"/api/v1/patients/{patient.pk}/").json()["classification"] is None
