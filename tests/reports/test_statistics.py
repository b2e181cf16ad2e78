"""Wilson intervals, quantiles and Kaplan–Meier against textbook values (no database)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.statistics import kaplan_meier, proportion, quantile, summarise, wilson_interval


@pytest.mark.parametrize(
    ("count", "total", "low", "high"),
    [
        # Newcombe RG, Stat Med 1998;17:857–72, table II, method 3 (score interval).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(count, total, low, high):
    found = wilson_interval(count, total)
    assert found == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_is_symmetric_and_stays_within_zero_and_one():
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and low == pytest.approx(1 - 0.1611, abs=1e-4)
    assert wilson_interval(10, 20) == pytest.approx((0.2993, 0.7007), abs=1e-4)


def test_no_denominator_no_interval():
    assert wilson_interval(0, 0) is None
    share = proportion(0, 0)
    assert (share.percent, share.low, share.high) == (None, None, None)


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        wilson_interval(-1, 2)


@given(st.integers(min_value=1, max_value=500).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))))  # fmt: skip
def test_wilson_interval_holds_the_observed_proportion(pair):
    count, total = pair
    low, high = wilson_interval(count, total)
    assert 0.0 <= low <= count / total <= high <= 1.0


def test_quantiles_by_linear_interpolation():
    # Hyndman & Fan definition 7 (R, NumPy): Wikipedia's "Quartile" example.
    values = [6, 7, 15, 36, 39, 40, 41, 42, 43, 47, 49]
    summary = summarise(values)
    assert (summary.n, summary.q1, summary.median, summary.q3) == (11, 25.5, 40, 42.5)
    assert summarise([1, 2, 3, 4]) == summarise([4, 3, 2, 1])
    assert (summarise([1, 2, 3, 4]).q1, summarise([1, 2, 3, 4]).median) == (1.75, 2.5)


def test_quantiles_of_nothing_and_of_one_value():
    assert summarise([]).median is None
    single = summarise([7.5])
    assert (single.n, single.q1, single.median, single.q3) == (1, 7.5, 7.5, 7.5)
    assert quantile([7.5], 0.25) == 7.5
    with pytest.raises(ValueError):
        quantile([1.0], 1.5)


# Freireich EJ et al., Blood 1963: remission times (weeks) of 21 children on 6-mercaptopurine,
# "+" censored, the classic Kaplan–Meier example (Kleinbaum & Klein, Survival Analysis, ch. 2).
SIX_MP = [(6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True),
          (10, False), (11, False), (13, True), (16, True), (17, False), (19, False), (20, False),
          (22, True), (23, True), (25, False), (32, False), (32, False), (34, False),
          (35, False)]  # fmt: skip
PLACEBO = [(t, True) for t in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22,
                               23)]  # fmt: skip


def test_kaplan_meier_of_the_six_mp_group():
    estimate = kaplan_meier(SIX_MP)
    survival = {step.time: round(step.survival, 4) for step in estimate.steps if step.events}
    assert survival == {6: 0.8571, 7: 0.8067, 10: 0.7529, 13: 0.6902, 16: 0.6275, 22: 0.5378,
                        23: 0.4482}  # fmt: skip
    assert (estimate.n, estimate.events, estimate.median) == (21, 9, 23)
    first = estimate.steps[0]
    # At a tied time the censored are still at risk for that time's events.
    assert (first.time, first.at_risk, first.events, first.censored) == (6, 21, 3, 1)


def test_kaplan_meier_of_the_placebo_group():
    estimate = kaplan_meier(PLACEBO)
    assert estimate.median == 8
    assert math.isclose(estimate.steps[-1].survival, 0.0, abs_tol=1e-12)


def test_median_not_reached_when_the_estimate_stays_above_one_half():
    assert kaplan_meier([(10, True), (20, False), (30, False)]).median is None
    assert kaplan_meier([]).median is None
    # Exactly one half at the first event: that is the median.
    assert kaplan_meier([(90, True), (174, False)]).median == 90


def test_negative_times_are_refused():
    with pytest.raises(ValueError):
        kaplan_meier([(-1, True)])
