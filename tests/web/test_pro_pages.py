"""The patient's page /p/<token>/ and the coordinator's invitation pages (issue 17)."""

import copy
import re

import pytest
from django.test import Client
from django.utils import timezone

from crf.invitations import pro_invitation_create
from crf.models import HAQ, ProInvitation, Visit
from registry.audit import Actor
from registry.models import AuditEvent, Membership
from tests.factories import PatientFactory, SiteFactory, UserFactory, VisitFactory
from tests.pro_fixtures import HAQ_ALL_ONES, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site():
    return SiteFactory(code="MAN", name="Manchester myositis clinic")


@pytest.fixture
def coordinator(site):
    user = UserFactory(username="coord-man")
    Membership.objects.create(user=user, site=site, role="coordinator")
    return user


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


def invite(coordinator, patient, instruments=("haq", "patient_global"), **kwargs):
    if "visit" not in kwargs:
        kwargs.update(patient=patient, visit_date=TODAY)
    return pro_invitation_create(
        actor=Actor(user=coordinator, source="web"), instruments=list(instruments), **kwargs
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_the_page_shows_only_the_visit_and_site_with_a_strict_policy(coordinator, patient):
    invitation, token = invite(coordinator, patient)
    answer = Client().get(f"/p/{token}/")
    html = answer.content.decode()
    assert answer.status_code == 200
    policy = answer["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "Manchester myositis clinic" in html
    assert patient.patient_id not in html and "style=" not in html and "<script>" not in html
    assert len(re.findall(r'name="haq\.items\.', html)) == 20 * 4
    assert 'type="range"' in html and 'step="0.1"' in html
    assert "Dress yourself, including tying shoelaces and doing buttons" in html
    invitation.refresh_from_db()
    assert invitation.state == "opened"
    opened = AuditEvent.objects.get(object_type="crf.proinvitation", field="opened_at")
    assert (opened.source, opened.actor_id) == ("patient", None)
    # The patient pages set the session cookie at most; the other pages no policy.
    assert set(answer.cookies) <= {"sessionid"}
    assert "Content-Security-Policy" not in Client().get("/accounts/login/")


def _form(haq=True, value="3.5", **extra):
    data = {"patient_global": value, **extra}
    if haq:
        data.update({f"haq.items.{item}": "1" for item in HAQ_ALL_ONES["items"]})
        data["haq.aids"] = ["walking"]
    return data


def test_save_resume_on_the_same_device_submit_then_410(coordinator, patient):
    _, token = invite(coordinator, patient)
    device = Client()
    csrf = csrf_of(device.get(f"/p/{token}/").content.decode())
    saved = device.post(f"/p/{token}/", {"csrf": csrf, "action": "save", "patient_global": "4,2"})
    assert saved.status_code == 200 and "saved on this device" in saved.content.decode()
    assert 'value="4.2"' in device.get(f"/p/{token}/").content.decode()
    assert 'value="4.2"' not in Client().get(f"/p/{token}/").content.decode()
    assert not Visit.objects.exists()
    done = device.post(f"/p/{token}/", {"csrf": csrf, "action": "submit", **_form()})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    assert "Content-Security-Policy" in done
    visit = Visit.objects.get(patient=patient)
    assert visit.status == "draft" and float(visit.patient_global) == 3.5
    assert HAQ.objects.get(visit=visit).aids == ["walking"]
    assert device.get(f"/p/{token}/").status_code == 410
    assert device.post(f"/p/{token}/", {"csrf": csrf, **_form()}).status_code == 410


def test_the_form_needs_its_session_token(coordinator, patient):
    _, token = invite(coordinator, patient)
    answer = Client().post(f"/p/{token}/", {"csrf": "forged", "action": "submit", **_form()})
    assert answer.status_code == 403
    assert not Visit.objects.exists()


def test_a_missing_answer_is_named_on_the_page(coordinator, patient):
    _, token = invite(coordinator, patient)
    device = Client()
    csrf = csrf_of(device.get(f"/p/{token}/").content.decode())
    data = _form(value="12")
    del data["haq.items.walk"]
    answer = device.post(f"/p/{token}/", {"csrf": csrf, "action": "submit", **data})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert 'href="#q-haq-items-walk"' in html and 'href="#q-patient-global"' in html
    assert not Visit.objects.exists()


def test_json_answers_for_patient_apps(coordinator, patient):
    _, token = invite(coordinator, patient)
    app = Client()
    bad = {"haq": copy.deepcopy(HAQ_ALL_ONES), "patient_global": 10.5}
    answer = app.post(f"/p/{token}/", bad, content_type="application/json")
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["patient_global"]
    bad = {"haq": {"items": {"walk": 7}}, "patient_global": 2}
    answer = app.post(f"/p/{token}/", bad, content_type="application/json")
    assert "haq.items.walk" in [e["field"] for e in answer.json()["errors"]]
    answer = app.post(f"/p/{token}/", "{not json", content_type="application/json")
    assert answer.status_code == 400
    assert not Visit.objects.exists()
    good = {"haq": copy.deepcopy(HAQ_ALL_ONES), "patient_global": 3.5}
    answer = app.post(f"/p/{token}/", good, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["state"] == "submitted"
    answer = app.post(f"/p/{token}/", good, content_type="application/json")
    assert answer.status_code == 410


def test_unknown_expired_and_revoked_links_and_throttling(coordinator, patient, settings):
    assert Client().get("/p/not-a-real-token/").status_code == 404
    invitation, token = invite(coordinator, patient)
    ProInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    answer = Client().get(f"/p/{token}/")
    assert answer.status_code == 410 and "expired" in answer.content.decode()
    assert "Content-Security-Policy" in answer
    settings.API_AUTH_FAILURE_LIMIT = 3
    guesser = Client(REMOTE_ADDR="10.9.9.9")
    codes = [guesser.get(f"/p/guess-{n}/").status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_second_patients_token_cannot_reach_the_first_patients_visit(coordinator, patient, site):
    first = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    other = PatientFactory(site=site)
    _, token = invite(coordinator, other, instruments=["patient_global"])
    answer = Client().post(
        f"/p/{token}/",
        {"patient_global": 9, "visit_date": str(first.visit_date)},
        content_type="application/json",
    )
    assert answer.status_code == 400  # no key chooses the visit
    Client().post(f"/p/{token}/", {"patient_global": 9}, content_type="application/json")
    first.refresh_from_db()
    assert first.patient_global is None
    assert Visit.objects.get(patient=other).patient_global == 9


def test_a_closed_visit_refuses_the_answers_politely(coordinator, patient):
    visit = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    _, token = invite(coordinator, patient, visit=visit)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SUBMITTED)
    answer = Client().get(f"/p/{token}/")
    assert answer.status_code == 409 and "no longer takes answers" in answer.content.decode()
    answer = Client().post(
        f"/p/{token}/", {"haq": HAQ_ALL_ONES, "patient_global": 1}, content_type="application/json"
    )
    assert answer.status_code == 409
    visit.refresh_from_db()
    assert visit.patient_global is None


def test_coordinator_pages(client, coordinator, patient, site):
    client.force_login(coordinator)
    draft = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    assert "New invitation" in client.get(f"/patients/{patient.pk}/").content.decode()
    answer = client.post(
        f"/patients/{patient.pk}/invitations/new/",
        {"visit": str(draft.pk), "instruments": ["haq", "patient_global"]},
    )
    html = answer.content.decode()
    assert answer.status_code == 201 and "<svg" in html and "/p/" in html
    invitation = ProInvitation.objects.get()
    assert invitation.visit == draft
    listed = client.get("/invitations/").content.decode()
    assert f"/invitations/{invitation.pk}/" in listed
    assert "sent" in client.get(f"/patients/{patient.pk}/").content.decode()
    bad = client.post(f"/patients/{patient.pk}/invitations/new/", {"instruments": ["haq"]})
    assert bad.status_code == 400
    assert client.post(f"/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    # Another site's coordinator: 404 everywhere, and nothing listed.
    stranger = UserFactory(username="coord-lds")
    Membership.objects.create(user=stranger, site=SiteFactory(code="LDS"), role="coordinator")
    client.force_login(stranger)
    assert client.get(f"/patients/{patient.pk}/invitations/new/").status_code == 404
    assert client.get(f"/invitations/{invitation.pk}/").status_code == 404
    assert client.post(f"/invitations/{invitation.pk}/revoke/").status_code == 404
    assert f"/invitations/{invitation.pk}/" not in client.get("/invitations/").content.decode()


def test_patient_entered_values_are_marked_and_need_a_reason_to_change(
    client, coordinator, patient
):
    draft = VisitFactory(patient=patient, status=Visit.Status.DRAFT, visit_date=TODAY)
    _, token = invite(coordinator, patient, visit=draft, instruments=["patient_global"])
    Client().post(f"/p/{token}/", {"patient_global": 3.5}, content_type="application/json")
    client.force_login(coordinator)
    assert "patient-entered" in client.get(f"/visits/{draft.pk}/").content.decode()
    form = client.get(f"/visits/{draft.pk}/edit/").content.decode()
    assert "patient-entered" in form and 'name="reason"' in form
    data = {"visit_date": TODAY, "kind": "follow_up", "patient_global": "5", "action": "draft"}
    data["version"] = str(Visit.objects.get(pk=draft.pk).version)
    answer = client.post(f"/visits/{draft.pk}/edit/", data)
    assert answer.status_code == 400 and "what the patient entered" in answer.content.decode()
    assert float(Visit.objects.get(pk=draft.pk).patient_global) == 3.5
    answer = client.post(f"/visits/{draft.pk}/edit/", {**data, "reason": "patient phoned"})
    assert answer.status_code == 302
    assert float(Visit.objects.get(pk=draft.pk).patient_global) == 5
