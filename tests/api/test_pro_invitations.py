"""POST/GET /api/v1/pro-invitations/ (issue 17)."""

import copy
import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from crf.models import ProInvitation, Visit
from registry.models import AuditEvent, Membership
from tests.factories import PatientFactory, SiteFactory, UserFactory, VisitFactory
from tests.pro_fixtures import HAQ_ALL_ONES, TODAY

pytestmark = pytest.mark.django_db
URL = "/api/v1/pro-invitations/"


def client_for(site, role, name):
    user = UserFactory(username=name)
    Membership.objects.create(user=user, site=site, role=role)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def sites():
    return SiteFactory(code="MAN", name="Manchester"), SiteFactory(code="LDS", name="Leeds")


@pytest.fixture
def patient(sites):
    return PatientFactory(site=sites[0])


@pytest.fixture
def coordinator(sites):
    return client_for(sites[0], "coordinator", "coord-man")


def test_create_answers_201_with_the_link_and_sends_it_without_storing_the_address(
    coordinator, patient, django_capture_on_commit_callbacks
):
    body = {
        "patient": patient.pk,
        "visit_date": TODAY,
        "instruments": ["haq", "patient_global"],
        "email": "someone@example.org",
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = coordinator.post(URL, body, format="json")
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert {"id", "url", "expires_at", "state"} <= set(data) and "email" not in data
    assert data["state"] == "sent" and "/p/" in data["url"]
    assert re.fullmatch(r"http://testserver/p/[A-Za-z0-9_-]{43}/", data["url"])  # token only
    assert len(mail.outbox) == 1 and data["url"] in mail.outbox[0].body
    assert "someone@example.org" not in str(list(ProInvitation.objects.values()))
    assert "someone@example.org" not in str(list(AuditEvent.objects.values()))
    listed = coordinator.get(URL).json()
    assert [(i["id"], i["state"]) for i in listed["results"]] == [(data["id"], "sent")]
    assert "url" not in listed["results"][0]
    # The link works: the patient answers, and the list shows it.
    token_path = data["url"].split("testserver")[1]
    posted = APIClient().post(
        token_path,
        {"haq": copy.deepcopy(HAQ_ALL_ONES), "patient_global": 3.5},
        format="json",
    )
    assert posted.status_code == 201
    assert coordinator.get(URL, {"patient": patient.pk}).json()["results"][0]["state"] == (
        "submitted"
    )


def test_an_existing_draft_visit_and_its_refusals(coordinator, patient):
    draft = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    answer = coordinator.post(URL, {"visit": draft.pk, "instruments": ["haq"]}, format="json")
    assert answer.status_code == 201 and answer.json()["visit"] == draft.pk
    submitted = VisitFactory(patient=patient, visit_date="2021-02-02")
    for body, field in (
        ({"visit": submitted.pk, "instruments": ["haq"]}, "visit"),
        ({"visit": draft.pk, "instruments": ["mmt8"]}, "instruments[0]"),
        ({"visit": draft.pk, "patient": patient.pk, "instruments": ["haq"]}, "visit"),
        ({"instruments": ["haq"]}, "visit"),
        ({"patient": patient.pk, "visit_date": "2021-02-30", "instruments": ["haq"]}, "visit_date"),
        ({"patient": patient.pk, "instruments": ["haq"]}, "visit_date"),
        ({"visit": "x", "instruments": ["haq"]}, "visit"),
        ({"visit": draft.pk, "instruments": ["haq"], "email": "nope"}, "email"),
        ({"visit": draft.pk, "instruments": ["haq"], "colour": 1}, "colour"),
    ):
        answer = coordinator.post(URL, body, format="json")
        assert answer.status_code == 400, body
        assert field in [e["field"] for e in answer.json()["errors"]], (body, answer.json())
    assert ProInvitation.objects.count() == 1


def test_another_site_gets_404_and_sees_nothing_and_a_monitor_gets_403(coordinator, patient, sites):
    draft = VisitFactory(patient=patient, status=Visit.Status.DRAFT)
    created = coordinator.post(URL, {"visit": draft.pk, "instruments": ["haq"]}, format="json")
    stranger = client_for(sites[1], "coordinator", "coord-lds")
    for body in (
        {"visit": draft.pk, "instruments": ["haq"]},
        {"patient": patient.pk, "visit_date": TODAY, "instruments": ["haq"]},
    ):
        assert stranger.post(URL, body, format="json").status_code == 404
    assert stranger.get(URL).json()["results"] == []
    pk = created.json()["id"]
    assert stranger.get(f"{URL}{pk}/").status_code == 404
    assert stranger.post(f"{URL}{pk}/revoke/").status_code == 404
    monitor = client_for(sites[0], "monitor", "monitor-man")
    body = {"visit": draft.pk, "instruments": ["haq"]}
    assert monitor.post(URL, body, format="json").status_code == 403
    assert monitor.post(f"{URL}{pk}/revoke/").status_code == 403
    assert ProInvitation.objects.count() == 1


def test_revoke_makes_the_link_gone(coordinator, patient):
    data = coordinator.post(
        URL,
        {"patient": patient.pk, "visit_date": TODAY, "instruments": ["patient_global"]},
        format="json",
    ).json()
    answer = coordinator.post(f"{URL}{data['id']}/revoke/")
    assert answer.status_code == 200 and answer.json()["state"] == "revoked"
    path = data["url"].split("testserver")[1]
    assert APIClient().get(path).status_code == 410
    assert APIClient().post(path, {"patient_global": 1}, format="json").status_code == 410


def test_in_the_openapi_schema(coordinator):
    schema = coordinator.get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/pro-invitations/"])
    assert "post" in schema["paths"]["/api/v1/pro-invitations/{id}/revoke/"]
