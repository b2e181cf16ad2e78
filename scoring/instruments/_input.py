"""Reading JSON-like input: JSON paths, how a wrong value is described, unknown keys, and one
case or a list of cases.

Shared by the stateless calculators (``calculator.py``, ``classification.py``), which report
every problem as a ``(json_path, message)`` pair rather than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import CalculatorInputError

Errors = list[tuple[str, str]]
"""The problems found so far, as ``(json_path, message)`` pairs."""

_Result = TypeVar("_Result")


def join(path: str, key: object) -> str:
    """The JSON path of ``key`` inside ``path`` (``""`` is the document itself)."""
    return f"{path}.{key}" if path else str(key)


def describe(value: object) -> str:
    """What a wrong value is, in words, for an error message (never the value itself, which may
    be a huge number or a long text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def reject_unknown(
    data: Mapping[Any, Any], known: tuple[str, ...], path: str, errors: Errors
) -> None:
    """Record an error for every key of ``data`` that is not in ``known``."""
    for key in data:
        if key not in known:
            errors.append((join(path, key), f"unknown key; expected one of {', '.join(known)}"))


def one_or_many(
    document: object,
    read_case: Callable[[object, str, Errors], _Result | None],
) -> _Result | list[_Result]:
    """Answer one case (an object) or a list of cases, in order, with ``read_case``.

    ``read_case(case, path, errors)`` returns the case's answer, or None after recording its
    problems. Raises ``CalculatorInputError`` with the errors of every case (paths like
    ``"[2].age_at_onset"`` for a list): a list is answered only when all its cases are valid.
    """
    errors: Errors = []
    if isinstance(document, list):
        results = [read_case(case, f"[{index}]", errors) for index, case in enumerate(document)]
        if errors:
            raise CalculatorInputError(errors)
        return [result for result in results if result is not None]
    if isinstance(document, Mapping):
        result = read_case(document, "", errors)
        if errors or result is None:
            raise CalculatorInputError(errors)
        return result
    raise CalculatorInputError(
        [("$", f"must be a case object or a list of cases, not {describe(document)}")]
    )
