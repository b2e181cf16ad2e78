"""Choice of the enzyme CSM (docs/scoring.md §1, registry rule)."""

from fractions import Fraction

import pytest

from scoring.instruments import InstrumentError, Measures, choose_enzyme, score_pair

STEADY = {"physician_global": 5, "mmt_total": 100, "mmt_max": 150}


def pair(before, after):
    return score_pair(
        "adult", Measures(**STEADY, enzymes=before), Measures(**STEADY, enzymes=after)
    )


def test_the_highest_value_over_uln_is_chosen_not_the_highest_value():
    baseline = Measures(enzymes={"ck": (600, 200), "aldolase": (30.4, 7.6), "ldh": (900, 250)})
    assert choose_enzyme(baseline) == "aldolase"  # 4 × ULN beats CK 3 × and LDH 3.6 ×


@pytest.mark.parametrize(
    ("enzymes", "chosen"),
    [
        ({"ldh": (500, 250), "ck": (400, 200)}, "ck"),
        ({"ast": (80, 40), "aldolase": (15.2, 7.6)}, "aldolase"),
        ({"alt": (90, 45), "ldh": (500, 250)}, "ldh"),
        ({"alt": (90, 45), "ast": (80, 40)}, "ast"),
        ({"alt": (90, 45), "ast": (79, 40)}, "alt"),
    ],
)
def test_ties_go_in_the_order_ck_aldolase_ldh_ast_alt(enzymes, chosen):
    assert choose_enzyme(Measures(enzymes=enzymes)) == chosen


def test_no_enzyme_at_baseline():
    assert choose_enzyme(Measures()) is None
    assert pair({}, {"ck": (100, 200)}).tis.enzyme is None


def test_an_enzyme_without_uln_is_not_usable():
    baseline = Measures(enzymes={"ck": (5000, None), "ldh": (300, 250)})
    assert choose_enzyme(baseline) == "ldh"
    assert "ck" not in baseline.enzymes


def test_the_chosen_enzyme_is_followed_even_when_another_is_more_abnormal_later():
    result = pair(
        {"ck": (2000, 200), "ldh": (300, 250)},
        {"ck": (1000, 200), "ldh": (2500, 250)},
    )
    assert result.tis.enzyme == "ck"
    assert result.tis.measures["enzyme"].percent_improvement == 50


def test_chosen_enzyme_missing_at_follow_up_is_missing_without_substitution():
    result = pair({"ck": (2000, 200), "ldh": (300, 250)}, {"ldh": (250, 250)})
    assert result.tis.enzyme == "ck"
    assert result.tis.missing == ("enzyme", "extramuscular", "haq", "patient_global")
    assert result.tis.complete is False
    assert result.tis.measures["enzyme"].percent_improvement is None
    assert result.doi.measures["enzyme"].status == "missing"
    assert result.doi.evaluated == 2


def test_a_change_of_uln_is_compared_as_value_over_uln():
    # The same CK of 1000 is 5 × ULN at baseline and 4 × ULN with the new laboratory's ULN.
    result = pair({"ck": (1000, 200)}, {"ck": (1000, 250)})
    assert result.tis.measures["enzyme"].percent_improvement == 20
    assert result.tis.measures["enzyme"].points == 5
    assert result.doi.measures["enzyme"].status == "improved"


def test_a_change_of_unit_changes_nothing():
    # 2000 U/L (ULN 200) and 2000/60 µkat/L (ULN 200/60) are the same result.
    in_ukat = pair({"ck": (Fraction(2000, 60), Fraction(200, 60))}, {"ck": (500, 200)})
    in_units = pair({"ck": (2000, 200)}, {"ck": (500, 200)})
    assert in_ukat == in_units


@pytest.mark.parametrize(
    ("enzymes", "field"),
    [
        ({"ck": (0, 200)}, "enzymes.ck.value"),
        ({"ck": (-5, 200)}, "enzymes.ck.value"),
        ({"ldh": (300, 0)}, "enzymes.ldh.uln"),
        ({"cpk": (300, 200)}, "enzymes.cpk"),
        ({"ck": (300,)}, "enzymes.ck"),
        ({"ck": "300/200"}, "enzymes.ck"),
        ({"ck": (True, 200)}, "enzymes.ck.value"),
        ({"ck": (300, "abc")}, "enzymes.ck.uln"),
    ],
)
def test_invalid_enzymes_are_rejected_with_the_field_named(enzymes, field):
    with pytest.raises(InstrumentError) as caught:
        Measures(enzymes=enzymes)
    assert caught.value.field == field
