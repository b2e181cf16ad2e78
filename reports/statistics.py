"""Descriptive statistics of the reports, as pure functions (no Django, no database).

- Wilson score interval for a proportion (Wilson EB, J Am Stat Assoc 1927;22:209–12), which
  behaves at 0 % and 100 % and in small groups, where the normal approximation gives intervals
  outside 0–1 (Newcombe RG, Stat Med 1998;17:857–72, method 3).
- Quantiles by linear interpolation between order statistics (Hyndman & Fan 1996, definition 7:
  R's and NumPy's default), for medians and interquartile ranges.
- Kaplan–Meier product-limit estimate (Kaplan EL, Meier P, J Am Stat Assoc 1958;53:457–81) with
  the median as the first time the estimate falls to 0.5 or below (Collett, Modelling Survival
  Data in Medical Research, §2.4); at a tied time, events happen before censorings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Two-sided 95 %: the 97.5th percentile of the standard normal distribution.
Z_95 = 1.959963984540054


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


def wilson_interval(count: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for `count` successes in `total` trials; None when total is 0."""
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total, got {count} of {total}")
    if total == 0:
        return None
    p = count / total
    z2 = z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    # Exact ends at 0 and n (the formula gives them up to rounding).
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return low, high


def proportion(count: int, total: int) -> Proportion:
    interval = wilson_interval(count, total)
    low, high = interval if interval is not None else (None, None)
    return Proportion(count, total, low, high)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) of already sorted values, definition 7; None when empty."""
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within 0 and 1, got {q}")
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * weight


@dataclass(frozen=True, slots=True)
class Summary:
    """Median and interquartile range of `n` values (all None when there are none)."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None


def summarise(values: Iterable[float]) -> Summary:
    ordered = sorted(values)
    return Summary(
        len(ordered), quantile(ordered, 0.5), quantile(ordered, 0.25), quantile(ordered, 0.75)
    )


@dataclass(frozen=True, slots=True)
class KaplanMeierStep:
    """The estimate after time `time`: `at_risk` just before it, `events` and `censored` at it."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    steps: tuple[KaplanMeierStep, ...]
    n: int
    events: int

    @property
    def median(self) -> float | None:
        """The first time at which the estimate is 0.5 or below; None if it never gets there."""
        for step in self.steps:
            if step.events and step.survival <= 0.5 + 1e-12:
                return step.time
        return None


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> KaplanMeier:
    """The product-limit estimate from (time, event) pairs; event False means censored then.

    Times must not be negative. At each distinct time the estimate is multiplied by
    (1 − events / at risk); those censored at a time are still at risk for that time's events.
    """
    events_at: Counter[float] = Counter()
    censored_at: Counter[float] = Counter()
    n = 0
    for time, event in observations:
        if time < 0:
            raise ValueError(f"times must not be negative, got {time}")
        (events_at if event else censored_at)[time] += 1
        n += 1
    at_risk = n
    survival = 1.0
    steps = []
    for time in sorted(set(events_at) | set(censored_at)):
        events, censored = events_at[time], censored_at[time]
        if events:
            survival *= 1 - events / at_risk
        steps.append(KaplanMeierStep(time, at_risk, events, censored, survival))
        at_risk -= events + censored
    return KaplanMeier(tuple(steps), n, sum(events_at.values()))
