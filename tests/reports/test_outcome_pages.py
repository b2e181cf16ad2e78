"""The survival and safety pages and their downloads: chart, tables, small cells, access."""

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

PAGES = ["/reports/survival/", "/reports/safety/"]
DOWNLOADS = [f"/reports/{name}.{kind}" for name in ("survival", "safety")
             for kind in ("csv", "xlsx", "pdf")]  # fmt: skip


def login(client, user):
    client.force_login(user)
    return client


def test_survival_page_draws_curves_bands_and_numbers_at_risk(client, people, outcome_cohort):
    page = login(client, people["dm"]).get(PAGES[0], {"compare": "ciclosporin,tacrolimus"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="chart-survival"' in html or "chart-survival" in html
    assert "Number at risk" in html and "<polyline" in html
    # Tacrolimus at 26 weeks: 67 % (19–90), three still at risk.
    assert "67 %" in html and "19–90" in html
    assert "Cox hazard ratio (95 % CI)" in html
    assert 'href="/reports/survival.csv?' in html
    # Linked from the outcomes page and to the safety page.
    assert 'href="/reports/safety/"' in html
    assert 'href="/reports/survival/"' in client.get("/reports/").content.decode()


def test_safety_page_is_the_trial_table_with_deaths_by_cause(client, people, outcome_cohort):
    html = login(client, people["dm"]).get(PAGES[1]).content.decode()
    lines = ("Patients exposed", "Patient-years", "Leading to withdrawal", "Infusion reaction",
             "Thromboembolic", "Deaths by cause", "Malignancy")  # fmt: skip
    for line in lines:
        assert line in html
    # Tacrolimus: 4 of 6 patients with an event, Wilson 30.0–90.3.
    assert "4 (66.7 %; 30.0–90.3)" in html


def test_small_cells_show_as_less_than_five(client, people, outcome_cohort):
    for url in PAGES:
        html = login(client, people["inv_a"]).get(url, {"drug": "ivig"}).content.decode()
        assert "&lt; 5" in html
        assert "fewer than 5 patients" in html


@pytest.mark.parametrize("url", PAGES + DOWNLOADS)
def test_only_investigators_and_data_managers(client, people, url):
    assert client.get(url).status_code == 302  # the login page
    for name in ("nobody", "coord_a"):
        assert login(client, people[name]).get(url).status_code == 403


def test_downloads(client, people, outcome_cohort):
    login(client, people["dm"])
    csv = client.get("/reports/survival.csv", {"outcome": "pfs"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().startswith("treatment,treatment_label")
    book = load_workbook(io.BytesIO(client.get("/reports/safety.xlsx").content), read_only=True)
    assert book.sheetnames == ["Safety", "About"]
    for url in ("/reports/survival.pdf", "/reports/safety.pdf"):
        pdf = client.get(url, {"stratify": "site"})
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get("/reports/safety.txt").status_code == 404
    bad = client.get("/reports/survival.csv", {"time_zero": "birth"})
    assert bad.status_code == 400 and "time_zero" in bad.content.decode()


def test_bad_parameters_on_the_page_are_named(client, people, outcome_cohort):
    page = login(client, people["inv_a"]).get(PAGES[0], {"outcome": "dfs", "drug": "aspirin"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'href="#f-outcome"' in html and 'href="#f-drug"' in html


def test_the_data_dictionary_describes_the_new_columns(client, people):
    html = login(client, people["inv_a"]).get("/reports/definitions/").content.decode()
    assert "patients_exposed" in html and "at_W_weeks_at_risk" in html
