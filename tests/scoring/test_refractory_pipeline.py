"""The refractory status in the scoring pipeline: written in the pass that scores a patient, from
the stored response records of each episode, recomputed when a treatment changes, audited."""

from datetime import date

import pytest

from registry.models import AuditEvent
from registry.services import treatment_upsert
from scoring.models import EpisodeRefractory, RefractoryRecord
from scoring.services import score_patients
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db

IMPROVED = {"physician_global": 3.0, "patient_global": 4.0, "extramuscular": 2.0, "mmt": 9,
            "ck": 500}  # fmt: skip


@pytest.fixture
def patient():
    return PatientFactory(birth_year=1968)


@pytest.fixture
def treat(patient, editor, on_commit):
    def treat(drug, start, stop=None, reason="", episode=None):
        values = {"drug": drug, "start_date": start, "stop_date": stop, "stop_reason": reason}
        with on_commit():
            found, _ = treatment_upsert(
                actor=editor, patient=patient, values=values, episode=episode
            )
        return found

    return treat


def record(patient):
    return RefractoryRecord.objects.get(patient=patient)


def test_failed_courses_by_their_scores_make_a_candidate(patient, save_visit, treat):
    # The example visit repeated unchanged: no response against any baseline.
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-03-01"))
    save_visit(patient, visit_doc("2020-05-01"))
    prednisone = treat("prednisone", date(2020, 1, 10), date(2020, 3, 10), "completed")
    methotrexate = treat("methotrexate", date(2020, 1, 10), date(2020, 4, 20), "completed")

    found = record(patient)
    assert (found.status, found.as_of) == ("candidate", date(2020, 5, 1))
    rows = {(row["episode"], row["role"], row["reason"]) for row in found.episodes}
    assert rows == {(prednisone.pk, "gc", "failed"), (methotrexate.pk, "is", "failed")}
    gc_row = next(row for row in found.episodes if row["role"] == "gc")
    # Judged at the stop date on the latest visit scored against the episode's baseline.
    assert (gc_row["evaluated_on"], gc_row["visit_date"], gc_row["doi_met"]) == (
        "2020-03-10",
        "2020-03-01",
        False,
    )
    assert found.parameters["immunosuppressant_min_days"] == 84
    assert found.computed_at is not None and found.fingerprint


def test_a_response_at_the_evaluation_date_is_not_a_failure(patient, save_visit, treat):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-03-01", **IMPROVED))
    treat("prednisone", date(2020, 1, 10), date(2020, 3, 10), "completed")
    treat("methotrexate", date(2020, 1, 10), date(2020, 4, 20), "inefficacy")
    found = record(patient)
    assert found.status == "no"
    assert [row["role"] for row in found.episodes] == ["is"]


def test_a_treatment_change_recomputes_the_status_audited(patient, treat):
    treat("prednisone", date(2020, 1, 1), date(2020, 3, 1), "inefficacy")  # 60 days
    methotrexate = treat("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "adverse_event")
    assert record(patient).status == "candidate"
    events = AuditEvent.objects.filter(object_type="scoring.refractoryrecord", source="scoring")
    assert events.get(action="create").patient_id == patient.pk

    # A correction: the methotrexate was stopped because the course was completed.
    treat("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "completed", episode=methotrexate)
    assert record(patient).status == "no"
    change = events.filter(action="update", field="status").order_by("id").last()
    assert (change.old_value, change.new_value, change.reason) == (
        "candidate",
        "no",
        "inputs changed",
    )


def test_rescoring_unchanged_inputs_writes_nothing(patient, treat):
    treat("prednisone", date(2020, 1, 1), date(2020, 3, 1), "inefficacy")
    treat("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "adverse_event")
    events = AuditEvent.objects.count()
    computed_at = record(patient).computed_at
    score_patients(patient_ids=[patient.pk])
    assert AuditEvent.objects.count() == events
    assert record(patient).computed_at == computed_at


def test_status_at_each_episode_start_uses_what_was_known_then(patient, treat):
    prednisone = treat("prednisone", date(2020, 1, 1), date(2020, 3, 1), "inefficacy")
    methotrexate = treat("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "adverse_event")
    rituximab = treat("rituximab", date(2020, 4, 15))
    at_start = dict(EpisodeRefractory.objects.values_list("episode_id", "status"))
    assert at_start == {
        prednisone.pk: "no",
        methotrexate.pk: "no",
        # Methotrexate stopped for an adverse event the day rituximab started.
        rituximab.pk: "candidate",
    }
