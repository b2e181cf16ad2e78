"""Formatting of the report's numbers on the pages: counts with percentages and intervals."""

from typing import Any

from django import template

from reports.statistics import Proportion, Summary

register = template.Library()


def _number(value: float | None, places: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def percent(share: Proportion) -> str:
    """ "8 (80 %)", or the count alone without a denominator."""
    if share.percent is None:
        return str(share.count)
    return f"{share.count} ({share.percent:.0f} %)"


@register.filter
def interval(share: Proportion) -> str:
    """The 95 % Wilson interval in percent, "49–94"."""
    if share.low is None or share.high is None:
        return ""
    return f"{100 * share.low:.0f}–{100 * share.high:.0f}"


@register.filter
def median_iqr(summary: Summary) -> str:
    if summary.median is None:
        return "—"
    return f"{_number(summary.median)} ({_number(summary.q1)}–{_number(summary.q3)})"


@register.filter
def number(value: Any, places: int = 1) -> str:
    return _number(None if value is None else float(value), int(places))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (dictionary keys that are numbers or variables)."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None
