"""2016 ACR/EULAR myositis response criteria: the Total Improvement Score (TIS) — docs/scoring.md
§3.

Aggarwal R et al., Arthritis Rheumatol 2017;69:898–910 (adult DM/PM) and Rider LG et al.,
Arthritis Rheumatol 2017;69:911–23 (JDM): one conversion table of absolute percent change to
points for both populations, summed to a TIS of 0–100, with different category thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, NamedTuple

from ._exact import reduced_fraction
from ._frozen import FrozenDict
from .measures import (
    ENZYME,
    EXTRAMUSCULAR,
    HAQ,
    HAQ_MAX,
    PATIENT_GLOBAL,
    PHYSICIAN_GLOBAL,
    SORTED_MEASURE_KEYS,
    STRENGTH,
    VAS_MAX,
    Measures,
    Pairing,
    pair_visits,
)
from .population import ADULT, JUVENILE, check_population

ALGORITHM: Final = "acr-eular-2016"

# Band upper edges in percent. Bands include their upper edge: "> 5 to 15" means 5 < x ≤ 15, and
# anything ≤ the first edge (worsening included) scores 0 — worsening never scores below 0.
EDGES: tuple[int, ...] = (5, 15, 25, 40)
STRENGTH_EDGES: tuple[int, ...] = (2, 10, 20, 30)

# Points per band (≤ first edge, then each band above it), from the published conversion table
# (Aggarwal 2017, table 3; identical in Rider 2017). Kept in half points, so that sums are exact
# integer arithmetic; every entry is a multiple of 2.5.
_POINTS_X2: dict[str, tuple[int, ...]] = {
    PHYSICIAN_GLOBAL: (0, 15, 30, 35, 40),  # 0, 7.5, 15, 17.5, 20
    PATIENT_GLOBAL: (0, 5, 10, 15, 20),  # 0, 2.5, 5, 7.5, 10
    HAQ: (0, 10, 15, 15, 20),  # 0, 5, 7.5, 7.5, 10
    ENZYME: (0, 5, 10, 15, 15),  # 0, 2.5, 5, 7.5, 7.5
    EXTRAMUSCULAR: (0, 15, 25, 30, 40),  # 0, 7.5, 12.5, 15, 20
    STRENGTH: (0, 20, 40, 55, 65),  # 0, 10, 20, 27.5, 32.5
}
POINTS: dict[str, tuple[Fraction, ...]] = {
    key: tuple(Fraction(x, 2) for x in row) for key, row in _POINTS_X2.items()
}
_TABLE: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[Fraction, ...]]] = {
    key: (STRENGTH_EDGES if key == STRENGTH else EDGES, _POINTS_X2[key], POINTS[key])
    for key in _POINTS_X2
}

# [registry rule where the papers are not explicit, docs/scoring.md §3] "Absolute percent change" of
# a bounded measure is the improvement as a percentage of the scale range; the strength range is
# the declared scale maximum (80, 150, 260; 52 for CMAS) and comes from the pairing.
SCALE_RANGE: dict[str, int] = {
    PHYSICIAN_GLOBAL: VAS_MAX,
    PATIENT_GLOBAL: VAS_MAX,
    EXTRAMUSCULAR: VAS_MAX,
    HAQ: HAQ_MAX,
}

# Category thresholds, inclusive (score ≥ threshold), in half points: adults 20/40/60 (Aggarwal
# 2017), juvenile 30/45/70 (Rider 2017). Below minimal is "none".
NONE: Final = "none"
MINIMAL: Final = "minimal"
MODERATE: Final = "moderate"
MAJOR: Final = "major"
CATEGORY_THRESHOLDS: dict[str, tuple[tuple[int, str], ...]] = {
    ADULT: ((60, MAJOR), (40, MODERATE), (20, MINIMAL)),
    JUVENILE: ((70, MAJOR), (45, MODERATE), (30, MINIMAL)),
}
_THRESHOLDS_X2 = {
    population: tuple((2 * score, name) for score, name in rows)
    for population, rows in CATEGORY_THRESHOLDS.items()
}

# [registry rule, docs/scoring.md §3 "Missing data"] physician_global and the strength CSM are
# required at both visits; without them the TIS is not computed. Any other missing CSM scores 0, the
# result is flagged incomplete and its score is a lower bound. Never impute.
REQUIRED: tuple[str, ...] = (PHYSICIAN_GLOBAL, STRENGTH)

_ZERO = Fraction(0)


class TisMeasure(NamedTuple):
    """One CSM in the TIS: absolute percent improvement (None when missing) and its points."""

    percent_improvement: Fraction | None
    points: Fraction


@dataclass(frozen=True, slots=True)
class TisResult:
    """The ACR/EULAR total improvement score of a follow-up visit against its reference visit.

    ``score`` (a multiple of 2.5 in 0–100) and ``category`` are None when a required CSM is
    missing, with the ``reason``. Otherwise missing CSMs score 0, ``complete`` is False and the
    score is a lower bound. ``missing`` is sorted; ``measures`` has all six keys with the exact
    percent improvement (None when missing) and the points.
    """

    algorithm: str
    population: str
    score: Fraction | None
    category: str | None
    complete: bool
    missing: tuple[str, ...]
    reason: str | None
    enzyme: str | None
    strength_instrument: str | None
    measures: Mapping[str, TisMeasure]


_MISSING = TisMeasure(None, _ZERO)


def tis_points(key: str, percent: Fraction | int) -> Fraction:
    """Points of one CSM for an exact percent improvement (the conversion table of §3)."""
    edges, _, points = _TABLE[key]
    band = 0
    for edge in edges:
        if percent > edge:
            band += 1
        else:
            break
    return points[band]


def tis_category(population: str, score: Fraction | int) -> str:
    """Improvement category of a TIS for ``population`` (thresholds inclusive)."""
    check_population(population)
    doubled = score * 2
    for threshold, name in _THRESHOLDS_X2[population]:
        if doubled >= threshold:
            return name
    return NONE


def score_tis(population: str, baseline: Measures, followup: Measures) -> TisResult:
    """The ACR/EULAR total improvement score of ``followup`` against ``baseline``."""
    check_population(population)
    return tis_from_pairing(population, pair_visits(baseline, followup))


def tis_from_pairing(population: str, pairing: Pairing) -> TisResult:
    check_population(population)
    terms = pairing.terms
    measures: dict[str, TisMeasure] = {}
    total_x2 = 0
    for key in SORTED_MEASURE_KEYS:
        term = terms.get(key)
        if term is None:
            measures[key] = _MISSING
            continue
        gain, b_num, b_den, a_den = term
        scaled = 100 * gain
        if key == ENZYME:
            # Relative change on value/ULN: 100·(baseline − follow-up)/baseline. The ratio is > 0.
            base = a_den * b_num
        elif key == STRENGTH:
            strength_range = pairing.strength_range
            assert strength_range is not None  # set whenever a strength instrument is paired
            base = b_den * a_den * strength_range
        else:
            base = b_den * a_den * SCALE_RANGE[key]
        # Band look-up in integers: percent > edge ⇔ scaled > edge·base (base > 0).
        edges, points_x2, points = _TABLE[key]
        band = 0
        for edge in edges:
            if scaled > edge * base:
                band += 1
            else:
                break
        total_x2 += points_x2[band]
        measures[key] = TisMeasure(reduced_fraction(scaled, base), points[band])

    missing = pairing.missing
    absent = [key for key in REQUIRED if key not in terms]
    score: Fraction | None
    category: str | None
    reason: str | None
    if absent:
        score = category = None
        reason = "; ".join(
            "physician_global is required at both visits"
            if key == PHYSICIAN_GLOBAL
            else f"the strength measure is required at both visits: {pairing.strength_reason}"
            for key in absent
        )
    else:
        score = reduced_fraction(total_x2, 2)
        category = NONE
        for threshold, name in _THRESHOLDS_X2[population]:
            if total_x2 >= threshold:
                category = name
                break
        reason = None
    return TisResult(
        algorithm=ALGORITHM,
        population=population,
        score=score,
        category=category,
        complete=not missing,
        missing=missing,
        reason=reason,
        enzyme=pairing.enzyme,
        strength_instrument=pairing.strength_instrument,
        measures=FrozenDict(measures),
    )
