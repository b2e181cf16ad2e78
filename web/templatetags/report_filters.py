"""The report pages' filter form: the applied filters as removable chips, the chosen values of a
multi-select in its summary, and the fields' names as the form labels them.

Each chip links to the same page with the same query less that one value, so a filter is
removed without JavaScript, and a removal link keeps the page's own parameters (the survival
report's outcome and time zero, for example)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template

register = template.Library()

# The label of each filter parameter, as the form shows it (also in the error summary).
FIELD_LABELS = {
    "site": "Site",
    "diagnosis": "Diagnosis",
    "serology": "Serological group",
    "drug": "Drug",
    "drug_class": "Drug class",
    "classification": "EULAR/ACR classification",
    "classification_subgroup": "EULAR/ACR subgroup",
    "population": "Adult or juvenile",
    "refractory": "Refractory at the episode's start",
    "lung": "Interstitial lung disease",
    "start_from": "Started from",
    "start_to": "Started up to",
    "group_by": "Group by",
    "stratify": "Stratified by",
    "endpoint": "Endpoint",
}
# The parameters that narrow or split the results: each applied value is a chip. `group_by`
# always has a value (drug by default) and `page` is the position in a list: neither is one.
CHIP_PARAMETERS = (
    "site", "diagnosis", "serology", "drug", "drug_class", "classification",
    "classification_subgroup", "population", "refractory", "lung", "start_from",
    "start_to", "stratify", "endpoint",
)  # fmt: skip
# The `choices` of the form context holding each parameter's labels.
_CHOICES = {
    "diagnosis": "diagnoses",
    "serology": "serology",
    "drug": "drugs",
    "drug_class": "drug_classes",
    "classification": "classification",
    "classification_subgroup": "classification_subgroups",
    "population": "populations",
    "refractory": "refractory",
    "lung": "lung",
    "stratify": "stratify",
    "endpoint": "endpoints",
}


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def _labels(choices: dict[str, Any], name: str) -> dict[str, str]:
    options = choices.get(_CHOICES.get(name, ""), ()) or ()
    return {str(code): str(label) for code, label in options}


@register.simple_tag(takes_context=True)
def filter_chips(context: Any) -> list[dict[str, str]]:
    """The applied filters of the page, one chip per value: its field, its value as the form
    labels it, and the link that asks for the page without it. The values are the parsed
    filters' (`filters.query_pairs`), not the raw query: a comma-separated `site=A,B` is two
    chips, and nothing is shown that the report did not apply."""
    filters = context.get("filters")
    request = context.get("request")
    if filters is None or request is None or context.get("errors"):
        return []
    applied = filters.query_pairs()
    names = {name for name, _ in applied}
    # The page's other parameters (its own fields), kept by every removal link.
    others = [
        (name, value)
        for name, values in request.GET.lists()
        if name not in names and name not in CHIP_PARAMETERS and name not in ("page", "group_by")
        for value in values
    ]
    choices = context.get("choices") or {}
    chips = []
    for index, (name, value) in enumerate(applied):
        if name not in CHIP_PARAMETERS:
            continue
        rest = [pair for position, pair in enumerate(applied) if position != index]
        chips.append(
            {
                "name": name,
                "field": field_label(name),
                "value": _labels(choices, name).get(value, value),
                "href": f"{request.path}?{urlencode(rest + others)}",
            }
        )
    return chips


@register.simple_tag
def chosen_summary(options: Any, chosen: Any, nothing: str = "All", codes: bool = False) -> str:
    """The labels (or `codes`) of the chosen options of a multi-select, in the options' order,
    or `nothing`."""
    picked = set(chosen or ())
    labels = [str(code if codes else label) for code, label in options if code in picked]
    return ", ".join(labels) if labels else nothing


@register.simple_tag(takes_context=True)
def typed(context: Any, name: str, value: Any = None) -> str:
    """What a text field shows: the text as typed when the form comes back with errors (so a
    mistyped date can be corrected), else the applied filter's value (dates as YYYY-MM-DD)."""
    request = context.get("request")
    if context.get("errors") and request is not None:
        return request.GET.get(name, "")
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
