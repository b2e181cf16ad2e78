"""IMACS Definition of Improvement (docs/scoring.md §2)."""

from fractions import Fraction

from scoring.instruments import Measures, score_doi


def visits(before, after):
    return Measures(**before), Measures(**after)


ALL_SIX_BASELINE = {
    "physician_global": 5,
    "patient_global": 5,
    "extramuscular": 5,
    "haq": 2,
    "mmt_total": 100,
    "mmt_max": 150,
    "enzymes": {"ck": (1000, 200)},
}


def followup(**changes):
    return Measures(**{**ALL_SIX_BASELINE, **changes})


BASELINE = Measures(**ALL_SIX_BASELINE)


def test_three_improved_by_exactly_20_percent_is_met():
    result = score_doi(BASELINE, followup(physician_global=4, patient_global=4, haq="1.6"))
    assert result.algorithm == "imacs-doi-2004"
    assert result.improved == ("haq", "patient_global", "physician_global")
    assert result.worsened == ()
    assert result.evaluated == 6
    assert result.met is True
    assert result.measures["physician_global"].percent_change == 20
    assert result.measures["physician_global"].status == "improved"


def test_just_under_20_percent_is_not_improved():
    result = score_doi(BASELINE, followup(physician_global=4, patient_global=4, haq="1.61"))
    assert result.improved == ("patient_global", "physician_global")
    assert result.measures["haq"].status == "neither"
    assert result.met is False


def test_strength_improvement_is_follow_up_minus_baseline():
    result = score_doi(BASELINE, followup(mmt_total=120))
    assert result.measures["mmt"].percent_change == 20
    assert result.improved == ("mmt",)


def test_mmt_among_the_worsened_is_never_met():
    result = score_doi(
        BASELINE,
        followup(physician_global=1, patient_global=1, extramuscular=1, haq=0, mmt_total=75),
    )
    assert result.measures["mmt"].percent_change == -25  # worsened is inclusive at −25 %
    assert result.worsened == ("mmt",)
    assert len(result.improved) == 4
    assert result.met is False


def test_mmt_worse_by_less_than_25_percent_does_not_block():
    result = score_doi(
        BASELINE, followup(physician_global=1, patient_global=1, extramuscular=1, mmt_total=76)
    )
    assert result.worsened == ()
    assert result.met is True


def test_two_worsened_are_allowed():
    result = score_doi(
        BASELINE,
        followup(
            physician_global=1,
            patient_global=1,
            mmt_total=130,
            extramuscular="6.25",  # exactly −25 %
            haq="2.5",
        ),
    )
    assert result.worsened == ("extramuscular", "haq")
    assert result.improved == ("mmt", "patient_global", "physician_global")
    assert result.met is True


def test_three_worsened_is_not_met():
    result = score_doi(
        BASELINE,
        followup(
            physician_global=1,
            patient_global=1,
            mmt_total=130,
            extramuscular="6.25",
            haq="2.5",
            enzymes={"ck": (1250, 200)},
        ),
    )
    assert result.worsened == ("enzyme", "extramuscular", "haq")
    assert len(result.improved) == 3
    assert result.met is False


def test_baseline_zero_equal_follow_up_is_unchanged():
    before = {**ALL_SIX_BASELINE, "extramuscular": 0}
    result = score_doi(Measures(**before), Measures(**before))
    assert result.measures["extramuscular"].status == "neither"
    assert result.measures["extramuscular"].percent_change is None
    assert result.met is False


def test_baseline_zero_worse_follow_up_is_worsened():
    before = {**ALL_SIX_BASELINE, "extramuscular": 0}
    result = score_doi(Measures(**before), followup(extramuscular="0.1"))
    assert result.measures["extramuscular"].status == "worsened"
    assert result.worsened == ("extramuscular",)


def test_baseline_zero_better_strength_is_improved():
    before = Measures(physician_global=5, patient_global=5, cmas=0)
    after = Measures(physician_global=5, patient_global=5, cmas=1)
    result = score_doi(before, after)
    assert result.strength_instrument == "cmas"
    assert result.measures["mmt"].status == "improved"
    assert result.improved == ("mmt",)


def test_baseline_zero_mmt_total_improving():
    before = Measures(physician_global=5, patient_global=5, mmt_total=0, mmt_max=80)
    after = Measures(physician_global=5, patient_global=5, mmt_total=10, mmt_max=80)
    assert score_doi(before, after).improved == ("mmt",)


def test_fewer_than_three_measures_is_not_evaluable():
    before, after = visits(
        {"physician_global": 8, "patient_global": 8, "haq": 2},
        {"physician_global": 1, "patient_global": 1},
    )
    result = score_doi(before, after)
    assert result.evaluated == 2
    assert result.met is None
    assert result.improved == ("patient_global", "physician_global")
    assert result.measures["haq"].status == "missing"


def test_missing_measures_count_as_neither_and_three_suffice():
    before, after = visits(
        {"physician_global": 8, "patient_global": 8, "haq": 2},
        {"physician_global": 1, "patient_global": 1, "haq": 1},
    )
    result = score_doi(before, after)
    assert result.evaluated == 3
    assert result.met is True


def test_cmas_worsened_blocks_like_mmt():
    before = Measures(physician_global=8, patient_global=8, haq=2, cmas=40)
    after = Measures(physician_global=1, patient_global=1, haq=1, cmas=30)
    result = score_doi(before, after)
    assert result.worsened == ("mmt",)
    assert result.met is False


def test_percent_change_is_exact():
    result = score_doi(BASELINE, followup(haq=1))
    assert result.measures["haq"].percent_change == 50
    result = score_doi(Measures(physician_global=3), Measures(physician_global=2))
    assert result.measures["physician_global"].percent_change == Fraction(100, 3)


def test_spec_example_is_met_with_five_improved():
    before = Measures(
        physician_global=6.0,
        patient_global=5.0,
        extramuscular=4.0,
        haq=1.5,
        mmt_total=120,
        mmt_max=150,
        enzymes={"ck": (2000, 200), "ldh": (300, 250)},
    )
    after = Measures(
        physician_global=3.0,
        patient_global=4.0,
        extramuscular=2.0,
        haq=1.0,
        mmt_total=132,
        mmt_max=150,
        enzymes={"ck": (500, 200), "ldh": (260, 250)},
    )
    result = score_doi(before, after)
    assert result.met is True
    assert result.evaluated == 6
    assert result.improved == (
        "enzyme",
        "extramuscular",
        "haq",
        "patient_global",
        "physician_global",
    )
    assert result.worsened == ()
    assert result.enzyme == "ck"
    assert result.strength_instrument == "mmt"
