"""The services of vital status, lung status, HRCT and adverse events: rules, audit, reasons."""

from dataclasses import replace
from datetime import date

import pytest

from crf.models import AdverseEvent, AdverseEventRelation, HRCTAssessment, VitalStatus
from crf.outcomes import (
    RelationValues,
    adverse_event_delete,
    adverse_event_upsert,
    hrct_delete,
    hrct_upsert,
    lung_save,
    vital_status_save,
)
from registry.errors import InputError
from registry.models import AuditEvent
from registry.signals import scoring_inputs_changed
from tests.factories import PatientFactory, TreatmentFactory, VisitFactory

pytestmark = pytest.mark.django_db


def fields(exc: InputError) -> set[str]:
    return {path for path, _ in exc.errors}


def _ae(**changes):
    values = {
        "term": "Deep vein thrombosis",
        "category": "thromboembolic",
        "onset_date": date(2023, 1, 20),
        "end_date": date(2023, 2, 15),
        "severity": "moderate",
        "ctcae_grade": 2,
        "serious": True,
        "criterion_hospitalisation": True,
        "outcome": "recovered",
    }
    values.update(changes)
    return values


DEAD = {
    "status": "dead",
    "death_date": date(2023, 3, 4),
    "death_date_precision": "day",
    "cause_category": "interstitial_lung_disease",
    "cause_text": "RP-ILD",
    "source": "medical_records",
}
FATAL = {
    "serious": True,
    "criterion_hospitalisation": False,
    "criterion_death": True,
    "outcome": "fatal",
    "ctcae_grade": 5,
    "end_date": date(2023, 3, 4),
}


@pytest.fixture
def scored(monkeypatch):
    asked: list[frozenset] = []

    def receiver(sender, patient_ids, **kwargs):
        asked.append(patient_ids)

    scoring_inputs_changed.connect(receiver, dispatch_uid="test_outcomes")
    yield asked
    scoring_inputs_changed.disconnect(dispatch_uid="test_outcomes")


def test_vital_status_created_audited_scored_and_unchanged_again(
    command_actor, scored, django_capture_on_commit_callbacks
):
    patient = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        vital, status = vital_status_save(actor=command_actor, patient=patient, values=DEAD)
    assert status == "created"
    assert scored == [frozenset({patient.pk})]
    event = AuditEvent.objects.get(object_type="crf.vitalstatus")
    assert (event.action, event.patient_id, event.site_id) == (
        "create",
        patient.pk,
        patient.site_id,
    )
    again, status = vital_status_save(actor=command_actor, patient=patient, values=DEAD)
    assert (again.pk, status) == (vital.pk, "unchanged")
    # The scoring pass audits the derived outcomes it wrote (source "scoring"); the data: once.
    assert AuditEvent.objects.exclude(source=AuditEvent.Source.SCORING).count() == 1


def test_vital_status_rules_name_the_field(command_actor):
    patient = PatientFactory()
    with pytest.raises(InputError) as caught:
        vital_status_save(
            actor=command_actor, patient=patient, values={"status": "dead"}, path="vital_status"
        )
    assert fields(caught.value) == {"vital_status.death_date"}
    with pytest.raises(InputError) as caught:
        vital_status_save(
            actor=command_actor, patient=patient, values={"status": "alive", "cause_text": "x"}
        )
    assert fields(caught.value) == {"cause_text"}
    assert not VitalStatus.objects.exists()


def test_correction_needs_a_reason_once_a_visit_is_submitted_but_follow_up_does_not(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status="submitted")
    alive = {"status": "alive", "last_known_alive": date(2022, 1, 1)}
    vital_status_save(actor=command_actor, patient=patient, values=alive)
    # Follow-up moves on: a later contact, then the death.
    later = {"status": "alive", "last_known_alive": date(2022, 6, 1)}
    assert vital_status_save(actor=command_actor, patient=patient, values=later)[1] == "updated"
    dead = {**DEAD, "last_known_alive": date(2023, 3, 1)}
    assert vital_status_save(actor=command_actor, patient=patient, values=dead)[1] == "updated"
    # Correcting the date of death is a correction.
    corrected = {**dead, "death_date": date(2023, 3, 5)}
    with pytest.raises(InputError) as caught:
        vital_status_save(
            actor=command_actor, patient=patient, values=corrected, path="patients[0].vital_status"
        )
    # The reason is the writer's (the patient document's `reason`), not the record's.
    assert fields(caught.value) == {"reason"}
    why = replace(command_actor, reason="death certificate")
    vital_status_save(actor=why, patient=patient, values=corrected)
    event = AuditEvent.objects.get(field="death_date", old_value__isnull=False)
    assert (event.old_value, event.new_value, event.reason) == (
        "2023-03-04",
        "2023-03-05",
        "death certificate",
    )


def test_lung_and_hrct(command_actor):
    patient = PatientFactory()
    lung, status = lung_save(
        actor=command_actor,
        patient=patient,
        values={"ild": "yes", "ild_onset_date": date(2022, 11, 2), "rapidly_progressive": True},
    )
    assert status == "created"
    with pytest.raises(InputError) as caught:
        lung_save(
            actor=command_actor,
            patient=patient,
            values={"ild": "no", "rapidly_progressive": False},
            path="lung",
        )
    assert fields(caught.value) == {"lung.rapidly_progressive"}
    # The record is replaced whole: the onset and rapid progression go with "no".
    assert lung_save(actor=command_actor, patient=patient, values={"ild": "no"})[1] == "updated"
    values = {"date": date(2022, 11, 5), "pattern": "nsip_op", "progression": False}
    scan, status = hrct_upsert(actor=command_actor, patient=patient, values=values)
    assert status == "created"
    assert hrct_upsert(actor=command_actor, patient=patient, values=values)[1] == "unchanged"
    scan, status = hrct_upsert(
        actor=command_actor, patient=patient, values={**values, "pattern": "uip"}
    )
    assert status == "updated"
    hrct_delete(actor=command_actor, assessment=scan)
    assert not HRCTAssessment.objects.exists()
    assert AuditEvent.objects.filter(object_type="crf.hrctassessment").count() == 3


def test_hrct_delete_needs_a_reason_past_draft(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status="submitted")
    scan, _ = hrct_upsert(
        actor=command_actor, patient=patient, values={"date": date(2022, 1, 1), "pattern": "op"}
    )
    with pytest.raises(InputError) as caught:
        hrct_delete(actor=command_actor, assessment=scan)
    assert fields(caught.value) == {"reason"}
    hrct_delete(actor=replace(command_actor, reason="duplicate"), assessment=scan)


def test_adverse_event_with_relations_audited_and_idempotent(command_actor):
    patient = PatientFactory()
    ivig = TreatmentFactory(patient=patient, drug="ivig", start_date=date(2022, 12, 1))
    prednisone = TreatmentFactory(patient=patient, drug="prednisone", start_date=date(2022, 11, 1))
    relations = [
        RelationValues(ivig, "probable", "interrupted"),
        RelationValues(prednisone, "unlikely", "none"),
    ]
    event, status = adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(), relations=relations
    )
    assert status == "created"
    assert event.serious_criteria == ["hospitalisation"]
    assert AdverseEventRelation.objects.filter(adverse_event=event).count() == 2
    assert AuditEvent.objects.filter(action="create").count() == 3
    again = adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(), relations=relations
    )
    assert again == (event, "unchanged")
    # Dropping a relation is a change of the event, one delete event.
    assert adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(), relations=relations[:1]
    ) == (event, "updated")
    assert AuditEvent.objects.filter(action="delete").count() == 1


def test_related_episodes_must_be_the_patients_own(command_actor):
    patient = PatientFactory()
    stranger = TreatmentFactory(patient=PatientFactory())
    with pytest.raises(InputError) as caught:
        adverse_event_upsert(
            actor=command_actor,
            patient=patient,
            values=_ae(),
            relations=[RelationValues(stranger, "possible", "none")],
            path="adverse_events[0]",
        )
    assert fields(caught.value) == {"adverse_events[0].related_to[0]"}
    assert not AdverseEvent.objects.exists()


def test_fatal_event_needs_the_patient_dead_on_or_after_onset(command_actor):
    patient = PatientFactory()
    with pytest.raises(InputError) as caught:
        adverse_event_upsert(actor=command_actor, patient=patient, values=_ae(**FATAL), path="ae")
    assert fields(caught.value) == {"ae.outcome"}
    vital_status_save(
        actor=command_actor, patient=patient, values={**DEAD, "death_date": date(2023, 1, 19)}
    )
    with pytest.raises(InputError):
        adverse_event_upsert(actor=command_actor, patient=patient, values=_ae(**FATAL))
    vital_status_save(actor=command_actor, patient=patient, values=DEAD)
    adverse_event_upsert(actor=command_actor, patient=patient, values=_ae(**FATAL))
    # The vital status cannot then be changed away from it.
    with pytest.raises(InputError) as caught:
        vital_status_save(
            actor=replace(command_actor, reason="x"),
            patient=patient,
            values={"status": "alive"},
            path="vs",
        )
    assert fields(caught.value) == {"vs.status"}


def test_a_year_month_death_covers_its_month(command_actor):
    patient = PatientFactory()
    vital_status_save(
        actor=command_actor,
        patient=patient,
        values={"status": "dead", "death_date": date(2023, 1, 15), "death_date_precision": "month"},
    )
    adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(**{**FATAL, "end_date": None})
    )


def test_bad_adverse_event_values_name_the_field(command_actor):
    patient = PatientFactory()
    for changes, field in (
        ({"end_date": date(2023, 1, 1)}, "ae.end_date"),
        ({"criterion_hospitalisation": False}, "ae.serious_criteria"),
        ({"ctcae_grade": 7}, "ae.ctcae_grade"),
        ({"severity": "extreme"}, "ae.severity"),
    ):
        with pytest.raises(InputError) as caught:
            adverse_event_upsert(
                actor=command_actor, patient=patient, values=_ae(**changes), path="ae"
            )
        assert field in fields(caught.value)
    assert not AdverseEvent.objects.exists()


def test_adverse_event_correction_and_deletion_need_a_reason_past_draft(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status="submitted")
    episode = TreatmentFactory(patient=patient)
    relation = [RelationValues(episode, "possible", "none")]
    event, _ = adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(end_date=None), relations=relation
    )
    # Adding the end date adds data; changing the relatedness corrects it.
    assert adverse_event_upsert(
        actor=command_actor, patient=patient, values=_ae(), relations=relation
    ) == (event, "updated")
    changed = [RelationValues(episode, "definite", "none")]
    with pytest.raises(InputError) as caught:
        adverse_event_upsert(actor=command_actor, patient=patient, values=_ae(), relations=changed)
    assert fields(caught.value) == {"reason"}
    assert AdverseEventRelation.objects.get().relatedness == "possible"
    why = replace(command_actor, reason="causality review")
    adverse_event_upsert(actor=why, patient=patient, values=_ae(), relations=changed)
    assert AuditEvent.objects.get(field="relatedness").reason == "causality review"
    with pytest.raises(InputError):
        adverse_event_delete(actor=command_actor, event=event)
    adverse_event_delete(actor=why, event=event)
    assert not AdverseEvent.objects.exists() and not AdverseEventRelation.objects.exists()
    deleted = AuditEvent.objects.filter(action="delete")
    assert sorted(deleted.values_list("object_type", flat=True)) == [
        "crf.adverseevent",
        "crf.adverseeventrelation",
    ]
