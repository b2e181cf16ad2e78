"""The classification assessment (2017 EULAR/ACR): its reader, write services and constraints."""

from dataclasses import replace
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from crf.classification import (
    classification_delete,
    classification_document,
    classification_save,
    read_classification,
)
from crf.models import ClassificationAssessment, Visit
from registry.documents import Errors
from registry.errors import InputError
from registry.models import AuditEvent
from scoring.instruments.classification import ITEM_KEYS
from tests.factories import PatientFactory, VisitFactory

pytestmark = pytest.mark.django_db

DOC = {
    "assessed_on": "2020-01-08",
    "muscle_biopsy": False,
    "items": {"heliotrope": True, "weakness_proximal_upper": True, "dysphagia": False},
    "finger_flexor_weakness": None,
    "treatment_response": "not_treated",
}


def read(data, path="classification"):
    errors = Errors()
    values = read_classification(errors, path, data)
    return values, errors.items


def test_model_fields_are_the_rule_items():
    names = {f.name for f in ClassificationAssessment._meta.concrete_fields}
    assert set(ITEM_KEYS) <= names


def test_reader_gives_every_item_null_where_unanswered():
    values, errors = read(DOC)
    assert errors == []
    assert values["heliotrope"] is True and values["dysphagia"] is False
    assert values["gottron_sign"] is None and values["rimmed_vacuoles"] is None
    assert values["assessed_on"] == date(2020, 1, 8)


def test_reader_names_each_bad_value_by_its_path():
    bad = {
        **DOC,
        "items": {"heliotrope": "yes", "rimmed_vacuoles": True, "rash": True},
        "treatment_response": "better",
        "age_at_onset": 40,
    }
    values, errors = read(bad, "patients[0].classification")
    paths = {path for path, _ in errors}
    assert values is None
    assert {
        "patients[0].classification.items.heliotrope",
        "patients[0].classification.items.rimmed_vacuoles",
        "patients[0].classification.items.rash",
        "patients[0].classification.treatment_response",
        "patients[0].classification.age_at_onset",
    } <= paths


def test_reader_requires_the_date_and_the_biopsy_answer():
    _, errors = read({"items": {}})
    assert {p for p, _ in errors} == {"classification.assessed_on", "classification.muscle_biopsy"}


def test_document_round_trip():
    values, _ = read(DOC)
    assessment = ClassificationAssessment(patient=PatientFactory(), **values)
    again, errors = read(classification_document(assessment))
    assert errors == [] and again == values


def test_save_creates_audits_and_resave_is_unchanged(command_actor):
    patient = PatientFactory()
    values, _ = read(DOC)
    assessment, outcome = classification_save(actor=command_actor, patient=patient, values=values)
    assert outcome == "created"
    event = AuditEvent.objects.get(object_type="crf.classificationassessment")
    assert (event.action, event.patient_id) == ("create", patient.pk)
    again, outcome = classification_save(actor=command_actor, patient=patient, values=values)
    assert (again.pk, outcome) == (assessment.pk, "unchanged")
    assert AuditEvent.objects.filter(object_type="crf.classificationassessment").count() == 1


def test_correction_needs_a_reason_once_a_visit_is_submitted(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status=Visit.Status.SUBMITTED)
    values, _ = read(DOC)
    classification_save(actor=command_actor, patient=patient, values=values)
    # Filling an unanswered item adds data: no reason needed.
    classification_save(
        actor=command_actor, patient=patient, values={**values, "gottron_sign": True}
    )
    with pytest.raises(InputError) as caught:
        classification_save(
            actor=command_actor, patient=patient, values={**values, "heliotrope": False}
        )
    assert [p for p, _ in caught.value.errors] == ["reason"]
    assert ClassificationAssessment.objects.get(patient=patient).heliotrope is True
    why = replace(command_actor, reason="misread the form")
    _, outcome = classification_save(
        actor=why, patient=patient, values={**values, "heliotrope": False}
    )
    assert outcome == "updated"
    event = AuditEvent.objects.get(field="heliotrope")
    assert (event.old_value, event.new_value, event.reason) == ("True", "False", "misread the form")


def test_draft_only_patient_corrects_without_reason(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    values, _ = read(DOC)
    classification_save(actor=command_actor, patient=patient, values=values)
    _, outcome = classification_save(
        actor=command_actor, patient=patient, values={**values, "heliotrope": False}
    )
    assert outcome == "updated"


def test_delete_needs_a_reason_and_is_audited(command_actor):
    patient = PatientFactory()
    VisitFactory(patient=patient, status=Visit.Status.SUBMITTED)
    values, _ = read(DOC)
    assessment, _ = classification_save(actor=command_actor, patient=patient, values=values)
    with pytest.raises(InputError):
        classification_delete(actor=command_actor, assessment=assessment)
    classification_delete(
        actor=replace(command_actor, reason="wrong patient"), assessment=assessment
    )
    assert not ClassificationAssessment.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="crf.classificationassessment", action="delete", reason="wrong patient"
    ).exists()


def test_save_asks_for_scoring_on_commit(command_actor, django_capture_on_commit_callbacks):
    values, _ = read(DOC)
    with django_capture_on_commit_callbacks() as callbacks:
        classification_save(actor=command_actor, patient=PatientFactory(), values=values)
    assert callbacks


def test_future_date_is_refused_naming_the_field(command_actor):
    values, _ = read(DOC)
    values["assessed_on"] = date(2999, 1, 1)
    with pytest.raises(InputError) as caught:
        classification_save(
            actor=command_actor, patient=PatientFactory(), values=values, path="classification"
        )
    assert [p for p, _ in caught.value.errors] == ["classification.assessed_on"]
    assert not ClassificationAssessment.objects.exists()


def test_database_refuses_biopsy_findings_without_a_biopsy():
    patient = PatientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassificationAssessment.objects.create(
            patient=patient, assessed_on=date(2020, 1, 1), muscle_biopsy=False, rimmed_vacuoles=True
        )
    ClassificationAssessment.objects.create(
        patient=patient, assessed_on=date(2020, 1, 1), muscle_biopsy=True, rimmed_vacuoles=True
    )
