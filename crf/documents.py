"""A visit of the submission document (docs/data-dictionary.md) ⇄ model field values.

`read_visit` validates a visit object and returns the values to store, raising nothing but
adding every error with its JSON path; `visit_document` renders a stored visit in the same
shape, so what a site sends and what it reads back are one format.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from crf.models import (
    ALL_HAQ_ITEMS,
    CHAQ_ONLY_ITEMS,
    HAQ,
    HAQ_ITEMS,
    MMT8,
    MMT_GRADE_COLUMNS,
    MMT_SIDED_GROUPS,
    VAS_FIELDS,
    LabResult,
    Visit,
)
from registry.documents import (
    MISSING,
    Errors,
    choice,
    expect_list,
    expect_object,
    iso_date,
    join,
    number,
    required,
    text,
)
from scoring.instruments import HAQ_CATEGORIES

VISIT_VALUE_FIELDS = (
    "physician_global",
    "patient_global",
    "extramuscular",
    "physician_damage",
    "patient_global_damage",
    "cmas",
    "fvc_percent",
    "dlco_percent",
    "glucocorticoid_mg_per_day",
)
# "reason" is the reason for change when a submitted visit is amended (issue 8); not stored on
# the visit but in the audit events of the change.
VISIT_KEYS = (
    "visit_date",
    "kind",
    *VISIT_VALUE_FIELDS,
    "mmt8",
    "labs",
    "haq",
    "chaq",
    "reason",
)
LAB_KEYS = ("value", "unit", "uln")
HAQ_KEYS = ("items", "aids", "help", "score")
# The range and resolution of each value, as `number()` checks them. Named here, once, so that
# the visit form can tell the browser the same limits (web/visit_form.py: data-min/data-max).
VAS = {"minimum": 0, "maximum": 10, "places": 1, "unit": "cm"}
CMAS = {"minimum": 0, "maximum": 52, "integer": True}
PERCENT_PREDICTED = {"minimum": 0, "maximum": 200, "places": 1, "unit": "%"}
GLUCOCORTICOID = {"minimum": 0, "maximum": 2000, "places": 2, "unit": "mg/day"}
MMT_GRADE = {"minimum": 0, "maximum": 10, "integer": True}
# docs/scoring.md §1: unilateral total 0–80, bilateral 0–150.
MMT_TOTAL_MAXIMUM = {MMT8.Scale.UNILATERAL: 80, MMT8.Scale.BILATERAL: 150}
# docs/scoring.md §1: enzyme values and ULNs must be > 0.
LAB_VALUE = {
    "minimum": 0,
    "exclusive_minimum": True,
    "maximum": Decimal("999999999"),
    "places": 3,
}
HAQ_SCORE = {"minimum": 0, "maximum": 3, "places": 3}
HAQ_ANSWER = {"minimum": 0, "maximum": 3, "integer": True}


def _read_values(errors: Errors, path: str, obj: dict) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in VAS_FIELDS:
        raw = obj.get(name)
        values[name] = None if raw is None else number(errors, join(path, name), raw, **VAS)
    raw = obj.get("cmas")
    values["cmas"] = None if raw is None else number(errors, join(path, "cmas"), raw, **CMAS)
    for name in ("fvc_percent", "dlco_percent"):
        raw = obj.get(name)
        values[name] = (
            None if raw is None else number(errors, join(path, name), raw, **PERCENT_PREDICTED)
        )
    raw = obj.get("glucocorticoid_mg_per_day")
    values["glucocorticoid_mg_per_day"] = (
        None
        if raw is None
        else number(errors, join(path, "glucocorticoid_mg_per_day"), raw, **GLUCOCORTICOID)
    )
    return values


def _grade(errors: Errors, path: str, value: Any) -> int | None:
    if value is None:
        return None  # not graded: allowed, the total is then missing (docs/scoring.md §1)
    return number(errors, path, value, **MMT_GRADE)


def read_mmt8(errors: Errors, path: str, data: Any) -> dict | None:
    """MMT-8 column values. A grade given in the wrong shape for the scale is an error."""
    group_keys = ("neck_flexors", *MMT_SIDED_GROUPS)
    obj = expect_object(errors, path, data, ("scale", "side", "total", *group_keys))
    if obj is None:
        return None
    scale = required(errors, obj, path, "scale")
    if scale is MISSING:
        return None
    scale = choice(errors, join(path, "scale"), scale, MMT8.Scale)
    if scale is None:
        return None
    values: dict[str, Any] = {"scale": scale, "side": "", "legacy_total": None}
    values.update({column: None for column in MMT_GRADE_COLUMNS})
    if scale == MMT8.Scale.UNILATERAL:
        side = obj.get("side", "right")  # docs/scoring.md §1: right side unless it cannot be tested
        side = choice(errors, join(path, "side"), side, MMT8.Side)
        values["side"] = side or "right"
    elif obj.get("side") is not None:
        errors.add(join(path, "side"), "A side is given only on the unilateral scale.")
    if obj.get("total") is not None:
        maximum = MMT_TOTAL_MAXIMUM[scale]
        values["legacy_total"] = number(
            errors, join(path, "total"), obj["total"], minimum=0, maximum=maximum, integer=True
        )
        for key in group_keys:
            if key in obj:
                errors.add(join(path, key), "Give either the grades or the total, not both.")
        return values
    values["neck_flexors"] = _grade(errors, join(path, "neck_flexors"), obj.get("neck_flexors"))
    for group in MMT_SIDED_GROUPS:
        gpath = join(path, group)
        raw = obj.get(group)
        if scale == MMT8.Scale.UNILATERAL:
            if isinstance(raw, dict):
                errors.add(gpath, "The unilateral scale takes one grade per group, not sides.")
                continue
            values[f"{group}_{values['side']}"] = _grade(errors, gpath, raw)
        else:
            if raw is None:
                continue
            if not isinstance(raw, dict):
                errors.add(
                    gpath, 'The bilateral scale takes {"right": grade, "left": grade} per group.'
                )
                continue
            sides = expect_object(errors, gpath, raw, ("right", "left"))
            if sides is None:
                continue
            for side in ("right", "left"):
                values[f"{group}_{side}"] = _grade(errors, join(gpath, side), sides.get(side))
    return values


def read_labs(errors: Errors, path: str, data: Any) -> dict[str, dict] | None:
    enzymes = [c for c, _ in LabResult.Enzyme.choices]
    obj = expect_object(errors, path, data, enzymes)
    if obj is None:
        return None
    labs: dict[str, dict] = {}
    for enzyme in enzymes:
        raw = obj.get(enzyme)
        if raw is None:
            continue
        epath = join(path, enzyme)
        lab = expect_object(errors, epath, raw, LAB_KEYS)
        if lab is None:
            continue
        values: dict[str, Any] = {}
        for key in ("value", "uln"):
            raw_value = required(errors, lab, epath, key)
            if raw_value is not MISSING:
                values[key] = number(errors, join(epath, key), raw_value, **LAB_VALUE)
        values["unit"] = choice(errors, join(epath, "unit"), lab.get("unit", "U/L"), LabResult.Unit)
        labs[enzyme] = values
    return labs


def read_haq(errors: Errors, path: str, data: Any, instrument: str) -> dict | None:
    obj = expect_object(errors, path, data, HAQ_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {"instrument": instrument, "legacy_score": None}
    values.update({item: None for item in ALL_HAQ_ITEMS})
    values.update({"aids": [], "help": [], "not_applicable": []})
    if obj.get("score") is not None:
        values["legacy_score"] = number(errors, join(path, "score"), obj["score"], **HAQ_SCORE)
        for key in ("items", "aids", "help"):
            if obj.get(key):
                errors.add(join(path, key), "Give either the items or the score, not both.")
        return values
    keys = HAQ_ITEMS if instrument == HAQ.Instrument.HAQ else ALL_HAQ_ITEMS
    ipath = join(path, "items")
    raw_items = obj.get("items")
    items = expect_object(errors, ipath, {} if raw_items is None else raw_items, keys)
    if items is not None:
        answered = 0
        for key, raw in items.items():
            if key not in keys or raw is None:
                continue
            answered += 1
            if instrument == HAQ.Instrument.CHAQ and raw == "na":
                values["not_applicable"].append(key)
                continue
            values[key] = number(errors, join(ipath, key), raw, **HAQ_ANSWER)
        if not answered:
            # docs/scoring.md §5: the index is computed from the answered items; a questionnaire
            # without any (aids and help alone, or nothing) is not one.
            errors.add(ipath, "Answer at least one item, or give the score.")
    for key in ("aids", "help"):
        listed = expect_list(errors, join(path, key), obj.get(key))
        if listed is None:
            continue
        for index, category in enumerate(listed):
            if not isinstance(category, str) or category not in HAQ_CATEGORIES:
                errors.add(
                    join(join(path, key), index),
                    f"Must be a category: {', '.join(HAQ_CATEGORIES)}.",
                )
            elif category not in values[key]:
                values[key].append(category)
    return values


def read_visit(errors: Errors, path: str, data: Any, *, born: date | None) -> dict | None:
    """Everything a visit object holds, as {"visit": {...}, "mmt8", "labs", "haq"}."""
    obj = expect_object(errors, path, data, VISIT_KEYS)
    if obj is None:
        return None
    visit: dict[str, Any] = {}
    raw = required(errors, obj, path, "visit_date")
    if raw is not MISSING:
        visit["visit_date"] = iso_date(
            errors, join(path, "visit_date"), raw, not_before=born, what="the month of birth"
        )
    visit["kind"] = choice(
        errors, join(path, "kind"), obj.get("kind", Visit.Kind.FOLLOW_UP), Visit.Kind
    )
    visit.update(_read_values(errors, path, obj))
    mmt = None
    if obj.get("mmt8") is not None:
        mmt = read_mmt8(errors, join(path, "mmt8"), obj["mmt8"])
    labs: dict[str, dict] | None = {}
    if obj.get("labs") is not None:
        labs = read_labs(errors, join(path, "labs"), obj["labs"])
    haq = None
    if obj.get("haq") is not None and obj.get("chaq") is not None:
        errors.add(join(path, "chaq"), "Give either the HAQ or the CHAQ, not both.")
    elif obj.get("haq") is not None:
        haq = read_haq(errors, join(path, "haq"), obj["haq"], HAQ.Instrument.HAQ)
    elif obj.get("chaq") is not None:
        haq = read_haq(errors, join(path, "chaq"), obj["chaq"], HAQ.Instrument.CHAQ)
    reason = text(errors, join(path, "reason"), obj.get("reason"), max_length=2000)
    return {"visit": visit, "mmt8": mmt, "labs": labs or {}, "haq": haq, "reason": reason or ""}


def _json_number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def visit_document(visit: Visit) -> dict[str, Any]:
    """A stored visit in the submission document's shape (instruments prefetched if possible)."""
    doc: dict[str, Any] = {"visit_date": visit.visit_date.isoformat(), "kind": visit.kind}
    for name in VISIT_VALUE_FIELDS:
        value = getattr(visit, name)
        if value is not None:
            doc[name] = _json_number(value)
    mmt = getattr(visit, "mmt8", None) if _has_related(visit, "mmt8") else None
    if mmt is not None:
        m: dict[str, Any] = {"scale": mmt.scale}
        if mmt.scale == MMT8.Scale.UNILATERAL:
            m["side"] = mmt.side
        if mmt.legacy_total is not None:
            m["total"] = mmt.legacy_total
        else:
            m.update(mmt.grades())
        doc["mmt8"] = m
    labs = list(visit.labs.all())
    if labs:
        doc["labs"] = {
            lab.enzyme: {
                "value": _json_number(lab.value),
                "unit": lab.unit,
                "uln": _json_number(lab.uln),
            }
            for lab in labs
        }
    haq = getattr(visit, "haq", None) if _has_related(visit, "haq") else None
    if haq is not None:
        h: dict[str, Any] = {}
        if haq.legacy_score is not None:
            h["score"] = _json_number(haq.legacy_score)
        else:
            h["items"] = {k: v for k, v in haq.items().items() if v is not None}
            h["aids"] = list(haq.aids)
            h["help"] = list(haq.help)
        doc[haq.instrument] = h
    return doc


def _has_related(visit: Visit, name: str) -> bool:
    try:
        getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return False
    return True


__all__ = ["read_visit", "visit_document", "CHAQ_ONLY_ITEMS"]
