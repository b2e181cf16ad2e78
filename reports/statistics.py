"""Descriptive statistics of the reports, as pure functions (no Django, no database).

Every estimate comes from a maintained library; this module only adapts their inputs and outputs
to the reports' plain values. The libraries are imported on first use, inside the functions: they
take about a second to import, which no page, command or worker that never draws a statistic
should pay.

- Wilson score interval for a proportion (Wilson EB, J Am Stat Assoc 1927;22:209–12), which
  behaves at 0 % and 100 % and in small groups, where the normal approximation gives intervals
  outside 0–1 (Newcombe RG, Stat Med 1998;17:857–72, method 3): statsmodels'
  `proportion_confint(method="wilson")`.
- Exact (Garwood) Poisson interval for a count of events, from the chi-square distribution
  (Garwood F, Biometrika 1936;28:437–42; Ulm K, Am J Epidemiol 1990;131:373–5): scipy.
- Quantiles by linear interpolation between order statistics (Hyndman & Fan 1996, definition 7:
  R's and NumPy's default), for medians and interquartile ranges: NumPy.
- Kaplan–Meier product-limit estimate (Kaplan EL, Meier P, J Am Stat Assoc 1958;53:457–81) with
  95 % intervals from Greenwood's variance on the log(−log) scale (Kalbfleisch & Prentice 2002,
  §1.4; R's `survfit(conf.type = "log-log")`, lifelines' "exponential Greenwood"): lifelines'
  `KaplanMeierFitter`. The median is the first time the estimate falls to 0.5 or below (Collett,
  Modelling Survival Data in Medical Research, §2.4); at a tied time, events happen before
  censorings.
- Two groups compared by the log-rank test (lifelines' `logrank_test`) and a Cox proportional
  hazards model with Efron's handling of ties (lifelines' `CoxPHFitter`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Two-sided 95 %: the 97.5th percentile of the standard normal distribution.
Z_95 = 1.959963984540054
ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Proportion:
    """`count` of `total`, as a fraction with its 95 % Wilson interval (None when total is 0)."""

    count: int
    total: int
    low: float | None
    high: float | None

    @property
    def fraction(self) -> float | None:
        return None if self.total == 0 else self.count / self.total

    @property
    def percent(self) -> float | None:
        fraction = self.fraction
        return None if fraction is None else 100 * fraction


def wilson_interval(count: int, total: int, alpha: float = ALPHA) -> tuple[float, float] | None:
    """The Wilson score interval for `count` successes in `total` trials; None when total is 0."""
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total, got {count} of {total}")
    if total == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, total, alpha=alpha, method="wilson")
    # Exact ends at 0 and n (the formula gives them up to rounding).
    return (
        0.0 if count == 0 else max(0.0, float(low)),
        1.0 if count == total else min(1.0, float(high)),
    )


def proportion(count: int, total: int) -> Proportion:
    interval = wilson_interval(count, total)
    low, high = interval if interval is not None else (None, None)
    return Proportion(count, total, low, high)


@dataclass(frozen=True, slots=True)
class Rate:
    """`events` over `exposure` (patient-years) per `per` patient-years, exact 95 % interval.

    All three figures are None when there is no exposure.
    """

    events: int
    exposure: float
    estimate: float | None
    low: float | None
    high: float | None
    per: float = 100.0


def poisson_interval(events: int, alpha: float = ALPHA) -> tuple[float, float]:
    """The exact (Garwood) interval of a Poisson mean of which `events` were observed."""
    if events < 0:
        raise ValueError(f"a count of events cannot be negative, got {events}")
    from scipy.stats import chi2

    low = 0.0 if events == 0 else float(chi2.ppf(alpha / 2, 2 * events)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return low, high


def rate(events: int, exposure: float, per: float = 100.0) -> Rate:
    """Events per `per` units of exposure with the exact Poisson interval of the count."""
    if exposure < 0:
        raise ValueError(f"exposure cannot be negative, got {exposure}")
    if exposure == 0:
        return Rate(events, exposure, None, None, None, per)
    low, high = poisson_interval(events)
    scale = per / exposure
    return Rate(events, exposure, events * scale, low * scale, high * scale, per)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) of already sorted values, definition 7; None when empty."""
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within 0 and 1, got {q}")
    if not ordered:
        return None
    import numpy

    return float(numpy.quantile(ordered, q, method="linear"))


@dataclass(frozen=True, slots=True)
class Summary:
    """Median and interquartile range of `n` values (all None when there are none)."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None


def summarise(values: Iterable[float]) -> Summary:
    ordered = list(values)
    if not ordered:
        return Summary(0, None, None, None)
    import numpy

    q1, median, q3 = numpy.quantile(ordered, (0.25, 0.5, 0.75), method="linear")
    return Summary(len(ordered), float(median), float(q1), float(q3))


@dataclass(frozen=True, slots=True)
class KaplanMeierStep:
    """The estimate after time `time`: `at_risk` just before it, `events` and `censored` at it.

    `low` and `high` bound its 95 % interval (Greenwood, log(−log) transform).
    """

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    low: float = 1.0
    high: float = 1.0


@dataclass(frozen=True, slots=True)
class SurvivalAt:
    """The Kaplan–Meier step function read at a time, with those still at risk then.

    The estimate and its interval are None when no one was followed that long and the estimate
    had not reached 0 (it is not known beyond the last time).
    """

    time: float
    estimate: float | None
    low: float | None
    high: float | None
    at_risk: int


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    steps: tuple[KaplanMeierStep, ...]
    n: int
    events: int

    @property
    def censored(self) -> int:
        return self.n - self.events

    @property
    def median(self) -> float | None:
        """The first time at which the estimate is 0.5 or below; None if it never gets there."""
        for step in self.steps:
            if step.events and step.survival <= 0.5 + 1e-12:
                return step.time
        return None

    def at(self, time: float) -> SurvivalAt:
        """The step function read at `time` (right-continuous); `at_risk`: times ≥ `time`."""
        at_risk = self.n
        current: KaplanMeierStep | None = None
        for step in self.steps:
            if step.time > time:
                break
            current = step
            if step.time < time:
                at_risk -= step.events + step.censored
        if current is None:
            known = 1.0 if self.n else None
            return SurvivalAt(time, known, known, known, at_risk)
        if at_risk == 0 and current.survival > 1e-12:
            return SurvivalAt(time, None, None, None, 0)
        return SurvivalAt(time, current.survival, current.low, current.high, at_risk)


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> KaplanMeier:
    """The product-limit estimate from (time, event) pairs; event False means censored then.

    Times must not be negative. At each distinct time the estimate is multiplied by
    (1 − events / at risk); those censored at a time are still at risk for that time's events.
    """
    times: list[float] = []
    events: list[bool] = []
    for time, event in observations:
        if time < 0:
            raise ValueError(f"times must not be negative, got {time}")
        times.append(time)
        events.append(bool(event))
    if not times:
        return KaplanMeier((), 0, 0)
    fitted = _fit(times, events)
    table = fitted.event_table
    survival = fitted.survival_function_.iloc[:, 0]
    bounds = fitted.confidence_interval_
    steps = []
    for time, removed, observed, censored, at_risk, estimate, low, high in zip(
        table.index.tolist(),
        table["removed"].tolist(),
        table["observed"].tolist(),
        table["censored"].tolist(),
        table["at_risk"].tolist(),
        survival.loc[table.index].tolist(),
        bounds.iloc[:, 0].loc[table.index].tolist(),
        bounds.iloc[:, 1].loc[table.index].tolist(),
        strict=True,
    ):
        if removed:
            steps.append(
                KaplanMeierStep(
                    _plain(time), int(at_risk), int(observed), int(censored), estimate, low, high
                )
            )
    return KaplanMeier(tuple(steps), len(times), sum(events))


def _plain(time: float) -> float:
    """Whole times back as ints, as they were given (days, weeks)."""
    return int(time) if float(time).is_integer() else float(time)


def _fit(times: Sequence[float], events: Sequence[bool]) -> Any:
    import warnings

    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KaplanMeierFitter(alpha=ALPHA).fit(times, event_observed=events)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Group A against group B (the reference): log-rank p and Cox hazard ratio of A to B.

    The hazard ratio and its interval are None when it cannot be estimated (a group without
    any event, where the likelihood has no maximum).
    """

    n_a: int
    n_b: int
    logrank_p: float | None
    hazard_ratio: float | None
    hr_low: float | None
    hr_high: float | None


def compare(
    a: Sequence[tuple[float, bool]], b: Sequence[tuple[float, bool]], minimum: int = 5
) -> Comparison | None:
    """Log-rank test and Cox hazard ratio of A relative to B; None when a group is below
    `minimum` patients."""
    if len(a) < minimum or len(b) < minimum:
        return None
    import warnings

    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    times_a, events_a = zip(*a, strict=True)
    times_b, events_b = zip(*b, strict=True)
    if not any(events_a) and not any(events_b):
        return Comparison(len(a), len(b), None, None, None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = float(logrank_test(times_a, times_b, events_a, events_b).p_value)
        if not any(events_a) or not any(events_b):
            return Comparison(len(a), len(b), p, None, None, None)
        import pandas

        frame = pandas.DataFrame(
            {
                "time": [*times_a, *times_b],
                "event": [int(e) for e in (*events_a, *events_b)],
                "group_a": [1] * len(a) + [0] * len(b),
            }
        )
        model = CoxPHFitter(alpha=ALPHA).fit(frame, duration_col="time", event_col="event")
    coefficient = float(model.params_["group_a"])
    low, high = (float(v) for v in model.confidence_intervals_.loc["group_a"])
    return Comparison(len(a), len(b), p, math.exp(coefficient), math.exp(low), math.exp(high))


@dataclass(frozen=True, slots=True)
class OddsRatio:
    """An odds ratio of a 2×2 table with its 95 % Woolf (logit) interval."""

    estimate: float
    low: float
    high: float
    corrected: bool  # Haldane's 0.5 added to every cell, as one cell was zero


def odds_ratio(a: int, b: int, c: int, d: int) -> OddsRatio:
    """The odds ratio (a·d)/(b·c) of the table [[a, b], [c, d]] (rows: exposed, reference;
    columns: responders, non-responders), its 95 % interval exp(log OR ± z·√(1/a+1/b+1/c+1/d))
    (Woolf B, Ann Hum Genet 1955;19:251–3), with 0.5 added to every cell when one is zero
    (Haldane JBS, Ann Hum Genet 1956;20:309–11): statsmodels' `Table2x2`, given the corrected
    table (its own `shift_zeros` replaces only the zero cells by 0.5)."""
    if min(a, b, c, d) < 0:
        raise ValueError("counts cannot be negative")
    from statsmodels.stats.contingency_tables import Table2x2

    corrected = 0 in (a, b, c, d)
    shift = 0.5 if corrected else 0.0
    table = Table2x2([[a + shift, b + shift], [c + shift, d + shift]], shift_zeros=False)
    low, high = table.oddsratio_confint(alpha=ALPHA)
    return OddsRatio(float(table.oddsratio), float(low), float(high), corrected)


@dataclass(frozen=True, slots=True)
class Coefficient:
    name: str
    odds_ratio: float
    low: float
    high: float
    p_value: float


def logistic_regression(
    outcomes: Sequence[int], columns: Sequence[str], rows: Sequence[Sequence[float]]
) -> list[Coefficient]:
    """Maximum-likelihood logistic regression of 0/1 `outcomes` on the named covariates (an
    intercept added): odds ratios with 95 % Wald intervals and p-values, statsmodels' `Logit`.
    Raises ValueError when the model cannot be fitted (perfect separation, singular design)."""
    import numpy as np
    import statsmodels.api as sm

    design = sm.add_constant(np.asarray(rows, dtype=float), has_constant="add")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fitted = sm.Logit(np.asarray(outcomes, dtype=float), design).fit(disp=0, maxiter=100)
    except Exception as exc:  # statsmodels raises several kinds (separation, singular matrix)
        raise ValueError(f"the model could not be fitted ({type(exc).__name__})") from exc
    intervals = fitted.conf_int(alpha=ALPHA)
    found = []
    for index, name in enumerate(columns, start=1):
        values = (fitted.params[index], intervals[index][0], intervals[index][1])
        if not all(math.isfinite(v) for v in values):
            raise ValueError("the model could not be fitted (infinite estimate)")
        found.append(
            Coefficient(
                name,
                math.exp(values[0]),
                math.exp(values[1]),
                math.exp(values[2]),
                float(fitted.pvalues[index]),
            )
        )
    return found
