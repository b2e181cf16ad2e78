"""Scoring a baseline/follow-up pair, and the JSON form of every result (docs/scoring.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .doi import DoiResult, doi_from_pairing
from .measures import Measures, pair_visits
from .population import check_population
from .tis import TisResult, tis_from_pairing
from .worsening import ConfirmedDeterioration, WorseningResult

DISPLAY_PLACES = 2


@dataclass(frozen=True, slots=True)
class PairResult:
    """Both response definitions of one follow-up visit against its reference visit."""

    doi: DoiResult
    tis: TisResult


def score_pair(population: str, baseline: Measures, followup: Measures) -> PairResult:
    """IMACS DOI and ACR/EULAR TIS of ``followup`` against ``baseline``, pairing them once."""
    check_population(population)
    pairing = pair_visits(baseline, followup)
    return PairResult(doi=doi_from_pairing(pairing), tis=tis_from_pairing(population, pairing))


def display_percent(value: Fraction | None) -> float | None:
    """A percentage (or cm change) rounded for display only, to 2 places, halves away from zero
    (16.665 → 16.67, as a clinician would round); the exact value stays in the result object."""
    if value is None:
        return None
    scale = 10**DISPLAY_PLACES
    numerator, denominator = value.numerator * scale, value.denominator
    rounded = (2 * abs(numerator) + denominator) // (2 * denominator)
    return float(Fraction(rounded if numerator >= 0 else -rounded, scale))


def _number(value: Fraction | None) -> float | None:
    # Points and scores are multiples of 2.5, which binary floats represent exactly.
    return None if value is None else float(value)


def doi_to_json(result: DoiResult) -> dict[str, Any]:
    return {
        "algorithm": result.algorithm,
        "met": result.met,
        "evaluated": result.evaluated,
        "improved": list(result.improved),
        "worsened": list(result.worsened),
        "strength_instrument": result.strength_instrument,
        "enzyme": result.enzyme,
        "measures": {
            key: {"percent_change": display_percent(m.percent_change), "status": m.status}
            for key, m in sorted(result.measures.items())
        },
    }


def tis_to_json(result: TisResult) -> dict[str, Any]:
    return {
        "algorithm": result.algorithm,
        "population": result.population,
        "score": _number(result.score),
        "category": result.category,
        "complete": result.complete,
        "missing": list(result.missing),
        "reason": result.reason,
        "enzyme": result.enzyme,
        "strength_instrument": result.strength_instrument,
        "measures": {
            key: {
                "percent_improvement": display_percent(m.percent_improvement),
                "points": float(m.points),
            }
            for key, m in sorted(result.measures.items())
        },
    }


def worsening_to_json(result: WorseningResult) -> dict[str, Any]:
    return {
        "algorithm": result.algorithm,
        "worsened": result.worsened,
        "criteria": sorted(result.criteria),
        "worse_by_30": list(result.worse_by_30),
        "physician_global_change": display_percent(result.physician_global_change),
        "extramuscular_change": display_percent(result.extramuscular_change),
        "strength_instrument": result.strength_instrument,
        "missing": list(result.missing),
        "percent_worsening": {
            key: display_percent(value) for key, value in sorted(result.percent_worsening.items())
        },
    }


def to_json(
    result: PairResult | DoiResult | TisResult | WorseningResult | ConfirmedDeterioration,
) -> dict[str, Any]:
    """JSON-ready dict of a result; a ``PairResult`` gives the §6 case output
    ``{"imacs_doi": {...}, "acr_eular": {...}}``. Key lists are sorted; scores are numbers."""
    if isinstance(result, PairResult):
        return {"imacs_doi": doi_to_json(result.doi), "acr_eular": tis_to_json(result.tis)}
    if isinstance(result, DoiResult):
        return doi_to_json(result)
    if isinstance(result, TisResult):
        return tis_to_json(result)
    if isinstance(result, WorseningResult):
        return worsening_to_json(result)
    if isinstance(result, ConfirmedDeterioration):
        return {
            "algorithm": result.algorithm,
            "confirmed": result.confirmed,
            "current": worsening_to_json(result.current),
            "previous": None if result.previous is None else worsening_to_json(result.previous),
        }
    raise TypeError(f"not a scoring result: {type(result).__name__}")
