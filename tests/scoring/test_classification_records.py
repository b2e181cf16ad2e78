"""Classification records: derived by the scoring pipeline from the assessment, the antibody
panel and the earliest visit's enzymes; recomputed when an input changes; audited."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from crf.classification import classification_delete, classification_save, default_values
from registry.audit import Actor
from registry.models import AuditEvent
from registry.services import autoantibody_delete, autoantibody_upsert, patient_upsert
from scoring.models import ClassificationRecord
from scoring.services import score_patients
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db

ACTOR = Actor(user=None, source="command", reason="test")


@pytest.fixture
def patient():
    # Onset at 48 (A2: 2.1 without a biopsy).
    return PatientFactory(birth_year=1970, birth_month=4, onset_date=date(2019, 3, 1))


def assess(patient, on_commit, **items):
    values = default_values(date(2020, 1, 8))
    values.update(items)
    with on_commit():
        classification_save(actor=ACTOR, patient=patient, values=values)


def record(patient):
    return ClassificationRecord.objects.get(patient=patient)


def jo1(patient, on_commit, result="positive", day=date(2019, 6, 1)):
    values = {"antibody": "anti-Jo-1", "result": result, "method": "line_blot",
              "intensity": "", "sample_date": day}  # fmt: skip
    with on_commit():
        return autoantibody_upsert(actor=ACTOR, patient=patient, values=values)[0]


def test_assessment_is_scored_with_the_patients_age(patient, on_commit):
    assess(patient, on_commit, heliotrope=True, gottron_sign=True, weakness_proximal_upper=True)
    rec = record(patient)
    assert rec.status == "done"
    # 2.1 (A2) + 0.7 (W1) + 3.1 (S1) + 3.3 (S3)
    assert rec.score == Decimal("9.2")
    assert (rec.category, rec.subgroup, rec.biopsy_recommended) == ("definite", "dm", False)
    assert rec.inputs["age_at_onset"] == 48
    assert rec.result["points"] == {"A2": "2.1", "W1": "0.7", "S1": "3.1", "S3": "3.3"}
    assert rec.result["intercept"] == "5.30"
    assert rec.result["complete"] is False and "dysphagia" in rec.result["missing"]
    assert rec.result["derived"] == []
    event = AuditEvent.objects.get(object_type="scoring.classificationrecord")
    assert (event.source, event.action, event.reason) == ("scoring", "create", "scored")


def test_positive_anti_jo1_derives_l1_and_recomputes(patient, on_commit):
    assess(patient, on_commit, weakness_proximal_upper=True)
    assert record(patient).inputs["items"]["anti_jo1"] is None
    result = jo1(patient, on_commit)
    rec = record(patient)
    assert rec.inputs["items"]["anti_jo1"] is True
    assert rec.result["derived"] == ["anti_jo1"]
    assert rec.result["points"]["L1"] == "3.9"
    assert rec.score == Decimal("6.7")  # 2.1 + 0.7 + 3.9
    assert AuditEvent.objects.filter(
        object_type="scoring.classificationrecord", action="update", field="score",
        reason="inputs changed",
    ).exists()  # fmt: skip
    with on_commit():
        autoantibody_delete(actor=ACTOR, result=result)
    assert record(patient).score == Decimal("2.8")


def test_negative_anti_jo1_derives_absent(patient, on_commit):
    jo1(patient, on_commit, result="negative")
    assess(patient, on_commit)
    rec = record(patient)
    assert rec.inputs["items"]["anti_jo1"] is False
    assert "anti_jo1" not in rec.result["missing"]


def test_an_answer_on_the_form_overrides_the_derived_item(patient, on_commit):
    jo1(patient, on_commit)
    assess(patient, on_commit, anti_jo1=False)
    rec = record(patient)
    assert rec.inputs["items"]["anti_jo1"] is False
    assert rec.result["derived"] == []
    assert "L1" not in rec.result["points"]


def test_earliest_visits_enzymes_derive_l2_without_aldolase(patient, on_commit, save_visit):
    assess(patient, on_commit)
    # CK 2000 / ULN 200 at the earliest visit: raised.
    first = save_visit(patient, visit_doc("2020-01-08", kind="baseline"))
    save_visit(patient, visit_doc("2020-06-08", ck=100))
    rec = record(patient)
    assert rec.inputs["items"]["enzymes_raised"] is True
    assert rec.inputs["sources"]["enzymes_raised"]["visit"] == first.pk
    assert rec.result["derived"] == ["enzymes_raised"]
    # CK normal at the earliest visit; aldolase (15.2 / 7.6) raised but not part of L2.
    save_visit(patient, visit_doc("2020-01-08", kind="baseline", ck=100))
    rec = record(patient)
    assert rec.inputs["items"]["enzymes_raised"] is False
    assert "L2" not in rec.result["points"]


def test_onset_change_recomputes_the_age_band(patient, on_commit):
    assess(patient, on_commit, heliotrope=True)
    assert record(patient).result["age_band"] == "A2"
    values = {
        name: getattr(patient, name)
        for name in (
            "patient_id",
            "sex",
            "birth_year",
            "birth_month",
            "diagnosis",
            "diagnosis_date",
        )
    }
    with on_commit():
        patient_upsert(actor=ACTOR, site=patient.site, values={**values, "birth_year": 1990,
                       "onset_date": date(2019, 3, 1)})  # fmt: skip
    assert record(patient).result["age_band"] == "A1"


def test_unchanged_inputs_write_nothing_and_delete_removes_the_record(patient, on_commit):
    assess(patient, on_commit, heliotrope=True)
    events = AuditEvent.objects.count()
    summary = score_patients(patient_ids=[patient.pk])
    assert (summary.written, summary.unchanged) == (0, 1)
    assert AuditEvent.objects.count() == events
    with on_commit():
        classification_delete(
            actor=replace(ACTOR, reason="entered twice"), assessment=patient.classification
        )
    assert not ClassificationRecord.objects.filter(patient=patient).exists()
    assert AuditEvent.objects.filter(
        object_type="scoring.classificationrecord", action="delete"
    ).exists()


def test_missing_items_make_a_lower_bound(patient, on_commit):
    assess(patient, on_commit, weakness_proximal_upper=True)
    rec = record(patient)
    assert rec.complete is False
    assert rec.biopsy_recommended is True
    assert rec.category == "not_iim" and rec.subgroup == ""
