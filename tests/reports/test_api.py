"""GET /api/v1/reports/outcomes-by-treatment/?format=json|csv|xlsx with the page's filters."""

import csv
import io

import pytest
from openpyxl import load_workbook

from registry.audit import Actor
from registry.models import Membership
from registry.tokens import api_token_issue

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/outcomes-by-treatment/"


@pytest.fixture
def api(client, people):
    client.force_login(people["inv_a"])
    return client


@pytest.fixture
def dm_api(client, people):
    """A data manager's: no row withheld (the cohort's rows have fewer than 5 patients)."""
    client.force_login(people["dm"])
    return client


def test_json_rows_carry_the_required_keys(dm_api, cohort):
    response = dm_api.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["episodes"], body["pending_records"]) == (6, 3)
    rows = {row["treatment"]: row for row in body["rows"]}
    assert list(rows) == ["methotrexate", "rituximab", "ivig"]
    ivig = rows["ivig"]
    assert {
        key: ivig[key]
        for key in ("treatment", "episodes", "evaluable", "doi_responders", "confirmed_responders",
                    "best_category", "median_tis")
    } == {
        "treatment": "ivig", "episodes": 3, "evaluable": 2, "doi_responders": 1,
        "confirmed_responders": 0,
        "best_category": {"none": 1, "minimal": 0, "moderate": 1, "major": 0, "not_computed": 0},
        "median_tis": 25.0,
    }  # fmt: skip
    assert ivig["proportions"]["doi_responders"] == {
        "count": 1, "of": 2, "percent": 50.0, "ci95": [9.5, 90.5],
    }  # fmt: skip
    assert ivig["tis"] == {"n": 2, "median": 25.0, "iqr": [12.5, 37.5]}
    assert ivig["time_to_doi"] == {"n": 2, "events": 1, "median_days": 90.0}
    # Week 12: E4 (day 83, WORSE) and E5 (day 90, MODERATE).
    assert ivig["weeks"]["12"]["category"] == {"none": 1, "minimal": 0, "moderate": 1, "major": 0}
    assert ivig["confirmed_deteriorations"] == 1


def test_same_filters_as_the_pages(dm_api, cohort):
    body = dm_api.get(
        URL, {"site": "BBB", "group_by": "drug_class", "stratify": "population"}
    ).json()
    assert body["filters"]["site"] == ["BBB"]
    assert [(r["stratum"], r["treatment"], r["episodes"]) for r in body["rows"]] == [
        ("adult", "immunoglobulin", 1), ("juvenile", "immunoglobulin", 1),
    ]  # fmt: skip
    comma = dm_api.get(URL, {"drug": "ivig,rituximab"}).json()
    assert [r["treatment"] for r in comma["rows"]] == ["rituximab", "ivig"]


def test_empty_result(api, cohort):
    body = api.get(URL, {"drug": "baricitinib"}).json()
    assert (body["rows"], body["episodes"]) == ([], 0)


def test_csv(dm_api, cohort):
    response = dm_api.get(URL, {"format": "csv", "drug": "ivig"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["treatment"], row["episodes"]) for row in rows] == [("ivig", "3")]


def test_xlsx_with_own_site_episodes(api, cohort):
    response = api.get(URL, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    episode_ids = [row[0] for row in list(book["Episodes"].values)[1:]]
    assert sorted(episode_ids) == sorted([cohort[e] for e in ("E1", "E2", "E3", "E6")])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"diagnosis": "myasthenia"}, "diagnosis"),
        ({"start_from": "2020-02-30"}, "start_from"),
        ({"start_from": "2021-01-01", "start_to": "2020-01-01"}, "start_to"),
        ({"group_by": "site"}, "group_by"),
        ({"site": "ZZZ"}, "site"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, cohort, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_token_authentication(client, cohort, people):
    _, raw = api_token_issue(actor=Actor(user=None, source="command"), user=people["inv_b"])
    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 200
    assert client.get(URL, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_data_manager_and_investigator_may_monitor_may_not(client, cohort, people, sites):
    from tests.reports.conftest import member

    monitor = member(sites["AAA"], Membership.Role.MONITOR, "monitor-a")
    client.force_login(monitor)
    assert client.get(URL).status_code == 403
    client.force_login(people["dm"])
    assert client.get(URL).status_code == 200


def test_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/reports/outcomes-by-treatment/" in text
    assert 'outcomes-by-treatment"' not in text  # the slash-less alias is left out


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_options_and_errors_answer_json_whatever_the_format(api, format):
    response = api.options(URL + f"?format={format}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    bad = api.get(URL, {"format": format, "population": "elderly"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "population"


@pytest.mark.parametrize("name", ["start_from", "start_to"])
def test_an_empty_date_is_400_naming_it(api, cohort, name):
    response = api.get(f"{URL}?{name}=")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [name]
