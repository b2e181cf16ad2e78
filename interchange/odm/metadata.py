"""The registry's CDISC ODM 1.3.2 metadata: study events, forms, items, code lists, units, methods.

Items are read off the models rather than retyped: each form is a model and a list of its fields,
and an item's data type, question, code list and range checks come from the field (its class,
verbose name, choices) and the model's check constraints. The forms are the table of
interchange/odm/forms.py: adding one is one entry of PATIENT_FORMS or VISIT_FORMS there.

OIDs are a contract with whoever maps their data to ours (an ODM import): extend, never rename.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from crf.models import ALL_HAQ_ITEMS, CHAQ_ONLY_ITEMS, LabResult, Visit
from interchange.odm.forms import (
    DATA_QUERY_FORM,
    DERIVED_FORMS,
    METHODS,
    OUTCOME_FORMS,
    PATIENT_FORMS,
    VISIT_FORMS,
    Derived,
    FormSpec,
    Method,
)
from registry import vocabularies
from registry.models import Role
from scoring.instruments import HAQ_CATEGORIES

STUDY_OID = "ST.MYOSITIS-REGISTRY"
METADATA_OID = "MDV.1"
STUDY_NAME = "Myositis registry"
PATIENT_EVENT = "SE.PATIENT"
VISIT_EVENTS = {kind: f"SE.{kind.upper()}" for kind in Visit.Kind.values}
SYSTEM_USER = "USR.SYSTEM"


FORMS = PATIENT_FORMS + VISIT_FORMS
FORM_BY_OID = {form.oid: form for form in FORMS}
FORM_BY_TYPE = {form.object_type: form for form in FORMS}
# Forms written by the workflows (signatures, data review, patient invitations, the refractory
# attestation, scoring), not by a submission: a Snapshot shows signatures as Signature elements
# and response scores as their forms, a Transactional file every change; an import ignores them.
WORKFLOW_FORMS = frozenset(
    {"FORM.SIGNATURE", "FORM.RESPONSE", DATA_QUERY_FORM.oid, *(f.oid for f in DERIVED_FORMS)}
)

# --- measurement units --------------------------------------------------------------------------

LAB_UNITS = {code: f"MU.{code.replace('/', '_').upper()}" for code in LabResult.Unit.values}
UNITS: dict[str, str] = {  # OID -> symbol
    "MU.CM": "cm",
    "MU.PERCENT": "%",
    "MU.MG_PER_DAY": "mg/day",
    **{oid: LabResult.Unit(code).label for code, oid in LAB_UNITS.items()},
}
UNIT_BY_OID = {oid: code for code, oid in LAB_UNITS.items()}
ITEM_UNITS: dict[tuple[str, str], tuple[str, ...]] = {
    **{("VISIT", name): ("MU.CM",) for name in
       ("physician_global", "patient_global", "extramuscular", "physician_damage")},
    ("VISIT", "fvc_percent"): ("MU.PERCENT",),
    ("VISIT", "dlco_percent"): ("MU.PERCENT",),
    ("VISIT", "glucocorticoid_mg_per_day"): ("MU.MG_PER_DAY",),
    ("LAB", "value"): tuple(LAB_UNITS.values()),
    ("LAB", "uln"): tuple(LAB_UNITS.values()),
}  # fmt: skip

# --- code lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeList:
    oid: str
    name: str
    items: tuple[tuple[str, str], ...]  # (coded value, decode)


def _choice_classes() -> Iterator[tuple[str, type[models.TextChoices]]]:
    """Every vocabulary: registry.vocabularies, the roles, and the models' own TextChoices."""
    for name, value in vars(vocabularies).items():
        if (
            inspect.isclass(value)
            and issubclass(value, models.TextChoices)
            and value.__module__ == vocabularies.__name__
        ):
            yield name, value
    yield "Role", Role
    # The forms added later come last, so that no vocabulary's code list changes its OID.
    later = (*OUTCOME_FORMS, *DERIVED_FORMS, DATA_QUERY_FORM)
    for form in sorted(FORMS, key=lambda form: form in later):
        for name, value in vars(form.model).items():
            if inspect.isclass(value) and issubclass(value, models.TextChoices):
                yield f"{form.model.__name__}{name}", value


def _oid(name: str) -> str:
    """CL.<NAME> in upper snake case: AntibodyResult -> CL.ANTIBODY_RESULT, MMT8Scale ->
    CL.MMT8_SCALE."""
    return "CL." + re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


@functools.cache
def code_lists() -> tuple[CodeList, ...]:
    lists: dict[str, CodeList] = {}
    for name, choices in _choice_classes():
        items = tuple((str(code), str(label)) for code, label in choices.choices)
        if any(existing.items == items for existing in lists.values()):
            continue  # the same vocabulary under another name (Membership.Role is Role)
        lists[name] = CodeList(_oid(name), name, items)
    lists["HaqCategory"] = CodeList(
        "CL.HAQ_CATEGORY", "HAQ category", tuple((c, c.replace("_", " ")) for c in HAQ_CATEGORIES)
    )
    lists["ChaqItem"] = CodeList(
        "CL.HAQ_ITEM", "HAQ / CHAQ item", tuple((c, c.replace("_", " ")) for c in ALL_HAQ_ITEMS)
    )
    return tuple(lists.values())


def _code_list_for(model_field: models.Field) -> str | None:
    if not model_field.choices:
        return None
    items = tuple((str(code), str(label)) for code, label in model_field.choices)
    for code_list in code_lists():
        if code_list.items == items:
            return code_list.oid
    raise LookupError(f"No code list for {model_field}")  # a new TextChoices: add it above


# Multi-valued items: space-separated codes of a code list (named in the question).
LIST_ITEMS = {"aids": "CL.HAQ_CATEGORY", "help": "CL.HAQ_CATEGORY", "not_applicable": "CL.HAQ_ITEM"}

# --- items --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeCheck:
    comparator: str  # LT LE GT GE
    value: str


@dataclass(frozen=True)
class ItemSpec:
    oid: str
    name: str  # the attname, or the derived item's name
    data_type: str
    question: str
    length: int | None = None
    digits: int | None = None
    code_list: str | None = None
    units: tuple[str, ...] = ()
    ranges: tuple[RangeCheck, ...] = ()
    method: str | None = None

    @property
    def derived(self) -> bool:
        return self.method is not None

    @property
    def person(self) -> bool:
        """A user (signer, verifier): its Value is the OID of an AdminData User."""
        return self.data_type == "text" and self.name.endswith("_id")


_LOOKUPS = {"gte": "GE", "lte": "LE", "gt": "GT", "lt": "LT"}


def _bounds(condition: Any, attname: str) -> Iterator[tuple[str, Any]]:
    for child in condition.children:
        if isinstance(child, Q):
            yield from _bounds(child, attname)
            continue
        lookup, value = child
        name, _, op = lookup.rpartition("__")
        if (
            name in (attname, attname.removesuffix("_id"))
            and op in _LOOKUPS
            and not hasattr(value, "resolve_expression")
        ):
            yield _LOOKUPS[op], value


def ranges_of(model: type[models.Model], model_field: models.Field) -> tuple[RangeCheck, ...]:
    """The range rules of a field, from the model's check constraints: the widest bound of each
    kind (a total of 0-80 or 0-150 by scale is checked as at most 150)."""
    found: dict[str, list[Any]] = {}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint):
            for comparator, value in _bounds(constraint.condition, model_field.attname):
                found.setdefault(comparator, []).append(value)
    if isinstance(
        model_field, (models.PositiveIntegerField, models.PositiveSmallIntegerField)
    ) and not ({"GE", "GT"} & set(found)):
        found["GE"] = [0]
    bounds = {
        comparator: (min if comparator in ("GT", "GE") else max)(values)
        for comparator, values in found.items()
    }
    # A strict and a loose bound of one side (grade < 5 unless fatal, grade <= 5): the wider.
    if "GT" in bounds and "GE" in bounds:
        bounds.pop("GT" if bounds["GE"] <= bounds["GT"] else "GE")
    if "LT" in bounds and "LE" in bounds:
        bounds.pop("LT" if bounds["LE"] >= bounds["LT"] else "LE")
    return tuple(
        RangeCheck(comparator, str(bounds[comparator]))
        for comparator in ("GT", "GE", "LT", "LE")
        if comparator in bounds
    )


def _data_type(model_field: models.Field) -> tuple[str, int | None, int | None]:
    if isinstance(model_field, models.ForeignKey):
        if model_field.related_model is get_user_model():
            return "text", None, None  # a person, as the OID of an AdminData User
        return "integer", None, None  # a visit, an episode, an adverse event: its id
    if isinstance(model_field, models.BooleanField):
        return "boolean", None, None
    if isinstance(model_field, models.DecimalField):
        return "float", model_field.max_digits, model_field.decimal_places
    if isinstance(model_field, models.IntegerField):
        return "integer", None, None
    if isinstance(model_field, models.DateTimeField):
        return "datetime", None, None
    if isinstance(model_field, models.DateField):
        return "date", None, None
    if isinstance(model_field, models.CharField):
        return "text", model_field.max_length, None
    return "text", None, None


def _question(form: FormSpec, model_field: models.Field) -> str:
    text = str(model_field.verbose_name)
    if model_field.help_text:
        text = f"{text} ({model_field.help_text})"
    if model_field.attname in LIST_ITEMS:
        text += f": space-separated codes of {LIST_ITEMS[model_field.attname]}"
    return text[:1].upper() + text[1:]


def item_oid(form: FormSpec, name: str) -> str:
    return f"IT.{form.prefix}.{name.removesuffix('_id').upper()}"


@functools.cache
def items_of(form: FormSpec) -> tuple[ItemSpec, ...]:
    items = []
    for attname in form.fields:
        model_field = next(f for f in form.model._meta.concrete_fields if f.attname == attname)
        data_type, length, digits = _data_type(model_field)
        items.append(
            ItemSpec(
                item_oid(form, attname),
                attname,
                data_type,
                _question(form, model_field),
                length=length,
                digits=digits,
                code_list=_code_list_for(model_field),
                units=ITEM_UNITS.get((form.prefix, attname), ()),
                ranges=ranges_of(form.model, model_field),
                method=form.methods.get(attname),
            )
        )
    for derived in form.derived:
        items.append(
            ItemSpec(
                item_oid(form, derived.name),
                derived.name,
                derived.data_type,
                derived.question,
                method=derived.method,
            )
        )
    return tuple(items)


@functools.cache
def item_index() -> dict[str, tuple[FormSpec, ItemSpec]]:
    """Every item OID -> its form and item."""
    return {item.oid: (form, item) for form in FORMS for item in items_of(form)}


@functools.cache
def item_by_field(form: FormSpec) -> dict[str, ItemSpec]:
    return {item.name: item for item in items_of(form)}


__all__ = [
    "CHAQ_ONLY_ITEMS",
    "DERIVED_FORMS",
    "OUTCOME_FORMS",
    "Derived",
    "FormSpec",
    "Method",
    "FORMS",
    "METHODS",
    "UNITS",
    "code_lists",
    "items_of",
]
