"""The submission document: a patient carries an optional `reason` for correcting its own fields and
its nested lists (issue 13). Once the patient has a visit past draft, a correction without one is
that patient's error, naming `patients[i].reason`, with nothing of the patient stored; adding data
needs none."""

import copy

import pytest

from crf.models import Visit
from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from tests.api.conftest import patient_document, token_client
from tests.factories import MembershipFactory, SiteFactory

URL = "/api/v1/submissions/"


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def submitter(site):
    return token_client(MembershipFactory(site=site, role="submitter").user)


@pytest.fixture
def stored(site, submitter):
    """A patient stored by a submission: its visits are submitted."""
    document = patient_document("MAN-0001", visits=2)
    answer = submitter.post(URL, {"site": "MAN", "patients": [document]}, format="json")
    assert answer.json()["patients"][0]["status"] == "created", answer.content
    return document


def send(client, *patients):
    answer = client.post(URL, {"site": "MAN", "patients": list(patients)}, format="json")
    stored = any(p["status"] != "error" for p in answer.json()["patients"])
    assert answer.status_code == (200 if stored else 400), answer.content  # 400: nothing stored
    return answer.json()["patients"]


def clinical_events():
    return AuditEvent.objects.exclude(object_type="registry.apitoken")


def state():
    """Everything stored of the patients, to show that a refused patient stored nothing."""
    return (
        list(Patient.objects.values()),
        list(AutoantibodyResult.objects.values()),
        list(TreatmentEpisode.objects.values()),
        list(Visit.objects.values()),
        clinical_events().count(),
    )


CORRECTIONS = {
    "diagnosis": lambda p: p.update(diagnosis="polymyositis"),
    "sex": lambda p: p.update(sex="male"),
    "diagnosis_date removed": lambda p: p.update(diagnosis_date=None),
    "antibody result": lambda p: p["autoantibodies"][0].update(result="negative"),
    "treatment dose": lambda p: p["treatments"][0].update(dose=1),
}


@pytest.mark.parametrize("correct", CORRECTIONS.values(), ids=CORRECTIONS.keys())
def test_a_correction_without_a_reason_is_the_patients_error(submitter, stored, correct):
    document = copy.deepcopy(stored)
    correct(document)
    document["visits"][1]["physician_global"] = 1.0  # with a visit change and its own reason:
    document["visits"][1]["reason"] = "corrected from the source notes"  # not stored either
    before = state()

    (patient,) = send(submitter, document)

    assert patient["status"] == "error"
    assert [e["field"] for e in patient["errors"]] == ["patients[0].reason"]
    assert "reason" in patient["errors"][0]["message"].lower()
    assert state() == before


@pytest.mark.parametrize("correct", CORRECTIONS.values(), ids=CORRECTIONS.keys())
def test_with_the_patients_reason_the_correction_is_stored_and_audited(submitter, stored, correct):
    document = copy.deepcopy(stored)
    correct(document)
    document["reason"] = "checked against the hospital record"
    events = set(clinical_events().values_list("pk", flat=True))

    (patient,) = send(submitter, document)

    assert patient["status"] == "updated"
    new = clinical_events().exclude(pk__in=events)
    assert new.exists()
    assert set(new.values_list("reason", flat=True)) == {"checked against the hospital record"}


def test_the_patients_reason_covers_its_visits_that_give_none(submitter, stored):
    document = copy.deepcopy(stored)
    document["reason"] = "re-entered from the source notes"
    document["visits"][1]["physician_global"] = 1.0

    (patient,) = send(submitter, document)

    assert patient["visits"][1]["status"] == "updated"
    event = AuditEvent.objects.get(object_type="crf.visit", field="physician_global")
    assert event.reason == "re-entered from the source notes"


def test_adding_data_needs_no_reason(submitter, stored):
    document = copy.deepcopy(stored)
    document["autoantibodies"].append(
        {"antibody": "anti-Ro52", "result": "negative", "method": "line_blot",
         "sample_date": "2019-05-02"}
    )  # fmt: skip
    document["treatments"].append({"drug": "rituximab", "start_date": "2020-02-01"})
    document["treatments"][0].update(stop_date="2020-06-01", stop_reason="remission")
    later = copy.deepcopy(document["visits"][1])
    later.update(visit_date="2020-05-08", physician_global=0.5)
    document["visits"].append(later)

    (patient,) = send(submitter, document)

    assert patient["status"] == "updated", patient
    assert [v["status"] for v in patient["visits"]] == ["unchanged", "unchanged", "created"]
    assert AutoantibodyResult.objects.count() == 2
    assert TreatmentEpisode.objects.filter(stop_date__isnull=False).count() == 1
    assert TreatmentEpisode.objects.count() == 2


def test_a_new_patient_needs_no_reason_and_the_others_are_not_held_back(submitter, stored):
    corrected = {**copy.deepcopy(stored), "diagnosis": "polymyositis"}
    new = patient_document("MAN-0002")

    refused, created = send(submitter, corrected, new)

    assert refused["status"] == "error"
    assert refused["errors"][0]["field"] == "patients[0].reason"
    assert created["status"] == "created"


@pytest.mark.parametrize(("reason", "message"), [(12, "string"), ("x" * 2001, "2000")])
def test_a_reason_must_be_text(submitter, stored, reason, message):
    document = {**copy.deepcopy(stored), "diagnosis": "polymyositis", "reason": reason}

    (patient,) = send(submitter, document)

    assert patient["status"] == "error"
    assert [e["field"] for e in patient["errors"]] == ["patients[0].reason"]
    assert message in patient["errors"][0]["message"]
    assert Patient.objects.get().diagnosis == "dermatomyositis"
