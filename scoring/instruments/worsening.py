"""Worsening and confirmed deterioration — docs/scoring.md §4.

ProDERM (Aggarwal R et al., N Engl J Med 2022;387:1264–78): relative to baseline, a visit shows
worsening when any of
  (a) physician global worse by ≥ 2 cm **and** MMT worse by ≥ 20 %;
  (b) extramuscular global activity worse by ≥ 2 cm;
  (c) any 3 of the 5 core set measures other than the enzyme worse by ≥ 30 %.
Deterioration is confirmed when worsening holds at two consecutive visits. Percentages are
relative to baseline, and a worse value from a baseline of 0 counts as worse by any percentage.

**[registry rule, applying docs/scoring.md §1 here too]** "MMT" in (a) and the strength CSM in (c)
are the strength CSM of the comparison: MMT when both visits have a total on the same scale maximum,
otherwise CMAS when both have it (JDM), otherwise missing — the same choice as for the DOI/TIS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from ._exact import reduced_fraction
from ._frozen import FrozenDict
from .measures import (
    EXTRAMUSCULAR,
    HAQ,
    PATIENT_GLOBAL,
    PHYSICIAN_GLOBAL,
    STRENGTH,
    Measures,
    Pairing,
    pair_visits,
)

ALGORITHM: Final = "proderm-worsening-2022"

CRITERION_A: Final = "physician_global_and_strength"
CRITERION_B: Final = "extramuscular"
CRITERION_C: Final = "three_measures"

GLOBAL_WORSE_CM = 2  # (a) and (b): ≥ 2 cm on the 10 cm VAS
STRENGTH_WORSE_PERCENT = 20  # (a)
MEASURE_WORSE_PERCENT = 30  # (c)
MEASURES_WORSE_NEEDED = 3  # (c)

# (c) counts the five CSMs other than the enzyme, in sorted order.
NON_ENZYME_KEYS: tuple[str, ...] = tuple(
    sorted((PHYSICIAN_GLOBAL, PATIENT_GLOBAL, STRENGTH, HAQ, EXTRAMUSCULAR))
)


@dataclass(frozen=True, slots=True)
class WorseningResult:
    """Worsening of one visit against baseline, with the figures each criterion used.

    ``percent_worsening`` is 100·(worsening)/baseline per CSM (positive = worse; None when
    missing or when the baseline is 0). ``physician_global_change`` and
    ``extramuscular_change`` are follow-up − baseline in cm (positive = worse). The strength CSM
    is chosen as in docs/scoring.md §1 (MMT on one scale, else CMAS) and reported under "mmt".
    """

    algorithm: str
    worsened: bool
    criteria: tuple[str, ...]
    worse_by_30: tuple[str, ...]
    physician_global_change: Fraction | None
    extramuscular_change: Fraction | None
    strength_instrument: str | None
    missing: tuple[str, ...]
    percent_worsening: Mapping[str, Fraction | None]


@dataclass(frozen=True, slots=True)
class ConfirmedDeterioration:
    """Deterioration confirmed at ``current`` (truthy) when ``previous`` also showed worsening."""

    algorithm: str
    confirmed: bool
    current: WorseningResult
    previous: WorseningResult | None

    def __bool__(self) -> bool:
        return self.confirmed


def is_worsened(baseline: Measures, visit: Measures) -> WorseningResult:
    """ProDERM worsening of ``visit`` relative to ``baseline``."""
    return worsening_from_pairing(pair_visits(baseline, visit))


def worsening_from_pairing(pairing: Pairing) -> WorseningResult:
    values = pairing.values
    percent: dict[str, Fraction | None] = {}
    worse_by_30: list[str] = []
    strength_worse_20 = False
    terms = pairing.terms
    for key in NON_ENZYME_KEYS:
        term = terms.get(key)
        if term is None:
            percent[key] = None
            continue
        gain, b_num, _, a_den = term
        loss = -gain  # positive = worse
        if b_num == 0:
            # docs/scoring.md §4: a worse value from a baseline of 0 counts (as worse by any
            # percent).
            percent[key] = None
            is_30 = loss > 0
            is_20 = loss > 0
        else:
            scaled = 100 * loss
            base = a_den * b_num
            percent[key] = reduced_fraction(scaled, base)
            is_30 = scaled >= MEASURE_WORSE_PERCENT * base
            is_20 = scaled >= STRENGTH_WORSE_PERCENT * base
        if is_30:
            worse_by_30.append(key)
        if key == STRENGTH:
            strength_worse_20 = is_20

    physician = values.get(PHYSICIAN_GLOBAL)
    physician_change = None if physician is None else physician[1] - physician[0]
    extramuscular = values.get(EXTRAMUSCULAR)
    extramuscular_change = None if extramuscular is None else extramuscular[1] - extramuscular[0]

    criteria: list[str] = []
    if physician_change is not None and physician_change >= GLOBAL_WORSE_CM and strength_worse_20:
        criteria.append(CRITERION_A)
    if extramuscular_change is not None and extramuscular_change >= GLOBAL_WORSE_CM:
        criteria.append(CRITERION_B)
    if len(worse_by_30) >= MEASURES_WORSE_NEEDED:
        criteria.append(CRITERION_C)
    return WorseningResult(
        algorithm=ALGORITHM,
        worsened=bool(criteria),
        criteria=tuple(criteria),
        worse_by_30=tuple(worse_by_30),
        physician_global_change=physician_change,
        extramuscular_change=extramuscular_change,
        strength_instrument=pairing.strength_instrument,
        missing=tuple(key for key in NON_ENZYME_KEYS if key not in values),
        percent_worsening=FrozenDict(percent),
    )


def confirmed_deterioration(
    baseline: Measures, previous: Measures | None, current: Measures
) -> ConfirmedDeterioration:
    """Deterioration is confirmed when worsening (against ``baseline``) holds at ``current`` and
    at the visit just before it, ``previous`` (None when ``current`` is the first follow-up)."""
    now = is_worsened(baseline, current)
    before = None if previous is None else is_worsened(baseline, previous)
    return ConfirmedDeterioration(
        algorithm=ALGORITHM,
        confirmed=now.worsened and before is not None and before.worsened,
        current=now,
        previous=before,
    )
