"""Exact conversion of clinical numbers to ``Fraction``.

docs/scoring.md: percent changes and band look-ups are computed exactly, never in binary floating
point — 8.0 → 7.5 on a 10 cm scale is exactly 5 %, which must land in the "≤ 5 %" band.
A float is therefore read as the decimal it prints as (``7.3`` is 73/10, not the nearest
binary fraction), which is what the person typing it meant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias, cast

from .errors import InstrumentError

Number: TypeAlias = int | float | str | Decimal | Fraction
"""What the instruments accept for a measurement; converted to ``Fraction`` on the way in."""


def _public_constructor(numerator: int, denominator: int) -> Fraction:
    return Fraction(numerator, denominator)


def _internal_constructor(numerator: int, denominator: int) -> Fraction:
    number = object.__new__(Fraction)
    number._numerator = numerator  # type: ignore[attr-defined]
    number._denominator = denominator  # type: ignore[attr-defined]
    return number


def _choose_constructor() -> Callable[[int, int], Fraction]:
    # Fraction(n, d) spends most of its time in Python-level argument handling and gcd; the
    # scorer builds ~40 Fractions per pair of visits from integers already in lowest terms
    # (Decimal.as_integer_ratio() guarantees it) or reduced here with math.gcd, which is the
    # stdlib's own fast path (Fraction._from_coprime_ints in 3.12+). It relies on Fraction's
    # private slots, so it is used only when a self-check shows it builds Fractions identical to
    # the public constructor's; otherwise the public constructor is used (slower, never wrong).
    try:
        for numerator, denominator in ((3, 4), (-7, 10), (0, 1), (5, 1)):
            fast = _internal_constructor(numerator, denominator)
            slow = Fraction(numerator, denominator)
            if not (
                type(fast) is Fraction
                and fast == slow
                and hash(fast) == hash(slow)
                and (fast.numerator, fast.denominator) == (numerator, denominator)
                and fast + slow == 2 * slow
                and str(fast) == str(slow)
            ):
                return _public_constructor
    except Exception:  # any surprise means: do not use the fast path
        return _public_constructor
    return _internal_constructor


coprime_fraction: Callable[[int, int], Fraction] = _choose_constructor()
"""``Fraction(numerator, denominator)`` for a pair already in lowest terms, denominator > 0."""


def reduced_fraction(numerator: int, denominator: int) -> Fraction:
    """``Fraction(numerator, denominator)`` for any numerator and a denominator > 0."""
    divisor = math.gcd(numerator, denominator)
    return coprime_fraction(numerator // divisor, denominator // divisor)


def to_fraction(value: object, field: str) -> Fraction:
    """Return ``value`` as an exact ``Fraction``; raise ``InstrumentError`` naming ``field``."""
    # Exact-type fast paths first (isinstance on Fraction goes through ABCMeta and is slow):
    # the scoring services pass Decimals from the database, ints and Fractions.
    kind = type(value)
    if kind is Fraction:
        return cast(Fraction, value)
    if kind is int:
        return coprime_fraction(cast(int, value), 1)
    if kind is Decimal:
        return _from_decimal(cast(Decimal, value), field)
    if kind is float:
        return _from_float(cast(float, value), field)
    if kind is bool:
        raise InstrumentError(field, "must be a number, not a boolean")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(int(value))
    if isinstance(value, Decimal):
        return _from_decimal(value, field)
    if isinstance(value, float):
        return _from_float(value, field)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise InstrumentError(field, f"{value!r} is not a number") from None
    raise InstrumentError(field, f"must be a number, not {kind.__name__}")


def _from_decimal(value: Decimal, field: str) -> Fraction:
    if not value.is_finite():
        raise InstrumentError(field, "must be a finite number")
    numerator, denominator = value.as_integer_ratio()  # lowest terms, denominator > 0
    return coprime_fraction(numerator, denominator)


def _from_float(value: float, field: str) -> Fraction:
    if not math.isfinite(value):
        raise InstrumentError(field, "must be a finite number")
    # str() gives the shortest decimal that round-trips, i.e. the value as typed: 7.3 is 73/10,
    # not the binary fraction nearest to it.
    numerator, denominator = Decimal(str(value)).as_integer_ratio()
    return coprime_fraction(numerator, denominator)


def _exact_ratio(value: object, field: str) -> tuple[int, int]:
    """``value`` as (numerator, denominator) in lowest terms, denominator > 0."""
    # The common cases inlined — database Decimals, JSON floats, ints: this runs for every
    # measure of every visit scored.
    kind = type(value)
    if kind is Decimal:
        decimal = cast(Decimal, value)
        if decimal.is_finite():
            return decimal.as_integer_ratio()
    elif kind is float:
        if math.isfinite(cast(float, value)):
            return Decimal(str(value)).as_integer_ratio()
    elif kind is int:
        return cast(int, value), 1
    number = to_fraction(value, field)  # everything else, and the errors
    return number.numerator, number.denominator


def bounded(value: object, field: str, high: int, *, whole: bool = False) -> Fraction | None:
    """Convert ``value`` (None passes through) and check ``0 <= value <= high``."""
    if value is None:
        return None
    # A finite database Decimal, the common case, inlined (as _exact_ratio converts it): this
    # runs for every measure of every visit scored.
    if type(value) is Decimal and value.is_finite():
        numerator, denominator = value.as_integer_ratio()
    else:
        numerator, denominator = _exact_ratio(value, field)
    if whole and denominator != 1:
        raise InstrumentError(field, f"must be a whole number from 0 to {high}")
    # Integer comparisons on numerator/denominator: exact, and cheaper than Fraction compares.
    if numerator < 0 or numerator > high * denominator:
        raise InstrumentError(field, f"must be between 0 and {high}")
    return coprime_fraction(numerator, denominator)


def positive(value: object, field: str) -> Fraction | None:
    """Convert ``value`` (None passes through) and check ``value > 0``."""
    if value is None:
        return None
    numerator, denominator = _exact_ratio(value, field)
    if numerator <= 0:
        raise InstrumentError(field, "must be greater than 0")
    return coprime_fraction(numerator, denominator)
