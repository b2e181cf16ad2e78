"""Fixtures of the API tests: two sites, a person of every role, tokens, stored patients."""

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from crf.submission import patients_create, sort_patients
from registry.audit import Actor
from registry.models import Membership, Patient
from registry.tokens import api_token_issue
from tests.conftest import EXAMPLE_PATIENT
from tests.factories import MembershipFactory, SiteFactory, UserFactory

SITE_ROLES = ("coordinator", "investigator", "monitor", "submitter")
ROLES = (*SITE_ROLES, "data_manager", "outsider")


@pytest.fixture(autouse=True)
def _clear_cache(request):
    # The failed-authentication counters live in the cache, which can outlive a test: Redis, or the
    # database's cache table after a transactional test. A test without the database has none.
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        yield
        return
    cache.clear()
    yield
    cache.clear()


def token_client(user: Any) -> APIClient:
    _, raw = api_token_issue(actor=Actor(user=None, source="command"), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    client.user = user
    return client


def patient_document(patient_id: str, *, visits: int = 1, **changes: Any) -> dict:
    """The example patient of docs/data-dictionary.md with `visits` visits a month apart (first:
    baseline)."""
    document = copy.deepcopy(EXAMPLE_PATIENT)
    document["patient_id"] = patient_id
    template = document["visits"][0]
    document["visits"] = []
    for index in range(visits):
        visit = copy.deepcopy(template)
        visit["visit_date"] = f"{2020 + index // 12}-{index % 12 + 1:02d}-08"
        visit["kind"] = "baseline" if index == 0 else "follow_up"
        # Improving over time, so that follow-ups have something to score.
        visit["physician_global"] = max(0.0, 6.0 - index)
        visit["patient_global"] = max(0.0, 5.0 - index)
        document["visits"].append(visit)
    document.update(changes)
    return document


def store(site: Any, document: dict) -> Patient:
    # The bulk path: equivalent to crf.submission.patient_document_save (tests/api/test_ingest.py)
    # and ten times faster, which matters for a fixture of every matrix test.
    new, _, _ = sort_patients(site, [document])
    patients_create(actor=Actor(user=None, source="command"), patients=new)
    return Patient.objects.get(site=site, patient_id=document["patient_id"])


@dataclass
class World:
    own: Any  # the site every site-role person belongs to
    other: Any  # a site none of them belongs to
    people: dict[str, Any]
    own_patient: Patient
    other_patient: Patient

    def client(self, role: str) -> APIClient:
        return token_client(self.people[role])

    @property
    def own_visit(self):
        return self.own_patient.visits.order_by("visit_date").first()

    @property
    def other_visit(self):
        return self.other_patient.visits.order_by("visit_date").first()


@pytest.fixture
def world(db) -> World:
    own, other = SiteFactory(code="MAN"), SiteFactory(code="LDS")
    people = {}
    for role in SITE_ROLES:
        people[role] = MembershipFactory(
            user=UserFactory(username=f"{role}-man"), site=own, role=role
        ).user
        # Everyone of the other site too, so that "other site" is never simply "nobody there".
        MembershipFactory(user=UserFactory(username=f"{role}-lds"), site=other, role=role)
    people["data_manager"] = MembershipFactory(
        user=UserFactory(username="datamanager"), site=None, role=Membership.Role.DATA_MANAGER
    ).user
    people["outsider"] = UserFactory(username="outsider")
    return World(
        own=own,
        other=other,
        people=people,
        own_patient=store(own, patient_document("MAN-0001", visits=2)),
        other_patient=store(other, patient_document("LDS-0001", visits=2)),
    )
