"""The reports run a fixed number of queries, whatever the size of the cohort (set-based reads:
no query per episode, visit or record)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.reports.conftest import patient, save_document, treatment, visit

pytestmark = pytest.mark.django_db

URLS = [
    reverse("reports:outcomes"),
    reverse("reports:outcomes") + "?stratify=site&group_by=drug_class",
    reverse("reports:summary-csv"),
    reverse("reports:episodes"),
    reverse("reports:episodes-csv"),
    reverse("reports:long-csv"),
    "/api/v1/reports/outcomes-by-treatment/",
    "/api/v1/reports/outcomes-by-treatment/?format=xlsx",
    reverse("reports:survival") + "?compare=rituximab,methotrexate",
    reverse("reports:safety") + "?stratify=site",
    "/api/v1/reports/survival/?outcome=pfs&format=csv",
    "/api/v1/reports/safety/?format=xlsx",
]


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


def grow(sites, count):
    """`count` more patients like P1 at each site, each with two overlapping episodes."""
    for number in range(count):
        for site in sites.values():
            save_document(site, patient(
                f"X{number}-{site.code}", diagnosis="dermatomyositis", antibody="anti-Mi-2",
                visits=[visit("2020-01-01", "BASELINE", gc=60), visit("2020-03-25", "MINIMAL"),
                        visit("2020-06-23", "MODERATE"), visit("2020-12-30", "MAJOR")],
                treatments=[treatment("rituximab", "2020-01-05"),
                            treatment("methotrexate", "2020-01-01", "2020-04-01")],
            ))  # fmt: skip


@pytest.mark.slow
def test_query_counts_do_not_grow_with_the_cohort(client, cohort, people, sites):
    client.force_login(people["dm"])
    before = {url: queries(client, url) for url in URLS}
    grow(sites, 3)
    after = {url: queries(client, url) for url in URLS}
    assert after == before
    # And they are few: the report page is one query for the outcomes plus page furniture.
    # Session, user, memberships, sites for the form and the top bar, the top bar's worklist
    # counts (one query), the outcome query (and on PostgreSQL the SET and RESET around it), the
    # glucocorticoid chart's doses (one query), the recent exports, the endpoints to choose from.
    assert before[reverse("reports:outcomes")] <= 20
    assert before[reverse("reports:long-csv")] <= 12


def test_episode_page_queries_do_not_grow_with_its_visits(client, cohort, people):
    client.force_login(people["dm"])
    few = queries(client, reverse("reports:episode", args=[cohort["E2"]]))  # one follow-up
    many = queries(client, reverse("reports:episode", args=[cohort["E1"]]))  # three
    assert few == many
