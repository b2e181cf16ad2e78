"""GET /api/v1/patients/ and /api/v1/visits/: content, filters, pagination, query counts."""

import copy

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.services import treatment_upsert
from tests.api.conftest import patient_document, store, token_client
from tests.conftest import EXAMPLE_VISIT
from tests.factories import MembershipFactory, SiteFactory


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def reader(site):
    return token_client(MembershipFactory(site=site, role="investigator").user)


def all_pages(client, url: str) -> list[dict]:
    rows = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url = body["next"]
    return rows


def test_patient_read_back(site, reader):
    patient = store(site, patient_document("MAN-0001", visits=2))
    body = reader.get(f"/api/v1/patients/{patient.pk}/").json()
    assert body["site"] == "MAN"
    assert body["patient_id"] == "MAN-0001"
    assert body["birth_year_month"] == "1968-04"
    assert body["population"] == "adult"
    assert body["serology_group"] == patient.serology_group != "not_tested"
    assert [a["antibody"] for a in body["autoantibodies"]] == ["anti-MDA5"]
    assert body["treatments"][0]["drug"] == "ivig"
    assert body["treatments"][0]["dose"] == 2
    assert [v["visit_date"] for v in body["visits"]] == ["2020-01-08", "2020-02-08"]
    assert body["visits"][0]["version"] == 1


def test_a_visit_reads_back_in_the_shape_it_was_sent(site, reader):
    patient = store(site, patient_document("MAN-0001"))
    visit = patient.visits.get()
    body = reader.get(f"/api/v1/visits/{visit.pk}/").json()
    sent = copy.deepcopy(EXAMPLE_VISIT)
    assert (body["visit_date"], body["kind"]) == (sent.pop("visit_date"), sent.pop("kind"))
    assert body["instruments"] == sent
    assert (body["patient"], body["patient_id"], body["site"]) == (patient.pk, "MAN-0001", "MAN")
    assert (body["status"], body["version"]) == ("submitted", 1)
    assert body["scores"] == []  # a lone baseline visit has nothing to be scored against


@pytest.mark.django_db(transaction=True)
def test_a_visit_reads_with_its_computed_scores():
    site = SiteFactory(code="MAN")
    reader = token_client(MembershipFactory(site=site, role="investigator").user)
    patient = store(site, patient_document("MAN-0001", visits=2))  # scored on commit
    follow_up = patient.visits.get(kind="follow_up")
    (entry,) = reader.get(f"/api/v1/visits/{follow_up.pk}/").json()["scores"]
    assert entry["reference_kind"] == "baseline"
    assert entry["reference_visit"]["date"] == "2020-01-08"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert entry["status"] == "done"
        assert entry["acr_eular"]["algorithm"] == "acr-eular-2016"
        assert entry["imacs_doi"]["algorithm"] == "imacs-doi-2004"
    else:
        assert entry["status"] in {"pending", "done"}


def test_pages_cover_every_record_once(site, reader):
    for number in range(7):
        store(site, patient_document(f"MAN-{number:04d}", visits=2))
    patients = all_pages(reader, "/api/v1/patients/?page_size=3")
    assert sorted(p["patient_id"] for p in patients) == [f"MAN-{n:04d}" for n in range(7)]
    visits = all_pages(reader, "/api/v1/visits/?page_size=4")
    assert len(visits) == len({v["id"] for v in visits}) == 14


def test_visits_of_one_patient(site, reader):
    first = store(site, patient_document("MAN-0001", visits=3))
    store(site, patient_document("MAN-0002", visits=2))
    visits = all_pages(reader, f"/api/v1/visits/?patient={first.pk}")
    assert [v["visit_date"] for v in visits] == ["2020-01-08", "2020-02-08", "2020-03-08"]


def test_site_filter(db):
    man, lds = SiteFactory(code="MAN"), SiteFactory(code="LDS")
    store(man, patient_document("MAN-1"))
    store(lds, patient_document("LDS-1"))
    manager = token_client(MembershipFactory(site=None, role="data_manager").user)
    assert [p["patient_id"] for p in all_pages(manager, "/api/v1/patients/?site=LDS")] == ["LDS-1"]
    assert [v["site"] for v in all_pages(manager, "/api/v1/visits/?site=MAN")] == ["MAN"]
    coordinator = token_client(MembershipFactory(site=man, role="coordinator").user)
    assert all_pages(coordinator, "/api/v1/patients/?site=LDS") == []


def test_updated_since_for_incremental_pulls(site, reader):
    old = store(site, patient_document("MAN-OLD", visits=2))
    since = timezone.now().isoformat()
    new = store(site, patient_document("MAN-NEW"))

    def pull(kind: str, when: str) -> set[str]:
        return {row.get("patient_id") for row in all_pages(
            reader, f"/api/v1/{kind}/?updated_since={when.replace('+', '%2B')}")}  # fmt: skip

    assert pull("patients", since) == {"MAN-NEW"}
    assert pull("visits", since) == {"MAN-NEW"}
    assert pull("patients", "2000-01-01") == {"MAN-OLD", "MAN-NEW"}
    # A change to something nested in a patient (a new treatment episode) counts as a change
    # of the patient: the audit trail knows when it happened.
    from registry.audit import Actor

    treatment_upsert(actor=Actor(None, "api"), patient=old,
                     values={"drug": "rituximab", "start_date": "2021-01-01"})  # fmt: skip
    assert pull("patients", since) == {"MAN-OLD", "MAN-NEW"}
    assert new.pk


def test_updated_since_takes_any_iso_offset(site, reader):
    store(site, patient_document("MAN-0001"))
    # Beyond PostgreSQL's ±15:59, found by schemathesis: converted to UTC first.
    response = reader.get("/api/v1/patients/?updated_since=2000-05-02T02:24:31-19:54")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/patients/?updated_since=yesterday", "updated_since"),
        ("/api/v1/visits/?updated_since=2020-13-45", "updated_since"),
        ("/api/v1/visits/?patient=abc", "patient"),
        ("/api/v1/visits/?patient=99999999999999999999999", "patient"),
        ("/api/v1/patients/?cursor=not-a-cursor", "cursor"),
        ("/api/v1/patients/?site=MAN%00", "site"),
        ("/api/v1/visits/?page_size=0", "page_size"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(site, reader, url, field):
    response = reader.get(url)
    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "99999999999999999999999"])
def test_ids_that_cannot_exist_are_404(site, reader, raw):
    for kind in ("patients", "visits"):
        response = reader.get(f"/api/v1/{kind}/{raw}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_unknown_api_urls_are_json_404(site, reader):
    response = reader.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


CAPTURED = []


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/visits/"])
def test_list_queries_do_not_grow_with_rows(site, reader, url):
    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as context:
            assert reader.get(url).status_code == 200
        CAPTURED.append(context.captured_queries)
        return len(context.captured_queries)

    store(site, patient_document("MAN-0000", visits=2))
    queries_for_a_page()  # the first use of the token records its time: one write, once
    few = queries_for_a_page()
    for number in range(1, 13):
        store(site, patient_document(f"MAN-{number:04d}", visits=3))
    many = queries_for_a_page()
    assert many == few, "\n".join(q["sql"][:150] for q in CAPTURED[-1])
    # And a small number in absolute terms (auth, memberships, the page, its prefetches, scores).
    assert few <= 14
