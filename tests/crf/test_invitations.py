"""Patients answer for themselves by an invitation link (issue 17): the services."""

import copy
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crf.invitations import (
    InvitationGone,
    VisitClosed,
    pro_invitation_create,
    pro_invitation_find,
    pro_invitation_open,
    pro_invitation_revoke,
    pro_invitation_save_draft,
    pro_invitation_submit,
)
from crf.models import HAQ, ProInvitation, Visit
from crf.services import visit_save
from registry.access import NotVisible
from registry.audit import Actor
from registry.errors import InputError
from registry.models import AuditEvent
from registry.tokens import token_digest
from tests.factories import PatientFactory, SiteFactory, VisitFactory, actor_with_role
from tests.pro_fixtures import HAQ_ALL_ONES, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return SiteFactory(code="MAN", name="Manchester myositis clinic")


@pytest.fixture
def coordinator(site):
    return actor_with_role(site, "coordinator")


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


def _create(actor, patient, instruments=("haq", "patient_global"), **kwargs):
    kwargs.setdefault("visit_date", TODAY)
    return pro_invitation_create(
        actor=actor, patient=patient, instruments=list(instruments), **kwargs
    )


def test_the_token_is_random_stored_hashed_and_expires_after_the_setting(
    coordinator, patient, settings
):
    settings.PRO_INVITATION_DAYS = 3
    invitation, token = _create(coordinator, patient)
    assert len(token) >= 22 and token not in invitation.digest
    assert invitation.digest == token_digest(token)
    assert pro_invitation_find(token) == invitation
    assert pro_invitation_find(token + "x") is None
    days = (invitation.expires_at - timezone.now()).total_seconds() / 86400
    assert 2.99 < days <= 3
    assert invitation.state == "sent"
    event = AuditEvent.objects.get(object_type="crf.proinvitation")
    assert event.source == "web" and event.actor_id == coordinator.user.pk
    assert token_digest(token) not in (event.new_value or "")


def test_the_answers_land_on_a_planned_draft_visit_audited_as_the_patients(coordinator, patient):
    invitation, _ = _create(coordinator, patient)
    pro_invitation_open(invitation=invitation)
    answers = {"haq": copy.deepcopy(HAQ_ALL_ONES), "patient_global": 3.5}
    invitation = pro_invitation_submit(invitation=invitation, data=answers)
    visit = Visit.objects.get(patient=patient)
    assert visit.status == Visit.Status.DRAFT and str(visit.visit_date) == TODAY
    assert visit.patient_global == pytest.approx(3.5)
    haq = HAQ.objects.get(visit=visit)
    assert (haq.instrument, haq.walk) == ("haq", 1)
    assert invitation.state == "submitted" and invitation.visit == visit
    assert invitation.respondent == "patient"
    patient_events = AuditEvent.objects.filter(source="patient")
    assert patient_events.filter(object_type="crf.visit").exists()
    assert patient_events.filter(object_type="crf.haq").exists()
    assert patient_events.filter(object_type="crf.proinvitation", object_id=invitation.pk).exists()
    assert not patient_events.exclude(actor=None).exists()
    assert all(
        str(invitation.pk) in e.reason for e in patient_events.filter(object_type="crf.visit")
    )
    with pytest.raises(InvitationGone):
        pro_invitation_submit(invitation=invitation, data=answers)


def test_juvenile_onset_is_asked_the_chaq_and_the_respondent_is_recorded(coordinator, site):
    child = PatientFactory(
        site=site, birth_year=2012, onset_date=date(2020, 3, 1), diagnosis_date=date(2020, 5, 1)
    )
    invitation, _ = _create(coordinator, child, instruments=["haq"])
    assert invitation.haq_instrument == "chaq"
    items = dict(HAQ_ALL_ONES["items"])
    items.update(socks="na", nails=0, brush_teeth=0, comb_hair=0, pull_sweater=0, turn_neck=0)
    items.update(write=0, push_door=0, bike=2, play=2)
    answers = {"haq": {"items": items}, "respondent": "parent"}
    invitation = pro_invitation_submit(invitation=invitation, data=answers)
    chaq = HAQ.objects.get(visit__patient=child)
    assert (chaq.instrument, chaq.not_applicable, chaq.bike) == ("chaq", ["socks"], 2)
    assert invitation.respondent == "parent"


def test_bad_answers_name_the_field_and_store_nothing(coordinator, patient):
    invitation, _ = _create(coordinator, patient, instruments=["patient_global"])
    for data, field in (
        ({"patient_global": 11}, "patient_global"),
        ({"patient_global": "high"}, "patient_global"),
        ({}, "patient_global"),
        ({"patient_global": 3, "physician_global": 2}, "physician_global"),
        ({"patient_global": 3, "haq": HAQ_ALL_ONES}, "haq"),
        ([], ""),
    ):
        with pytest.raises(InputError) as caught:
            pro_invitation_submit(invitation=invitation, data=data)
        assert field in [path for path, _ in caught.value.errors], data
    assert not Visit.objects.exists()
    invitation.refresh_from_db()
    assert invitation.state == "sent"


def test_a_missing_haq_item_is_named(coordinator, patient):
    invitation, _ = _create(coordinator, patient, instruments=["haq"])
    haq = copy.deepcopy(HAQ_ALL_ONES)
    del haq["items"]["walk"]
    haq["items"]["dress"] = 4
    with pytest.raises(InputError) as caught:
        pro_invitation_submit(invitation=invitation, data={"haq": haq})
    paths = [path for path, _ in caught.value.errors]
    assert "haq.items.dress" in paths and "haq.items.walk" in paths
    assert not Visit.objects.exists()


def test_a_draft_is_kept_until_submitted(coordinator, patient):
    invitation, _ = _create(coordinator, patient, instruments=["patient_global"])
    invitation = pro_invitation_save_draft(invitation=invitation, data={"patient_global": 2.5})
    assert invitation.draft == {"patient_global": 2.5} and invitation.state == "opened"
    assert not Visit.objects.exists()
    with pytest.raises(InputError):
        pro_invitation_save_draft(invitation=invitation, data={"patient_global": -1})


def test_an_existing_visit_takes_answers_only_while_a_draft(coordinator, patient):
    visit = VisitFactory(patient=patient, status=Visit.Status.DRAFT, physician_global=4)
    invitation, _ = pro_invitation_create(
        actor=coordinator, visit=visit, instruments=["patient_global_damage"]
    )
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SUBMITTED)
    with pytest.raises(VisitClosed):
        pro_invitation_submit(invitation=invitation, data={"patient_global_damage": 2})
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.DRAFT)
    pro_invitation_submit(invitation=invitation, data={"patient_global_damage": 2})
    visit.refresh_from_db()
    assert visit.patient_global_damage == 2 and visit.physician_global == 4
    submitted = VisitFactory(patient=patient, visit_date=date(2021, 1, 1))
    with pytest.raises(InputError) as caught:
        pro_invitation_create(actor=coordinator, visit=submitted, instruments=["haq"])
    assert caught.value.errors[0][0] == "visit"


def test_bad_creations_name_the_field(coordinator, patient):
    visit = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    cases = [
        (dict(patient=patient, visit_date=TODAY, instruments=["mmt8"]), "instruments[0]"),
        (dict(patient=patient, visit_date=TODAY, instruments=[]), "instruments"),
        (dict(patient=patient, visit_date="2020-13-01", instruments=["haq"]), "visit_date"),
        (dict(patient=patient, instruments=["haq"]), "visit_date"),
        (dict(visit=visit, patient=patient, visit_date=TODAY, instruments=["haq"]), "visit"),
        (dict(instruments=["haq"]), "visit"),
        (
            dict(
                patient=patient,
                visit_date=str(date.today() + timedelta(days=30)),
                instruments=["haq"],
            ),
            "visit_date",
        ),
    ]
    for kwargs, field in cases:
        with pytest.raises(InputError) as caught:
            pro_invitation_create(actor=coordinator, **kwargs)
        assert field in [path for path, _ in caught.value.errors], kwargs
    assert not ProInvitation.objects.exists()


def test_another_sites_coordinator_cannot_invite_and_a_monitor_may_not(patient, site):
    stranger = actor_with_role(SiteFactory(code="LDS"), "coordinator")
    with pytest.raises(NotVisible):
        _create(stranger, patient)
    with pytest.raises(PermissionDenied):
        _create(actor_with_role(site, "monitor"), patient)


def test_expired_and_revoked_links_are_gone(coordinator, patient):
    expired, _ = _create(coordinator, patient)
    ProInvitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    expired.refresh_from_db()
    assert expired.state == "expired"
    with pytest.raises(InvitationGone):
        pro_invitation_submit(invitation=expired, data={"patient_global": 1})
    revoked, _ = _create(coordinator, patient)
    revoked = pro_invitation_revoke(actor=coordinator, invitation=revoked)
    assert revoked.state == "revoked"
    with pytest.raises(InvitationGone):
        pro_invitation_save_draft(invitation=revoked, data={"patient_global": 1})
    assert not Visit.objects.exists()


def test_changing_a_patient_entered_value_needs_a_reason(coordinator, patient):
    invitation, _ = _create(coordinator, patient, instruments=["patient_global"])
    invitation = pro_invitation_submit(invitation=invitation, data={"patient_global": 3.5})
    visit = invitation.visit
    doc = {"visit_date": TODAY, "patient_global": 5, "physician_global": 2}
    with pytest.raises(InputError) as caught:
        visit_save(actor=coordinator, patient=patient, data=doc, visit=visit)
    assert [path for path, _ in caught.value.errors] == ["reason"]
    visit.refresh_from_db()
    assert visit.patient_global == pytest.approx(3.5)
    # Other values of the draft change freely; with a reason, the patient's value too.
    visit_save(
        actor=coordinator,
        patient=patient,
        data={"visit_date": TODAY, "patient_global": 3.5, "physician_global": 2},
        visit=visit,
    )
    visit_save(
        actor=Actor(user=coordinator.user, source="web", reason="patient called to correct"),
        patient=patient,
        data=doc,
        visit=visit,
    )
    visit.refresh_from_db()
    assert visit.patient_global == 5
