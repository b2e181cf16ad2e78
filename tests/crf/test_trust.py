"""Verification, signatures and locking, data queries and plausibility rules (issue 8)."""

from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied

from crf.models import DataQuery, Signature, Visit
from crf.services import (
    query_answer,
    query_close,
    query_raise,
    visit_delete,
    visit_save,
    visit_sign,
    visit_unlock,
    visit_verify,
)
from registry.errors import InputError, LockedError
from registry.models import AuditEvent
from tests.factories import PatientFactory, SiteFactory
from tests.factories import actor_with_role as person

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return SiteFactory(code="MAN")


@pytest.fixture
def visit(site, example_visit):
    patient = PatientFactory(site=site, birth_year=1968)
    coordinator = person(site, "coordinator")
    saved, _ = visit_save(actor=coordinator, patient=patient, data=example_visit)
    return saved


def fields(exc):
    return {path for path, _ in exc.errors}


def test_monitor_verifies_and_investigator_signs_which_locks(site, visit, example_visit):
    monitor, investigator = person(site, "monitor"), person(site, "investigator")
    visit_verify(actor=monitor, visit=visit)
    signature = visit_sign(actor=investigator, visit=visit, password="pw", meaning="approval")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.LOCKED
    assert (signature.signer_name, signature.meaning) == ("investigator-MAN", "approval")
    assert signature.visit_version == visit.version
    # A locked visit refuses edits and deletion through the services.
    example_visit["physician_global"] = 1.0
    with pytest.raises(LockedError):
        visit_save(
            actor=replace(investigator, reason="x"), patient=visit.patient, data=example_visit
        )
    # Re-sending the signed visit unchanged is not an edit.
    example_visit["physician_global"] = 6.0
    assert visit_save(actor=investigator, patient=visit.patient, data=example_visit)[1] == (
        "unchanged"
    )
    with pytest.raises(LockedError):
        visit_delete(actor=replace(investigator, reason="x"), visit=visit)
    assert Visit.objects.get(pk=visit.pk).physician_global == 6


def test_wrong_password_does_not_sign(site, visit):
    visit_verify(actor=person(site, "monitor"), visit=visit)
    with pytest.raises(InputError) as caught:
        visit_sign(
            actor=person(site, "investigator"),
            visit=visit,
            password="nope",
            meaning="approval",
        )
    assert fields(caught.value) == {"password"}
    assert not Signature.objects.exists()
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.VERIFIED


@pytest.mark.parametrize("role", ["coordinator", "investigator", "submitter"])
def test_only_monitors_and_data_managers_verify(site, visit, role):
    with pytest.raises(PermissionDenied):
        visit_verify(actor=person(site, role), visit=visit)


def test_monitor_of_another_site_cannot_verify(site, visit):
    other = SiteFactory(code="LDN")
    with pytest.raises(PermissionDenied):
        visit_verify(actor=person(other, "monitor"), visit=visit)


@pytest.mark.parametrize("role", ["coordinator", "monitor", "data_manager"])
def test_only_investigators_sign(site, visit, role):
    visit_verify(actor=person(site, "monitor", "m"), visit=visit)
    with pytest.raises(PermissionDenied):
        visit_sign(actor=person(site, role), visit=visit, password="pw", meaning="approval")


def test_data_manager_unlocks_with_a_reason_voiding_the_signature(site, visit):
    visit_verify(actor=person(site, "monitor"), visit=visit)
    visit_sign(actor=person(site, "investigator"), visit=visit, password="pw", meaning="review")
    manager = person(site, "data_manager")
    with pytest.raises(PermissionDenied):
        visit_unlock(actor=replace(person(site, "investigator", "i2"), reason="x"), visit=visit)
    with pytest.raises(InputError) as caught:
        visit_unlock(actor=manager, visit=visit)
    assert fields(caught.value) == {"reason"}
    visit_unlock(actor=replace(manager, reason="Wrong CK unit"), visit=visit)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SUBMITTED
    signature = Signature.objects.get()
    assert signature.voided_at is not None and signature.void_reason == "Wrong CK unit"
    assert AuditEvent.objects.filter(object_type="crf.signature", action="update").exists()


def test_amending_a_verified_visit_returns_it_to_submitted(site, visit, example_visit):
    visit_verify(actor=person(site, "monitor"), visit=visit)
    example_visit.update(physician_global=5.0, reason="Source document re-read")
    saved, _ = visit_save(
        actor=person(site, "coordinator", "c2"), patient=visit.patient, data=example_visit
    )
    assert saved.status == Visit.Status.SUBMITTED and saved.verified_by is None


def test_query_is_raised_answered_and_closed_by_the_right_people(site, visit):
    monitor, coordinator = (
        person(site, "monitor"),
        person(site, "coordinator", "c2"),
    )
    with pytest.raises(PermissionDenied):
        query_raise(actor=coordinator, visit=visit, field="labs.ck.value", text="Unit?")
    query = query_raise(actor=monitor, visit=visit, field="labs.ck.value", text="Unit?")
    with pytest.raises(InputError):
        visit_verify(actor=monitor, visit=visit)  # an open query blocks verification
    with pytest.raises(PermissionDenied):
        query_answer(actor=monitor, query=query, answer="U/L")
    query_answer(actor=coordinator, query=query, answer="U/L, checked")
    with pytest.raises(PermissionDenied):
        query_close(actor=coordinator, query=query)
    query_close(actor=monitor, query=query, note="Thanks")
    query.refresh_from_db()
    assert query.status == DataQuery.Status.CLOSED and query.answer == "U/L, checked"
    outsider = person(SiteFactory(code="LDN"), "monitor", "outsider")
    with pytest.raises(PermissionDenied):
        query_raise(actor=outsider, visit=visit, field="mmt8", text="?")


def test_ck_above_100_uln_raises_a_query_that_closes_when_corrected(site, visit, example_visit):
    coordinator = person(site, "coordinator", "c2")
    example_visit["labs"]["ck"]["value"] = 20001
    example_visit["reason"] = "typo"
    visit_save(actor=coordinator, patient=visit.patient, data=example_visit)
    query = DataQuery.objects.get(rule="ck_above_100_uln")
    assert (query.visit_id, query.field, query.status) == (visit.pk, "labs.ck.value", "open")
    # Saving again does not raise a second query.
    example_visit["physician_global"] = 5.5
    visit_save(actor=coordinator, patient=visit.patient, data=example_visit)
    assert DataQuery.objects.filter(rule="ck_above_100_uln").count() == 1
    example_visit["labs"]["ck"]["value"] = 2000
    visit_save(actor=coordinator, patient=visit.patient, data=example_visit)
    query.refresh_from_db()
    assert query.status == DataQuery.Status.CLOSED


def test_haq_zero_with_high_physician_global_raises_a_query(site, example_visit):
    patient = PatientFactory(site=site, birth_year=1968)
    example_visit["haq"] = {"items": {key: 0 for key in example_visit["haq"]["items"]}}
    example_visit["physician_global"] = 8.0
    visit_save(actor=person(site, "coordinator"), patient=patient, data=example_visit)
    assert DataQuery.objects.get().rule == "haq_zero_high_physician_global"


def test_mmt_jump_within_14_days_raises_a_query_on_the_later_visit(site, example_visit):
    patient = PatientFactory(site=site, birth_year=1968)
    coordinator = person(site, "coordinator")
    visit_save(actor=coordinator, patient=patient, data=example_visit)  # total 119
    later = dict(
        example_visit,
        visit_date="2020-01-20",
        kind="follow_up",
        mmt8={"scale": "bilateral", "total": 70},
    )
    second, _ = visit_save(actor=coordinator, patient=patient, data=later)
    query = DataQuery.objects.get()
    assert (query.rule, query.visit_id) == ("mmt_change_30pct_14d", second.pk)
    # 28 days apart the same change is plausible.
    later.update(visit_date="2020-02-05", reason="Date corrected")
    visit_save(actor=coordinator, patient=patient, data=later, visit=second)
    assert DataQuery.objects.get().status == DataQuery.Status.CLOSED
