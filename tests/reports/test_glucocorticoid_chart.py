"""The glucocorticoid dose chart (issue 18): the median prednisone-equivalent dose at the start
and at weeks 12, 24 and 52 of each treatment, on tests/reports/conftest.py's cohort."""

import pytest
from django.urls import reverse

from reports.charts import Text
from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.glucocorticoid import dose_over_time, glucocorticoid_chart
from tests.reports.conftest import patient, treatment, visit

pytestmark = pytest.mark.django_db


def _medians(row):
    return {week: (s.n, s.median) for week, s in row.weeks.items()}


def test_doses_at_the_start_and_the_weeks_nearest_visits(cohort):
    found = dose_over_time(ReportFilters(), disclosure=Disclosure.registry_wide())
    rows = {row.treatment: row for row in found}
    # E1 (P1: 60 at baseline, 40 on day 80, 20 on day 170, 10 on day 360) and E6 (P5: 20, 20).
    assert _medians(rows["rituximab"]) == {0: (2, 40.0), 12: (2, 30.0), 24: (1, 20.0),
                                           52: (1, 10.0)}  # fmt: skip
    # E2 stops on 2020-04-01: its window ends on 2020-05-01, before P1's June visit.
    assert _medians(rows["methotrexate"]) == {0: (1, 60.0), 12: (1, 40.0), 24: (0, None),
                                              52: (0, None)}  # fmt: skip
    # E4 (P3: 30, 30 on day 83, 40 on day 174); E3 and E5 have no dose recorded.
    assert _medians(rows["ivig"]) == {0: (1, 30.0), 12: (1, 30.0), 24: (1, 40.0),
                                      52: (0, None)}  # fmt: skip
    assert rows["ivig"].episodes == 3


def test_the_nearest_visit_wins_and_of_two_as_near_the_earlier(save_patient, sites):
    # Start 2021-01-01: week 12 is day 84 (2021-03-26); visits on days 70 and 98 are as near.
    document = patient(
        "T1", diagnosis="dermatomyositis", antibody=None,
        visits=[visit("2021-01-01", "BASELINE", gc=50), visit("2021-03-12", "MINIMAL", gc=35),
                visit("2021-04-09", "MINIMAL", gc=25), visit("2021-06-25", "MINIMAL", gc=15),
                visit("2021-06-11", "MINIMAL", gc=None)],
        treatments=[treatment("azathioprine", "2021-01-01")],
    )  # fmt: skip
    save_patient(sites["AAA"], document)
    (row,) = dose_over_time(
        ReportFilters(drugs=("azathioprine",)), disclosure=Disclosure.registry_wide()
    )
    # Week 24 (day 168): 2021-06-11 is as near as 2021-06-25 and earlier, but has no dose,
    # which is not 0 mg: the dose of 2021-06-25 counts.
    assert _medians(row) == {0: (1, 50.0), 12: (1, 35.0), 24: (1, 15.0), 52: (0, None)}


def test_chart_panels_describe_the_doses_and_withhold_small_cells(cohort):
    rows = dose_over_time(ReportFilters(), disclosure=Disclosure.of_sites(["AAA"]))
    chart = glucocorticoid_chart(rows)
    titles = [s.text for s in chart.shapes if isinstance(s, Text) and s.bold]
    # IVIG: 3 patients, 2 of them at BBB: withheld from AAA (reports.disclosure).
    assert titles == ["Methotrexate (n=1)", "Rituximab (n=2)"]
    assert (
        "Rituximab (n=2): week 0 median 40 mg/day (IQR 30–50, n=2), week 12 median 30 mg/day "
        "(IQR 25–35, n=2), week 24 median 20 mg/day (IQR 20–20, n=1), week 52 median 10 mg/day "
        "(IQR 10–10, n=1)"
    ) in chart.description
    assert "Methotrexate (n=1): week 0 median 60 mg/day" in chart.description
    assert "week 24 no visits" in chart.description
    # One dose axis for every panel, from 0 to a round number above the highest quartile.
    y_labels = {s.text for s in chart.shapes if isinstance(s, Text) and s.anchor == "end"}
    assert {"0", "60"} <= y_labels and "80" not in y_labels


def test_the_outcomes_page_draws_it(client, cohort, people):
    client.force_login(people["inv_a"])
    html = client.get(reverse("reports:outcomes")).content.decode()
    assert 'id="chart-glucocorticoid-head"' in html
    assert "Glucocorticoid dose over time" in html
    empty = client.get(reverse("reports:outcomes"), {"drug": "tacrolimus"}).content.decode()
    assert "chart-glucocorticoid" not in empty  # no rows, no charts
