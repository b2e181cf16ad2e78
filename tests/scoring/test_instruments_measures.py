"""Visit measures: exact conversion and scale checks (docs/scoring.md §1)."""

import dataclasses
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.instruments import CalculatorInputError, InstrumentError, Measures
from scoring.instruments._exact import coprime_fraction, reduced_fraction


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (7.5, Fraction(15, 2)),
        (0.1, Fraction(1, 10)),
        (7.3, Fraction(73, 10)),
        ("7.3", Fraction(73, 10)),
        (" 2.25 ", Fraction(9, 4)),
        ("3/8", Fraction(3, 8)),
        (Decimal("6.10"), Fraction(61, 10)),
        (Fraction(1, 3), Fraction(1, 3)),
        (6, Fraction(6)),
        (0, Fraction(0)),
        (10, Fraction(10)),
    ],
)
def test_numbers_are_converted_exactly_as_typed(value, exact):
    measures = Measures(physician_global=value)
    assert measures.physician_global == exact
    assert type(measures.physician_global) is Fraction


def test_everything_is_optional():
    measures = Measures()
    assert dataclasses.astuple(measures)[:7] == (None,) * 7
    assert dict(measures.enzymes) == {}


def test_measures_are_frozen_hashable_and_comparable():
    first = Measures(physician_global=5, mmt_total=70, mmt_max=80, enzymes={"ck": (500, 200)})
    second = Measures(physician_global="5", mmt_total=70.0, mmt_max=80, enzymes={"ck": [500, 200]})
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.physician_global = Fraction(1)  # type: ignore[misc]
    assert dataclasses.replace(first, haq=1).haq == 1
    assert first.enzyme_ratio("ck") == Fraction(5, 2)
    assert first.enzyme_ratio("ldh") is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"physician_global": 10.1}, "physician_global"),
        ({"physician_global": -0.1}, "physician_global"),
        ({"patient_global": 11}, "patient_global"),
        ({"extramuscular": "eleven"}, "extramuscular"),
        ({"extramuscular": float("nan")}, "extramuscular"),
        ({"extramuscular": Decimal("Infinity")}, "extramuscular"),
        ({"haq": 3.125}, "haq"),
        ({"haq": True}, "haq"),
        ({"haq": [1]}, "haq"),
        ({"cmas": 53}, "cmas"),
        ({"cmas": 20.5}, "cmas"),
        ({"mmt_total": 70}, "mmt_max"),
        ({"mmt_total": 81, "mmt_max": 80}, "mmt_total"),
        ({"mmt_total": 70.5, "mmt_max": 80}, "mmt_total"),
        ({"mmt_total": -1, "mmt_max": 80}, "mmt_total"),
        ({"mmt_total": 70, "mmt_max": 100}, "mmt_max"),
        ({"mmt_total": 70, "mmt_max": 80.5}, "mmt_max"),
        ({"enzymes": [("ck", 1, 2)]}, "enzymes"),
    ],
)
def test_out_of_scale_values_are_rejected_with_the_field_named(kwargs, field):
    with pytest.raises(InstrumentError) as caught:
        Measures(**kwargs)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_scale_edges_are_accepted():
    measures = Measures(
        physician_global=10, haq=3, cmas=52, mmt_total=260, mmt_max=260, extramuscular=0
    )
    assert (measures.physician_global, measures.haq, measures.cmas) == (10, 3, 52)
    assert measures.mmt_total == 260


def test_errors_pickle_for_task_queues():
    error = pickle.loads(pickle.dumps(InstrumentError("haq", "must be between 0 and 3")))
    assert (error.field, error.message) == ("haq", "must be between 0 and 3")
    batch = pickle.loads(pickle.dumps(CalculatorInputError([("haq", "bad")])))
    assert batch.errors == [("haq", "bad")]
    assert str(batch) == "haq: bad"


@given(st.integers(), st.integers(min_value=1))
def test_the_fast_fraction_constructor_agrees_with_fraction(numerator, denominator):
    expected = Fraction(numerator, denominator)
    made = reduced_fraction(numerator, denominator)
    assert made == expected
    assert (made.numerator, made.denominator) == (expected.numerator, expected.denominator)
    assert hash(made) == hash(expected)
    assert made + 1 == expected + 1
    copy = coprime_fraction(expected.numerator, expected.denominator)
    assert copy == expected and str(copy) == str(expected)
