"""GET /api/v1/reports/survival/ on tests/reports/outcome_cohort.py: every estimate, interval
and number at risk known in advance."""

import csv
import io
import math

import pytest
from openpyxl import load_workbook

from reports.statistics import compare

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/survival/"
Z = 1.959963984540054


def loglog(survival, greenwood):
    """The 95 % log(−log) interval by hand (Greenwood's variance `greenwood`)."""
    log_s = math.log(survival)
    centre, spread = math.log(-log_s), Z * math.sqrt(greenwood) / abs(log_s)
    return math.exp(-math.exp(centre + spread)), math.exp(-math.exp(centre - spread))


def figure(estimate, interval, at_risk):
    return {
        "estimate": pytest.approx(estimate, abs=1e-4),
        "ci_low": pytest.approx(interval[0], abs=1e-4),
        "ci_high": pytest.approx(interval[1], abs=1e-4),
        "at_risk": at_risk,
    }


@pytest.fixture
def dm(client, people):
    client.force_login(people["dm"])
    return client


def rows_of(body):
    return {row["treatment"]: row for row in body["rows"]}


def test_overall_survival_by_drug(dm, outcome_cohort):
    body = dm.get(URL).json()
    assert (body["outcome"], body["time_zero"], body["episodes"]) == ("os", "episode", 13)
    rows = rows_of(body)
    assert list(rows) == ["methotrexate", "tacrolimus", "ciclosporin", "ivig"]  # vocabulary order
    tacrolimus = rows["tacrolimus"]
    # Day 100: 6 at risk, 2 deaths, 1 censored → 4/6; day 200: 3 at risk, 1 death → 4/9.
    assert {k: tacrolimus[k] for k in ("patients", "episodes", "events", "censored")} == {
        "patients": 6,
        "episodes": 6,
        "events": 3,
        "censored": 3,
    }
    assert tacrolimus["median_weeks"] == 28.6  # day 200
    assert tacrolimus["at_26_weeks"] == figure(4 / 6, loglog(4 / 6, 2 / 24), 3)
    assert tacrolimus["at_52_weeks"] == figure(4 / 9, loglog(4 / 9, 2 / 24 + 1 / 6), 2)
    assert tacrolimus["at_104_weeks"] == figure(4 / 9, loglog(4 / 9, 2 / 24 + 1 / 6), 1)
    assert tacrolimus["suppressed"] is False
    ciclosporin = rows["ciclosporin"]
    # Deaths on days 50, 150, 300, 500; censored on day 365.
    assert (ciclosporin["events"], ciclosporin["censored"], ciclosporin["median_weeks"]) == (
        4,
        1,
        42.9,
    )
    assert ciclosporin["at_26_weeks"] == figure(0.6, loglog(0.6, 1 / 20 + 1 / 12), 3)
    assert ciclosporin["at_52_weeks"] == figure(0.4, loglog(0.4, 1 / 20 + 1 / 12 + 1 / 6), 2)
    # The last one at risk died on day 500: the estimate is 0 from then on.
    assert ciclosporin["at_104_weeks"] == figure(0.0, (0.0, 0.0), 0)
    ivig = rows["ivig"]
    # One patient censored on day 152: the median is not reached, 26 weeks not known.
    assert (ivig["events"], ivig["median_weeks"]) == (0, None)
    assert ivig["at_26_weeks"] == {"estimate": None, "ci_low": None, "ci_high": None, "at_risk": 0}
    assert rows["methotrexate"]["at_26_weeks"]["estimate"] == 0.0  # died on day 81
    assert body["comparison"] is None


def test_progression_free_survival_of_patients_with_ild(dm, outcome_cohort):
    body = dm.get(URL, {"outcome": "pfs"}).json()
    # T1 died on day 100; T3 progressed on day 50 (FVC 80 → 70). Nobody else has ILD.
    (row,) = body["rows"]
    assert (row["treatment"], row["patients"], row["events"], row["median_weeks"]) == (
        "tacrolimus",
        2,
        2,
        7.1,
    )
    ats = dm.get(URL, {"outcome": "pfs", "definition": "ats_ers_2022_physiology"}).json()
    assert ats["rows"][0]["events"] == 2  # 10 points within a year: progression too


def test_time_zero_at_ild_onset(dm, outcome_cohort):
    body = dm.get(URL, {"time_zero": "ild_onset"}).json()
    (row,) = body["rows"]
    # Onset on day −30: T1 died 130 days later, T3 censored at 130 days (the same time).
    assert (row["patients"], row["events"], row["median_weeks"]) == (2, 1, 18.6)
    assert row["at_26_weeks"] == {"estimate": None, "ci_low": None, "ci_high": None, "at_risk": 0}


def test_comparison_log_rank_and_hazard_ratio(dm, outcome_cohort):
    body = dm.get(URL, {"compare": "ciclosporin,tacrolimus"}).json()
    ciclosporin = [(50, True), (150, True), (300, True), (365, False), (500, True)]
    tacrolimus = [(100, True), (100, True), (100, False), (200, True), (400, False),
                  (800, False)]  # fmt: skip
    expected = compare(ciclosporin, tacrolimus)
    comparison = body["comparison"]
    assert (comparison["n_a"], comparison["n_b"]) == (5, 6)
    assert comparison["logrank_p"] == pytest.approx(expected.logrank_p)
    assert comparison["hazard_ratio"] == pytest.approx(expected.hazard_ratio, abs=1e-4)
    assert (comparison["hr_ci_low"], comparison["hr_ci_high"]) == (
        pytest.approx(expected.hr_low, abs=1e-4),
        pytest.approx(expected.hr_high, abs=1e-4),
    )
    # By hand: the log-rank statistic from the 2×2 tables at each death time.
    assert comparison["logrank_p"] == pytest.approx(_logrank_by_hand(ciclosporin, tacrolimus))


def _logrank_by_hand(a, b):
    observed = expected = variance = 0.0
    for time in sorted({t for t, e in a + b if e}):
        n_a = sum(t >= time for t, _ in a)
        n = n_a + sum(t >= time for t, _ in b)
        d_a = sum(t == time and e for t, e in a)
        d = d_a + sum(t == time and e for t, e in b)
        observed += d_a
        expected += d * n_a / n
        if n > 1:
            variance += d * (n_a / n) * (1 - n_a / n) * (n - d) / (n - 1)
    chi2 = (observed - expected) ** 2 / variance
    return math.erfc(math.sqrt(chi2 / 2))  # the χ² (1 df) tail


def test_no_comparison_with_fewer_than_five_patients_or_an_empty_group(dm, outcome_cohort):
    small = dm.get(URL, {"compare": "tacrolimus,ivig"}).json()["comparison"]
    assert (small["n_a"], small["n_b"], small["logrank_p"], small["hazard_ratio"]) == (
        6,
        1,
        None,
        None,
    )
    assert "fewer than 5 patients" in small["note"]
    empty = dm.get(URL, {"compare": "tacrolimus,rituximab"}).json()["comparison"]
    assert (empty["n_b"], empty["logrank_p"]) == (0, None)
    nothing = dm.get(URL, {"drug": "rituximab"}).json()
    assert (nothing["rows"], nothing["episodes"]) == ([], 0)


def test_small_cells_are_suppressed_for_other_sites_investigators(client, people, outcome_cohort):
    client.force_login(people["inv_a"])
    rows = rows_of(client.get(URL).json())
    # IVIG and methotrexate: one patient each, at BBB; ciclosporin has five: shown.
    for drug in ("ivig", "methotrexate"):
        row = rows[drug]
        assert row["suppressed"] is True
        assert (row["patients"], row["events"], row["median_weeks"]) == (None, None, None)
        assert row["at_52_weeks"] == {"estimate": None, "ci_low": None, "ci_high": None,
                                      "at_risk": None}  # fmt: skip
    assert rows["ciclosporin"]["suppressed"] is False
    client.force_login(people["inv_b"])  # BBB's own patients: shown to BBB
    assert rows_of(client.get(URL).json())["ivig"]["suppressed"] is False
    client.force_login(people["inv_a"])
    body = client.get(URL, {"drug": "ivig"}).json()
    assert (body["episodes"], body["suppressed"]) == (None, True)
    text = client.get(URL, {"format": "csv"}).content.decode()
    ivig = next(r for r in csv.DictReader(io.StringIO(text)) if r["treatment"] == "ivig")
    assert (ivig["patients"], ivig["at_26_weeks_estimate"]) == ("< 5", "< 5")


def test_csv_and_xlsx(dm, outcome_cohort):
    response = dm.get(URL, {"format": "csv", "stratify": "site"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    tacrolimus = next(r for r in rows if r["treatment"] == "tacrolimus")
    assert (tacrolimus["stratum"], tacrolimus["events"], tacrolimus["at_52_weeks_at_risk"]) == (
        "AAA",
        "3",
        "2",
    )
    response = dm.get(URL, {"format": "xlsx", "compare": "ciclosporin,tacrolimus"})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Survival", "About"]
    header, *cells = list(book["Survival"].iter_rows(values_only=True))
    assert header[:5] == ("treatment", "treatment_label", "stratum", "stratum_label", "patients")
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert "Cox hazard ratio (95 % CI)" in about


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"outcome": "dfs"}, "outcome"),
        ({"time_zero": "birth"}, "time_zero"),
        ({"definition": "fvc5"}, "definition"),
        ({"compare": "tacrolimus"}, "compare"),
        ({"compare": "tacrolimus,aspirin"}, "compare"),
        ({"drug": "aspirin"}, "drug"),
        ({"format": "pdf"}, "format"),
    ],
)
def test_bad_parameters_are_named(dm, outcome_cohort, params, field):
    response = dm.get(URL, params)
    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("url", [URL, "/api/v1/reports/safety/"])
def test_refused_without_the_report_role(client, people, url):
    assert client.get(url).status_code in (401, 403)
    for name in ("nobody", "coord_a"):
        client.force_login(people[name])
        assert client.get(url).status_code == 403
        assert client.get(url, {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("stratify", ["site", "diagnosis", "serology", "population", "refractory"])
def test_every_stratification(dm, outcome_cohort, stratify):
    for url in (URL, "/api/v1/reports/safety/"):
        body = dm.get(url, {"stratify": stratify}).json()
        assert body["episodes"] == 13
        assert all(row["stratum"] for row in body["rows"])
    if stratify == "refractory":  # nobody in the cohort is refractory
        assert {row["stratum"] for row in body["rows"]} == {"no"}
