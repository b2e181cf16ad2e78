"""The database's own rules for vital status, lung status, HRCT and adverse events."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from crf.models import AdverseEvent, AdverseEventRelation, HRCTAssessment, LungStatus, VitalStatus
from tests.factories import PatientFactory, TreatmentFactory

pytestmark = pytest.mark.django_db


def refused(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def _ae(patient, **fields) -> AdverseEvent:
    values = {
        "patient": patient,
        "term": "Pneumonia",
        "category": "infection",
        "onset_date": date(2021, 3, 1),
        "severity": "moderate",
        "outcome": "recovered",
    }
    values.update(fields)
    return AdverseEvent(**values)


def test_vital_status_dead_needs_a_date_and_death_fields_need_dead():
    patient = PatientFactory()
    refused(lambda: VitalStatus.objects.create(patient=patient, status="dead"))
    refused(
        lambda: VitalStatus.objects.create(
            patient=patient, status="alive", death_date=date(2021, 1, 1), death_date_precision="day"
        )
    )
    refused(
        lambda: VitalStatus.objects.create(patient=patient, status="unknown", cause_text="sepsis")
    )
    refused(
        lambda: VitalStatus.objects.create(
            patient=patient, status="alive", cause_category="infection"
        )
    )
    VitalStatus.objects.create(
        patient=patient,
        status="dead",
        death_date=date(2021, 1, 4),
        death_date_precision="day",
        cause_category="infection",
    )


def test_vital_status_precision_and_month_and_order():
    patient = PatientFactory()
    # A date without its precision, and a year-month date not on the 15th.
    refused(
        lambda: VitalStatus.objects.create(
            patient=patient, status="dead", death_date=date(2021, 1, 4)
        )
    )
    refused(
        lambda: VitalStatus.objects.create(
            patient=patient,
            status="dead",
            death_date=date(2021, 1, 4),
            death_date_precision="month",
        )
    )
    refused(
        lambda: VitalStatus.objects.create(
            patient=patient,
            status="dead",
            death_date=date(2021, 1, 4),
            death_date_precision="day",
            last_known_alive=date(2021, 1, 5),
        )
    )
    VitalStatus.objects.create(
        patient=patient, status="dead", death_date=date(2021, 1, 15), death_date_precision="month"
    )
    # One per patient.
    refused(lambda: VitalStatus.objects.create(patient=patient, status="alive"))


def test_vital_status_clean_names_the_field():
    patient = PatientFactory()
    with pytest.raises(ValidationError) as caught:
        VitalStatus(patient=patient, status="dead").full_clean()
    assert "death_date" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        VitalStatus(patient=patient, status="alive", cause_text="x").full_clean()
    assert "cause_text" in caught.value.message_dict
    record = VitalStatus(patient=patient, status="dead", death_date=date(2021, 2, 3))
    record.full_clean()
    assert record.death_date_precision == "day"


def test_lung_status_onset_and_rapid_only_with_ild():
    patient = PatientFactory()
    refused(
        lambda: LungStatus.objects.create(
            patient=patient, ild="no", ild_onset_date=date(2020, 1, 1)
        )
    )
    refused(
        lambda: LungStatus.objects.create(patient=patient, ild="unknown", rapidly_progressive=True)
    )
    with pytest.raises(ValidationError) as caught:
        LungStatus(patient=patient, ild="no", rapidly_progressive=False).full_clean()
    assert "rapidly_progressive" in caught.value.message_dict
    LungStatus.objects.create(
        patient=patient, ild="yes", ild_onset_date=date(2020, 1, 1), rapidly_progressive=True
    )
    refused(lambda: LungStatus.objects.create(patient=patient, ild="no"))


def test_hrct_one_per_date():
    patient = PatientFactory()
    HRCTAssessment.objects.create(patient=patient, date=date(2021, 1, 1), pattern="nsip")
    refused(
        lambda: HRCTAssessment.objects.create(patient=patient, date=date(2021, 1, 1), pattern="op")
    )
    with pytest.raises(ValidationError) as caught:
        HRCTAssessment(patient=patient, date=date(2021, 2, 1), pattern="fibrosis").full_clean()
    assert "pattern" in caught.value.message_dict


def test_adverse_event_dates_grade_and_natural_key():
    patient = PatientFactory()
    refused(lambda: _ae(patient, end_date=date(2021, 2, 1)).save())
    refused(lambda: _ae(patient, ctcae_grade=0).save())
    refused(lambda: _ae(patient, ctcae_grade=6).save())
    refused(lambda: _ae(patient, term="").save())
    _ae(patient, end_date=date(2021, 3, 1), ctcae_grade=2).save()
    refused(lambda: _ae(patient).save())
    # Another category, term or onset is another event.
    _ae(patient, category="opportunistic_infection").save()
    _ae(patient, onset_date=date(2021, 3, 2)).save()
    with pytest.raises(ValidationError) as caught:
        _ae(patient, onset_date=date(2021, 5, 1), end_date=date(2021, 4, 1)).full_clean()
    assert "end_date" in caught.value.message_dict


def test_adverse_event_serious_exactly_with_a_criterion():
    patient = PatientFactory()
    refused(lambda: _ae(patient, serious=True).save())
    refused(lambda: _ae(patient, criterion_hospitalisation=True).save())
    _ae(patient, serious=True, criterion_hospitalisation=True).save()
    with pytest.raises(ValidationError) as caught:
        _ae(patient, term="Sepsis", serious=True).full_clean()
    assert "serious_criteria" in caught.value.message_dict


def test_adverse_event_fatal_is_the_death_criterion_and_grade_5():
    patient = PatientFactory()
    refused(lambda: _ae(patient, outcome="fatal").save())
    refused(lambda: _ae(patient, serious=True, criterion_death=True).save())
    refused(
        lambda: _ae(patient, serious=True, criterion_hospitalisation=True, ctcae_grade=5).save()
    )
    refused(
        lambda: _ae(
            patient, serious=True, criterion_death=True, outcome="fatal", ctcae_grade=4
        ).save()
    )
    _ae(patient, serious=True, criterion_death=True, outcome="fatal", ctcae_grade=5).save()


def test_relation_one_per_episode_and_protected():
    patient = PatientFactory()
    episode = TreatmentFactory(patient=patient)
    event = _ae(patient)
    event.save()
    relation = AdverseEventRelation.objects.create(
        adverse_event=event, episode=episode, relatedness="possible", action="none"
    )
    refused(
        lambda: AdverseEventRelation.objects.create(
            adverse_event=event, episode=episode, relatedness="definite", action="withdrawn"
        )
    )
    with pytest.raises(ProtectedError), transaction.atomic():
        episode.delete()
    relation.delete()
    other = TreatmentFactory(patient=PatientFactory())
    with pytest.raises(ValidationError) as caught:
        AdverseEventRelation(
            adverse_event=event, episode=other, relatedness="possible", action="none"
        ).full_clean()
    assert "episode" in caught.value.message_dict
