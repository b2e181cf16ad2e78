"""The survival report grouped by initial regimen (`group_by=regimen`, reports.regimens): combined
up-front vs step-up, on a hand-built anti-MDA5 cohort whose every figure is known in advance.

Every episode starts on 2020-01-01 (day 0) unless said otherwise; days are counted from it.
GC: prednisone. All anti-MDA5 unless said otherwise.

Combined up-front, site AAA:
    K1 GC, tacrolimus day 0, cyclophosphamide day 14 (the last day of the window); dies day 60.
    K2 IV methylprednisolone and GC day 0, tacrolimus day 3, cyclophosphamide day 7; alive,
       last known day 400.
    K3 GC and mycophenolate day 0, rituximab day 10; dies day 300.
    K4 GC day 0, tacrolimus day 2, tofacitinib day 5; alive, last known day 200.
    K5 tacrolimus and cyclophosphamide day 0 (no glucocorticoid), mycophenolate day 100; alive,
       last known day 500.
Step-up, site BBB:
    S1 GC and tacrolimus day 0, cyclophosphamide day 15 (one day too late); dies day 30.
    S2 GC alone; dies day 90.
    S3 GC and hydroxychloroquine day 0, tacrolimus day 5 (hydroxychloroquine does not count);
       dies day 150.
    S4 GC and tacrolimus day 0, tacrolimus again day 10 (the same drug counts once); alive,
       last known day 365.
    S5 GC and IVIG day 0, plasma exchange day 2, mycophenolate day 5 (neither IVIG nor plasma
       exchange counts); dies day 250.
Others:
    X1 (AAA, anti-synthetase) GC, tacrolimus and cyclophosphamide day 0; alive, last known 100.
    N1 (AAA, anti-MDA5) no treatment episode; dies day 10: not counted.

Overall survival from day 0 (the first treatment day):
    combined  60 D (5 at risk) → 0.8; 200 C; 300 D (3 at risk) → 0.8·2/3; 400 C; 500 C.
    step-up   30 D → 0.8; 90 D → 0.6; 150 D → 0.4; 250 D → 0.2; 365 C.
"""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction

from reports.regimens import COMBINED, STEP_UP, classify
from reports.statistics import compare
from tests.factories import PatientFactory, SiteFactory, TreatmentFactory
from tests.reports.outcome_cohort import _alive, _dead
from tests.reports.test_survival_report import figure, loglog

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/survival/"
PAGE = "/reports/survival/"
START = date(2020, 1, 1)
MDA5 = {"serology": "mda5"}
BY_REGIMEN = {**MDA5, "group_by": "regimen"}

COHORT: dict[str, tuple[str, str, list[tuple[str, int]], int, bool]] = {
    # name: site, serology, [(drug, start day)], day of death or last known alive, dead
    "K1": ("AAA", "mda5", [("prednisone", 0), ("tacrolimus", 0), ("cyclophosphamide", 14)],
           60, True),
    "K2": ("AAA", "mda5", [("methylprednisolone_iv", 0), ("prednisone", 0), ("tacrolimus", 3),
                           ("cyclophosphamide", 7)], 400, False),
    "K3": ("AAA", "mda5", [("prednisone", 0), ("mycophenolate", 0), ("rituximab", 10)], 300, True),
    "K4": ("AAA", "mda5", [("prednisone", 0), ("tacrolimus", 2), ("tofacitinib", 5)], 200, False),
    "K5": ("AAA", "mda5", [("tacrolimus", 0), ("cyclophosphamide", 0), ("mycophenolate", 100)],
           500, False),
    "S1": ("BBB", "mda5", [("prednisone", 0), ("tacrolimus", 0), ("cyclophosphamide", 15)],
           30, True),
    "S2": ("BBB", "mda5", [("prednisone", 0)], 90, True),
    "S3": ("BBB", "mda5", [("prednisone", 0), ("hydroxychloroquine", 0), ("tacrolimus", 5)],
           150, True),
    "S4": ("BBB", "mda5", [("prednisone", 0), ("tacrolimus", 0), ("tacrolimus", 10)], 365, False),
    "S5": ("BBB", "mda5", [("prednisone", 0), ("ivig", 0), ("plasma_exchange", 2),
                           ("mycophenolate", 5)], 250, True),
    "X1": ("AAA", "antisynthetase", [("prednisone", 0), ("tacrolimus", 0),
                                     ("cyclophosphamide", 0)], 100, False),
    "N1": ("AAA", "mda5", [], 10, True),
}  # fmt: skip
COMBINED_TIMES = [(60, True), (400, False), (300, True), (200, False), (500, False)]
STEP_UP_TIMES = [(30, True), (90, True), (150, True), (365, False), (250, True)]


def _build() -> None:
    from scoring.services import score_patients

    ids = []
    for name, (site, serology, episodes, last, dead) in COHORT.items():
        patient = PatientFactory(
            site=SiteFactory(code=site), patient_id=name, serology_group=serology
        )
        ids.append(patient.pk)
        for drug, start in episodes:
            TreatmentFactory(patient=patient, drug=drug, start_date=START + timedelta(days=start))
        if dead:
            _dead(patient, last, "interstitial_lung_disease")
        else:
            _alive(patient, last)
    score_patients(patient_ids=ids)


@pytest.fixture(scope="module")
def regimen_cohort(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        with transaction.atomic():
            _build()
            yield
            transaction.set_rollback(True)


@pytest.fixture
def dm(client, people):
    client.force_login(people["dm"])
    return client


def rows_of(body):
    return {row["treatment"]: row for row in body["rows"]}


# -- the classification itself ---------------------------------------------------------------


def _days(*episodes: tuple[str, int]) -> list[tuple[date, str]]:
    return [(START + timedelta(days=start), drug) for drug, start in episodes]


@pytest.mark.parametrize(
    ("episodes", "expected"),
    [
        # The window: 14 days after the first treatment day is in, 15 is not.
        (_days(("prednisone", 0), ("tacrolimus", 0), ("cyclophosphamide", 14)), COMBINED),
        (_days(("prednisone", 0), ("tacrolimus", 0), ("cyclophosphamide", 15)), STEP_UP),
        # Counted from the earliest episode, whatever it is, not from the glucocorticoid.
        (
            _days(
                ("hydroxychloroquine", 0),
                ("prednisone", 10),
                ("tacrolimus", 10),
                ("cyclophosphamide", 15),
            ),
            STEP_UP,
        ),  # fmt: skip
        (_days(("prednisone", 0)), STEP_UP),
        (_days(("prednisone", 0), ("methylprednisolone_iv", 0), ("prednisolone", 3)), STEP_UP),
        (_days(("prednisone", 0), ("hydroxychloroquine", 0), ("tacrolimus", 1)), STEP_UP),
        (_days(("tacrolimus", 0), ("tacrolimus", 7)), STEP_UP),
        (_days(("prednisone", 0), ("ivig", 0), ("plasma_exchange", 0), ("rituximab", 0)), STEP_UP),
        (_days(("acth_gel", 0), ("other", 0), ("methotrexate", 0)), STEP_UP),
        (_days(("tacrolimus", 0), ("ciclosporin", 14)), COMBINED),
        (_days(("azathioprine", 0), ("baricitinib", 2)), COMBINED),
        (_days(("cyclophosphamide", 5), ("prednisone", 0), ("tofacitinib", 1)), COMBINED),
    ],
)
def test_initial_regimen(episodes, expected):
    found = classify(episodes)
    assert found is not None and found.regimen == expected
    assert found.first_day == min(start for start, _ in episodes)


def test_no_episode_no_regimen():
    assert classify([]) is None


# -- the report ------------------------------------------------------------------------------


def test_one_row_per_patient_by_regimen(dm, regimen_cohort):
    body = dm.get(URL, BY_REGIMEN).json()
    assert body["filters"]["group_by"] == "regimen"
    assert body["episodes"] == 10  # patients: one unit each; N1 (no treatment) not counted
    assert [row["treatment"] for row in body["rows"]] == ["combined", "step_up"]
    combined, step_up = body["rows"]
    assert (combined["treatment_label"], step_up["treatment_label"]) == (
        "Combined up-front",
        "Step-up",
    )
    counts = ("patients", "episodes", "events", "censored", "median_weeks")
    assert [combined[k] for k in counts] == [5, 5, 2, 3, None]  # 0.533 at the end: not reached
    assert [step_up[k] for k in counts] == [5, 5, 4, 1, 21.4]  # day 150
    assert combined["at_26_weeks"] == figure(0.8, loglog(0.8, 1 / 20), 4)
    assert combined["at_52_weeks"] == figure(0.8 * 2 / 3, loglog(0.8 * 2 / 3, 1 / 20 + 1 / 6), 2)
    # Followed up to day 500 at most: 104 weeks is not known.
    assert combined["at_104_weeks"] == {"estimate": None, "ci_low": None, "ci_high": None,
                                        "at_risk": 0}  # fmt: skip
    assert step_up["at_26_weeks"] == figure(0.4, loglog(0.4, 1 / 20 + 1 / 12 + 1 / 6), 2)
    assert step_up["at_52_weeks"] == figure(0.2, loglog(0.2, 1 / 20 + 1 / 12 + 1 / 6 + 1 / 2), 1)
    assert body["comparison"] is None


def test_combined_against_step_up(dm, regimen_cohort):
    body = dm.get(URL, {**BY_REGIMEN, "compare": "combined,step_up"}).json()
    comparison = body["comparison"]
    expected = compare(COMBINED_TIMES, STEP_UP_TIMES)
    assert (comparison["a"], comparison["b"], comparison["n_a"], comparison["n_b"]) == (
        "combined",
        "step_up",
        5,
        5,
    )
    assert (comparison["patients_a"], comparison["patients_b"]) == (5, 5)
    assert comparison["logrank_p"] == pytest.approx(expected.logrank_p)
    assert comparison["hazard_ratio"] == pytest.approx(expected.hazard_ratio, abs=1e-4)
    assert comparison["hr_ci_low"] == pytest.approx(expected.hr_low, abs=1e-4)
    assert comparison["hr_ci_high"] == pytest.approx(expected.hr_high, abs=1e-4)
    assert comparison["hazard_ratio"] < 1  # combined does better
    reverse = dm.get(URL, {**BY_REGIMEN, "compare": "step_up,combined"}).json()["comparison"]
    assert reverse["hazard_ratio"] == pytest.approx(1 / comparison["hazard_ratio"], rel=1e-3)


def test_filters_select_the_first_treatment_day(dm, regimen_cohort):
    # Without the serology filter X1 (anti-synthetase, combined) counts too.
    everyone = rows_of(dm.get(URL, {"group_by": "regimen"}).json())
    assert (everyone["combined"]["patients"], everyone["step_up"]["patients"]) == (6, 5)
    # Patients who started prednisone on their first treatment day: K5 (no glucocorticoid) is
    # out; K1 stays combined though its cyclophosphamide does not match the filter.
    prednisone = rows_of(dm.get(URL, {**BY_REGIMEN, "drug": "prednisone"}).json())
    assert (prednisone["combined"]["patients"], prednisone["step_up"]["patients"]) == (4, 5)
    # Cyclophosphamide on the first treatment day: K5 only (K1 day 14, K2 day 7, S1 day 15).
    body = dm.get(URL, {**BY_REGIMEN, "drug": "cyclophosphamide", "compare": "combined,step_up"})
    (row,) = body.json()["rows"]
    assert (row["treatment"], row["patients"], row["events"]) == ("combined", 1, 0)
    comparison = body.json()["comparison"]
    assert (comparison["n_a"], comparison["n_b"], comparison["hazard_ratio"]) == (1, 0, None)
    assert "fewer than 5 patients" in comparison["note"]
    # The period is that of the first treatment day: nobody's began after 2020-01-01.
    later = dm.get(URL, {**BY_REGIMEN, "start_from": "2020-01-02"}).json()
    assert (later["rows"], later["episodes"]) == ([], 0)


def test_time_zero_and_strata(dm, regimen_cohort):
    # Diagnosis on 2019-05-20 (the factory's): 226 days before the first treatment day.
    body = dm.get(URL, {**BY_REGIMEN, "time_zero": "diagnosis"}).json()
    combined = rows_of(body)["combined"]
    assert (combined["patients"], combined["events"]) == (5, 2)
    assert combined["at_26_weeks"]["estimate"] == pytest.approx(1.0)  # first death day 286
    assert combined["at_52_weeks"]["estimate"] == pytest.approx(0.8)
    strata = dm.get(URL, {"group_by": "regimen", "stratify": "serology"}).json()
    keys = {(row["stratum"], row["treatment"]): row["patients"] for row in strata["rows"]}
    assert keys == {("antisynthetase", "combined"): 1, ("mda5", "combined"): 5,
                    ("mda5", "step_up"): 5}  # fmt: skip


def test_small_cells_are_suppressed(client, people, regimen_cohort):
    params = {**BY_REGIMEN, "drug": "cyclophosphamide"}  # K5 alone, at AAA
    client.force_login(people["inv_b"])
    (row,) = client.get(URL, params).json()["rows"]
    assert (row["suppressed"], row["patients"], row["events"]) == (True, None, None)
    client.force_login(people["inv_a"])  # AAA's own patient
    (row,) = client.get(URL, params).json()["rows"]
    assert (row["suppressed"], row["patients"]) == (False, 1)
    client.force_login(people["inv_b"])  # five patients: shown to another site
    rows = rows_of(client.get(URL, BY_REGIMEN).json())
    assert rows["combined"]["suppressed"] is False and rows["combined"]["patients"] == 5


def test_csv_xlsx_and_pdf(dm, regimen_cohort):
    import csv
    import io

    from openpyxl import load_workbook

    response = dm.get(URL, {**BY_REGIMEN, "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["treatment"], r["patients"], r["events"]) for r in rows] == [
        ("combined", "5", "2"),
        ("step_up", "5", "4"),
    ]
    response = dm.get(URL, {**BY_REGIMEN, "format": "xlsx", "compare": "combined,step_up"})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True)}
    assert about["Grouped by"] == "initial regimen (combined up-front or step-up)"
    assert "Combined up-front vs Step-up (reference)" in about
    pdf = dm.get("/reports/survival.pdf", {**BY_REGIMEN, "compare": "combined,step_up"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_page_grouped_by_regimen(dm, regimen_cohort):
    response = dm.get(PAGE, {**BY_REGIMEN, "compare": "combined,step_up"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="regimen" selected>Initial regimen</option>' in html
    assert "10 patients by initial regimen" in html
    assert 'id="regimen-definition"' in html
    assert "Combined up-front vs Step-up (reference)" in html
    assert "Combined up-front" in response.context["chart"].description
    # The other reports' grouping select does not offer it.
    assert 'value="regimen"' not in dm.get("/reports/safety/").content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "regimen", "compare": "combined,tacrolimus"}, "compare"),
        ({"group_by": "regimen", "compare": "combined"}, "compare"),
        ({"group_by": "regimen", "serology": "mda6"}, "serology"),
        ({"group_by": "regimens"}, "group_by"),
        ({"group_by": "regimen,drug"}, "group_by"),
        ({"compare": "combined,step_up"}, "compare"),  # grouped by drug: not drug codes
    ],
)
def test_bad_parameters_are_named(dm, regimen_cohort, params, field):
    response = dm.get(URL, params)
    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}
    assert dm.get(PAGE, params).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/safety/",
        "/api/v1/reports/outcomes-by-treatment/",
        "/api/v1/reports/predictors/",
        "/reports/safety/",
        "/reports/safety.csv",
        "/reports/",
        "/reports/predictors/",
    ],
)
def test_other_reports_refuse_the_regimen_grouping(dm, regimen_cohort, url):
    response = dm.get(url, {"group_by": "regimen"})
    assert response.status_code == 400
    if response["Content-Type"].startswith("application/json"):
        errors = {error["field"]: error["message"] for error in response.json()["errors"]}
        assert "drug, drug_class" in errors["group_by"]


def test_refused_to_outsiders(client, people, regimen_cohort):
    assert client.get(URL, BY_REGIMEN).status_code in (401, 403)
    assert client.get(PAGE, BY_REGIMEN).status_code == 302  # the login page
    for name in ("nobody", "coord_a"):
        client.force_login(people[name])
        assert client.get(URL, BY_REGIMEN).status_code == 403
        assert client.get(URL, {**BY_REGIMEN, "format": "csv"}).status_code == 403
        assert client.get(PAGE, BY_REGIMEN).status_code == 403
