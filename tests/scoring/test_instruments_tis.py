"""ACR/EULAR total improvement score (docs/scoring.md §3): every band edge, categories, missing
data."""

from decimal import Decimal
from fractions import Fraction

import pytest

from scoring.instruments import (
    InstrumentError,
    Measures,
    score_tis,
    tis_category,
    tis_points,
)

# The conversion table of docs/scoring.md §3, written out independently of the implementation.
EDGES = (5, 15, 25, 40)
STRENGTH_EDGES = (2, 10, 20, 30)
TABLE = {
    "physician_global": ("0", "7.5", "15", "17.5", "20"),
    "patient_global": ("0", "2.5", "5", "7.5", "10"),
    "haq": ("0", "5", "7.5", "7.5", "10"),
    "enzyme": ("0", "2.5", "5", "7.5", "7.5"),
    "extramuscular": ("0", "7.5", "12.5", "15", "20"),
    "mmt": ("0", "10", "20", "27.5", "32.5"),
}
TINY = Fraction(1, 10**9)

BAND_CASES = [
    pytest.param(key, edge, band, id=f"{key}-{edge}%")
    for key in TABLE
    for band, edge in enumerate(STRENGTH_EDGES if key == "mmt" else EDGES)
]


@pytest.mark.parametrize(("key", "edge", "band"), BAND_CASES)
def test_band_includes_its_upper_edge(key, edge, band):
    assert tis_points(key, Fraction(edge)) == Fraction(TABLE[key][band])


@pytest.mark.parametrize(("key", "edge", "band"), BAND_CASES)
def test_just_above_an_edge_is_the_next_band(key, edge, band):
    assert tis_points(key, edge + TINY) == Fraction(TABLE[key][band + 1])


@pytest.mark.parametrize("key", TABLE)
@pytest.mark.parametrize("percent", [-100, -5, 0, Fraction(1, 10)])
def test_worsening_and_small_changes_score_zero(key, percent):
    assert tis_points(key, percent) == 0


@pytest.mark.parametrize("key", TABLE)
def test_full_improvement_scores_the_top_band(key):
    assert tis_points(key, 100) == Fraction(TABLE[key][-1])


def test_maximum_tis_is_100():
    assert sum(Fraction(row[-1]) for row in TABLE.values()) == 100


# --- end to end, through real visit values --------------------------------------------------

STEADY = {"physician_global": 5, "mmt_total": 100, "mmt_max": 150}


def only_change(key, before, after, **extra):
    """TIS of a pair in which only one measure changes (the required ones held steady)."""
    baseline = Measures(**{**STEADY, **extra, key: before})
    followup = Measures(**{**STEADY, **extra, key: after})
    return score_tis("adult", baseline, followup)


VAS_STEPS = [  # follow-up from a baseline of 8.0 cm, and the band it lands in
    ("7.5", 0),  # exactly 5 %
    ("7.4", 1),
    ("6.5", 1),  # exactly 15 %
    ("6.4", 2),
    ("5.5", 2),  # exactly 25 %
    ("5.4", 3),
    ("4.0", 3),  # exactly 40 %
    ("3.9", 4),
]


@pytest.mark.parametrize("key", ["physician_global", "patient_global", "extramuscular"])
@pytest.mark.parametrize(("after", "band"), VAS_STEPS)
def test_vas_bands_on_the_10_cm_range(key, after, band):
    result = only_change(key, Decimal("8.0"), Decimal(after))
    assert result.measures[key].points == Fraction(TABLE[key][band])
    assert result.score == Fraction(TABLE[key][band])
    assert result.measures[key].percent_improvement == (8 - Fraction(after)) * 10


HAQ_STEPS = [  # follow-up from a baseline of 3, on the 0–3 range
    ("2.85", 0),
    ("2.849", 1),
    ("2.55", 1),
    ("2.549", 2),
    ("2.25", 2),
    ("2.249", 3),
    ("1.8", 3),
    ("1.799", 4),
]


@pytest.mark.parametrize(("after", "band"), HAQ_STEPS)
def test_haq_bands_on_the_0_to_3_range(after, band):
    result = only_change("haq", 3, Decimal(after))
    assert result.measures["haq"].points == Fraction(TABLE["haq"][band])


MMT_STEPS = [  # follow-up total from a baseline of 100 on the bilateral 0–150 scale
    (103, 0),  # exactly 2 %
    (104, 1),
    (115, 1),  # exactly 10 %
    (116, 2),
    (130, 2),  # exactly 20 %
    (131, 3),
    (145, 3),  # exactly 30 %
    (146, 4),
]


@pytest.mark.parametrize(("after", "band"), MMT_STEPS)
def test_strength_bands_on_the_declared_mmt_maximum(after, band):
    result = only_change("mmt_total", 100, after)
    assert result.strength_instrument == "mmt"
    assert result.measures["mmt"].points == Fraction(TABLE["mmt"][band])
    assert result.measures["mmt"].percent_improvement == Fraction(100 * (after - 100), 150)


@pytest.mark.parametrize(
    ("before", "after", "points"),
    [
        (40, 48, "10"),
        (40, 49, "20"),
        (40, 56, "20"),
        (40, 57, "27.5"),
        (40, 64, "27.5"),
        (40, 65, "32.5"),
    ],
)
def test_strength_bands_on_the_unilateral_scale(before, after, points):
    result = score_tis(
        "adult",
        Measures(physician_global=5, mmt_total=before, mmt_max=80),
        Measures(physician_global=5, mmt_total=after, mmt_max=80),
    )
    assert result.measures["mmt"].points == Fraction(points)


ENZYME_STEPS = [  # CK follow-up from 2000 U/L (ULN 200, i.e. 10 × ULN): relative change
    (1900, 0),  # exactly 5 %
    (1899, 1),
    (1700, 1),  # exactly 15 %
    (1699, 2),
    (1500, 2),  # exactly 25 %
    (1499, 3),
    (1200, 3),  # exactly 40 %
    (1199, 4),
]


@pytest.mark.parametrize(("after", "band"), ENZYME_STEPS)
def test_enzyme_bands_are_relative_to_baseline(after, band):
    result = score_tis(
        "adult",
        Measures(**STEADY, enzymes={"ck": (2000, 200)}),
        Measures(**STEADY, enzymes={"ck": (after, 200)}),
    )
    assert result.enzyme == "ck"
    assert result.measures["enzyme"].points == Fraction(TABLE["enzyme"][band])
    assert result.measures["enzyme"].percent_improvement == Fraction(100 * (2000 - after), 2000)


def test_float_input_is_exact_so_five_percent_stays_in_the_lowest_band():
    # 8.0 → 7.5 is exactly 5 %; 7.3 → 6.8 is too, although 7.3 - 6.8 != 0.5 in binary floats.
    assert only_change("physician_global", 8.0, 7.5).measures["physician_global"].points == 0
    assert only_change("patient_global", 7.3, 6.8).measures["patient_global"].points == 0
    assert only_change("patient_global", 7.3, 6.7).measures["patient_global"].points == Fraction(
        5, 2
    )


def test_worsening_scores_zero_never_below():
    result = only_change("physician_global", 2, 9)
    assert result.measures["physician_global"].percent_improvement == -70
    assert result.measures["physician_global"].points == 0
    assert result.score == 0


def test_cmas_in_the_strength_slot_uses_the_0_to_52_range():
    result = score_tis(
        "juvenile",
        Measures(physician_global=5, cmas=30),
        Measures(physician_global=5, cmas=36),  # 6/52 = 11.5 %
    )
    assert result.strength_instrument == "cmas"
    assert result.measures["mmt"].percent_improvement == Fraction(600, 52)
    assert result.measures["mmt"].points == 20


def test_cmas_one_point_is_below_the_two_percent_edge():
    result = score_tis(
        "juvenile", Measures(physician_global=5, cmas=30), Measures(physician_global=5, cmas=31)
    )
    assert result.measures["mmt"].points == 0


def test_spec_example_scores_57_5_moderate():
    baseline = Measures(
        physician_global=6.0,
        patient_global=5.0,
        extramuscular=4.0,
        haq=1.5,
        mmt_total=120,
        mmt_max=150,
        enzymes={"ck": (2000, 200), "ldh": (300, 250)},
    )
    followup = Measures(
        physician_global=3.0,
        patient_global=4.0,
        extramuscular=2.0,
        haq=1.0,
        mmt_total=132,
        mmt_max=150,
        enzymes={"ck": (500, 200), "ldh": (260, 250)},
    )
    result = score_tis("adult", baseline, followup)
    assert result.algorithm == "acr-eular-2016"
    assert result.score == Fraction(115, 2)
    assert result.category == "moderate"
    assert result.complete is True
    assert result.missing == ()
    assert result.enzyme == "ck"
    assert {key: m.points for key, m in result.measures.items()} == {
        "physician_global": Fraction(35, 2),
        "patient_global": Fraction(5, 2),
        "extramuscular": Fraction(25, 2),
        "haq": Fraction(15, 2),
        "mmt": 10,
        "enzyme": Fraction(15, 2),
    }
    assert result.measures["haq"].percent_improvement == Fraction(50, 3)


# --- categories -----------------------------------------------------------------------------

CATEGORY_CASES = [
    ("adult", "0", "none"),
    ("adult", "17.5", "none"),
    ("adult", "20", "minimal"),
    ("adult", "37.5", "minimal"),
    ("adult", "40", "moderate"),
    ("adult", "57.5", "moderate"),
    ("adult", "60", "major"),
    ("adult", "100", "major"),
    ("juvenile", "0", "none"),
    ("juvenile", "27.5", "none"),
    ("juvenile", "30", "minimal"),
    ("juvenile", "42.5", "minimal"),
    ("juvenile", "45", "moderate"),
    ("juvenile", "67.5", "moderate"),
    ("juvenile", "70", "major"),
    ("juvenile", "100", "major"),
]


@pytest.mark.parametrize(("population", "score", "category"), CATEGORY_CASES)
def test_category_thresholds_are_inclusive(population, score, category):
    assert tis_category(population, Fraction(score)) == category


def test_a_score_of_20_is_minimal_for_adults_but_none_for_juveniles():
    baseline = Measures(physician_global=8, mmt_total=100, mmt_max=150)
    followup = Measures(physician_global=3, mmt_total=100, mmt_max=150)  # 50 % → 20 points
    adult = score_tis("adult", baseline, followup)
    juvenile = score_tis("juvenile", baseline, followup)
    assert adult.score == juvenile.score == 20
    assert (adult.category, juvenile.category) == ("minimal", "none")
    assert juvenile.population == "juvenile"


def test_a_score_of_45_is_moderate_for_both_populations():
    baseline = Measures(physician_global=8, extramuscular=8, mmt_total=100, mmt_max=150)
    followup = Measures(physician_global=3, extramuscular=5, mmt_total=110, mmt_max=150)
    # 20 (physician 50 %) + 15 (extramuscular 30 %) + 10 (MMT 6.7 %) = 45
    assert score_tis("adult", baseline, followup).category == "moderate"
    assert score_tis("juvenile", baseline, followup).category == "moderate"


def test_unknown_population_is_rejected():
    with pytest.raises(InstrumentError) as caught:
        score_tis("child", Measures(), Measures())
    assert caught.value.field == "population"
    with pytest.raises(InstrumentError):
        tis_category("elderly", 50)


# --- missing data [registry rule] -----------------------------------------------------------


def test_without_physician_global_there_is_no_score():
    result = score_tis(
        "adult",
        Measures(physician_global=6, mmt_total=100, mmt_max=150, patient_global=5),
        Measures(mmt_total=120, mmt_max=150, patient_global=2),
    )
    assert result.score is None
    assert result.category is None
    assert "physician_global" in result.reason
    assert result.missing == ("enzyme", "extramuscular", "haq", "physician_global")
    assert result.complete is False
    # The per-measure detail is still reported.
    assert result.measures["patient_global"].points == Fraction(15, 2)


def test_without_a_strength_measure_there_is_no_score():
    result = score_tis(
        "adult",
        Measures(physician_global=6, mmt_total=100, mmt_max=150),
        Measures(physician_global=2),
    )
    assert result.score is None
    assert result.strength_instrument is None
    assert "strength" in result.reason
    assert "mmt" in result.missing


def test_mmt_totals_on_different_scales_are_never_compared():
    result = score_tis(
        "adult",
        Measures(physician_global=6, mmt_total=70, mmt_max=80),
        Measures(physician_global=2, mmt_total=140, mmt_max=150),
    )
    assert result.score is None
    assert result.strength_instrument is None
    assert "different scales (80 and 150)" in result.reason


def test_mismatched_mmt_scales_fall_back_to_cmas():
    result = score_tis(
        "juvenile",
        Measures(physician_global=6, mmt_total=70, mmt_max=80, cmas=30),
        Measures(physician_global=2, mmt_total=140, mmt_max=150, cmas=40),
    )
    assert result.strength_instrument == "cmas"
    assert result.measures["mmt"].percent_improvement == Fraction(1000, 52)
    assert result.score is not None


def test_mmt_on_the_same_scale_is_preferred_to_cmas():
    result = score_tis(
        "juvenile",
        Measures(physician_global=6, mmt_total=70, mmt_max=80, cmas=30),
        Measures(physician_global=6, mmt_total=72, mmt_max=80, cmas=52),
    )
    assert result.strength_instrument == "mmt"
    assert result.measures["mmt"].percent_improvement == Fraction(5, 2)


def test_missing_optional_measures_score_zero_and_flag_the_result_incomplete():
    result = score_tis(
        "adult",
        Measures(physician_global=8, mmt_total=100, mmt_max=150, haq=2, patient_global=None),
        Measures(physician_global=3, mmt_total=100, mmt_max=150, haq=None, patient_global=4),
    )
    assert result.score == 20  # a lower bound
    assert result.category == "minimal"
    assert result.complete is False
    assert result.missing == ("enzyme", "extramuscular", "haq", "patient_global")
    assert result.reason is None
    assert result.measures["haq"].percent_improvement is None
    assert result.measures["haq"].points == 0
