"""The submission document's vital_status, lung, hrct and adverse_events: read, stored through the
writer's paths (new patients together, the rest upserted), answered per record, read back."""

import copy

import pytest

from crf.models import AdverseEvent, AdverseEventRelation, HRCTAssessment, LungStatus, VitalStatus
from registry.models import AuditEvent
from tests.api.conftest import patient_document, token_client
from tests.factories import MembershipFactory, SiteFactory

URL = "/api/v1/submissions/"

OUTCOMES = {
    "vital_status": {
        "status": "dead",
        "last_known_alive": "2023-03-01",
        "death_date": "2023-03-04",
        "cause_category": "interstitial_lung_disease",
        "cause_text": "RP-ILD",
        "source": "medical_records",
    },
    "lung": {"ild": "yes", "ild_onset_date": "2020-11-02", "rapidly_progressive": True},
    "hrct": [
        {"date": "2020-11-05", "pattern": "nsip_op", "progression": None},
        {"date": "2021-05-05", "pattern": "nsip_op", "progression": True},
    ],
    "adverse_events": [
        {
            "term": "Deep vein thrombosis",
            "category": "thromboembolic",
            "onset_date": "2020-01-20",
            "end_date": "2020-02-15",
            "severity": "moderate",
            "ctcae_grade": 2,
            "serious": True,
            "serious_criteria": ["hospitalisation"],
            "related_to": [
                {
                    "drug": "ivig",
                    "start_date": "2020-01-10",
                    "relatedness": "probable",
                    "action": "interrupted",
                }
            ],
            "outcome": "recovered",
        },
        {
            "term": "Respiratory failure",
            "category": "other",
            "onset_date": "2023-02-20",
            "end_date": "2023-03-04",
            "severity": "severe",
            "ctcae_grade": 5,
            "serious": True,
            "serious_criteria": ["death", "hospitalisation"],
            "related_to": [],
            "outcome": "fatal",
        },
    ],
}


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def submitter(site):
    return token_client(MembershipFactory(site=site, role="submitter").user)


def document(**changes) -> dict:
    patient = patient_document("MAN-0001", **copy.deepcopy(OUTCOMES))
    patient.update(changes)
    return {"site": "MAN", "patients": [patient]}


def submit(client, body, query=""):
    return client.post(URL + query, body, format="json")


def fields(body: dict) -> set[str]:
    return {item["field"] for item in body["errors"]}


def clinical_events():
    return AuditEvent.objects.exclude(object_type="registry.apitoken")


def test_a_new_patient_is_created_with_its_outcome_records_and_read_back(site, submitter):
    response = submit(submitter, document())
    assert response.status_code == 200, response.content
    patient = response.json()["patients"][0]
    assert patient["status"] == "created"
    assert patient["vital_status"] == {"status": "created", "id": VitalStatus.objects.get().pk}
    assert patient["lung"] == {"status": "created", "id": LungStatus.objects.get().pk}
    assert [r["date"] for r in patient["hrct"]] == ["2020-11-05", "2021-05-05"]
    assert {r["id"] for r in patient["adverse_events"]} == set(
        AdverseEvent.objects.values_list("pk", flat=True)
    )
    relation = AdverseEventRelation.objects.get()
    assert (relation.episode.drug, relation.relatedness) == ("ivig", "probable")
    # One "create" event per record, as for the other nested rows.
    for model, count in (
        ("crf.vitalstatus", 1),
        ("crf.lungstatus", 1),
        ("crf.hrctassessment", 2),
        ("crf.adverseevent", 2),
        ("crf.adverseeventrelation", 1),
    ):
        assert clinical_events().filter(object_type=model, action="create").count() == count
    read = submitter.get(f"/api/v1/patients/{patient['id']}/").json()
    for key in ("vital_status", "lung", "hrct", "adverse_events"):
        sent = OUTCOMES[key]
        if key == "adverse_events":
            sent = sorted(sent, key=lambda e: e["onset_date"])
        assert read[key] == sent, key


def test_re_sending_changes_nothing_on_either_path(site, submitter):
    submit(submitter, document())
    events = clinical_events().count()
    again = submit(submitter, document()).json()["patients"][0]
    assert again["status"] == "unchanged"
    assert {r["status"] for r in (again["vital_status"], again["lung"], *again["hrct"])} == {
        "unchanged"
    }
    assert {r["status"] for r in again["adverse_events"]} == {"unchanged"}
    # A document naming a stored episode that it does not carry goes through the upsert.
    body = document()
    del body["patients"][0]["treatments"]
    assert submit(submitter, body).json()["patients"][0]["status"] == "unchanged"
    assert clinical_events().count() == events


def test_a_changed_adverse_event_is_updated_and_the_others_are_unchanged(site, submitter):
    submit(submitter, document())
    body = document()
    body["patients"][0]["adverse_events"][0]["severity"] = "severe"
    body["patients"][0]["reason"] = "graded again from the discharge letter"
    patient = submit(submitter, body).json()["patients"][0]
    assert patient["status"] == "updated"
    assert [r["status"] for r in patient["adverse_events"]] == ["updated", "unchanged"]
    event = clinical_events().get(action="update")
    assert (event.field, event.old_value, event.new_value) == ("severity", "moderate", "severe")
    assert event.reason == "graded again from the discharge letter"


def test_a_correction_without_the_patients_reason_is_refused(site, submitter):
    submit(submitter, document())
    body = document()
    body["patients"][0]["hrct"][1]["pattern"] = "uip"
    patient = submit(submitter, body).json()["patients"][0]
    assert patient["status"] == "error"
    assert [e["field"] for e in patient["errors"]] == ["patients[0].reason"]
    assert HRCTAssessment.objects.get(date="2021-05-05").pattern == "nsip_op"


def test_a_year_month_date_of_death_is_the_15th_and_read_back_as_sent(site, submitter):
    body = document()
    body["patients"][0]["vital_status"].update(death_date="2023-03", last_known_alive=None)
    response = submit(submitter, body)
    assert response.status_code == 200, response.content
    vital = VitalStatus.objects.get()
    assert (str(vital.death_date), vital.death_date_precision) == ("2023-03-15", "month")
    read = submitter.get(f"/api/v1/patients/{vital.patient_id}/").json()
    assert read["vital_status"]["death_date"] == "2023-03"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda p: p.update(vital_status=[]), "vital_status"),
        (lambda p: p["vital_status"].update(status="deceased"), "vital_status.status"),
        (lambda p: p["vital_status"].update(death_date="04/03/2023"), "vital_status.death_date"),
        (lambda p: p["vital_status"].update(death_date="2023-13"), "vital_status.death_date"),
        (lambda p: p["vital_status"].update(death_date="2999-01-01"), "vital_status.death_date"),
        (
            lambda p: p["vital_status"].update(cause_category="sepsis"),
            "vital_status.cause_category",
        ),
        (lambda p: p["vital_status"].update(source=3), "vital_status.source"),
        (lambda p: p["vital_status"].update(colour="x"), "vital_status.colour"),
        (lambda p: p["vital_status"].update(death_date=None), "vital_status.death_date"),
        (lambda p: p["vital_status"].update(status="alive"), "vital_status.death_date"),
        (lambda p: p["lung"].update(ild="maybe"), "lung.ild"),
        (lambda p: p["lung"].update(ild_onset_date="2020-11"), "lung.ild_onset_date"),
        (lambda p: p["lung"].update(rapidly_progressive="yes"), "lung.rapidly_progressive"),
        (lambda p: p["lung"].update(ild="no"), "lung.ild_onset_date"),
        (lambda p: p.update(hrct={}), "hrct"),
        (lambda p: p["hrct"][0].update(pattern="ground glass"), "hrct[0].pattern"),
        (lambda p: p["hrct"][0].pop("date"), "hrct[0].date"),
        (lambda p: p["hrct"][1].update(progression=1), "hrct[1].progression"),
        (lambda p: p["adverse_events"][0].update(term=""), "adverse_events[0].term"),
        (lambda p: p["adverse_events"][0].update(category="bleed"), "adverse_events[0].category"),
        (lambda p: p["adverse_events"][0].update(onset_date=20), "adverse_events[0].onset_date"),
        (
            lambda p: p["adverse_events"][0].update(end_date="2020-01-01"),
            "adverse_events[0].end_date",
        ),
        (lambda p: p["adverse_events"][0].update(severity="bad"), "adverse_events[0].severity"),
        (lambda p: p["adverse_events"][0].update(ctcae_grade=6), "adverse_events[0].ctcae_grade"),
        (
            lambda p: p["adverse_events"][0].update(ctcae_grade=2.5),
            "adverse_events[0].ctcae_grade",
        ),
        (lambda p: p["adverse_events"][0].pop("serious"), "adverse_events[0].serious"),
        (
            lambda p: p["adverse_events"][0].update(serious_criteria=[]),
            "adverse_events[0].serious_criteria",
        ),
        (
            lambda p: p["adverse_events"][0].update(serious_criteria=["hospitalization"]),
            "adverse_events[0].serious_criteria[0]",
        ),
        (lambda p: p["adverse_events"][0].update(outcome="cured"), "adverse_events[0].outcome"),
        (
            lambda p: p["adverse_events"][0]["related_to"][0].update(relatedness="likely"),
            "adverse_events[0].related_to[0].relatedness",
        ),
        (
            lambda p: p["adverse_events"][0]["related_to"][0].update(action="stopped"),
            "adverse_events[0].related_to[0].action",
        ),
        (
            lambda p: p["adverse_events"][0]["related_to"][0].update(drug="aspirin"),
            "adverse_events[0].related_to[0].drug",
        ),
        (
            lambda p: p["adverse_events"][0]["related_to"][0].update(start_date="2020-01-11"),
            "adverse_events[0].related_to[0]",
        ),
        (
            lambda p: p["adverse_events"][1].update(onset_date="2023-03-05", end_date=None),
            "adverse_events[1].outcome",
        ),
    ],
)
def test_every_bad_value_is_named_and_nothing_is_stored(site, submitter, change, path):
    body = document()
    change(body["patients"][0])
    response = submit(submitter, body)
    assert response.status_code == 400, response.content
    assert f"patients[0].{path}" in fields(response.json())
    assert not VitalStatus.objects.exists() and not AdverseEvent.objects.exists()


def test_an_unknown_episode_is_named_for_a_stored_patient_too(site, submitter):
    submit(submitter, document())
    body = document()
    body["patients"][0]["adverse_events"][0]["related_to"][0]["drug"] = "rituximab"
    del body["patients"][0]["treatments"]
    response = submit(submitter, body)
    assert fields(response.json()) == {"patients[0].adverse_events[0].related_to[0]"}
    assert AdverseEventRelation.objects.get().episode.drug == "ivig"


def test_a_fatal_event_needs_the_patient_dead_for_a_stored_patient(site, submitter):
    body = document()
    del body["patients"][0]["vital_status"]
    body["patients"][0]["adverse_events"].pop()
    submit(submitter, body)
    body = document()
    del body["patients"][0]["vital_status"]
    response = submit(submitter, body)
    assert fields(response.json()) == {"patients[0].adverse_events[1].outcome"}


def test_dry_run_stores_nothing_and_hands_out_no_ids(site, submitter):
    response = submit(submitter, document(), query="?dry_run=true")
    assert response.status_code == 200, response.content
    patient = response.json()["patients"][0]
    assert patient["vital_status"] == {"status": "created", "id": None}
    assert {r["id"] for r in patient["hrct"] + patient["adverse_events"]} == {None}
    assert not VitalStatus.objects.exists() and not AdverseEvent.objects.exists()
    assert not clinical_events().exists()
    # On a stored patient, an update is previewed and rolled back.
    submit(submitter, document())
    body = document()
    body["patients"][0]["lung"]["rapidly_progressive"] = False
    body["patients"][0]["reason"] = "re-read"
    patient = submit(submitter, body, query="?dry_run=1").json()["patients"][0]
    assert patient["lung"]["status"] == "updated"
    assert LungStatus.objects.get().rapidly_progressive is True


def test_the_schema_describes_the_outcome_keys(db):
    from api.schema.documents import RELATED_TO, components

    schemas = components()
    patient = schemas["SubmissionPatient"]["properties"]
    assert {"vital_status", "lung", "hrct", "adverse_events"} <= set(patient)
    related = schemas["SubmissionAdverseEvent"]["properties"]["related_to"]["items"]
    assert set(related["properties"]) == RELATED_TO
