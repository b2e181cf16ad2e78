"""ProDERM worsening and confirmed deterioration (docs/scoring.md §4)."""

from fractions import Fraction

from scoring.instruments import Measures, confirmed_deterioration, is_worsened

BASE = {
    "physician_global": 4,
    "patient_global": 4,
    "extramuscular": 4,
    "haq": 1,
    "mmt_total": 100,
    "mmt_max": 150,
    "enzymes": {"ck": (400, 200)},
}
BASELINE = Measures(**BASE)


def visit(**changes):
    return Measures(**{**BASE, **changes})


def test_identical_visit_is_not_worse():
    result = is_worsened(BASELINE, BASELINE)
    assert result.algorithm == "proderm-worsening-2022"
    assert result.worsened is False
    assert result.criteria == ()


def test_a_physician_global_2_cm_and_mmt_20_percent_worse():
    result = is_worsened(BASELINE, visit(physician_global=6, mmt_total=80))
    assert result.worsened is True
    assert result.criteria == ("physician_global_and_strength",)
    assert result.physician_global_change == 2
    assert result.percent_worsening["mmt"] == 20


def test_a_needs_both_parts():
    assert not is_worsened(BASELINE, visit(physician_global="5.9", mmt_total=80)).worsened
    assert not is_worsened(BASELINE, visit(physician_global=6, mmt_total=81)).worsened
    assert not is_worsened(BASELINE, visit(physician_global=10)).worsened


def test_a_uses_cmas_when_it_is_the_strength_measure():
    before = Measures(physician_global=4, cmas=40)
    result = is_worsened(before, Measures(physician_global=6, cmas=32))
    assert result.strength_instrument == "cmas"
    assert result.criteria == ("physician_global_and_strength",)


def test_b_extramuscular_2_cm_worse():
    result = is_worsened(BASELINE, visit(extramuscular=6))
    assert result.criteria == ("extramuscular",)
    assert result.extramuscular_change == 2
    assert not is_worsened(BASELINE, visit(extramuscular="5.9")).worsened


def test_c_three_of_five_core_measures_30_percent_worse():
    result = is_worsened(BASELINE, visit(patient_global="5.2", haq="1.3", mmt_total=70))
    assert result.criteria == ("three_measures",)
    assert result.worse_by_30 == ("haq", "mmt", "patient_global")
    assert result.percent_worsening["patient_global"] == 30


def test_c_two_measures_are_not_enough_and_the_enzyme_does_not_count():
    result = is_worsened(
        BASELINE, visit(patient_global="5.2", haq="1.3", mmt_total=71, enzymes={"ck": (4000, 200)})
    )
    assert result.worse_by_30 == ("haq", "patient_global")
    assert result.worsened is False
    assert result.percent_worsening["mmt"] == 29


def test_a_worse_value_from_a_baseline_of_zero_counts():
    before = Measures(physician_global=1, patient_global=0, haq=0, extramuscular=0)
    result = is_worsened(
        before, Measures(physician_global="1.3", patient_global="0.1", haq="0.125", extramuscular=1)
    )
    assert result.worse_by_30 == ("extramuscular", "haq", "patient_global", "physician_global")
    assert result.percent_worsening["haq"] is None
    assert result.criteria == ("three_measures",)


def test_missing_measures_are_listed():
    result = is_worsened(Measures(physician_global=3), Measures(physician_global=9))
    assert result.missing == ("extramuscular", "haq", "mmt", "patient_global")
    assert result.physician_global_change == 6
    assert result.worsened is False


def test_several_criteria_at_once():
    result = is_worsened(
        BASELINE, visit(physician_global=8, mmt_total=60, extramuscular=8, patient_global=8)
    )
    assert result.criteria == ("physician_global_and_strength", "extramuscular", "three_measures")
    assert result.physician_global_change == 4
    assert result.percent_worsening["mmt"] == 40
    assert result.percent_worsening["physician_global"] == Fraction(100)


def test_confirmed_when_worse_at_two_consecutive_visits():
    worse = visit(extramuscular=7)
    result = confirmed_deterioration(BASELINE, worse, visit(extramuscular=6))
    assert result.confirmed is True
    assert bool(result) is True
    assert result.previous is not None and result.previous.worsened
    assert result.current.worsened


def test_not_confirmed_at_the_first_follow_up_or_after_a_better_visit():
    worse = visit(extramuscular=7)
    assert not confirmed_deterioration(BASELINE, None, worse)
    assert not confirmed_deterioration(BASELINE, BASELINE, worse)
    assert not confirmed_deterioration(BASELINE, worse, BASELINE)
