"""The investigator pages: filters, table, server-rendered charts, downloads, definitions."""

import csv
import io
import re

import pytest
from django.urls import reverse

from reports.builders import csv_lines
from reports.charts import report_charts, to_svg
from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def investigator(client, people):
    client.force_login(people["inv_a"])
    return client


def test_report_page_shows_table_charts_and_downloads(investigator, cohort):
    response = investigator.get(reverse("reports:outcomes"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Outcomes by treatment", "Rituximab", "IVIG", "Methotrexate",
                 "chart-best-category", "chart-time-to-doi", "chart-tis-over-time",
                 reverse("reports:summary-csv"), reverse("reports:long-csv"),
                 "3 response records still pending"):  # fmt: skip
        assert text in html, text
    assert "<svg" in html
    # No inline script: the one script of the page is the registry's own file.
    scripts = re.findall(r"<script[^>]*>", html.split("<main", 1)[1])
    assert scripts == ['<script src="/static/reports/reports.js" defer>']
    # Nothing fetched from elsewhere: every asset is served by the registry.
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_drilldown_links_carry_the_row_and_its_stratum(investigator, cohort):
    response = investigator.get(reverse("reports:outcomes"), {"stratify": "site"})
    links = [query for _, query, _ in response.context["rows"]]
    assert "group_by=drug&drug=ivig&site=BBB" in links
    drill = investigator.get(reverse("reports:episodes") + "?drug=ivig&site=BBB")
    # BBB's IVIG episodes are not investigator A's to open.
    assert drill.status_code == 200 and drill.context["rows"] == []


def test_bad_filters_show_an_error_summary(investigator, cohort):
    response = investigator.get(reverse("reports:outcomes"), {"start_from": "yesterday"})
    assert response.status_code == 400
    assert b"These filters cannot be used" in response.content
    assert b'href="#f-start_from"' in response.content


def test_empty_result_says_so(investigator, cohort):
    response = investigator.get(reverse("reports:outcomes"), {"drug": "baricitinib"})
    assert b"No treatment episodes match these filters." in response.content


def test_definitions_page_lists_every_column(investigator):
    response = investigator.get(reverse("reports:definitions"))
    assert response.status_code == 200
    assert b"doi_responders_ci_low" in response.content
    assert b"Overlapping treatments" in response.content


def test_charts_describe_their_data_and_escape_text(cohort):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    best, km, tis = report_charts(report)
    assert "IVIG: none 1, minimal 0, moderate 1, major 0, not computed 0" in best.description
    assert "IVIG: 1 of 2 met the DOI, median 90 days" in km.description
    assert "Methotrexate: 0 of 1 met the DOI, median not reached" in km.description
    assert "week 12 median 25 (IQR 12.5–37.5, n=2)" in tis.description
    best.title = "<script>alert(1)</script>"
    assert "<script>" not in to_svg(best)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    lines = list(csv_lines(["drug_other", "change"], [["=HYPERLINK(1)", -20.0]]))
    row = next(csv.reader(io.StringIO(lines[1])))
    assert row == ["'=HYPERLINK(1)", "-20"]


def test_top_bar_links_the_reports_for_investigators_only(client, people):
    client.force_login(people["inv_a"])
    assert b'href="/reports/"' in client.get(reverse("web:patients")).content
    client.force_login(people["coord_a"])
    assert b'href="/reports/"' not in client.get(reverse("web:patients")).content


def test_the_filter_forms_empty_fields_are_no_filter(investigator, cohort):
    response = investigator.get(
        reverse("reports:outcomes") + "?start_from=&start_to=&population=&group_by=drug"
    )
    assert response.status_code == 200
    assert response.context["filters"] == ReportFilters()
