"""The library-backed statistics pinned to hand computations and published worked examples."""

import math
import subprocess
import sys

import pytest

from reports.statistics import compare, kaplan_meier, poisson_interval, rate, wilson_interval
from tests.reports.test_statistics import PLACEBO, SIX_MP

Z = 1.959963984540054


def test_wilson_for_eight_of_ten():
    # Newcombe 1998 method 3 by hand: centre (0.8 + z²/20) / (1 + z²/10), half-width
    # z √(0.8·0.2/10 + z²/400) / (1 + z²/10).
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_exact_poisson_interval_of_six_events():
    # Garwood: χ²(0.025; 12)/2 = 4.4038/2 and χ²(0.975; 14)/2 = 26.1189/2 (Ulm 1990, table 1).
    assert poisson_interval(6) == pytest.approx((2.2019, 13.0595), abs=1e-4)
    # No event: the lower end is 0, the upper χ²(0.975; 2)/2 = −ln(0.025) = 3.6889.
    assert poisson_interval(0) == pytest.approx((0.0, -math.log(0.025)), abs=1e-9)
    with pytest.raises(ValueError):
        poisson_interval(-1)


def test_rate_per_hundred_patient_years():
    found = rate(6, 12.5)  # 6 events over 12.5 patient-years: 48 per 100 patient-years
    assert (found.estimate, found.per) == (48.0, 100.0)
    assert (found.low, found.high) == pytest.approx((2.2019 * 8, 13.0595 * 8), abs=1e-3)
    nothing = rate(0, 0.0)
    assert (nothing.estimate, nothing.low, nothing.high) == (None, None, None)


def _loglog(survival, greenwood):
    """The log(−log) interval by hand: exp(−exp(log(−log S) ± z √V / |log S|))."""
    log_s = math.log(survival)
    centre, spread = math.log(-log_s), Z * math.sqrt(greenwood) / abs(log_s)
    return math.exp(-math.exp(centre + spread)), math.exp(-math.exp(centre - spread))


# Six patients: two deaths and one censored on day 10 (censored at the same time as events),
# a death on day 20, censored on day 30, a death on day 40.
SMALL = [(10, True), (10, True), (10, False), (20, True), (30, False), (40, True)]


def test_kaplan_meier_with_ties_and_censoring_by_hand():
    estimate = kaplan_meier(SMALL)
    steps = {step.time: step for step in estimate.steps}
    # Day 10: 6 at risk, 2 deaths: S = 4/6, Greenwood Σ d/(n(n−d)) = 2/(6·4).
    assert (steps[10].at_risk, steps[10].events, steps[10].censored) == (6, 2, 1)
    assert steps[10].survival == pytest.approx(4 / 6)
    assert (steps[10].low, steps[10].high) == pytest.approx(_loglog(4 / 6, 2 / 24))
    assert (steps[10].low, steps[10].high) == pytest.approx((0.19462, 0.90443), abs=1e-5)
    # Day 20: 3 at risk, 1 death: S = 4/6 · 2/3, Σ = 2/24 + 1/(3·2).
    assert steps[20].at_risk == 3 and steps[20].survival == pytest.approx(4 / 9)
    assert (steps[20].low, steps[20].high) == pytest.approx(_loglog(4 / 9, 2 / 24 + 1 / 6))
    # Day 30 censors without changing anything; day 40: the last one at risk dies.
    assert steps[30].survival == pytest.approx(4 / 9) and steps[30].events == 0
    assert (steps[40].at_risk, steps[40].survival) == (1, pytest.approx(0.0))
    assert (estimate.n, estimate.events, estimate.censored, estimate.median) == (6, 4, 2, 20)


def test_reading_the_step_function_at_a_time():
    estimate = kaplan_meier(SMALL)
    before = estimate.at(9)
    assert (before.estimate, before.low, before.high, before.at_risk) == (1.0, 1.0, 1.0, 6)
    on_the_day = estimate.at(10)  # whose time is at least 10 days: all six
    assert (on_the_day.estimate, on_the_day.at_risk) == (pytest.approx(4 / 6), 6)
    between = estimate.at(25)
    assert (between.estimate, between.at_risk) == (pytest.approx(4 / 9), 2)
    assert (between.low, between.high) == pytest.approx(_loglog(4 / 9, 2 / 24 + 1 / 6))
    after = estimate.at(50)  # everyone died or was censored before; the estimate reached 0
    assert (after.estimate, after.at_risk) == (pytest.approx(0.0), 0)
    # Followed no longer than 30 days, still alive: nothing is known at 50 days.
    unknown = kaplan_meier([(10, True), (30, False)]).at(50)
    assert (unknown.estimate, unknown.low, unknown.high, unknown.at_risk) == (None,) * 3 + (0,)
    empty = kaplan_meier([]).at(10)
    assert (empty.estimate, empty.at_risk) == (None, 0)


def test_kaplan_meier_intervals_match_r_survfit_loglog():
    # R: summary(survfit(Surv(time, cens) ~ 1, data = subset(MASS::gehan, treat == "6-MP"),
    #     conf.type = "log-log")) — the 6-MP group of Freireich et al.
    published = {6: (0.857, 0.620, 0.952), 7: (0.807, 0.563, 0.923), 10: (0.753, 0.503, 0.889),
                 13: (0.690, 0.432, 0.849), 16: (0.627, 0.368, 0.805), 22: (0.538, 0.268, 0.747),
                 23: (0.448, 0.188, 0.680)}  # fmt: skip
    found = {
        step.time: (step.survival, step.low, step.high)
        for step in kaplan_meier(SIX_MP).steps
        if step.events
    }
    assert found.keys() == published.keys()
    for time, values in published.items():
        assert found[time] == pytest.approx(values, abs=6e-4)


def test_log_rank_and_cox_hazard_ratio_match_r():
    # R on MASS::gehan: survdiff gives χ² = 16.8 on 1 df, p = 4.17e-05; coxph (Efron ties),
    # control against 6-MP: exp(coef) 4.817, 95 % 2.147–10.81.
    found = compare(PLACEBO, SIX_MP)
    assert (found.n_a, found.n_b) == (21, 21)
    assert found.logrank_p == pytest.approx(4.17e-05, rel=1e-2)
    assert found.hazard_ratio == pytest.approx(4.817, abs=1e-3)
    assert (found.hr_low, found.hr_high) == pytest.approx((2.147, 10.81), abs=1e-2)
    # B is the reference: swapping the groups inverts the ratio.
    assert compare(SIX_MP, PLACEBO).hazard_ratio == pytest.approx(1 / 4.817, abs=1e-3)


def test_no_comparison_for_small_groups_and_no_ratio_without_events():
    assert compare(SIX_MP, PLACEBO[:4]) is None
    assert compare(SIX_MP[:4], PLACEBO) is None
    no_events = [(t, False) for t in (5, 6, 7, 8, 9)]
    found = compare(no_events, PLACEBO)
    assert found.logrank_p is not None and found.hazard_ratio is None
    both_empty = compare(no_events, no_events)
    assert (both_empty.logrank_p, both_empty.hazard_ratio) == (None, None)


def test_the_libraries_are_imported_on_first_use_only():
    code = (
        "import sys, reports.statistics as s; "
        "assert not {'lifelines', 'statsmodels', 'scipy', 'numpy', 'pandas'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
