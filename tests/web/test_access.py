"""Every page: anonymous people are sent to log in; another site's coordinator gets 404 (the record
might as well not exist); a role that may not do something at its own site gets 403."""

import pytest
from django.urls import reverse

from crf.models import DataQuery
from registry.models import AutoantibodyResult
from tests.factories import TreatmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(patient, baseline, monitor):
    antibody = AutoantibodyResult.objects.create(
        patient=patient,
        antibody="anti-Jo-1",
        result="positive",
        method="line_blot",
        sample_date="2019-05-02",
    )
    episode = TreatmentFactory(patient=patient)
    query = DataQuery.objects.create(visit=baseline, field="cmas", text="?", raised_by=monitor)
    return {
        "patient": patient.pk,
        "visit": baseline.pk,
        "antibody": antibody.pk,
        "episode": episode.pk,
        "query": query.pk,
    }


# (url name, which record's id, method)
RECORD_PAGES = [
    ("web:patient", "patient", "get"),
    ("web:patient-edit", "patient", "get"),
    ("web:patient-history", "patient", "get"),
    ("web:patient-scores", "patient", "get"),
    ("web:visit-new", "patient", "get"),
    ("web:antibody-new", "patient", "get"),
    ("web:treatment-new", "patient", "get"),
    ("web:antibody-edit", "antibody", "get"),
    ("web:antibody-delete", "antibody", "get"),
    ("web:treatment-edit", "episode", "get"),
    ("web:treatment-delete", "episode", "get"),
    ("web:visit", "visit", "get"),
    ("web:visit-edit", "visit", "get"),
    ("web:visit-delete", "visit", "get"),
    ("web:visit-explain", "visit", "get"),
    ("web:visit-history", "visit", "get"),
    ("web:visit-sign", "visit", "get"),
    ("web:visit-unlock", "visit", "get"),
    ("web:visit-verify", "visit", "post"),
    ("web:query-new", "visit", "post"),
    ("web:query-answer", "query", "post"),
    ("web:query-close", "query", "post"),
]
SITE_PAGES = ["web:home", "web:patients", "web:patient-new", "web:queries", "web:audit"]


@pytest.mark.parametrize(("name", "key", "method"), RECORD_PAGES)
def test_anonymous_is_sent_to_log_in(client, records, name, key, method):
    url = reverse(name, args=[records[key]])
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


@pytest.mark.parametrize("name", SITE_PAGES + ["web:audit-export"])
def test_anonymous_is_sent_to_log_in_from_site_pages(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize(("name", "key", "method"), RECORD_PAGES)
def test_coordinator_of_another_site_gets_404(client, outsider, records, name, key, method):
    client.force_login(outsider)
    before = DataQuery.objects.get(pk=records["query"]).status
    response = getattr(client, method)(reverse(name, args=[records[key]]), {"answer": "x"})
    assert response.status_code == 404
    assert DataQuery.objects.get(pk=records["query"]).status == before


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("web:patient", "patient"),
        ("web:patient-history", "patient"),
        ("web:visit", "visit"),
        ("web:visit-explain", "visit"),
        ("web:visit-history", "visit"),
    ],
)
def test_coordinator_reads_own_site_pages(as_coordinator, records, name, key):
    assert as_coordinator.get(reverse(name, args=[records[key]])).status_code == 200


def test_patient_list_leaves_other_sites_out(client, outsider, patient):
    client.force_login(outsider)
    response = client.get(reverse("web:patients"))
    assert response.status_code == 200
    assert patient.patient_id not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("web:visit-new", "patient"),
        ("web:patient-edit", "patient"),
        ("web:visit-edit", "visit"),
        ("web:antibody-new", "patient"),
        ("web:treatment-edit", "episode"),
    ],
)
def test_monitor_may_read_but_not_enter_data(client, monitor, records, name, key):
    client.force_login(monitor)
    assert client.get(reverse(name, args=[records[key]])).status_code == 403
    assert client.get(reverse("web:patient", args=[records["patient"]])).status_code == 200


def test_monitor_cannot_register_patients(client, monitor):
    client.force_login(monitor)
    assert client.get(reverse("web:patient-new")).status_code == 403


def test_coordinator_cannot_sign_or_unlock(as_coordinator, records):
    assert as_coordinator.get(reverse("web:visit-sign", args=[records["visit"]])).status_code == 403
    unlock = reverse("web:visit-unlock", args=[records["visit"]])
    assert as_coordinator.get(unlock).status_code == 403


def test_person_without_any_site_sees_no_patients(client, patient):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("web:patients"))
    assert response.status_code == 200
    assert "MAN-0001" not in response.content.decode()
    assert client.get(reverse("web:patient", args=[patient.pk])).status_code == 404
