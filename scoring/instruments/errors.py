"""Exceptions raised by the pure scoring instruments."""

from __future__ import annotations

from collections.abc import Iterable


class InstrumentError(ValueError):
    """A value given to an instrument is outside its scale or has the wrong shape.

    ``field`` names the offending input (e.g. ``"deltoid.right"``, ``"items.walk"``,
    ``"enzymes.ck.uln"``) so that callers can attach the message to the right form field or
    JSON path; it is never a guess at what was meant.
    """

    def __init__(self, field: str, message: str) -> None:
        # Both arguments go to ValueError so that the exception pickles (Celery) and compares.
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CalculatorInputError(ValueError):
    """Invalid input to the stateless calculator (docs/scoring.md §6).

    ``errors`` lists every problem found as ``(json_path, message)`` pairs, e.g.
    ``("baseline.mmt.max", "must be one of 80, 150 or 260")`` or
    ``("[2].followup.physician_global", "must be between 0 and 10")``.
    """

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors: list[tuple[str, str]] = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "; ".join(f"{path}: {message}" for path, message in self.errors)
