"""Manual muscle testing, MMT-8 (Kendall 0–10 scale) — docs/scoring.md §1.

Rider LG et al., Arthritis Care Res 2010;62:465–72 (validation of MMT-8 as the IMACS core set
strength measure). Unilateral: one grade per group, total 0–80. Bilateral: neck flexors once
plus the other seven groups on each side, total 0–150. MMT-24 (0–260) totals are not computed
here but may be compared (docs/scoring.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import InstrumentError

MMT8_GROUPS: tuple[str, ...] = (
    "neck_flexors",
    "deltoid",  # middle deltoid
    "biceps",  # biceps brachii
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
BILATERAL_GROUPS: tuple[str, ...] = MMT8_GROUPS[1:]
"""The seven groups graded on each side on the bilateral scale (neck flexors are axial)."""

SIDES: tuple[str, ...] = ("right", "left")
MMT_MAX: dict[str, int] = {"unilateral": 80, "bilateral": 150}
MMT24_MAX = 260
MMT_MAXIMA: tuple[int, ...] = (80, 150, 260)
"""Scale maxima an MMT total may be declared on; totals on different maxima are never compared."""

GRADE_MAX = 10


def _grade(value: object, field: str) -> int | None:
    if value is None:
        return None
    if type(value) is bool or not isinstance(value, int):
        raise InstrumentError(field, f"must be a whole number from 0 to {GRADE_MAX}")
    if not 0 <= value <= GRADE_MAX:
        raise InstrumentError(field, f"must be a whole number from 0 to {GRADE_MAX}")
    return int(value)


def mmt8_total(scale: str, grades: Mapping[str, object]) -> int | None:
    """Return the MMT-8 total, or None when any group (or side) is ungraded.

    ``scale`` is ``"unilateral"`` (``grades = {group: int}``) or ``"bilateral"``
    (``grades = {"neck_flexors": int, group: {"right": int, "left": int}}``). Every given grade
    is validated even when the total is incomplete, so a wrong grade is never hidden by a
    missing one. A total exists only when every group (every side) is graded (docs/scoring.md §1).
    """
    if scale not in MMT_MAX:
        raise InstrumentError("scale", "must be 'unilateral' or 'bilateral'")
    if not isinstance(grades, Mapping):
        raise InstrumentError("grades", "must be a mapping of muscle group to grade")
    for key in grades:
        if key not in MMT8_GROUPS:
            raise InstrumentError(str(key), "unknown muscle group")
    total = 0
    complete = True
    for group in MMT8_GROUPS:
        value = grades.get(group)
        if scale == "unilateral" or group == "neck_flexors":
            if isinstance(value, Mapping):
                reason = (
                    "neck flexors are graded once, not per side"
                    if scale == "bilateral"
                    else "must be a single grade on the unilateral scale"
                )
                raise InstrumentError(group, reason)
            grade = _grade(value, group)
            if grade is None:
                complete = False
            else:
                total += grade
            continue
        if value is None:
            complete = False
            continue
        if not isinstance(value, Mapping):
            raise InstrumentError(
                group, "must be a mapping {'right': grade, 'left': grade} on the bilateral scale"
            )
        for side in value:
            if side not in SIDES:
                raise InstrumentError(f"{group}.{side}", "unknown side; expected right or left")
        for side in SIDES:
            grade = _grade(value.get(side), f"{group}.{side}")
            if grade is None:
                complete = False
            else:
                total += grade
    return total if complete else None
