"""The range the service checks each visit form field against (crf/documents.py), told to the
browser as data attributes so that it can warn as soon as a value is typed (web.js). The numbers
live only in crf/documents.py; the service still decides on save."""

from decimal import Decimal
from typing import Any

from crf.documents import (
    CMAS,
    GLUCOCORTICOID,
    HAQ_SCORE,
    LAB_VALUE,
    MMT_GRADE,
    MMT_TOTAL_MAXIMUM,
    PERCENT_PREDICTED,
    VAS,
)
from crf.models import VAS_FIELDS

_BY_NAME: dict[str, dict[str, Any]] = {
    "cmas": CMAS,
    "fvc_percent": PERCENT_PREDICTED,
    "dlco_percent": PERCENT_PREDICTED,
    "glucocorticoid_mg_per_day": GLUCOCORTICOID,
    "haq.score": HAQ_SCORE,
    # Its maximum depends on the scale chosen: data-max-unilateral / data-max-bilateral.
    "mmt8.total": {"minimum": 0, "integer": True},
}


def limits_for(name: str) -> dict[str, Any]:
    """The `number()` keywords of the field named by this document path ({} when none)."""
    if name in VAS_FIELDS:
        return VAS
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name.startswith("mmt8.") and name not in ("mmt8.scale", "mmt8.side"):
        return MMT_GRADE
    if name.startswith("labs.") and name.endswith((".value", ".uln")):
        return LAB_VALUE
    return {}


def _plain(value: Any) -> str:
    return format(Decimal(value).normalize(), "f")


def data_attrs(name: str, limits: dict[str, Any]) -> list[tuple[str, str]]:
    """data-min, data-max, data-step (1 for whole numbers, 0.1 for one decimal …), data-unit."""
    attrs = []
    if "minimum" in limits:
        attrs.append(("data-min", _plain(limits["minimum"])))
        if limits.get("exclusive_minimum"):
            attrs.append(("data-min-exclusive", "true"))
    if "maximum" in limits:
        attrs.append(("data-max", _plain(limits["maximum"])))
    if limits.get("integer"):
        attrs.append(("data-step", "1"))
    elif "places" in limits:
        attrs.append(("data-step", _plain(Decimal(1).scaleb(-limits["places"]))))
    if limits.get("unit"):
        attrs.append(("data-unit", limits["unit"]))
    if name == "mmt8.total":
        attrs += [(f"data-max-{scale}", str(top)) for scale, top in MMT_TOTAL_MAXIMUM.items()]
    return attrs
