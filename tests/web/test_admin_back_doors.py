"""No back door in the admin (issue 13): clinical records are viewed there, never written, so a
submitted value cannot change without a reason nor a visit become locked without a signature.
Sites and memberships are still managed there."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from crf.models import Signature, Visit
from registry.models import AuditEvent, AutoantibodyResult, Membership, Patient, Site
from tests.factories import TreatmentFactory

pytestmark = pytest.mark.django_db

# What the admin is for: sites, people and their memberships.
MANAGED = {"registry.site", "registry.membership", "auth.user", "auth.group"}


@pytest.fixture
def as_admin_data_manager(client, data_manager):
    data_manager.is_staff = data_manager.is_superuser = True
    data_manager.save()
    client.force_login(data_manager)
    return client


def visit_form(visit: Visit, **changes) -> dict:
    """The admin change form of a visit as a browser posts it, with these changes."""
    data = {
        "patient": visit.patient_id,
        "visit_date": visit.visit_date.isoformat(),
        "kind": visit.kind,
        "status": visit.status,
        "physician_global": str(visit.physician_global or ""),
        "verified_at_0": "",
        "verified_at_1": "",
    }
    for prefix in ("mmt8", "labs", "haq"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return {**data, **changes}


def stored(visit: Visit) -> tuple:
    fresh = Visit.objects.get(pk=visit.pk)
    return fresh.status, fresh.physician_global, fresh.version


def test_a_submitted_visit_cannot_be_changed_or_locked(as_admin_data_manager, baseline):
    before, events = stored(baseline), AuditEvent.objects.count()
    url = reverse("admin:crf_visit_change", args=[baseline.pk])

    answer = as_admin_data_manager.post(
        url, visit_form(baseline, physician_global="9.5", status="locked")
    )

    assert answer.status_code == 403
    assert stored(baseline) == before
    assert not Signature.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_visit_is_shown_without_a_save_button(as_admin_data_manager, baseline):
    page = as_admin_data_manager.get(reverse("admin:crf_visit_change", args=[baseline.pk]))
    assert page.status_code == 200
    assert "MAN-0001" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()


def test_a_locked_visit_cannot_be_added(as_admin_data_manager, patient, baseline):
    answer = as_admin_data_manager.post(
        reverse("admin:crf_visit_add"),
        visit_form(baseline, visit_date="2020-06-08", kind="follow_up", status="locked"),
    )
    assert answer.status_code == 403
    assert list(Visit.objects.values_list("pk", flat=True)) == [baseline.pk]


def test_clinical_data_cannot_be_deleted_around_the_services(
    as_admin_data_manager, patient, baseline
):
    antibody = AutoantibodyResult.objects.create(
        patient=patient, antibody="anti-Jo-1", result="positive", method="elisa",
        sample_date="2019-05-02",
    )  # fmt: skip
    episode = TreatmentFactory(patient=patient)
    records = {"crf_visit": baseline, "registry_autoantibodyresult": antibody,
               "registry_treatmentepisode": episode, "registry_patient": patient}  # fmt: skip
    for name, obj in records.items():
        answer = as_admin_data_manager.post(
            reverse(f"admin:{name}_delete", args=[obj.pk]), {"post": "yes"}
        )
        assert answer.status_code == 403, name
        bulk = as_admin_data_manager.post(
            reverse(f"admin:{name}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302), name
        assert type(obj).objects.filter(pk=obj.pk).exists(), name


def test_a_patient_cannot_be_corrected_without_a_reason(as_admin_data_manager, patient, baseline):
    data = {
        "site": patient.site_id,
        "patient_id": patient.patient_id,
        "sex": "male",
        "birth_year": patient.birth_year,
        "birth_month": patient.birth_month,
        "diagnosis": "polymyositis",
        "onset_date": patient.onset_date.isoformat(),
        "diagnosis_date": "",
    }
    for prefix in ("autoantibodies", "treatments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    answer = as_admin_data_manager.post(
        reverse("admin:registry_patient_change", args=[patient.pk]), data
    )
    assert answer.status_code == 403
    patient.refresh_from_db()
    assert (patient.sex, patient.diagnosis) == ("female", "dermatomyositis")
    assert not Patient.objects.exclude(pk=patient.pk).exists()


def test_every_admin_of_clinical_records_is_read_only(data_manager):
    data_manager.is_staff = data_manager.is_superuser = True
    request = RequestFactory().get("/admin/")
    request.user = data_manager
    checked = set()
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in MANAGED:
            continue
        if model._meta.app_label == "axes":
            # The lockout records (django-axes): no clinical data; deleting an attempt is how a
            # data manager lifts a lockout.
            continue
        checked.add(model._meta.label_lower)
        for each in (model_admin, *model_admin.get_inline_instances(request)):
            assert not each.has_change_permission(request), each
            assert not each.has_delete_permission(request), each
        assert not model_admin.has_add_permission(request), model_admin
        assert model_admin.has_view_permission(request), model_admin
    assert {"registry.patient", "crf.visit", "registry.auditevent"} <= checked


def test_sites_and_memberships_are_still_managed_here(as_admin_data_manager, coordinator):
    answer = as_admin_data_manager.post(
        reverse("admin:registry_site_add"),
        {"code": "BRI", "name": "Bristol", "country": "GB", "time_zone": "Europe/London"},
    )
    assert answer.status_code == 302
    site = Site.objects.get(code="BRI")
    assert site.time_zone == "Europe/London"
    answer = as_admin_data_manager.post(
        reverse("admin:registry_membership_add"),
        {"user": coordinator.pk, "site": site.pk, "role": "monitor"},
    )
    assert answer.status_code == 302
    assert Membership.objects.filter(user=coordinator, site=site, role="monitor").exists()
