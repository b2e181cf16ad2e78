"""The number of queries per page does not grow with the number of patients or visits: each page
is measured at two sizes and must run the same number of queries, under a fixed bound."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crf.models import DataQuery
from crf.services import visit_save
from registry.audit import Actor
from tests.factories import PatientFactory, TreatmentFactory, VisitFactory
from tests.web.conftest import visit_doc

pytestmark = pytest.mark.django_db


def count(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def add_patients(site, start, n):
    for index in range(start, start + n):
        patient = PatientFactory(site=site, patient_id=f"MAN-{index:04d}")
        VisitFactory(patient=patient, visit_date=date(2020, 1, 1))
        visit = VisitFactory(patient=patient, visit_date=date(2020, 6, 1), status="draft")
        DataQuery.objects.create(visit=visit, field="cmas", text="?")


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "MAN"}, {"status": "draft"}, {"overdue": "1", "diagnosis": "dermatomyositis"}],
)
def test_patient_list_queries_do_not_grow_with_patients(
    as_coordinator, site, django_assert_max_num_queries, params
):
    url = reverse("web:patients")
    add_patients(site, 0, 3)
    small = count(as_coordinator, url, params)
    add_patients(site, 3, 40)
    with django_assert_max_num_queries(14):
        large = count(as_coordinator, url, params)
    assert large == small


def add_visits(patient, actor, callbacks, start, n):
    for index in range(start, start + n):
        doc = visit_doc(
            visit_date=(date(2020, 1, 8) + timedelta(days=30 * index)).isoformat(),
            kind="baseline" if index == 0 else "follow_up",
            physician_global=max(0.0, 6.0 - index * 0.5),
        )
        with callbacks(execute=True):
            visit_save(actor=actor, patient=patient, data=doc)


@pytest.fixture
def grow(patient, coordinator, django_capture_on_commit_callbacks):
    actor = Actor(user=coordinator, source="web")
    TreatmentFactory(patient=patient, drug="ivig", start_date=date(2020, 1, 10))

    def grow(start, n):
        add_visits(patient, actor, django_capture_on_commit_callbacks, start, n)

    return grow


@pytest.mark.parametrize(
    "name",
    ["web:patient", "web:patient-scores", "web:visit-new", "web:patient-history"],
)
def test_patient_pages_queries_do_not_grow_with_visits(
    as_coordinator, patient, grow, django_assert_max_num_queries, name
):
    url = reverse(name, args=[patient.pk])
    grow(0, 2)
    small = count(as_coordinator, url)
    grow(2, 8)
    # A fixed number per section of the page (classification, refractory status, invitations,
    # vital status, lung, HRCT, adverse events), none per visit.
    with django_assert_max_num_queries(24):
        large = count(as_coordinator, url)
    assert large == small


@pytest.mark.parametrize(
    "name", ["web:visit", "web:visit-edit", "web:visit-explain", "web:visit-history"]
)
def test_visit_pages_queries_do_not_grow_with_visits(
    as_coordinator, patient, grow, django_assert_max_num_queries, name
):
    grow(0, 2)
    latest = patient.visits.order_by("-visit_date").first()
    small = count(as_coordinator, reverse(name, args=[latest.pk]))
    grow(2, 8)
    latest = patient.visits.order_by("-visit_date").first()
    with django_assert_max_num_queries(20):
        large = count(as_coordinator, reverse(name, args=[latest.pk]))
    assert large == small


def test_open_queries_page_does_not_grow_with_queries(
    as_coordinator, site, django_assert_max_num_queries
):
    url = reverse("web:queries")
    add_patients(site, 0, 2)
    small = count(as_coordinator, url)
    add_patients(site, 2, 30)
    # One of them the top bar's work-list counts (web.worklists.badges).
    with django_assert_max_num_queries(11):
        large = count(as_coordinator, url)
    assert large == small
