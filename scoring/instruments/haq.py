"""HAQ-DI (Fries JF et al., Arthritis Rheum 1980;23:137–45) and CHAQ-DI (Singh G et al.,
Arthritis Rheum 1994;37:1761–9) — docs/scoring.md §5.

Each item is answered 0 (no difficulty) to 3 (unable). Category score = the highest answered
item; an aid/device or help from another person in a category raises it to at least 2 (a 3
stays 3), for answered categories only. The disability index is the mean of the answered
category scores, and exists only when at least 6 of the 8 categories are answered. CHAQ items
may be "not applicable" (``"na"``), which is excluded, not scored 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from .errors import InstrumentError

HAQ_CATEGORIES: dict[str, tuple[str, ...]] = {
    "dressing": ("dress", "shampoo"),
    "arising": ("stand", "bed"),
    "eating": ("cut_meat", "lift_cup", "open_carton"),
    "walking": ("walk", "climb_steps"),
    "hygiene": ("wash_body", "bath", "toilet"),
    "reach": ("reach_object", "pick_up_clothing"),
    "grip": ("car_doors", "open_jars", "faucets"),
    "activities": ("errands", "car_in_out", "chores"),
}

CHAQ_CATEGORIES: dict[str, tuple[str, ...]] = {
    "dressing": ("dress", "shampoo", "socks", "nails"),
    "arising": ("stand", "bed"),
    "eating": ("cut_meat", "lift_cup", "open_carton"),
    "walking": ("walk", "climb_steps"),
    "hygiene": ("wash_body", "bath", "toilet", "brush_teeth", "comb_hair"),
    "reach": ("reach_object", "pick_up_clothing", "pull_sweater", "turn_neck"),
    "grip": ("write", "car_doors", "open_jars", "faucets", "push_door"),
    "activities": ("errands", "car_in_out", "bike", "chores", "play"),
}

NOT_APPLICABLE = "na"
ANSWER_MAX = 3
AID_OR_HELP_MINIMUM = 2
MIN_ANSWERED_CATEGORIES = 6

_HAQ_ITEMS = frozenset(item for items in HAQ_CATEGORIES.values() for item in items)
_CHAQ_ITEMS = frozenset(item for items in CHAQ_CATEGORIES.values() for item in items)


def _category_set(names: Iterable[str], field: str) -> frozenset[str]:
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise InstrumentError(field, "must be a list of category names")
    found = set()
    for index, name in enumerate(names):
        if name not in HAQ_CATEGORIES:
            raise InstrumentError(
                f"{field}[{index}]",
                f"unknown category {name!r}; expected one of {', '.join(HAQ_CATEGORIES)}",
            )
        found.add(name)
    return frozenset(found)


def _disability_index(
    items: Mapping[str, object],
    aids: Iterable[str],
    help: Iterable[str],
    categories: Mapping[str, tuple[str, ...]],
    known_items: frozenset[str],
    allow_not_applicable: bool,
) -> Fraction | None:
    if not isinstance(items, Mapping):
        raise InstrumentError("items", "must be a mapping of item to answer")
    for key in items:
        if key not in known_items:
            raise InstrumentError(f"items.{key}", "unknown item")
    raised = _category_set(aids, "aids") | _category_set(help, "help")
    answers = "0, 1, 2, 3 or 'na'" if allow_not_applicable else "0, 1, 2 or 3"
    total = 0
    answered = 0
    for category, keys in categories.items():
        highest: int | None = None
        for key in keys:
            value = items.get(key)
            if value is None:
                continue
            if allow_not_applicable and value == NOT_APPLICABLE:
                continue
            if type(value) is bool or not isinstance(value, int) or not 0 <= value <= ANSWER_MAX:
                raise InstrumentError(f"items.{key}", f"must be one of {answers}")
            if highest is None or value > highest:
                highest = int(value)
        if highest is None:
            continue  # unanswered: no aid/help adjustment, not counted
        if category in raised and highest < AID_OR_HELP_MINIMUM:
            highest = AID_OR_HELP_MINIMUM
        total += highest
        answered += 1
    if answered < MIN_ANSWERED_CATEGORIES:
        return None
    return Fraction(total, answered)


def haq_di(
    items: Mapping[str, int | None],
    aids: Iterable[str] = (),
    help: Iterable[str] = (),
) -> Fraction | None:
    """HAQ-DI from its 20 items; ``aids`` and ``help`` are category names. Exact value."""
    return _disability_index(items, aids, help, HAQ_CATEGORIES, _HAQ_ITEMS, False)


def chaq_di(
    items: Mapping[str, int | str | None],
    aids: Iterable[str] = (),
    help: Iterable[str] = (),
) -> Fraction | None:
    """CHAQ-DI from its 30 items (``"na"`` = not applicable, excluded). Exact value."""
    return _disability_index(items, aids, help, CHAQ_CATEGORIES, _CHAQ_ITEMS, True)
