"""Small cells (issue 13): a row of an aggregate computed from fewer than 5 patients, one of them
at a site the user is not a member of, is withheld from anyone but a data manager — null in the
API, "< 5" in pages and files, left out of the charts. On the cohort of conftest.py: AAA holds
P1, P2, P5 (methotrexate E2, rituximab E1 and E6, IVIG E3), BBB holds P3, P4 (IVIG E4, E5)."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.charts import report_charts
from reports.disclosure import MIN_PATIENTS, SUPPRESSED, Disclosure, Tally
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment
from tests.reports.conftest import patient, save_document, treatment, visit

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/outcomes-by-treatment/"
LABELS = {"treatment", "treatment_label", "stratum", "stratum_label", "suppressed"}


def login(client, user):
    client.force_login(user)
    return client


def figures(value):
    """Every leaf value of a JSON row's figures."""
    if isinstance(value, dict):
        for item in value.values():
            yield from figures(item)
    else:
        yield value


def row_figures(row):
    return list(figures({key: value for key, value in row.items() if key not in LABELS}))


def test_one_patient_at_another_site_is_withheld_from_an_investigator(client, cohort, people):
    body = login(client, people["inv_a"]).get(URL, {"site": "BBB", "drug": "ivig"}).json()
    (row,) = body["rows"]
    assert (row["treatment"], row["suppressed"]) == ("ivig", True)
    figures_ = row_figures(row)
    assert len(figures_) > 50 and set(figures_) == {None}
    # The totals are such a row too: 2 patients, both at BBB.
    assert (body["episodes"], body["pending_records"], body["suppressed"]) == (None, None, True)
    # Down to the one patient P3 by the stratum instead of the site filter: the same.
    body = login(client, people["inv_a"]).get(URL, {"stratify": "population"}).json()
    juvenile = [r for r in body["rows"] if r["stratum"] == "juvenile"]
    assert [(r["treatment"], r["suppressed"], r["episodes"]) for r in juvenile] == [
        ("ivig", True, None)
    ]


def test_the_same_filter_on_ones_own_site_is_shown(client, cohort, people):
    body = login(client, people["inv_a"]).get(URL, {"site": "AAA", "drug": "methotrexate"}).json()
    (row,) = body["rows"]
    assert (row["suppressed"], row["episodes"], row["evaluable"]) == (False, 1, 1)
    assert (body["episodes"], body["suppressed"]) == (1, False)
    # Stratified by site: AAA's rows are the investigator's own, BBB's are withheld.
    body = login(client, people["inv_a"]).get(URL, {"stratify": "site"}).json()
    shown = [(r["stratum"], r["treatment"], r["suppressed"], r["episodes"]) for r in body["rows"]]
    assert shown == [
        ("AAA", "methotrexate", False, 1), ("AAA", "rituximab", False, 2),
        ("AAA", "ivig", False, 1), ("BBB", "ivig", True, None),
    ]  # fmt: skip
    # BBB's investigator sees the reverse.
    body = login(client, people["inv_b"]).get(URL, {"stratify": "site"}).json()
    assert [r["suppressed"] for r in body["rows"]] == [True, True, True, False]


def test_a_data_manager_sees_every_row(client, cohort, people):
    body = login(client, people["dm"]).get(URL, {"site": "BBB", "drug": "ivig"}).json()
    (row,) = body["rows"]
    assert (row["suppressed"], row["episodes"], row["doi_responders"]) == (False, 2, 1)
    body = login(client, people["dm"]).get(URL, {"stratify": "site"}).json()
    assert {r["suppressed"] for r in body["rows"]} == {False}


def test_five_patients_are_shown_whatever_their_sites(client, cohort, people, sites):
    # IVIG: P2 at AAA, P3 and P4 at BBB, and two more at BBB.
    for number in (6, 7):
        save_document(
            sites["BBB"],
            patient(
                f"P{number}", diagnosis="polymyositis", antibody=None,
                visits=[visit("2021-01-01", "BASELINE"), visit("2021-05-01", "MODERATE")],
                treatments=[treatment("ivig", "2021-01-02")],
            ),
        )  # fmt: skip
    body = login(client, people["inv_a"]).get(URL, {"drug": "ivig"}).json()
    (row,) = body["rows"]
    assert (row["suppressed"], row["episodes"], row["evaluable"]) == (False, 5, 4)
    # Four of them, narrowed by the site filter: withheld again.
    body = login(client, people["inv_a"]).get(URL, {"drug": "ivig", "site": "BBB"}).json()
    assert body["rows"][0]["suppressed"] is True


def test_files_and_pages_show_less_than_five(client, cohort, people):
    login(client, people["inv_a"])
    params = {"drug": "ivig,methotrexate"}
    api_csv = client.get(URL, {**params, "format": "csv"}).content.decode()
    page_csv = client.get(reverse("reports:summary-csv"), params).content.decode()
    for text in (api_csv, page_csv):
        rows = {row["treatment"]: row for row in csv.DictReader(io.StringIO(text))}
        assert set(list(rows["ivig"].values())[4:]) == {SUPPRESSED}
        assert rows["methotrexate"]["episodes"] == "1"

    book = load_workbook(io.BytesIO(client.get(URL, {**params, "format": "xlsx"}).content))
    summary = {row[2]: row for row in list(book["Summary"].values)[1:]}
    assert set(summary["ivig"][4:]) == {SUPPRESSED} and summary["methotrexate"][4] == 1

    page = client.get(reverse("reports:outcomes"), params)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<td class="suppressed" colspan="14"' in html and "&lt; 5" in html
    # The charts draw methotrexate only.
    for chart in page.context["charts"]:
        assert "IVIG" not in chart[0].description and "IVIG" not in chart[1]


def test_charts_and_pdf_leave_suppressed_rows_out(cohort, sites):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.of_sites(["AAA"]))
    assert [(row.treatment, row.suppressed) for row in report.rows] == [
        ("methotrexate", False), ("rituximab", False), ("ivig", True),
    ]  # fmt: skip
    for chart in report_charts(report):
        assert "IVIG" not in chart.description
        assert "IVIG" not in " ".join(getattr(shape, "text", "") for shape in chart.shapes)
    from reports.pdf import pdf

    assert pdf(report).startswith(b"%PDF")


def test_a_tally_keeps_at_most_the_threshold_of_patients():
    tally = Tally()
    for patient_id in range(100):
        tally.add(patient_id, "AAA")
    assert len(tally.patients) == MIN_PATIENTS and not tally.small
    small = Tally()
    small.add(1, "BBB")
    assert Disclosure.of_sites(["AAA"]).suppresses(small)
    assert not Disclosure.of_sites(["AAA", "BBB"]).suppresses(small)
    assert not Disclosure.of_sites(["AAA"]).suppresses(tally)
