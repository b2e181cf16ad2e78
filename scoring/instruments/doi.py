"""IMACS Definition of Improvement (DOI) — docs/scoring.md §2.

Rider LG et al., Arthritis Rheum 2004;50:2281–90: at least 3 of the 6 core set measures
improved by ≥ 20 %, with no more than 2 worse by ≥ 25 %, and manual muscle testing may not be
among the worsened. Percent change is relative to baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, NamedTuple

from ._exact import reduced_fraction
from ._frozen import FrozenDict
from .measures import SORTED_MEASURE_KEYS, STRENGTH, Measures, Pairing, pair_visits

ALGORITHM: Final = "imacs-doi-2004"

IMPROVED_PERCENT = 20  # improved: change ≥ 20 % (inclusive)
WORSENED_PERCENT = -25  # worsened: change ≤ −25 % (inclusive)
MIN_IMPROVED = 3
MAX_WORSENED = 2
MIN_EVALUATED = 3

IMPROVED: Final = "improved"
WORSENED: Final = "worsened"
NEITHER: Final = "neither"  # present at both visits, but below both thresholds
MISSING: Final = "missing"  # not present at both visits: counts as neither, and is not evaluated


class DoiMeasure(NamedTuple):
    """One CSM in the DOI: percent change relative to baseline (positive = better)."""

    percent_change: Fraction | None
    status: str


@dataclass(frozen=True, slots=True)
class DoiResult:
    """The IMACS DOI of a follow-up visit against its reference visit.

    ``met`` is None when fewer than 3 CSMs are present at both visits (``evaluated``).
    ``improved``/``worsened`` are sorted CSM keys; ``measures`` has all six keys, each with its
    exact percent change and status (improved, worsened, neither, missing). The strength CSM is
    reported as "mmt" whichever instrument was used (``strength_instrument``: mmt or cmas);
    ``enzyme`` is the enzyme chosen at baseline.
    """

    algorithm: str
    met: bool | None
    evaluated: int
    improved: tuple[str, ...]
    worsened: tuple[str, ...]
    strength_instrument: str | None
    enzyme: str | None
    measures: Mapping[str, DoiMeasure]


_MISSING = DoiMeasure(None, MISSING)
_ZERO_BASELINE = {
    1: DoiMeasure(None, IMPROVED),
    0: DoiMeasure(None, NEITHER),
    -1: DoiMeasure(None, WORSENED),
}


def score_doi(baseline: Measures, followup: Measures) -> DoiResult:
    """The IMACS DOI of ``followup`` against ``baseline``."""
    return doi_from_pairing(pair_visits(baseline, followup))


def doi_from_pairing(pairing: Pairing) -> DoiResult:
    terms = pairing.terms
    measures: dict[str, DoiMeasure] = {}
    improved: list[str] = []
    worsened: list[str] = []
    for key in SORTED_MEASURE_KEYS:  # sorted order, so the key lists come out sorted
        term = terms.get(key)
        if term is None:
            measures[key] = _MISSING
            continue
        gain, b_num, _, a_den = term
        if b_num == 0:
            # [registry rule, docs/scoring.md §2] Baseline 0: an equal follow-up is unchanged, a
            # worse one counts as worsened, a better one (only possible for strength) as improved.
            # The percentage is undefined and reported as None.
            measure = _ZERO_BASELINE[(gain > 0) - (gain < 0)]
        else:
            # percent = 100·improvement/baseline = 100·gain/(a_den·b_num), compared in integers.
            scaled = 100 * gain
            base = a_den * b_num  # > 0: baseline values are never negative
            if scaled >= IMPROVED_PERCENT * base:
                status = IMPROVED
            elif scaled <= WORSENED_PERCENT * base:
                status = WORSENED
            else:
                status = NEITHER
            measure = DoiMeasure(reduced_fraction(scaled, base), status)
        if measure.status == IMPROVED:
            improved.append(key)
        elif measure.status == WORSENED:
            worsened.append(key)
        measures[key] = measure

    evaluated = len(terms)
    met: bool | None
    if evaluated < MIN_EVALUATED:
        met = None  # docs/scoring.md §2: fewer than 3 CSMs at both visits — not evaluable
    else:
        met = (
            len(improved) >= MIN_IMPROVED
            and len(worsened) <= MAX_WORSENED
            and STRENGTH not in worsened  # "manual muscle testing may not be among the worsened"
        )
    return DoiResult(
        algorithm=ALGORITHM,
        met=met,
        evaluated=evaluated,
        improved=tuple(improved),
        worsened=tuple(worsened),
        strength_instrument=pairing.strength_instrument,
        enzyme=pairing.enzyme,
        measures=FrozenDict(measures),
    )
