"""Visits and patient documents through the write services: validation, audit, idempotence."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from crf.models import HAQ, MMT8, LabResult, Visit
from crf.services import visit_delete, visit_save
from crf.submission import patient_document_save
from registry.errors import ConflictError, InputError
from registry.models import AuditEvent, Patient
from tests.factories import PatientFactory, SiteFactory

pytestmark = pytest.mark.django_db


def fields(exc: InputError) -> set[str]:
    return {path for path, _ in exc.errors}


def test_visit_is_created_with_every_instrument_and_audited(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, outcome = visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert outcome == "created"
    assert visit.mmt8.total == 119
    assert visit.labs.count() == 2
    assert float(visit.haq.score) == pytest.approx(1.625)
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="create").count() == 5
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"command"}


def test_resaving_the_same_visit_changes_nothing(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, _ = visit_save(actor=command_actor, patient=patient, data=example_visit)
    events = AuditEvent.objects.count()
    again, outcome = visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert (again.pk, outcome) == (visit.pk, "unchanged")
    assert Visit.objects.get(pk=visit.pk).version == 1
    assert AuditEvent.objects.count() == events


def test_changed_grade_is_one_update_event_with_old_and_new_value(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, _ = visit_save(actor=command_actor, patient=patient, data=example_visit)
    example_visit["mmt8"]["deltoid"]["left"] = 9
    example_visit["reason"] = "Transcription error on the paper form"
    visit, outcome = visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert outcome == "updated"
    assert visit.version == 2
    event = AuditEvent.objects.get(action="update")
    assert (event.field, event.old_value, event.new_value) == ("deltoid_left", "8", "9")
    assert event.reason == "Transcription error on the paper form"


def test_instrument_left_out_of_the_document_is_removed(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, _ = visit_save(actor=command_actor, patient=patient, data=example_visit)
    del example_visit["labs"]["aldolase"]
    del example_visit["haq"]
    example_visit["reason"] = "Entered on the wrong visit"
    visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert list(LabResult.objects.values_list("enzyme", flat=True)) == ["ck"]
    assert not HAQ.objects.exists()
    assert AuditEvent.objects.filter(action="delete").count() == 2


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda v: v["mmt8"]["deltoid"].update(right=11), "mmt8.deltoid.right"),
        (lambda v: v.update(physician_global=10.5), "physician_global"),
        (lambda v: v.update(physician_global=7.25), "physician_global"),
        (lambda v: v.update(patient_global="5"), "patient_global"),
        (lambda v: v["haq"]["items"].update(walk=4), "haq.items.walk"),
        (lambda v: v["haq"]["items"].update(fly=1), "haq.items.fly"),
        (lambda v: v["labs"]["ck"].update(value=0), "labs.ck.value"),
        (lambda v: v["labs"]["ck"].update(uln=-200), "labs.ck.uln"),
        (lambda v: v.update(visit_date="1960-01-01"), "visit_date"),
        (
            lambda v: v.update(visit_date=(date.today() + timedelta(days=1)).isoformat()),
            "visit_date",
        ),
        (lambda v: v.update(colour="blue"), "colour"),
        (lambda v: v["mmt8"].update(scale="unilateral"), "mmt8.deltoid"),
        (lambda v: v["mmt8"].update(neck_flexors={"right": 8, "left": 8}), "mmt8.neck_flexors"),
        (lambda v: v.update(cmas=60), "cmas"),
        (lambda v: v["haq"].update(aids=["flying"]), "haq.aids[0]"),
        (lambda v: v.update(reason="a\x00b"), "reason"),
    ],
)
def test_bad_value_is_refused_naming_the_field_and_nothing_is_stored(
    command_actor, example_visit, change, path
):
    patient = PatientFactory(birth_year=1968)
    change(example_visit)
    with pytest.raises(InputError) as caught:
        visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert path in fields(caught.value)
    assert not Visit.objects.exists() and not MMT8.objects.exists()
    assert not AuditEvent.objects.exists()


def test_stale_version_is_a_conflict_not_an_overwrite(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, _ = visit_save(actor=command_actor, patient=patient, data=example_visit)
    example_visit["physician_global"] = 5.0
    example_visit["reason"] = "Corrected from source"
    visit_save(
        actor=command_actor, patient=patient, data=example_visit, visit=visit, expected_version=1
    )
    example_visit["physician_global"] = 4.0
    with pytest.raises(ConflictError):
        visit_save(
            actor=command_actor,
            patient=patient,
            data=example_visit,
            visit=visit,
            expected_version=1,
        )
    assert Visit.objects.get(pk=visit.pk).physician_global == 5


def test_second_baseline_is_refused(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit_save(actor=command_actor, patient=patient, data=example_visit)
    example_visit["visit_date"] = "2020-03-01"
    with pytest.raises(InputError) as caught:
        visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert "kind" in fields(caught.value)


def test_deleted_visit_takes_its_instruments_and_is_audited(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit, _ = visit_save(actor=command_actor, patient=patient, data=example_visit)
    with pytest.raises(InputError) as caught:
        visit_delete(actor=command_actor, visit=visit)
    assert fields(caught.value) == {"reason"}
    visit_delete(actor=replace(command_actor, reason="Duplicate entry"), visit=visit)
    assert not Visit.objects.exists() and not LabResult.objects.exists()
    assert AuditEvent.objects.filter(action="delete", object_type="crf.visit").count() == 1


def test_patient_document_is_stored_whole_and_resending_changes_nothing(
    command_actor, example_patient
):
    site = SiteFactory(code="MAN")
    result = patient_document_save(actor=command_actor, site=site, data=example_patient)
    assert result["status"] == "created"
    assert [v["status"] for v in result["visits"]] == ["created"]
    patient = Patient.objects.get()
    assert patient.serology_group == "mda5"
    assert patient.treatments.count() == 1
    again = patient_document_save(actor=command_actor, site=site, data=example_patient)
    assert again["status"] == "unchanged"
    assert [v["status"] for v in again["visits"]] == ["unchanged"]
    assert Visit.objects.count() == 1


def test_patient_document_with_one_bad_visit_stores_nothing_and_names_every_field(
    command_actor, example_patient, example_visit
):
    site = SiteFactory(code="MAN")
    second = dict(example_visit, visit_date="2020-04-01", kind="follow_up", physician_global=11)
    example_patient["visits"].append(second)
    example_patient["treatments"][0]["route"] = "nasal"
    with pytest.raises(InputError) as caught:
        patient_document_save(actor=command_actor, site=site, data=example_patient)
    assert {"visits[1].physician_global", "treatments[0].route"} <= fields(caught.value)
    assert not Patient.objects.exists() and not Visit.objects.exists()


def test_moving_the_baseline_within_one_document(command_actor, example_patient, example_visit):
    site = SiteFactory(code="MAN")
    later = dict(example_visit, visit_date="2020-04-01", kind="follow_up")
    example_patient["visits"].append(later)
    patient_document_save(actor=command_actor, site=site, data=example_patient)
    example_patient["visits"][0].update(kind="follow_up", reason="Baseline was the later visit")
    example_patient["visits"][1].update(kind="baseline", reason="Baseline was the later visit")
    example_patient["visits"].reverse()
    result = patient_document_save(actor=command_actor, site=site, data=example_patient)
    assert [v["visit_date"] for v in result["visits"]] == ["2020-04-01", "2020-01-08"]
    assert Visit.objects.get(kind="baseline").visit_date == date(2020, 4, 1)


def test_amending_submitted_data_needs_a_reason_and_nothing_changes_without(
    command_actor, example_visit
):
    patient = PatientFactory(birth_year=1968)
    visit_save(actor=command_actor, patient=patient, data=example_visit)
    example_visit["labs"]["ck"]["value"] = 1800
    with pytest.raises(InputError) as caught:
        visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert fields(caught.value) == {"reason"}
    assert LabResult.objects.get(enzyme="ck").value == 2000
    assert not AuditEvent.objects.filter(action="update").exists()


def test_draft_visit_is_edited_without_a_reason(command_actor, example_visit):
    patient = PatientFactory(birth_year=1968)
    visit_save(actor=command_actor, patient=patient, data=example_visit, status="draft")
    example_visit["labs"]["ck"]["value"] = 1800
    _, outcome = visit_save(actor=command_actor, patient=patient, data=example_visit)
    assert outcome == "updated"
