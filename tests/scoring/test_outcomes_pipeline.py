"""Derived outcomes in the scoring pipeline: written in the pass that scores a patient, from the
outcome data, recomputed when an input changes, left alone otherwise, every change audited."""

from datetime import date
from decimal import Decimal

import pytest

from crf.outcomes import (
    RelationValues,
    adverse_event_delete,
    adverse_event_upsert,
    lung_save,
    vital_status_save,
)
from registry.models import AuditEvent
from scoring.models import EpisodeAdverseEvent, EpisodeSurvival, FollowUp, LungProgression
from scoring.services import score_patients
from tests.factories import PatientFactory, TreatmentFactory, VisitFactory

pytestmark = pytest.mark.django_db

INFECTION = {
    "term": "Pneumonia",
    "category": "infection",
    "onset_date": date(2020, 3, 1),
    "end_date": date(2020, 3, 20),
    "severity": "severe",
    "serious": True,
    "criterion_hospitalisation": True,
    "outcome": "recovered",
}


@pytest.fixture
def patient():
    patient = PatientFactory(diagnosis_date=date(2019, 12, 1))
    VisitFactory(patient=patient, visit_date=date(2020, 1, 5), fvc_percent=Decimal("80"))
    VisitFactory(patient=patient, visit_date=date(2020, 4, 5), fvc_percent=Decimal("70"))
    return patient


def survival(episode, time_zero="episode", definition="relative_fvc10_dlco15"):
    return EpisodeSurvival.objects.get(episode=episode, time_zero=time_zero, definition=definition)


def scoring_events(model):
    return AuditEvent.objects.filter(
        source=AuditEvent.Source.SCORING, object_type=model._meta.label_lower
    )


def test_outcomes_are_derived_stored_and_audited(patient, editor, on_commit):
    episode = TreatmentFactory(
        patient=patient,
        drug="cyclophosphamide",
        start_date=date(2020, 1, 10),
        stop_date=date(2020, 2, 10),
    )
    with on_commit():
        lung_save(actor=editor, patient=patient, values={"ild": "yes"})
    follow_up = FollowUp.objects.get(patient=patient)
    assert (follow_up.last_known_alive, follow_up.death_date) == (date(2020, 4, 5), None)
    row = survival(episode)
    # Alive, last seen 2020-04-05: 86 days censored; FVC 80 → 70 (12.5 %) progressed that day.
    assert (row.os_days, row.os_event, row.pfs_days, row.pfs_event) == (86, False, 86, True)
    assert not EpisodeSurvival.objects.filter(episode=episode, time_zero="ild_onset").exists()
    assert survival(episode, "diagnosis").os_days == 126
    progression = LungProgression.objects.get(patient=patient, definition="relative_fvc10_dlco15")
    assert (progression.reference_date, progression.progressed_on, progression.criterion) == (
        date(2020, 1, 5),
        date(2020, 4, 5),
        "fvc",
    )
    created = scoring_events(EpisodeSurvival).filter(action="create")
    # Two time zeros (no ILD onset date) by two definitions.
    assert created.count() == 4 and {e.reason for e in created} == {"scored"}
    assert scoring_events(FollowUp).get().patient_id == patient.pk

    # The adverse event 20 days after the stop is treatment-emergent (within 30 days).
    with on_commit():
        event, _ = adverse_event_upsert(actor=editor, patient=patient, values=INFECTION)
    link = EpisodeAdverseEvent.objects.get(episode=episode, adverse_event=event)
    assert (link.in_window, link.related, link.withdrawn) == (True, False, False)

    # Death: every survival row changes, audited as such.
    before = AuditEvent.objects.count()
    with on_commit():
        vital_status_save(
            actor=editor,
            patient=patient,
            values={
                "status": "dead",
                "death_date": date(2020, 5, 1),
                "cause_category": "infection",
            },
        )
    row = survival(episode)
    assert (row.os_days, row.os_event, row.pfs_days, row.pfs_event) == (112, True, 86, True)
    changed = scoring_events(EpisodeSurvival).filter(action="update", reason="inputs changed")
    assert {e.field for e in changed} >= {"os_days", "os_event"}
    assert FollowUp.objects.get(patient=patient).last_follow_up == date(2020, 5, 1)

    # Scoring again changes nothing and writes no audit event.
    after = AuditEvent.objects.count()
    assert after > before
    score_patients(patient_ids=[patient.pk])
    assert AuditEvent.objects.count() == after

    # The event deleted: its derived rows go with it.
    with on_commit():
        adverse_event_delete(actor=editor, event=event)
    assert not EpisodeAdverseEvent.objects.filter(episode=episode).exists()


def test_an_event_related_to_two_overlapping_episodes(patient, editor, on_commit):
    first = TreatmentFactory(patient=patient, drug="rituximab", start_date=date(2020, 1, 10))
    second = TreatmentFactory(patient=patient, drug="mycophenolate", start_date=date(2020, 2, 1),
                              stop_date=date(2020, 2, 15), stop_reason="adverse_event")  # fmt: skip
    with on_commit():
        adverse_event_upsert(
            actor=editor,
            patient=patient,
            values={**INFECTION, "onset_date": date(2019, 12, 20)},
            relations=[
                RelationValues(first, "definite", "interrupted"),
                RelationValues(second, "possible", "withdrawn"),
            ],
        )
    links = {
        link.episode_id: (link.in_window, link.related, link.withdrawn)
        for link in EpisodeAdverseEvent.objects.all()
    }
    # Onset before both starts: emergent only by the relations.
    assert links == {first.pk: (False, True, False), second.pk: (False, True, True)}
