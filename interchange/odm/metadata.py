"""The registry's CDISC ODM 1.3.2 metadata: study events, forms, items, code lists, units, methods.

Items are read off the models rather than retyped: each form is a model and a list of its fields,
and an item's data type, question, code list and range checks come from the field (its class,
verbose name, choices) and the model's check constraints. Adding a form — adverse events, vital
status, classification items as they become models — is one entry of PATIENT_FORMS or VISIT_FORMS.

OIDs are a contract with whoever maps their data to ours (an ODM import): extend, never rename.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q

from crf.models import ALL_HAQ_ITEMS, CHAQ_ONLY_ITEMS, HAQ, MMT8, LabResult, Signature, Visit
from registry import vocabularies
from registry.models import AutoantibodyResult, Patient, Role, TreatmentEpisode
from scoring.instruments import HAQ_CATEGORIES
from scoring.models import ResponseRecord

STUDY_OID = "ST.MYOSITIS-REGISTRY"
METADATA_OID = "MDV.1"
STUDY_NAME = "Myositis registry"
PATIENT_EVENT = "SE.PATIENT"
VISIT_EVENTS = {kind: f"SE.{kind.upper()}" for kind in Visit.Kind.values}
SYSTEM_USER = "USR.SYSTEM"


@dataclass(frozen=True)
class Method:
    oid: str
    name: str
    description: str


METHODS = (
    Method(
        "MT.SEROLOGY_GROUP",
        "Serological group",
        "Derived from the positive myositis-specific antibodies (registry.vocabularies."
        "serology_group): one group, 'multiple' for two groups, MAA only, seronegative.",
    ),
    Method(
        "MT.MMT8_TOTAL",
        "MMT-8 total",
        "Sum of the Kendall 0-10 grades of the 8 IMACS muscle groups: unilateral 0-80, "
        "bilateral 0-150 (SCORING.md section 1); the legacy total when only that is known.",
    ),
    Method(
        "MT.HAQ_DI",
        "HAQ-DI / CHAQ disability index",
        "Mean of the 8 category scores (highest item per category, raised to 2 with aids or "
        "help), Fries 1980 (HAQ-DI) and Singh 1994 (CHAQ) (SCORING.md section 5).",
    ),
    Method(
        "MT.DOI",
        "IMACS definition of improvement",
        "imacs-doi-2004: at least 3 of 6 core set measures improved by 20 % or more, at most 2 "
        "worse by 25 % or more, manual muscle testing not among the worse (Rider 2004).",
    ),
    Method(
        "MT.TIS",
        "ACR/EULAR total improvement score",
        "acr-eular-2016: 0-100 from the absolute percent change of the 6 core set measures; "
        "categories minimal, moderate, major (Aggarwal 2017, Rider 2017).",
    ),
    Method(
        "MT.WORSENING",
        "ProDERM worsening",
        "proderm-worsening-2022: worsening at a visit, confirmed at two consecutive visits "
        "(Aggarwal 2022).",
    ),
)


@dataclass(frozen=True)
class Derived:
    """An item computed by the registry from the form's data (never imported)."""

    name: str
    data_type: str
    question: str
    method: str
    unit: str | None = None


@dataclass(frozen=True, eq=False)  # hashed by identity: the forms are a fixed table
class FormSpec:
    oid: str
    name: str
    model: type[models.Model]
    prefix: str  # of the item OIDs: IT.<prefix>.<FIELD>
    fields: tuple[str, ...]  # attnames of the model, each an item
    repeating: bool = False
    # Items kept by the registry itself (workflow state, derived values): exported, ignored on
    # import, and never an error there.
    managed: frozenset[str] = frozenset()
    methods: dict[str, str] = field(default_factory=dict)  # attname -> MethodDef OID
    derived: tuple[Derived, ...] = ()

    @property
    def group_oid(self) -> str:
        return "IG." + self.oid.removeprefix("FORM.")

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower


MMT_FIELDS = ("scale", "side", "legacy_total", "neck_flexors") + tuple(
    name
    for name in (f.attname for f in MMT8._meta.concrete_fields)
    if name.endswith(("_right", "_left"))
)

PATIENT_FORMS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.PATIENT",
        "Demographics and diagnosis",
        Patient,
        "PATIENT",
        (
            "sex",
            "birth_year",
            "birth_month",
            "diagnosis",
            "onset_date",
            "diagnosis_date",
            "serology_group",
        ),
        managed=frozenset({"serology_group"}),
        methods={"serology_group": "MT.SEROLOGY_GROUP"},
    ),  # fmt: skip
    FormSpec(
        "FORM.AUTOANTIBODY",
        "Autoantibodies",
        AutoantibodyResult,
        "AUTOANTIBODY",
        ("antibody", "result", "method", "intensity", "sample_date"),
        repeating=True,
    ),
    FormSpec(
        "FORM.TREATMENT",
        "Treatments",
        TreatmentEpisode,
        "TREATMENT",
        (
            "drug",
            "drug_other",
            "dose",
            "dose_unit",
            "route",
            "frequency",
            "start_date",
            "stop_date",
            "stop_reason",
        ),
        repeating=True,
    ),  # fmt: skip
)

VISIT_FORMS: tuple[FormSpec, ...] = (
    FormSpec(
        "FORM.VISIT",
        "Visit: global activity, CMAS, lung function, glucocorticoids",
        Visit,
        "VISIT",
        (
            "visit_date",
            "kind",
            "status",
            "verified_by_id",
            "verified_at",
            "physician_global",
            "patient_global",
            "extramuscular",
            "physician_damage",
            "cmas",
            "fvc_percent",
            "dlco_percent",
            "glucocorticoid_mg_per_day",
        ),
        managed=frozenset({"status", "verified_by_id", "verified_at"}),
    ),  # fmt: skip
    FormSpec(
        "FORM.MMT8",
        "Manual muscle testing (MMT-8)",
        MMT8,
        "MMT8",
        MMT_FIELDS,
        derived=(Derived("total", "integer", "MMT-8 total", "MT.MMT8_TOTAL"),),
    ),
    FormSpec(
        "FORM.LAB",
        "Muscle enzymes",
        LabResult,
        "LAB",
        ("enzyme", "value", "unit", "uln"),
        repeating=True,
    ),
    FormSpec(
        "FORM.HAQ",
        "HAQ-DI / CHAQ",
        HAQ,
        "HAQ",
        ("instrument", "legacy_score", "aids", "help", "not_applicable", *ALL_HAQ_ITEMS),
        derived=(Derived("disability_index", "float", "Disability index (0-3)", "MT.HAQ_DI"),),
    ),
    FormSpec(
        "FORM.SIGNATURE",
        "Electronic signatures",
        Signature,
        "SIGNATURE",
        (
            "signer_id",
            "meaning",
            "signed_at",
            "visit_version",
            "voided_at",
            "voided_by_id",
            "void_reason",
        ),
        repeating=True,
        managed=frozenset(
            {
                "signer_id",
                "meaning",
                "signed_at",
                "visit_version",
                "voided_at",
                "voided_by_id",
                "void_reason",
            }
        ),
    ),  # fmt: skip
    FormSpec(
        "FORM.RESPONSE",
        "Response scores (derived)",
        ResponseRecord,
        "RESPONSE",
        (
            "algorithm",
            "reference_visit_id",
            "reference_kind",
            "previous_visit_id",
            "status",
            "met",
            "score",
            "category",
            "complete",
            "worsened",
            "confirmed",
            "error",
        ),
        repeating=True,
        managed=frozenset(
            {
                "algorithm",
                "reference_visit_id",
                "reference_kind",
                "previous_visit_id",
                "status",
                "met",
                "score",
                "category",
                "complete",
                "worsened",
                "confirmed",
                "error",
            }
        ),
        methods={
            "met": "MT.DOI",
            "score": "MT.TIS",
            "category": "MT.TIS",
            "complete": "MT.TIS",
            "worsened": "MT.WORSENING",
            "confirmed": "MT.WORSENING",
        },
    ),  # fmt: skip
)
FORMS = PATIENT_FORMS + VISIT_FORMS
FORM_BY_OID = {form.oid: form for form in FORMS}
FORM_BY_TYPE = {form.object_type: form for form in FORMS}
# Forms written by the signature and scoring workflows, not by a submission: in a Snapshot their
# data are the Signature elements and the response records; an import ignores them.
WORKFLOW_FORMS = frozenset({"FORM.SIGNATURE", "FORM.RESPONSE"})

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
    for form in FORMS:
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
    checks = []
    for comparator in ("GT", "GE", "LT", "LE"):
        if comparator in found:
            pick = min if comparator in ("GT", "GE") else max
            checks.append(RangeCheck(comparator, str(pick(found[comparator]))))
    return tuple(checks)


def _data_type(model_field: models.Field) -> tuple[str, int | None, int | None]:
    if isinstance(model_field, models.ForeignKey):
        if model_field.related_model is Visit:
            return "integer", None, None
        return "text", None, None  # a person, as the OID of an AdminData User
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
    "FORMS",
    "METHODS",
    "UNITS",
    "code_lists",
    "items_of",
]
