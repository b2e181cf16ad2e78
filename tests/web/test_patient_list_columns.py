"""The patient list's latest total improvement score and its category, and its sortable columns
(issue 18): from the stored records, at a fixed number of queries, keeping filters and pages."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crf.models import DataQuery
from scoring.models import ResponseRecord
from tests.factories import PatientFactory, VisitFactory
from web import selectors

pytestmark = pytest.mark.django_db


def record(patient, visit, reference, score, category, **changes):
    values = {
        "patient": patient,
        "visit": visit,
        "reference_visit": reference,
        "algorithm": ResponseRecord.Algorithm.ACR_EULAR,
        "reference_kind": ResponseRecord.ReferenceKind.BASELINE,
        "status": ResponseRecord.Status.DONE,
        "result": {},
        "computed_at": timezone.now(),
        "score": Decimal(score) if score is not None else None,
        "category": category,
        "complete": True,
    }
    values.update(changes)
    return ResponseRecord.objects.create(**values)


@pytest.fixture
def cohort(site):
    """Four patients: A (TIS 42.5 moderate at its latest scored visit, an older 70 major),
    B (TIS 12.5, none, a lower bound), C (a visit, no score), D (no visit at all)."""
    a = PatientFactory(site=site, patient_id="MAN-A", diagnosis="polymyositis")
    a0 = VisitFactory(patient=a, visit_date=date(2021, 1, 1), kind="baseline")
    a1 = VisitFactory(patient=a, visit_date=date(2021, 7, 1))
    a2 = VisitFactory(patient=a, visit_date=date(2022, 1, 1))
    a3 = VisitFactory(patient=a, visit_date=date(2022, 6, 1))
    record(a, a1, a0, "70.0", "major")
    record(a, a2, a0, "42.5", "moderate")
    # Not the latest there is: a pending record of a later visit, and a score against a
    # treatment episode's baseline, are not the baseline's latest score.
    record(a, a3, a0, None, "", status=ResponseRecord.Status.PENDING, result=None)
    record(a, a3, a1, "5.0", "none", reference_kind=ResponseRecord.ReferenceKind.TREATMENT)
    b = PatientFactory(site=site, patient_id="MAN-B", diagnosis="dermatomyositis")
    b0 = VisitFactory(patient=b, visit_date=date.today() - timedelta(days=400), kind="baseline")
    b1 = VisitFactory(patient=b, visit_date=date.today() - timedelta(days=10))
    DataQuery.objects.create(visit=b1, field="cmas", text="?")
    record(b, b1, b0, "12.5", "none", complete=False)
    c = PatientFactory(site=site, patient_id="MAN-C", diagnosis="inclusion_body_myositis")
    VisitFactory(patient=c, visit_date=date(2023, 3, 1), kind="baseline")
    PatientFactory(site=site, patient_id="MAN-D", diagnosis="dermatomyositis")
    return {"a": a, "b": b}


def order(client, **params):
    html = client.get(reverse("web:patients"), params).content.decode()
    return re.findall(r'<th scope="row"[^>]*><a href="/patients/\d+/">(MAN-\w+)</a>', html)


def rows_of(html):
    return {
        m.group(1): m.group(2) for m in re.finditer(r">(MAN-\w+)</a></th>(.*?)</tr>", html, re.S)
    }


def test_latest_tis_against_the_baseline_and_its_category(as_coordinator, cohort):
    html = as_coordinator.get(reverse("web:patients")).content.decode()
    rows = rows_of(html)
    assert "42.5" in rows["MAN-A"] and "category-moderate" in rows["MAN-A"]
    assert "70.0" not in rows["MAN-A"] and "5.0" not in rows["MAN-A"]
    assert "at the visit of 2022-01-01" in rows["MAN-A"]
    assert "12.5" in rows["MAN-B"] and "a lower bound" in rows["MAN-B"]
    assert "category-" not in rows["MAN-C"] and "category-" not in rows["MAN-D"]


def test_sorting_by_each_column(as_coordinator, cohort):
    assert order(as_coordinator) == ["MAN-A", "MAN-B", "MAN-C", "MAN-D"]
    assert order(as_coordinator, sort="-patient") == ["MAN-D", "MAN-C", "MAN-B", "MAN-A"]
    # Highest score first; no score last either way.
    assert order(as_coordinator, sort="-tis") == ["MAN-A", "MAN-B", "MAN-C", "MAN-D"]
    assert order(as_coordinator, sort="tis") == ["MAN-B", "MAN-A", "MAN-C", "MAN-D"]
    # Most recent first, never seen last; oldest first, never seen first.
    assert order(as_coordinator, sort="-last_visit") == ["MAN-B", "MAN-C", "MAN-A", "MAN-D"]
    assert order(as_coordinator, sort="last_visit") == ["MAN-D", "MAN-A", "MAN-C", "MAN-B"]
    assert order(as_coordinator, sort="-visits") == ["MAN-A", "MAN-B", "MAN-C", "MAN-D"]
    assert order(as_coordinator, sort="-open_queries")[0] == "MAN-B"
    assert order(as_coordinator, sort="diagnosis") == ["MAN-B", "MAN-D", "MAN-C", "MAN-A"]


def test_sorting_keeps_the_filters_and_the_pages(as_coordinator, cohort, site, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    params = {"diagnosis": "dermatomyositis", "sort": "-last_visit"}
    assert order(as_coordinator, **params) == ["MAN-B", "MAN-D"]
    for index in range(3):
        PatientFactory(site=site, patient_id=f"MAN-E{index}", diagnosis="dermatomyositis")
    html = as_coordinator.get(reverse("web:patients"), params).content.decode()
    # The next page's link and the filter form keep the sort; the headings keep the filter.
    assert re.search(r'href="\?[^"]*sort=-last_visit[^"]*page=2"', html.replace("&amp;", "&"))
    assert '<input type="hidden" name="sort" value="-last_visit">' in html
    headings = re.findall(r'<a class="sort-link" href="\?([^"]+)"', html)
    assert headings and all("diagnosis=dermatomyositis" in h for h in headings)
    assert all("page=" not in h for h in headings)
    # The sorted column says so, and its link reverses it.
    reverse_link = 'href="?diagnosis=dermatomyositis&amp;sort=last_visit"'
    assert f'aria-sort="descending"><a class="sort-link" {reverse_link}' in html
    page2 = order(as_coordinator, page=2, **params)
    assert page2 == ["MAN-E0", "MAN-E1"]


def test_an_unknown_sort_falls_back_to_the_default_order_and_says_so(as_coordinator, cohort):
    response = as_coordinator.get(reverse("web:patients"), {"sort": "-password", "q": "MAN"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no column “-password” to sort by" in html
    assert order(as_coordinator, sort="-password") == ["MAN-A", "MAN-B", "MAN-C", "MAN-D"]
    # The bad value is not carried on by the page's links or form.
    assert "password" not in html.replace("There is no column “-password”", "")
    assert order(as_coordinator, sort="--tis") == ["MAN-A", "MAN-B", "MAN-C", "MAN-D"]


def test_an_outsider_sorting_sees_only_their_site(client, cohort, outsider, other_site):
    PatientFactory(site=other_site, patient_id="LDS-1")
    client.force_login(outsider)
    html = client.get(reverse("web:patients"), {"sort": "-tis"}).content.decode()
    assert "LDS-1" in html and "MAN-" not in html and "42.5" not in html


@pytest.mark.parametrize("sort", ["", "-tis", "last_visit", "-visits", "diagnosis"])
def test_a_sorted_page_costs_the_same_with_more_patients(
    as_coordinator, site, cohort, django_assert_max_num_queries, sort
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert as_coordinator.get(reverse("web:patients"), {"sort": sort}).status_code == 200
        return len(queries)

    small = measure()
    for index in range(30):
        patient = PatientFactory(site=site, patient_id=f"MAN-X{index:02d}")
        base = VisitFactory(patient=patient, visit_date=date(2021, 1, 1), kind="baseline")
        later = VisitFactory(patient=patient, visit_date=date(2021, 9, 1))
        record(patient, later, base, f"{index}.5", "minimal")
    with django_assert_max_num_queries(14):
        assert measure() == small
