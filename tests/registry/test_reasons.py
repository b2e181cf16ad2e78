"""Once a patient has a visit past draft, correcting or deleting any of the patient's clinical data
needs a reason (issue 13); adding data does not. The rule is the registry services'."""

from datetime import date

import pytest

from crf.models import Visit
from registry.audit import Actor
from registry.errors import InputError
from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from registry.services import (
    autoantibody_delete,
    autoantibody_upsert,
    patient_upsert,
    reason_required,
    treatment_delete,
    treatment_upsert,
)
from tests.factories import PatientFactory, TreatmentFactory, VisitFactory

pytestmark = pytest.mark.django_db

NO_REASON = Actor(user=None, source="command")
WITH_REASON = Actor(user=None, source="command", reason="  transcription error  ")
ANTIBODY = {
    "antibody": "anti-Jo-1",
    "result": "positive",
    "method": "line_blot",
    "intensity": "",
    "sample_date": date(2019, 5, 2),
}


@pytest.fixture(params=[Visit.Status.SUBMITTED, Visit.Status.VERIFIED, Visit.Status.LOCKED])
def submitted(request):
    """A patient with a visit past draft (and a draft one), an antibody and an ongoing episode."""
    patient = PatientFactory()
    VisitFactory(patient=patient, visit_date=date(2020, 1, 8), status=request.param)
    VisitFactory(patient=patient, visit_date=date(2020, 2, 8), status=Visit.Status.DRAFT)
    AutoantibodyResult.objects.create(patient=patient, **ANTIBODY)
    TreatmentFactory(patient=patient)
    return patient


@pytest.fixture
def drafted():
    """The same patient with draft visits only."""
    patient = PatientFactory()
    VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    AutoantibodyResult.objects.create(patient=patient, **ANTIBODY)
    TreatmentFactory(patient=patient)
    return patient


def own_values(patient: Patient, **changes) -> dict:
    values = {
        name: getattr(patient, name)
        for name in ("patient_id", "sex", "birth_year", "birth_month", "diagnosis", "onset_date",
                     "diagnosis_date")
    }  # fmt: skip
    return {**values, **changes}


def episode_values(episode: TreatmentEpisode, **changes) -> dict:
    names = ("drug", "drug_other", "dose", "dose_unit", "route", "frequency", "start_date",
             "stop_date", "stop_reason")  # fmt: skip
    return {**{name: getattr(episode, name) for name in names}, **changes}


def refused(call) -> str:
    events = AuditEvent.objects.count()
    with pytest.raises(InputError) as caught:
        call()
    assert [path for path, _ in caught.value.errors] == ["reason"]
    assert AuditEvent.objects.count() == events  # nothing written, not even the audit
    return caught.value.errors[0][1]


def test_only_data_past_draft_asks_for_a_reason(submitted, drafted):
    assert reason_required(submitted)
    assert not reason_required(drafted)
    assert not reason_required(PatientFactory())


@pytest.mark.parametrize(
    "change",
    [{"diagnosis": "polymyositis"}, {"sex": "male"}, {"onset_date": date(2019, 2, 1)},
     {"diagnosis_date": None}],
)  # fmt: skip
def test_correcting_the_patient_needs_a_reason(submitted, change):
    values = own_values(submitted, **change)
    message = refused(lambda: patient_upsert(actor=NO_REASON, site=submitted.site, values=values))
    assert "reason" in message
    assert Patient.objects.get(pk=submitted.pk).diagnosis == "dermatomyositis"
    assert Patient.objects.get(pk=submitted.pk).sex == "female"

    _, outcome = patient_upsert(
        actor=WITH_REASON, site=submitted.site, values=own_values(submitted, **change)
    )
    assert outcome == "updated"
    event = AuditEvent.objects.get(object_type="registry.patient", field=next(iter(change)))
    assert event.reason == "transcription error"


def test_a_patient_with_draft_visits_only_is_corrected_without_a_reason(drafted):
    _, outcome = patient_upsert(
        actor=NO_REASON, site=drafted.site, values=own_values(drafted, diagnosis="polymyositis")
    )
    assert outcome == "updated"


def test_filling_an_empty_field_adds_data_and_needs_no_reason(submitted):
    Patient.objects.filter(pk=submitted.pk).update(diagnosis_date=None)
    submitted.refresh_from_db()
    _, outcome = patient_upsert(
        actor=NO_REASON,
        site=submitted.site,
        values=own_values(submitted, diagnosis_date=date(2019, 6, 1)),
    )
    assert outcome == "updated"


def test_unchanged_data_need_no_reason(submitted):
    _, outcome = patient_upsert(actor=NO_REASON, site=submitted.site, values=own_values(submitted))
    assert outcome == "unchanged"
    _, outcome = autoantibody_upsert(actor=NO_REASON, patient=submitted, values=ANTIBODY)
    assert outcome == "unchanged"


def test_a_new_antibody_result_needs_no_reason(submitted):
    values = {**ANTIBODY, "antibody": "anti-MDA5", "sample_date": date(2020, 3, 1)}
    _, outcome = autoantibody_upsert(actor=NO_REASON, patient=submitted, values=values)
    assert outcome == "created"


def test_correcting_an_antibody_result_needs_a_reason(submitted):
    values = {**ANTIBODY, "result": "negative"}
    message = refused(
        lambda: autoantibody_upsert(actor=NO_REASON, patient=submitted, values=values)
    )
    assert "anti-Jo-1" in message
    assert AutoantibodyResult.objects.get(patient=submitted).result == "positive"
    submitted.refresh_from_db()
    assert submitted.serology_group != "seronegative"

    autoantibody_upsert(actor=WITH_REASON, patient=submitted, values=values)
    events = AuditEvent.objects.filter(patient_id=submitted.pk, action="update")
    assert {e.object_type for e in events} == {"registry.autoantibodyresult", "registry.patient"}
    assert {e.reason for e in events} == {"transcription error"}


def test_deleting_an_antibody_result_needs_a_reason(submitted):
    result = AutoantibodyResult.objects.get(patient=submitted)
    refused(lambda: autoantibody_delete(actor=NO_REASON, result=result))
    assert AutoantibodyResult.objects.filter(pk=result.pk).exists()

    autoantibody_delete(actor=WITH_REASON, result=result)
    event = AuditEvent.objects.get(object_type="registry.autoantibodyresult", action="delete")
    assert event.reason == "transcription error"


def test_deleting_an_antibody_result_of_draft_data_needs_none(drafted):
    autoantibody_delete(actor=NO_REASON, result=AutoantibodyResult.objects.get(patient=drafted))
    assert not AutoantibodyResult.objects.filter(patient=drafted).exists()


def test_a_new_treatment_episode_needs_no_reason(submitted):
    values = {"drug": "rituximab", "start_date": date(2020, 3, 1), "stop_date": None}
    _, outcome = treatment_upsert(actor=NO_REASON, patient=submitted, values=values)
    assert outcome == "created"


def test_a_first_stop_date_on_an_ongoing_treatment_needs_no_reason(submitted):
    episode = TreatmentEpisode.objects.get(patient=submitted)
    values = episode_values(episode, stop_date=date(2020, 6, 1), stop_reason="completed")
    _, outcome = treatment_upsert(actor=NO_REASON, patient=submitted, values=values)
    assert outcome == "updated"
    episode.refresh_from_db()
    assert episode.stop_date == date(2020, 6, 1)


@pytest.mark.parametrize("change", [{"dose": 1}, {"start_date": date(2020, 1, 12)},
                                    {"route": "sc"}])  # fmt: skip
def test_correcting_a_treatment_episode_needs_a_reason(submitted, change):
    episode = TreatmentEpisode.objects.get(patient=submitted)
    values = episode_values(episode, **change)
    refused(
        lambda: treatment_upsert(actor=NO_REASON, patient=submitted, values=values, episode=episode)
    )
    assert TreatmentEpisode.objects.get(pk=episode.pk).dose == 2
    assert TreatmentEpisode.objects.get(pk=episode.pk).route == "iv"
    _, outcome = treatment_upsert(
        actor=WITH_REASON, patient=submitted, values=values, episode=episode
    )
    assert outcome == "updated"


def test_changing_a_stop_date_already_recorded_needs_a_reason(submitted):
    episode = TreatmentEpisode.objects.get(patient=submitted)
    TreatmentEpisode.objects.filter(pk=episode.pk).update(stop_date=date(2020, 6, 1))
    episode.refresh_from_db()
    for stop in (date(2020, 7, 1), None):
        values = episode_values(episode, stop_date=stop)
        refused(lambda v=values: treatment_upsert(actor=NO_REASON, patient=submitted, values=v))


def test_deleting_a_treatment_episode_needs_a_reason(submitted):
    episode = TreatmentEpisode.objects.get(patient=submitted)
    refused(lambda: treatment_delete(actor=NO_REASON, episode=episode))
    assert TreatmentEpisode.objects.filter(pk=episode.pk).exists()
    treatment_delete(actor=WITH_REASON, episode=episode)
    event = AuditEvent.objects.get(object_type="registry.treatmentepisode", action="delete")
    assert event.reason == "transcription error"
