"""Predictors of response (reports.predictors): odds ratios against hand computations, the
rule of at least 10 episodes per level for the multivariable model, and the API's 400s."""

from math import exp, log, sqrt

import pytest

from registry.audit import Actor
from reports.predictors import _Level, _multivariable
from reports.services import endpoint_define
from reports.statistics import odds_ratio

Z = 1.959963984540054
URL = "/api/v1/reports/predictors/"


def woolf(a: float, b: float, c: float, d: float) -> tuple[float, float, float]:
    estimate = a * d / (b * c)
    half = Z * sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return estimate, exp(log(estimate) - half), exp(log(estimate) + half)


def test_odds_ratio_of_a_two_by_two_table():
    # 6 of 20 respond in the level, 12 of 20 in the reference.
    found = odds_ratio(6, 14, 12, 8)
    estimate, low, high = woolf(6, 14, 12, 8)
    assert found.estimate == pytest.approx(48 / 168)
    assert (found.estimate, found.low, found.high) == pytest.approx((estimate, low, high))
    assert found.corrected is False


def test_haldane_correction_when_a_cell_is_zero():
    found = odds_ratio(3, 0, 1, 4)
    assert found.corrected is True
    assert (found.estimate, found.low, found.high) == pytest.approx(woolf(3.5, 0.5, 1.5, 4.5))


def _design(levels: dict[str, tuple[int, int]]) -> tuple[dict, list]:
    groups = {factor: {} for factor in ("serology", "diagnosis", "population", "damage_tertile",
                                        "disease_duration", "refractory",
                                        "classification_subgroup")}  # fmt: skip
    design = []
    for level, (episodes, responders) in levels.items():
        groups["population"][level] = _Level(episodes, responders)
        design += [(int(i < responders), {"population": level}) for i in range(episodes)]
    return groups, design


def test_multivariable_fitted_when_every_level_has_10_episodes():
    groups, design = _design({"adult": (20, 12), "juvenile": (20, 6)})
    model = _multivariable(groups, {"population": "adult"}, design, withheld=False)
    assert model.fitted is True and model.episodes == 40
    [coefficient] = model.coefficients
    # One binary covariate: the maximum-likelihood odds ratio is the table's.
    estimate, _, _ = woolf(6, 14, 12, 8)
    assert (coefficient["level"], coefficient["reference"]) == ("juvenile", "adult")
    assert coefficient["odds_ratio"] == pytest.approx(estimate, rel=1e-4)


def test_multivariable_not_fitted_with_a_level_under_10():
    groups, design = _design({"adult": (20, 12), "juvenile": (9, 3)})
    model = _multivariable(groups, {"population": "adult"}, design, withheld=False)
    assert model.fitted is False
    assert "at least 10" in model.reason and "juvenile: 9" in model.reason


@pytest.mark.django_db
def test_api_against_a_hand_computation(client, people, cohort):
    client.force_login(people["dm"])
    # TIS >= 20 at week 12 (± 4): E4 (adult, day 83, TIS 0) does not respond, E5 (juvenile,
    # day 90, TIS 50) does; E3 (no baseline) is not evaluable.
    endpoint_define(actor=Actor(user=people["dm"], source="api"),
                    data={"name": "tis20-w12", "measure": "tis", "threshold": 20,
                          "horizon_weeks": 12, "window_weeks": 4})  # fmt: skip
    response = client.get(URL, {"drug": "ivig", "endpoint": "tis20-w12"})
    assert response.status_code == 200
    body = response.json()
    assert (body["episodes"], body["responders"]) == (2, 1)
    rows = {(row["factor"], row["level"]): row for row in body["rows"]}
    adult, juvenile = rows[("population", "adult")], rows[("population", "juvenile")]
    # Two levels of one episode each: the first in order (adult) is the reference.
    assert adult["reference"] is True and adult["odds_ratio"] is None
    assert (adult["episodes"], adult["responders"], adult["percent"]) == (1, 0, 0.0)
    assert (juvenile["episodes"], juvenile["responders"], juvenile["percent"]) == (1, 1, 100.0)
    # [[1, 0], [0, 1]] with Haldane's 0.5: (1.5 · 1.5) / (0.5 · 0.5) = 9.
    estimate, low, high = woolf(1.5, 0.5, 0.5, 1.5)
    assert estimate == 9
    assert juvenile["odds_ratio"] == pytest.approx(estimate, abs=1e-3)
    assert (juvenile["or_ci_low"], juvenile["or_ci_high"]) == pytest.approx((low, high), abs=1e-3)
    assert juvenile["haldane_corrected"] is True
    assert {row["factor"] for row in body["rows"]} >= {
        "serology", "diagnosis", "population", "disease_duration", "refractory",
        "classification_subgroup",
    }  # fmt: skip
    # The cohort's visits record no physician global damage: no tertiles, no rows of them.
    assert body["damage_tertile_cuts"] is None
    assert "damage_tertile" not in {row["factor"] for row in body["rows"]}
    assert body["multivariable"]["fitted"] is False
    assert "at least 10" in body["multivariable"]["reason"]


@pytest.mark.django_db
def test_rows_suppressed_for_another_sites_investigator(client, people, cohort):
    client.force_login(people["inv_a"])
    body = client.get(URL, {"drug": "ivig", "endpoint": "proderm"}).json()
    assert body["episodes"] is None
    assert body["rows"] and all(row["suppressed"] for row in body["rows"])
    assert all(row["odds_ratio"] is None and row["episodes"] is None for row in body["rows"])


@pytest.mark.django_db
def test_missing_or_bad_parameters_are_400s(client, people, cohort):
    client.force_login(people["dm"])
    for params, fields in (
        ({"endpoint": "proderm"}, ["drug"]),
        ({"drug": "ivig"}, ["endpoint"]),
        ({}, ["drug", "endpoint"]),
        ({"drug": "ivig", "endpoint": "unknown"}, ["endpoint"]),
        ({"drug": "aspirin", "endpoint": "proderm"}, ["drug"]),
    ):
        response = client.get(URL, params)
        assert response.status_code == 400, params
        assert [e["field"] for e in response.json()["errors"]] == fields


@pytest.mark.django_db
def test_refused_to_other_roles(client, people):
    client.force_login(people["coord_a"])
    assert client.get(URL, {"drug": "ivig", "endpoint": "proderm"}).status_code == 403


@pytest.mark.django_db
def test_page_forest_plot_and_pdf(client, people, cohort):
    client.force_login(people["dm"])
    endpoint_define(actor=Actor(user=people["dm"], source="api"),
                    data={"name": "tis20-w12", "measure": "tis", "threshold": 20,
                          "horizon_weeks": 12, "window_weeks": 4})  # fmt: skip
    assert client.get("/reports/predictors/").status_code == 200
    page = client.get("/reports/predictors/", {"drug": "ivig", "endpoint": "tis20-w12"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "chart-forest-title" in text and "9.00" in text
    assert "not fitted" in text
    assert client.get("/reports/predictors/", {"endpoint": "tis20-w12"}).status_code == 400
    pdf = client.get("/reports/predictors.pdf", {"drug": "ivig", "endpoint": "tis20-w12"})
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/reports/predictors.pdf", {"drug": "ivig"}).status_code == 400
    client.force_login(people["coord_a"])
    assert client.get("/reports/predictors/").status_code == 403


def test_damage_tertiles():
    from reports.predictors import _tertile

    cuts = (2.0, 4.0)
    assert [_tertile(v, cuts) for v in (0.0, 2.0, 2.1, 4.0, 4.5)] == ["t1", "t1", "t2", "t2",
                                                                        "t3"]  # fmt: skip
