"""The six IMACS core set measures (CSM) of a visit, and how two visits are paired — docs/scoring.md
§1.

Miller FW et al., Rheumatology 2001;40:1262–73 and Rider LG et al., Arthritis Rheum
2004;50:2281–90 define the core set: physician global, patient/parent global, manual muscle
testing, physical function (HAQ/CHAQ), muscle enzymes and extramuscular global activity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final, NamedTuple

from ._exact import Number, bounded, coprime_fraction, positive, reduced_fraction, to_fraction
from ._frozen import FrozenDict
from .errors import InstrumentError
from .mmt import MMT_MAXIMA

PHYSICIAN_GLOBAL: Final = "physician_global"
PATIENT_GLOBAL: Final = "patient_global"
STRENGTH: Final = "mmt"  # the strength CSM is reported under "mmt" even when CMAS is used (§1)
HAQ: Final = "haq"
ENZYME: Final = "enzyme"
EXTRAMUSCULAR: Final = "extramuscular"

MEASURE_KEYS: tuple[str, ...] = (
    PHYSICIAN_GLOBAL,
    PATIENT_GLOBAL,
    STRENGTH,
    HAQ,
    ENZYME,
    EXTRAMUSCULAR,
)
SORTED_MEASURE_KEYS: tuple[str, ...] = tuple(sorted(MEASURE_KEYS))

STRENGTH_MMT: Final = "mmt"
STRENGTH_CMAS: Final = "cmas"

ENZYMES: tuple[str, ...] = ("ck", "aldolase", "ldh", "ast", "alt")
"""Enzyme keys, in the order that breaks ties of value/ULN at baseline (docs/scoring.md §1)."""

VAS_MAX = 10  # 10 cm visual analogue scales
HAQ_MAX = 3  # HAQ-DI and CHAQ-DI
CMAS_MAX = 52  # Lovell DJ et al., Arthritis Rheum 1999;42:2213–9

EnzymePair = tuple[Fraction, Fraction]
_NO_ENZYMES: Mapping[str, EnzymePair] = FrozenDict()


@dataclass(frozen=True, slots=True, init=False)
class Measures:
    """The core set measures of one visit, as exact ``Fraction``s (None = not measured).

    Accepts int, float, str, Decimal or Fraction and converts exactly (a float is read as the
    decimal it prints as). ``enzymes`` maps an enzyme key to ``(value, uln)`` in one unit; an
    enzyme without both a value and a ULN is not usable and is left out (docs/scoring.md §1: the
    choice is "among the enzymes with a value and an upper limit of normal"). Out-of-scale
    values raise ``InstrumentError`` naming the field.
    """

    physician_global: Fraction | None
    patient_global: Fraction | None
    extramuscular: Fraction | None
    haq: Fraction | None
    mmt_total: Fraction | None
    mmt_max: int | None
    cmas: Fraction | None
    enzymes: Mapping[str, EnzymePair]

    def __init__(
        self,
        *,
        physician_global: Number | None = None,
        patient_global: Number | None = None,
        extramuscular: Number | None = None,
        haq: Number | None = None,
        mmt_total: Number | None = None,
        mmt_max: Number | None = None,
        cmas: Number | None = None,
        enzymes: Mapping[str, Sequence[Number | None] | None] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "physician_global", bounded(physician_global, "physician_global", VAS_MAX))
        put(self, "patient_global", bounded(patient_global, "patient_global", VAS_MAX))
        put(self, "extramuscular", bounded(extramuscular, "extramuscular", VAS_MAX))
        put(self, "haq", bounded(haq, "haq", HAQ_MAX))
        put(self, "cmas", bounded(cmas, "cmas", CMAS_MAX, whole=True))
        scale_max = _mmt_max(mmt_max)
        put(self, "mmt_max", scale_max)
        if mmt_total is not None and scale_max is None:
            raise InstrumentError("mmt_max", "is required with mmt_total (80, 150 or 260)")
        put(self, "mmt_total", bounded(mmt_total, "mmt_total", scale_max or 0, whole=True))
        put(self, "enzymes", _enzymes(enzymes))

    def enzyme_ratio(self, key: str) -> Fraction | None:
        """value/ULN of one enzyme, or None when it is not usable at this visit."""
        pair = self.enzymes.get(key)
        return None if pair is None else _ratio(pair)


def _ratio(pair: EnzymePair) -> Fraction:
    value, uln = pair
    return reduced_fraction(value.numerator * uln.denominator, value.denominator * uln.numerator)


def _mmt_max(value: object) -> int | None:
    if value is None:
        return None
    if type(value) is int and value in MMT_MAXIMA:
        return value
    number = to_fraction(value, "mmt_max")
    if number.denominator != 1 or number.numerator not in MMT_MAXIMA:
        raise InstrumentError("mmt_max", "must be one of 80, 150 or 260")
    return number.numerator


_FIELDS = {key: (f"enzymes.{key}.value", f"enzymes.{key}.uln") for key in ENZYMES}


def _enzymes(value: object) -> Mapping[str, EnzymePair]:
    if value is None:
        return _NO_ENZYMES
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InstrumentError("enzymes", "must be a mapping of enzyme to (value, uln)")
    usable: dict[str, EnzymePair] = {}
    for key, pair in value.items():
        if key not in ENZYMES:
            raise InstrumentError(
                f"enzymes.{key}", f"unknown enzyme; expected one of {', '.join(ENZYMES)}"
            )
        if pair is None:
            continue
        if type(pair) is not tuple and (
            isinstance(pair, str | bytes) or not isinstance(pair, Sequence)
        ):
            raise InstrumentError(f"enzymes.{key}", "must be a (value, uln) pair")
        if len(pair) != 2:
            raise InstrumentError(f"enzymes.{key}", "must be a (value, uln) pair")
        raw_amount, raw_uln = pair
        # The common case inlined — two finite Decimals from the database, both positive —
        # as positive() would convert them; anything else goes through positive() and its
        # errors. This runs for every enzyme of every visit scored.
        if type(raw_amount) is Decimal and type(raw_uln) is Decimal:
            if raw_amount.is_finite() and raw_uln.is_finite():
                amount_n, amount_d = raw_amount.as_integer_ratio()
                uln_n, uln_d = raw_uln.as_integer_ratio()
                if amount_n > 0 and uln_n > 0:
                    usable[key] = (coprime_fraction(amount_n, amount_d),
                                   coprime_fraction(uln_n, uln_d))  # fmt: skip
                    continue
        value_field, uln_field = _FIELDS[key]
        amount = positive(raw_amount, value_field)
        uln = positive(raw_uln, uln_field)
        if amount is not None and uln is not None:
            usable[key] = (amount, uln)
    return FrozenDict(usable) if usable else _NO_ENZYMES


def choose_enzyme(baseline: Measures) -> str | None:
    """The most abnormal enzyme at baseline: the highest value/ULN.

    **[registry rule, docs/scoring.md §1, following the criteria's "most abnormal enzyme at
    baseline"]** Ties go in the order CK, aldolase, LDH, AST, ALT.
    """
    chosen: str | None = None
    best_num = 0
    best_den = 1
    enzymes = baseline.enzymes
    for key in ENZYMES:  # tie order: only a strictly higher ratio displaces an earlier enzyme
        pair = enzymes.get(key)
        if pair is None:
            continue
        value, uln = pair
        # value/uln > best  ⇔  value.n·uln.d·best_den > uln.n·value.d·best_num (all positive)
        num = value.numerator * uln.denominator
        den = value.denominator * uln.numerator
        if chosen is None or num * best_den > best_num * den:
            chosen, best_num, best_den = key, num, den
    return chosen


class Pairing(NamedTuple):
    """What a comparison of two visits compares (docs/scoring.md §1).

    ``values`` holds, for every CSM present at both visits, ``(baseline, follow-up)`` — for the
    enzyme the value/ULN ratios of the enzyme chosen at baseline. ``strength_range`` is the scale
    maximum of the strength instrument used (80/150/260 for MMT, 52 for CMAS).

    ``terms`` holds the same comparisons as integers, shared by every score computed from the
    pairing: ``(gain, b_num, b_den, a_den)`` where baseline = b_num/b_den, follow-up has
    denominator a_den, and gain/(b_den·a_den) is the improvement (follow-up − baseline for
    strength, where higher is better; baseline − follow-up for the others). So the percent change
    relative to baseline is 100·gain/(a_den·b_num), and on a scale range R it is
    100·gain/(b_den·a_den·R) — compared against band edges in integers, exactly.
    """

    values: Mapping[str, tuple[Fraction, Fraction]]
    terms: Mapping[str, tuple[int, int, int, int]]
    strength_instrument: str | None
    strength_range: int | None
    enzyme: str | None
    missing: tuple[str, ...]
    strength_reason: str | None


def pair_visits(baseline: Measures, followup: Measures) -> Pairing:
    """Pair the CSMs of two visits, applying the strength and enzyme rules of docs/scoring.md §1."""
    values: dict[str, tuple[Fraction, Fraction]] = {}
    for key in (PHYSICIAN_GLOBAL, PATIENT_GLOBAL, HAQ, EXTRAMUSCULAR):
        before = getattr(baseline, key)
        after = getattr(followup, key)
        if before is not None and after is not None:
            values[key] = (before, after)

    # [registry rule, docs/scoring.md §1] The strength CSM is MMT when both visits have an MMT total
    # on the same scale maximum, otherwise CMAS when both visits have it, otherwise missing.
    # Totals on different MMT scales are never compared.
    instrument: str | None = None
    strength_range: int | None = None
    strength_reason: str | None = None
    if (
        baseline.mmt_total is not None
        and followup.mmt_total is not None
        and baseline.mmt_max == followup.mmt_max
    ):
        instrument, strength_range = STRENGTH_MMT, baseline.mmt_max
        values[STRENGTH] = (baseline.mmt_total, followup.mmt_total)
    elif baseline.cmas is not None and followup.cmas is not None:
        instrument, strength_range = STRENGTH_CMAS, CMAS_MAX
        values[STRENGTH] = (baseline.cmas, followup.cmas)
    elif baseline.mmt_total is not None and followup.mmt_total is not None:
        strength_reason = (
            f"MMT totals on different scales ({baseline.mmt_max} and {followup.mmt_max}) are "
            "never compared, and CMAS is not available at both visits"
        )
    else:
        strength_reason = "no strength measure (MMT on one scale, or CMAS) at both visits"

    # [registry rule, docs/scoring.md §1] The enzyme chosen at baseline is followed; if it is absent
    # at follow-up the enzyme CSM is missing and no other enzyme is substituted.
    enzyme = choose_enzyme(baseline)
    if enzyme is not None:
        after_pair = followup.enzymes.get(enzyme)
        if after_pair is not None:
            values[ENZYME] = (_ratio(baseline.enzymes[enzyme]), _ratio(after_pair))

    terms: dict[str, tuple[int, int, int, int]] = {}
    for key, (before, after) in values.items():
        b_num, b_den = before.numerator, before.denominator
        a_num, a_den = after.numerator, after.denominator
        if key == STRENGTH:
            gain = a_num * b_den - b_num * a_den  # higher is better
        else:
            gain = b_num * a_den - a_num * b_den  # lower is better
        terms[key] = (gain, b_num, b_den, a_den)

    missing = tuple(key for key in SORTED_MEASURE_KEYS if key not in values)
    return Pairing(values, terms, instrument, strength_range, enzyme, missing, strength_reason)
