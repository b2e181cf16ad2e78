"""Who sees what: aggregates registry-wide for investigators and data managers, single
episodes only of one's own sites (another site's episode is a 404), 403 for other roles, and
the login page or 401 without credentials."""

import csv
import io

import pytest
from django.urls import reverse

from tests.reports.conftest import patient, save_document, treatment, visit

pytestmark = pytest.mark.django_db


def client_for(client, user):
    client.force_login(user)
    return client


def test_investigator_sees_registry_wide_aggregates(client, cohort, people, sites):
    # Two more IVIG patients at BBB, so that IVIG's row has the 5 patients a row needs to be
    # shown to AAA's investigator (reports.disclosure; the cohort alone has 3).
    for number in (6, 7):
        document = patient(
            f"P{number}", diagnosis="polymyositis", antibody=None,
            visits=[visit("2021-01-01", "BASELINE"), visit("2021-05-01", "MODERATE")],
            treatments=[treatment("ivig", "2021-01-02")],
        )  # fmt: skip
        save_document(sites["BBB"], document)
    response = client_for(client, people["inv_a"]).get(reverse("reports:outcomes"))
    assert response.status_code == 200
    ivig = next(row for row in response.context["report"].rows if row.treatment == "ivig")
    # IVIG episodes of both sites: E3 at AAA, E4, E5 and the two new ones at BBB.
    assert (ivig.episodes, ivig.suppressed) == (5, False)


def test_investigator_drills_down_to_own_site_episodes_only(client, cohort, people):
    response = client_for(client, people["inv_a"]).get(reverse("reports:episodes"))
    assert response.status_code == 200
    shown = {row.id for row in response.context["rows"]}
    assert shown == {cohort["E1"], cohort["E2"], cohort["E3"], cohort["E6"]}


def test_another_sites_episode_answers_404(client, cohort, people):
    client_for(client, people["inv_a"])
    assert client.get(reverse("reports:episode", args=[cohort["E4"]])).status_code == 404
    assert client.get(reverse("reports:episode", args=[999_999])).status_code == 404
    own = client.get(reverse("reports:episode", args=[cohort["E1"]]))
    assert own.status_code == 200
    assert [v["day"] for v in own.context["visits"]] == [80, 170, 360]


def test_data_manager_drills_down_everywhere(client, cohort, people):
    client_for(client, people["dm"])
    response = client.get(reverse("reports:episodes"))
    assert len(response.context["rows"]) == 6
    assert client.get(reverse("reports:episode", args=[cohort["E4"]])).status_code == 200


@pytest.mark.parametrize("who", ["coord_a", "nobody"])
@pytest.mark.parametrize(
    "name", ["reports:outcomes", "reports:summary-csv", "reports:episodes", "reports:long-csv",
             "reports:episodes-csv", "reports:definitions"],
)  # fmt: skip
def test_other_roles_are_refused_registry_wide_reports(client, cohort, people, who, name):
    response = client_for(client, people[who]).get(reverse(name))
    assert response.status_code == 403


def test_coordinator_cannot_open_an_episode_even_of_their_site(client, cohort, people):
    response = client_for(client, people["coord_a"]).get(
        reverse("reports:episode", args=[cohort["E1"]])
    )
    assert response.status_code == 403


def test_anonymous_is_sent_to_the_login_page(client, cohort):
    response = client.get(reverse("reports:outcomes"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get(reverse("reports:long-csv")).status_code == 302


def test_api_refuses_without_credentials_and_for_other_roles(client, cohort, people):
    url = "/api/v1/reports/outcomes-by-treatment/"
    assert client.get(url).status_code == 401
    assert client_for(client, people["coord_a"]).get(url).status_code == 403


def rows_of(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_episodes_csv_holds_own_sites_only(client, cohort, people):
    response = client_for(client, people["inv_b"]).get(reverse("reports:episodes-csv"))
    assert response.status_code == 200
    rows = rows_of(response)
    assert {int(row["episode_id"]) for row in rows} == {cohort["E4"], cohort["E5"]}
    assert {row["site"] for row in rows} == {"BBB"}


def test_long_export_holds_own_sites_only(client, cohort, people):
    response = client_for(client, people["inv_b"]).get(reverse("reports:long-csv"))
    assert response.status_code == 200
    assert response.streaming
    rows = rows_of(response)
    assert {row["patient_id"] for row in rows} == {"P3", "P4"}
