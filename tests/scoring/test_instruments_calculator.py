"""The stateless calculator contract (docs/scoring.md §6): output shape and rejected input."""

import copy
import json
from decimal import Decimal
from fractions import Fraction

import pytest

from scoring.instruments import (
    EXAMPLE_CASE,
    CalculatorInputError,
    Measures,
    calculate,
    calculate_case,
    display_percent,
    is_worsened,
    score_pair,
    to_json,
)

SPEC_CASE = EXAMPLE_CASE  # docs/scoring.md §6


def case(**changes):
    """The spec case with changes given as dotted paths, e.g. ``**{"baseline.mmt.max": 100}``."""
    document = copy.deepcopy(SPEC_CASE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return document


DELETE = object()


def errors_of(document):
    with pytest.raises(CalculatorInputError) as caught:
        calculate(document)
    return caught.value.errors


def test_spec_example_output():
    result = calculate(SPEC_CASE)
    assert result["imacs_doi"] == {
        "algorithm": "imacs-doi-2004",
        "met": True,
        "evaluated": 6,
        "improved": ["enzyme", "extramuscular", "haq", "patient_global", "physician_global"],
        "worsened": [],
        "strength_instrument": "mmt",
        "enzyme": "ck",
        "measures": {
            "enzyme": {"percent_change": 75.0, "status": "improved"},
            "extramuscular": {"percent_change": 50.0, "status": "improved"},
            "haq": {"percent_change": 33.33, "status": "improved"},
            "mmt": {"percent_change": 10.0, "status": "neither"},
            "patient_global": {"percent_change": 20.0, "status": "improved"},
            "physician_global": {"percent_change": 50.0, "status": "improved"},
        },
    }
    assert result["acr_eular"] == {
        "algorithm": "acr-eular-2016",
        "population": "adult",
        "score": 57.5,
        "category": "moderate",
        "complete": True,
        "missing": [],
        "reason": None,
        "enzyme": "ck",
        "strength_instrument": "mmt",
        "measures": {
            "enzyme": {"percent_improvement": 75.0, "points": 7.5},
            "extramuscular": {"percent_improvement": 20.0, "points": 12.5},
            "haq": {"percent_improvement": 16.67, "points": 7.5},
            "mmt": {"percent_improvement": 8.0, "points": 10.0},
            "patient_global": {"percent_improvement": 10.0, "points": 2.5},
            "physician_global": {"percent_improvement": 30.0, "points": 17.5},
        },
    }
    json.dumps(result)  # plain JSON types only


def test_calculate_case_is_the_single_case_form():
    assert calculate_case(SPEC_CASE) == calculate(SPEC_CASE)


def test_a_list_of_cases_is_answered_in_order():
    juvenile = case(population="juvenile")
    results = calculate([SPEC_CASE, juvenile, case(**{"followup.physician_global": None})])
    assert [r["acr_eular"]["population"] for r in results] == ["adult", "juvenile", "adult"]
    assert results[1]["acr_eular"]["category"] == "moderate"  # 57.5: ≥ 45, < 70
    assert results[2]["acr_eular"]["score"] is None
    assert calculate([]) == []


def test_absent_and_null_measures_are_missing():
    result = calculate(
        case(**{"baseline.haq": DELETE, "followup.enzymes": None, "followup.patient_global": None})
    )
    assert result["acr_eular"]["missing"] == ["enzyme", "haq", "patient_global"]
    assert result["acr_eular"]["complete"] is False
    assert result["acr_eular"]["score"] == 40.0  # 57.5 less enzyme 7.5, haq 7.5, patient 2.5


def test_decimal_numbers_are_exact_and_floats_are_read_as_typed():
    five_percent = case(
        **{"baseline.physician_global": Decimal("7.3"), "followup.physician_global": Decimal("6.8")}
    )
    assert calculate(five_percent)["acr_eular"]["measures"]["physician_global"]["points"] == 0
    as_floats = case(**{"baseline.physician_global": 7.3, "followup.physician_global": 6.8})
    assert calculate(as_floats)["acr_eular"]["measures"]["physician_global"]["points"] == 0


def test_enzyme_units_are_converted_together():
    in_ukat = case(
        **{
            "baseline.enzymes.ck": {
                "value": Decimal("33.4"),
                "uln": Decimal("3.34"),
                "unit": "ukat/L",
            },
            "followup.enzymes.ck": {"value": 500, "uln": 200, "unit": "U/L"},
        }
    )
    assert calculate(in_ukat) == calculate(SPEC_CASE)


def test_an_enzyme_without_uln_is_not_used():
    result = calculate(case(**{"baseline.enzymes.ck.uln": None}))
    assert result["acr_eular"]["enzyme"] == "ldh"


def test_to_json_of_results():
    baseline = Measures(physician_global=4, extramuscular=4, mmt_total=100, mmt_max=150)
    worse = Measures(physician_global=5, extramuscular=6, mmt_total=100, mmt_max=150)
    assert to_json(is_worsened(baseline, worse))["criteria"] == ["extramuscular"]
    pair = score_pair("adult", baseline, worse)
    assert to_json(pair) == {"imacs_doi": to_json(pair.doi), "acr_eular": to_json(pair.tis)}
    with pytest.raises(TypeError):
        to_json(baseline)  # type: ignore[arg-type]


INVALID = [
    ({"population": "child"}, "population"),
    ({"population": DELETE}, "population"),
    ({"population": 1}, "population"),
    ({"comment": "x"}, "comment"),
    ({"baseline": DELETE}, "baseline"),
    ({"followup": None}, "followup"),
    ({"followup": [1, 2]}, "followup"),
    ({"baseline.physician_global": 10.1}, "baseline.physician_global"),
    ({"baseline.physician_global": Decimal("-0.1")}, "baseline.physician_global"),
    ({"followup.patient_global": 11}, "followup.patient_global"),
    ({"followup.extramuscular": "2.0"}, "followup.extramuscular"),
    ({"followup.extramuscular": True}, "followup.extramuscular"),
    ({"followup.extramuscular": Decimal("NaN")}, "followup.extramuscular"),
    ({"followup.extramuscular": float("inf")}, "followup.extramuscular"),
    ({"baseline.haq": Decimal("3.01")}, "baseline.haq"),
    ({"baseline.haq": [1]}, "baseline.haq"),
    ({"baseline.cmas": 53}, "baseline.cmas"),
    ({"baseline.cmas": Decimal("20.5")}, "baseline.cmas"),
    ({"baseline.mmt.max": 100}, "baseline.mmt.max"),
    ({"baseline.mmt.max": DELETE}, "baseline.mmt.max"),
    ({"baseline.mmt.max": "150"}, "baseline.mmt.max"),
    ({"baseline.mmt.total": 151}, "baseline.mmt.total"),
    ({"baseline.mmt.total": -1}, "baseline.mmt.total"),
    ({"baseline.mmt.total": Decimal("120.5")}, "baseline.mmt.total"),
    ({"baseline.mmt.grades": {}}, "baseline.mmt.grades"),
    ({"baseline.mmt": 120}, "baseline.mmt"),
    ({"baseline.strength": 1}, "baseline.strength"),
    ({"baseline.enzymes": [2000, 200]}, "baseline.enzymes"),
    ({"baseline.enzymes.cpk": {"value": 1, "uln": 1}}, "baseline.enzymes.cpk"),
    ({"baseline.enzymes.ck": 2000}, "baseline.enzymes.ck"),
    ({"baseline.enzymes.ck.value": 0}, "baseline.enzymes.ck.value"),
    ({"baseline.enzymes.ck.value": -3}, "baseline.enzymes.ck.value"),
    ({"baseline.enzymes.ck.uln": 0}, "baseline.enzymes.ck.uln"),
    ({"baseline.enzymes.ck.uln": "200"}, "baseline.enzymes.ck.uln"),
    ({"baseline.enzymes.ck.unit": "mg/dL"}, "baseline.enzymes.ck.unit"),
    ({"baseline.enzymes.ck.lab": "central"}, "baseline.enzymes.ck.lab"),
]


@pytest.mark.parametrize(
    ("changes", "path"),
    [pytest.param(c, p, id=f"{p}={next(iter(c.values()))!r}") for c, p in INVALID],
)
def test_invalid_input_is_rejected_with_the_field_named(changes, path):
    errors = errors_of(case(**changes))
    assert [error_path for error_path, _ in errors] == [path]
    with pytest.raises(CalculatorInputError):
        calculate_case(case(**changes))


def test_every_error_of_a_case_is_reported():
    errors = errors_of(
        case(
            **{
                "population": "kid",
                "baseline.physician_global": 12,
                "followup.mmt.max": 90,
                "followup.enzymes.ck.value": 0,
            }
        )
    )
    assert [path for path, _ in errors] == [
        "population",
        "baseline.physician_global",
        "followup.mmt.max",
        "followup.enzymes.ck.value",
    ]
    assert "80, 150 or 260" in dict(errors)["followup.mmt.max"]


def test_errors_in_a_list_carry_the_case_index():
    bad = case(**{"followup.physician_global": 11})
    errors = errors_of([SPEC_CASE, bad, "nonsense", bad])
    assert [path for path, _ in errors] == [
        "[1].followup.physician_global",
        "[2]",
        "[3].followup.physician_global",
    ]


@pytest.mark.parametrize("document", [None, 42, "case", True])
def test_a_document_must_be_an_object_or_a_list(document):
    assert [path for path, _ in errors_of(document)] == ["$"]


def test_the_error_message_names_the_field():
    with pytest.raises(CalculatorInputError) as caught:
        calculate(case(**{"baseline.mmt.max": 100}))
    assert str(caught.value) == "baseline.mmt.max: must be one of 80, 150 or 260 (got 100)"


@pytest.mark.parametrize(
    ("exact", "shown"),
    [
        (Fraction(50, 3), 16.67),
        (Fraction(-50, 3), -16.67),
        (Fraction(16665, 1000), 16.67),
        (Fraction(-16665, 1000), -16.67),
        (Fraction(1, 1000), 0.0),
        (Fraction(30), 30.0),
        (None, None),
    ],
)
def test_percentages_are_rounded_for_display_only(exact, shown):
    assert display_percent(exact) == shown
