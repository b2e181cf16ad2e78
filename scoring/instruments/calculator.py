"""The stateless calculator — docs/scoring.md §6.

One case, or a list of cases, in; the same shape out, in order. Shared by the command
``python -m scoring.calculate`` and the HTTP endpoint. Input is validated completely before
anything is scored, and every problem is reported with its JSON path — a value outside its
scale, a zero or negative enzyme value or ULN, an unknown key or population, or an MMT maximum
other than 80, 150 or 260 is an error naming the field, never a guess.

Numbers should arrive exactly as typed: parse JSON with ``parse_float=decimal.Decimal`` (as the
command does). Floats are accepted too and read as the decimal they print as.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ._input import Errors, describe, join, one_or_many, reject_unknown
from .errors import CalculatorInputError, InstrumentError
from .measures import CMAS_MAX, ENZYMES, HAQ_MAX, VAS_MAX, Measures
from .mmt import MMT_MAXIMA
from .population import POPULATIONS
from .results import score_pair, to_json

EXAMPLE_CASE: Mapping[str, Any] = {
    "population": "adult",
    "baseline": {
        "physician_global": 6.0,
        "patient_global": 5.0,
        "extramuscular": 4.0,
        "haq": 1.5,
        "mmt": {"total": 120, "max": 150},
        "cmas": None,
        "enzymes": {"ck": {"value": 2000, "uln": 200}, "ldh": {"value": 300, "uln": 250}},
    },
    "followup": {
        "physician_global": 3.0,
        "patient_global": 4.0,
        "extramuscular": 2.0,
        "haq": 1.0,
        "mmt": {"total": 132, "max": 150},
        "enzymes": {"ck": {"value": 500, "uln": 200}, "ldh": {"value": 260, "uln": 250}},
    },
}
"""The input case of docs/scoring.md §6, as documented there: the API's example, and the tests'."""

CASE_KEYS: tuple[str, ...] = ("population", "baseline", "followup")
VISIT_KEYS: tuple[str, ...] = (
    "physician_global",
    "patient_global",
    "extramuscular",
    "haq",
    "mmt",
    "cmas",
    "enzymes",
)
MMT_KEYS: tuple[str, ...] = ("total", "max")
ENZYME_KEYS: tuple[str, ...] = ("value", "uln", "unit")
# docs/scoring.md §1: units U/L; 1 µkat/L = 60 U/L. Value and ULN are converted together, so the
# value/ULN ratio that is scored does not depend on the unit.
UNIT_FACTORS: dict[str, int] = {"U/L": 1, "ukat/L": 60}
DEFAULT_UNIT = "U/L"

_BOUNDED: tuple[tuple[str, int], ...] = (
    ("physician_global", VAS_MAX),
    ("patient_global", VAS_MAX),
    ("extramuscular", VAS_MAX),
    ("haq", HAQ_MAX),
)
# Measures' own field names, should it ever reject something validated here.
_MEASURES_FIELD_PATHS = {"mmt_total": "mmt.total", "mmt_max": "mmt.max"}


# Far more digits than any measure has, and than a float holds (1e-308 still reaches the
# calculation, whose result may then be too large for JSON); a longer number (10**5000, or
# 1e-999999999, which exact arithmetic would take hours to expand) is refused unconverted.
MAX_DIGITS = 400


def _shown(value: object) -> str:
    """The value for an error message, short whatever it is (str() of an int of more than 4300
    digits even raises)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return "a number too long to show"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _too_long(value: int | float | Decimal | Fraction) -> bool:
    if isinstance(value, bool | float):
        return False  # a finite float is at most 1.8e308: its exact value is cheap
    if isinstance(value, int):
        return value.bit_length() > MAX_DIGITS * 3.33
    if isinstance(value, Fraction):
        return max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_DIGITS * 3.33
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    return len(digits) > MAX_DIGITS or abs(exponent) > MAX_DIGITS


def _number(
    value: object,
    path: str,
    errors: Errors,
    *,
    high: int | None = None,
    whole: bool = False,
    positive: bool = False,
) -> Fraction | None:
    """A JSON number as an exact Fraction, or None (null, or invalid with an error recorded)."""
    if value is None:
        return None
    number: Fraction
    if type(value) is bool or not isinstance(value, int | float | Decimal | Fraction):
        errors.append((path, f"must be a number, not {describe(value)}"))
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        errors.append((path, "must be a finite number"))
        return None
    if _too_long(value):
        errors.append((path, f"must be a number of at most {MAX_DIGITS} digits"))
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            errors.append((path, "must be a finite number"))
            return None
        number = Fraction(Decimal(str(value)))
    else:
        number = Fraction(value)
    if positive:
        if number <= 0:
            errors.append((path, f"must be greater than 0 (got {_shown(value)})"))
            return None
        return number
    if whole and number.denominator != 1:
        errors.append((path, f"must be a whole number (got {_shown(value)})"))
        return None
    if number < 0 or (high is not None and number > high):
        upper = f" and {high}" if high is not None else ""
        bound = f"between 0{upper}" if upper else "at least 0"
        errors.append((path, f"must be {bound} (got {_shown(value)})"))
        return None
    return number


def _mmt(data: object, path: str, errors: Errors) -> tuple[Fraction | None, int | None]:
    if data is None:
        return None, None
    if not isinstance(data, Mapping):
        errors.append((path, 'must be an object {"total": ..., "max": ...} or null'))
        return None, None
    reject_unknown(data, MMT_KEYS, path, errors)
    max_path, total_path = join(path, "max"), join(path, "total")
    before = len(errors)
    scale_max: int | None = None
    declared = _number(data.get("max"), max_path, errors, whole=True)
    if declared is not None:
        if declared in MMT_MAXIMA:
            scale_max = int(declared)
        else:
            errors.append(
                (max_path, f"must be one of 80, 150 or 260 (got {_shown(data.get('max'))})")
            )
    total_given = data.get("total")
    if total_given is not None and data.get("max") is None:
        errors.append((max_path, "is required with a total: 80, 150 or 260"))
    total = _number(total_given, total_path, errors, high=scale_max, whole=True)
    if len(errors) > before:
        return None, None
    return total, scale_max


def _enzymes(
    data: object, path: str, errors: Errors
) -> dict[str, tuple[Fraction | None, Fraction | None]] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.append((path, "must be an object of enzymes (ck, aldolase, ldh, ast, alt) or null"))
        return None
    pairs: dict[str, tuple[Fraction | None, Fraction | None]] = {}
    for key, entry in data.items():
        entry_path = join(path, key)
        if key not in ENZYMES:
            errors.append((entry_path, f"unknown enzyme; expected one of {', '.join(ENZYMES)}"))
            continue
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            errors.append((entry_path, 'must be an object {"value": ..., "uln": ..., "unit": ...}'))
            continue
        reject_unknown(entry, ENZYME_KEYS, entry_path, errors)
        value = _number(entry.get("value"), join(entry_path, "value"), errors, positive=True)
        uln = _number(entry.get("uln"), join(entry_path, "uln"), errors, positive=True)
        unit = entry.get("unit")
        if unit is None:
            unit = DEFAULT_UNIT
        elif not isinstance(unit, str) or unit not in UNIT_FACTORS:
            errors.append((join(entry_path, "unit"), "must be 'U/L' or 'ukat/L'"))
            continue
        factor = UNIT_FACTORS[unit]
        pairs[key] = (
            None if value is None else value * factor,
            None if uln is None else uln * factor,
        )
    return pairs


def _visit(data: object, path: str, errors: Errors) -> Measures | None:
    if data is None:
        errors.append((path, "is required: an object of the visit's measures"))
        return None
    if not isinstance(data, Mapping):
        errors.append((path, f"must be an object of the visit's measures, not {describe(data)}"))
        return None
    before = len(errors)
    reject_unknown(data, VISIT_KEYS, path, errors)
    values: dict[str, Fraction | None] = {
        key: _number(data.get(key), join(path, key), errors, high=high) for key, high in _BOUNDED
    }
    cmas = _number(data.get("cmas"), join(path, "cmas"), errors, high=CMAS_MAX, whole=True)
    mmt_total, mmt_max = _mmt(data.get("mmt"), join(path, "mmt"), errors)
    enzymes = _enzymes(data.get("enzymes"), join(path, "enzymes"), errors)
    if len(errors) > before:
        return None
    try:
        return Measures(
            physician_global=values["physician_global"],
            patient_global=values["patient_global"],
            extramuscular=values["extramuscular"],
            haq=values["haq"],
            mmt_total=mmt_total,
            mmt_max=mmt_max,
            cmas=cmas,
            enzymes=enzymes,
        )
    except InstrumentError as error:  # pragma: no cover - everything is validated above
        errors.append(
            (join(path, _MEASURES_FIELD_PATHS.get(error.field, error.field)), error.message)
        )
        return None


def _case(case: object, path: str, errors: Errors) -> dict[str, Any] | None:
    if not isinstance(case, Mapping):
        errors.append(
            (
                path or "$",
                f"must be an object with population, baseline and followup, not {describe(case)}",
            )
        )
        return None
    before = len(errors)
    reject_unknown(case, CASE_KEYS, path, errors)
    population = case.get("population")
    if population is None:
        errors.append((join(path, "population"), "is required: 'adult' or 'juvenile'"))
    elif not isinstance(population, str) or population not in POPULATIONS:
        errors.append((join(path, "population"), "must be 'adult' or 'juvenile'"))
    baseline = _visit(case.get("baseline"), join(path, "baseline"), errors)
    followup = _visit(case.get("followup"), join(path, "followup"), errors)
    if len(errors) > before or baseline is None or followup is None:
        return None
    assert isinstance(population, str)
    return to_json(score_pair(population, baseline, followup))


def calculate_case(case: object) -> dict[str, Any]:
    """Score one §6 case; raise ``CalculatorInputError`` listing every invalid field."""
    errors: Errors = []
    result = _case(case, "", errors)
    if errors or result is None:
        raise CalculatorInputError(errors)
    return result


def calculate(document: object) -> dict[str, Any] | list[dict[str, Any]]:
    """Score a §6 document: one case (an object) or a list of cases, answered in order.

    Raises ``CalculatorInputError`` with the errors of every case (paths like
    ``"[2].followup.physician_global"`` for a list) — a list is scored only when all its cases
    are valid.
    """
    return one_or_many(document, _case)
