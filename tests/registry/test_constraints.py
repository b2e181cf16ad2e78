"""Every range and key is a database constraint: bad values cannot be stored by any path."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from crf.models import HAQ, MMT8, LabResult, Visit
from registry.models import AutoantibodyResult, Membership, Patient, TreatmentEpisode
from tests.factories import PatientFactory, SiteFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_mmt_grade_11_is_refused():
    visit = VisitFactory()
    assert refused(lambda: MMT8.objects.create(visit=visit, scale="bilateral", deltoid_left=11))
    assert not refused(lambda: MMT8.objects.create(visit=visit, scale="bilateral", deltoid_left=10))


@pytest.mark.parametrize(
    "field", ["physician_global", "patient_global", "extramuscular", "physician_damage"]
)
def test_vas_above_10_is_refused(field):
    patient = PatientFactory()
    assert refused(
        lambda: Visit.objects.create(
            patient=patient, visit_date=date(2020, 1, 1), **{field: "10.5"}
        )
    )
    assert refused(
        lambda: Visit.objects.create(
            patient=patient, visit_date=date(2020, 1, 1), **{field: "-0.1"}
        )
    )
    assert not refused(
        lambda: Visit.objects.create(
            patient=patient, visit_date=date(2020, 1, 1), **{field: "10.0"}
        )
    )


def test_haq_item_4_is_refused():
    visit = VisitFactory()
    assert refused(lambda: HAQ.objects.create(visit=visit, instrument="haq", walk=4))
    assert not refused(lambda: HAQ.objects.create(visit=visit, instrument="haq", walk=3))


def test_chaq_only_items_need_the_chaq():
    visit = VisitFactory()
    assert refused(lambda: HAQ.objects.create(visit=visit, instrument="haq", bike=1))


@pytest.mark.parametrize("field", ["value", "uln"])
@pytest.mark.parametrize("bad", ["0", "-1"])
def test_enzyme_value_and_uln_must_be_positive(field, bad):
    visit = VisitFactory()
    values = {"value": "100", "uln": "200", field: bad}
    assert refused(lambda: LabResult.objects.create(visit=visit, enzyme="ck", **values))


def test_cmas_and_mmt_legacy_total_ranges():
    patient = PatientFactory()
    assert refused(
        lambda: Visit.objects.create(patient=patient, visit_date=date(2020, 1, 1), cmas=53)
    )
    visit = VisitFactory(patient=patient)
    assert refused(
        lambda: MMT8.objects.create(visit=visit, scale="unilateral", side="right", legacy_total=81)
    )
    assert refused(lambda: MMT8.objects.create(visit=visit, scale="bilateral", legacy_total=151))
    assert refused(lambda: MMT8.objects.create(visit=visit, scale="bilateral", side="right"))


def test_site_patient_id_is_unique_within_the_site_only():
    site, other = SiteFactory(code="MAN"), SiteFactory(code="LDN")
    PatientFactory(site=site, patient_id="P-1")
    assert refused(lambda: PatientFactory(site=site, patient_id="P-1"))
    assert not refused(lambda: PatientFactory(site=other, patient_id="P-1"))


def test_one_visit_per_date_and_one_baseline_per_patient():
    patient = PatientFactory()
    VisitFactory(patient=patient, visit_date=date(2020, 1, 1), kind="baseline")
    assert refused(lambda: VisitFactory(patient=patient, visit_date=date(2020, 1, 1)))
    assert refused(
        lambda: VisitFactory(patient=patient, visit_date=date(2020, 2, 1), kind="baseline")
    )


def test_treatment_stop_before_start_and_unnamed_other_are_refused():
    patient = PatientFactory()
    assert refused(
        lambda: TreatmentEpisode.objects.create(
            patient=patient, drug="ivig", start_date=date(2020, 2, 1), stop_date=date(2020, 1, 1)
        )
    )
    assert refused(
        lambda: TreatmentEpisode.objects.create(
            patient=patient, drug="other", start_date=date(2020, 2, 1)
        )
    )


def test_patient_birth_month_and_diagnosis_date():
    site = SiteFactory()
    assert refused(lambda: PatientFactory(site=site, birth_month=13))
    assert refused(
        lambda: PatientFactory(
            site=site, onset_date=date(2020, 1, 1), diagnosis_date=date(2019, 1, 1)
        )
    )


def test_autoantibody_natural_key_is_unique():
    patient = PatientFactory()
    values = {
        "antibody": "anti-Jo-1",
        "result": "positive",
        "method": "elisa",
        "sample_date": date(2020, 1, 1),
    }
    AutoantibodyResult.objects.create(patient=patient, **values)
    assert refused(lambda: AutoantibodyResult.objects.create(patient=patient, **values))


def test_membership_site_matches_role():
    user = UserFactory()
    assert refused(
        lambda: Membership.objects.create(user=user, role="data_manager", site=SiteFactory())
    )
    assert refused(lambda: Membership.objects.create(user=user, role="coordinator", site=None))


def test_clinical_data_is_protected_from_cascading_deletes():
    visit = VisitFactory()
    LabResult.objects.create(visit=visit, enzyme="ck", value=100, uln=200)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Patient.objects.filter(pk=visit.patient_id).delete()
