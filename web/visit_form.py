"""The one-page visit form ⇄ the visit document of docs/data-dictionary.md.

Every input is named by the JSON path of its value in the document ("mmt8.deltoid.right",
"labs.ck.uln", "haq.items.walk"), so an error the service reports at a path lands on the input of
that name. Validation is the service's (crf.documents.read_visit): the form converts text to JSON
numbers where the text is a number and passes anything else through as typed, so a typo is
reported ("Must be a number.") rather than silently dropped.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crf.documents import read_visit, visit_document
from crf.models import HAQ, MMT8, MMT_SIDED_GROUPS, LabResult, Visit
from crf.pro_models import patient_entered_keys
from registry.documents import Errors
from registry.models import Patient
from scoring.instruments import CHAQ_CATEGORIES, HAQ_CATEGORIES, JUVENILE
from web.field_limits import data_attrs, limits_for
from web.labels import (
    CHAQ_ITEM_LABELS,
    CHAQ_NOT_APPLICABLE,
    ENZYME_LABELS,
    HAQ_ANSWERS,
    HAQ_CATEGORY_LABELS,
    HAQ_ITEM_LABELS,
    MMT_GROUP_LABELS,
    VISIT_FIELD_LABELS,
)

ENZYMES = [code for code, _ in LabResult.Enzyme.choices]
SIDES = ("right", "left")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_INDEX = re.compile(r"\[\d+\]$")


def parse_number(raw: str) -> Any:
    """Text as typed → a number, None when empty, or the text itself when it is not a number
    (the reader then names the field). A decimal comma is accepted: many sites type it.

    A Decimal, exactly as typed and of any length (int() refuses more than 4300 digits); the
    readers compare it with the field's range."""
    text = raw.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        return text
    return Decimal(text.replace(",", "."))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass
class Field:
    name: str  # the JSON path of the value in the visit document
    label: str
    value: str = ""
    errors: list[str] = field(default_factory=list)
    hint: str = ""
    section: str = ""
    limits: dict[str, Any] = field(default_factory=dict)

    @property
    def data_attrs(self) -> list[tuple[str, str]]:
        return data_attrs(self.name, self.limits)

    @property
    def warning_id(self) -> str:
        return f"{self.id}-warning"

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint"

    @property
    def describedby(self) -> str:
        ids = [self.hint_id] if self.hint else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)


@dataclass
class Choice:
    value: str
    label: str


class VisitForm:
    """Fields in the order of the paper form (which is also the tab order)."""

    def __init__(self, *, patient: Patient, visit: Visit | None = None) -> None:
        self.patient = patient
        self.visit = visit
        self.fields: dict[str, Field] = {}
        self.summary: list[dict[str, str]] = []
        self.conflict = ""
        self.locked = ""
        haq = _related(visit, "haq") if visit is not None else None
        if haq is not None:
            self.instrument = haq.instrument
        else:
            # docs/scoring.md §5: the CHAQ for juvenile onset (age at onset under 18), else the HAQ.
            self.instrument = (
                HAQ.Instrument.CHAQ if patient.population == JUVENILE else HAQ.Instrument.HAQ
            )
        self.scale = MMT8.Scale.BILATERAL
        self.side = MMT8.Side.RIGHT
        self.checked: dict[str, set[str]] = {"haq.aids": set(), "haq.help": set()}
        # Keys of the document the patient answered through an invitation (crf/invitations.py).
        self.patient_entered = patient_entered_keys(visit.pk if visit is not None else None)
        self._build()

    # --- structure ------------------------------------------------------------------------

    def _add(self, name: str, label: str, section: str, hint: str = "") -> Field:
        item = Field(name=name, label=label, hint=hint, section=section, limits=limits_for(name))
        self.fields[name] = item
        return item

    def _build(self) -> None:
        add = self._add
        add("visit_date", "Visit date", "visit", "YYYY-MM-DD")
        add("kind", "Kind of visit", "visit")
        for name, hint in (
            ("physician_global", "0–10 cm, steps of 0.1"),
            ("patient_global", "0–10 cm, steps of 0.1"),
            ("extramuscular", "MDAAT VAS, 0–10 cm"),
            ("physician_damage", "optional, 0–10 cm"),
        ):
            add(name, VISIT_FIELD_LABELS[name], "globals", hint)
        # Only the patient answers it (by an invitation): carried along, shown, not typed here.
        add("patient_global_damage", VISIT_FIELD_LABELS["patient_global_damage"], "globals")
        add("mmt8.scale", "MMT-8 scale", "mmt8")
        add("mmt8.side", "Side tested", "mmt8")
        add("mmt8.neck_flexors", "MMT-8 — Neck flexors", "mmt8")
        for group in MMT_SIDED_GROUPS:
            for side in SIDES:
                add(f"mmt8.{group}.{side}", f"MMT-8 — {MMT_GROUP_LABELS[group]}, {side}", "mmt8")
        add("mmt8.total", "MMT-8 total only", "mmt8", "only when the grades are not known")
        add("cmas", "CMAS", "cmas", "0–52")
        for enzyme in ENZYMES:
            label = ENZYME_LABELS[enzyme]
            add(f"labs.{enzyme}.value", f"{label} value", "labs")
            add(f"labs.{enzyme}.unit", f"{label} unit", "labs")
            add(f"labs.{enzyme}.uln", f"{label} upper limit of normal", "labs")
        categories = self.categories_spec
        labels = CHAQ_ITEM_LABELS if self.instrument == HAQ.Instrument.CHAQ else HAQ_ITEM_LABELS
        for items in categories.values():
            for item in items:
                add(f"haq.items.{item}", labels[item], "haq")
        add("haq.aids", "Aids or devices", "haq")
        add("haq.help", "Help from another person", "haq")
        add("haq.score", "Disability index only", "haq", "0–3, only when the items are not known")
        add("fvc_percent", "FVC", "lung", "% predicted")
        add("dlco_percent", "DLCO", "lung", "% predicted")
        add(
            "glucocorticoid_mg_per_day",
            "Glucocorticoid dose",
            "steroid",
            "prednisone equivalent, mg/day",
        )
        add("reason", "Reason for change", "reason", "required to change submitted data")

    @property
    def categories_spec(self) -> Mapping[str, tuple[str, ...]]:
        return CHAQ_CATEGORIES if self.instrument == HAQ.Instrument.CHAQ else HAQ_CATEGORIES

    @property
    def instrument_label(self) -> str:
        return "CHAQ" if self.instrument == HAQ.Instrument.CHAQ else "HAQ-DI"

    @property
    def asks_reason(self) -> bool:
        return self.visit is not None and (
            self.visit.status in (Visit.Status.SUBMITTED, Visit.Status.VERIFIED)
            or bool(self.patient_entered)
        )

    @property
    def patient_entered_labels(self) -> list[str]:
        labels = {"haq": f"{self.instrument_label} answers", **VISIT_FIELD_LABELS}
        return [labels[key] for key in sorted(self.patient_entered) if key in labels]

    @property
    def autofocus(self) -> bool:
        """A new visit starts at its date, so entry can begin without the mouse."""
        return self.visit is None and not self.has_errors

    @property
    def is_draft(self) -> bool:
        return self.visit is None or self.visit.status == Visit.Status.DRAFT

    # --- what the template walks ----------------------------------------------------------

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    @property
    def f(self) -> dict[str, Field]:
        """Fields for templates, which cannot look up dotted names: "mmt8.total" → mmt8__total."""
        return {name.replace(".", "__"): item for name, item in self.fields.items()}

    @property
    def kinds(self) -> list[Choice]:
        return [Choice(v, label) for v, label in Visit.Kind.choices]

    @property
    def units(self) -> list[Choice]:
        return [Choice(v, label) for v, label in LabResult.Unit.choices]

    @property
    def mmt_rows(self) -> list[dict[str, Any]]:
        rows = [
            {
                "group": "neck_flexors",
                "label": MMT_GROUP_LABELS["neck_flexors"],
                "midline": self.fields["mmt8.neck_flexors"],
            }
        ]
        for group in MMT_SIDED_GROUPS:
            rows.append(
                {
                    "group": group,
                    "label": MMT_GROUP_LABELS[group],
                    "right": self.fields[f"mmt8.{group}.right"],
                    "left": self.fields[f"mmt8.{group}.left"],
                }
            )
        return rows

    @property
    def lab_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "enzyme": enzyme,
                "label": ENZYME_LABELS[enzyme],
                "value": self.fields[f"labs.{enzyme}.value"],
                "unit": self.fields[f"labs.{enzyme}.unit"],
                "uln": self.fields[f"labs.{enzyme}.uln"],
            }
            for enzyme in ENZYMES
        ]

    @property
    def haq_answers(self) -> list[Choice]:
        answers = [Choice(v, label) for v, label in HAQ_ANSWERS]
        if self.instrument == HAQ.Instrument.CHAQ:
            answers.append(Choice(*CHAQ_NOT_APPLICABLE))
        return answers

    @property
    def haq_answer_values(self) -> list[str]:
        return [answer.value for answer in self.haq_answers]

    @property
    def haq_categories(self) -> list[dict[str, Any]]:
        return [
            {
                "code": category,
                "label": HAQ_CATEGORY_LABELS[category],
                "items": [self.fields[f"haq.items.{item}"] for item in items],
                "aids": category in self.checked["haq.aids"],
                "help": category in self.checked["haq.help"],
            }
            for category, items in self.categories_spec.items()
        ]

    @property
    def has_errors(self) -> bool:
        return bool(self.summary or self.conflict or self.locked)

    # --- filling --------------------------------------------------------------------------

    def fill_new(self, *, has_baseline: bool, previous: Visit | None) -> None:
        """Defaults of a new visit: the first visit is the baseline; scale, side, units and
        ULNs as at the patient's previous visit (the same laboratory, usually)."""
        self.fields["kind"].value = Visit.Kind.FOLLOW_UP if has_baseline else Visit.Kind.BASELINE
        self.fields["mmt8.scale"].value = self.scale
        self.fields["mmt8.side"].value = self.side
        for enzyme in ENZYMES:
            self.fields[f"labs.{enzyme}.unit"].value = LabResult.Unit.U_PER_L
        if previous is None:
            return
        mmt = _related(previous, "mmt8")
        if mmt is not None:
            self.scale = mmt.scale
            self.side = mmt.side or MMT8.Side.RIGHT
            self.fields["mmt8.scale"].value = self.scale
            self.fields["mmt8.side"].value = self.side
        for lab in previous.labs.all():
            self.fields[f"labs.{lab.enzyme}.unit"].value = lab.unit
            self.fields[f"labs.{lab.enzyme}.uln"].value = _text(_plain(lab.uln))

    def fill_from_visit(self, visit: Visit) -> None:
        doc = visit_document(visit)
        for name in (
            "visit_date",
            "kind",
            "physician_global",
            "patient_global",
            "extramuscular",
            "physician_damage",
            "patient_global_damage",
            "cmas",
            "fvc_percent",
            "dlco_percent",
            "glucocorticoid_mg_per_day",
        ):
            self.fields[name].value = _text(doc.get(name))
        for enzyme in ENZYMES:
            self.fields[f"labs.{enzyme}.unit"].value = LabResult.Unit.U_PER_L
        mmt = doc.get("mmt8")
        if mmt:
            self.scale = mmt["scale"]
            self.side = mmt.get("side") or MMT8.Side.RIGHT
            self.fields["mmt8.total"].value = _text(mmt.get("total"))
            self.fields["mmt8.neck_flexors"].value = _text(mmt.get("neck_flexors"))
            for group in MMT_SIDED_GROUPS:
                grade = mmt.get(group)
                if isinstance(grade, dict):
                    for side in SIDES:
                        self.fields[f"mmt8.{group}.{side}"].value = _text(grade.get(side))
                else:
                    self.fields[f"mmt8.{group}.{self.side}"].value = _text(grade)
        self.fields["mmt8.scale"].value = self.scale
        self.fields["mmt8.side"].value = self.side
        for enzyme, lab in (doc.get("labs") or {}).items():
            for key in ("value", "unit", "uln"):
                self.fields[f"labs.{enzyme}.{key}"].value = _text(lab.get(key))
        haq = doc.get("haq") or doc.get("chaq")
        if haq:
            self.fields["haq.score"].value = _text(haq.get("score"))
            for item, answer in (haq.get("items") or {}).items():
                if f"haq.items.{item}" in self.fields:
                    self.fields[f"haq.items.{item}"].value = _text(answer)
            self.checked["haq.aids"] = set(haq.get("aids") or ())
            self.checked["haq.help"] = set(haq.get("help") or ())

    def fill_from_post(self, post: Any) -> None:
        for name, item in self.fields.items():
            if name in self.checked:
                self.checked[name] = set(post.getlist(name))
            else:
                item.value = post.get(name, "").strip()
        self.scale = self.fields["mmt8.scale"].value or MMT8.Scale.BILATERAL
        self.side = self.fields["mmt8.side"].value or MMT8.Side.RIGHT

    # --- the document ---------------------------------------------------------------------

    def _value(self, name: str) -> str:
        return self.fields[name].value

    def document(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The visit document of the posted values, and errors the document cannot express
        (a grade typed in the column of the side that was not tested)."""
        problems: list[tuple[str, str]] = []
        doc: dict[str, Any] = {}
        for name in ("visit_date", "kind"):
            if self._value(name):
                doc[name] = self._value(name)
        for name in (
            "physician_global",
            "patient_global",
            "extramuscular",
            "physician_damage",
            "patient_global_damage",
            "cmas",
            "fvc_percent",
            "dlco_percent",
            "glucocorticoid_mg_per_day",
        ):
            value = parse_number(self._value(name))
            if value is not None:
                doc[name] = value
        mmt = self._mmt_document(problems)
        if mmt is not None:
            doc["mmt8"] = mmt
        labs: dict[str, Any] = {}
        for enzyme in ENZYMES:
            # A row without a value holds no result: its ULN may be the one carried over
            # from the previous visit.
            value = parse_number(self._value(f"labs.{enzyme}.value"))
            if value is None:
                continue
            lab: dict[str, Any] = {"value": value}
            unit = self._value(f"labs.{enzyme}.unit")
            if unit:
                lab["unit"] = unit
            uln = parse_number(self._value(f"labs.{enzyme}.uln"))
            if uln is not None:
                lab["uln"] = uln
            labs[enzyme] = lab
        if labs:
            doc["labs"] = labs
        haq = self._haq_document()
        if haq is not None:
            doc[self.instrument] = haq
        if self._value("reason"):
            doc["reason"] = self._value("reason")
        return doc, problems

    def _mmt_document(self, problems: list[tuple[str, str]]) -> dict[str, Any] | None:
        names = ["mmt8.neck_flexors", "mmt8.total"] + [
            f"mmt8.{group}.{side}" for group in MMT_SIDED_GROUPS for side in SIDES
        ]
        if not any(self._value(name) for name in names):
            return None
        mmt: dict[str, Any] = {"scale": self.scale}
        total = parse_number(self._value("mmt8.total"))
        if total is not None:
            mmt["total"] = total
        neck = parse_number(self._value("mmt8.neck_flexors"))
        if self.scale == MMT8.Scale.UNILATERAL:
            mmt["side"] = self.side
            other = "left" if self.side == "right" else "right"
            if neck is not None:
                mmt["neck_flexors"] = neck
            for group in MMT_SIDED_GROUPS:
                grade = parse_number(self._value(f"mmt8.{group}.{self.side}"))
                if grade is not None:
                    mmt[group] = grade
                if self._value(f"mmt8.{group}.{other}"):
                    problems.append(
                        (
                            f"mmt8.{group}.{other}",
                            f"The unilateral scale grades the {self.side} side only: clear this "
                            "grade or choose the bilateral scale.",
                        )
                    )
            return mmt
        if neck is not None:
            mmt["neck_flexors"] = neck
        for group in MMT_SIDED_GROUPS:
            sides = {}
            for side in SIDES:
                grade = parse_number(self._value(f"mmt8.{group}.{side}"))
                if grade is not None:
                    sides[side] = grade
            if sides:
                mmt[group] = sides
        return mmt

    def _haq_document(self) -> dict[str, Any] | None:
        items: dict[str, Any] = {}
        for items_of_category in self.categories_spec.values():
            for item in items_of_category:
                raw = self._value(f"haq.items.{item}")
                if not raw:
                    continue
                items[item] = raw if raw == "na" else parse_number(raw)
        aids = [c for c in HAQ_CATEGORIES if c in self.checked["haq.aids"]]
        helped = [c for c in HAQ_CATEGORIES if c in self.checked["haq.help"]]
        # Unknown categories posted by hand are passed on so the reader names them.
        aids += sorted(self.checked["haq.aids"] - set(HAQ_CATEGORIES))
        helped += sorted(self.checked["haq.help"] - set(HAQ_CATEGORIES))
        score = parse_number(self._value("haq.score"))
        if not items and not aids and not helped and score is None:
            return None
        haq: dict[str, Any] = {}
        if items:
            haq["items"] = items
        if aids:
            haq["aids"] = aids
        if helped:
            haq["help"] = helped
        if score is not None:
            haq["score"] = score
        return haq

    # --- errors ---------------------------------------------------------------------------

    def field_for(self, path: str) -> str | None:
        """The input that shows an error reported at a document path."""
        name = _INDEX.sub("", path)
        if name == "chaq" or name.startswith("chaq."):
            name = "haq" + name[4:]
        if self.scale == MMT8.Scale.UNILATERAL and name.count(".") == 1:
            group = name.split(".", 1)[1]
            if name.startswith("mmt8.") and group in MMT_SIDED_GROUPS:
                name = f"{name}.{self.side}"
        while name:
            if name in self.fields:
                return name
            for suffix in (".value", ".scale", ".score"):
                if name + suffix in self.fields:
                    return name + suffix
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return None

    def add_errors(self, errors: Iterable[tuple[str, str]]) -> None:
        for path, message in errors:
            name = self.field_for(path)
            if name is None:
                self.summary.append({"label": "", "message": message, "href": "#visit-form"})
                continue
            target = self.fields[name]
            if message not in target.errors:
                target.errors.append(message)
            label = target.label
            if name.startswith("haq.items."):
                label = f"{self.instrument_label} — {label}"
            self.summary.append({"label": label, "message": message, "href": f"#{target.id}"})


def _related(visit: Visit, name: str) -> Any:
    try:
        return getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return None


def _plain(value: Any) -> Any:
    """A stored decimal as typed: 7.600 → "7.6"."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def reader_errors(patient: Patient, doc: dict[str, Any]) -> list[tuple[str, str]]:
    """What the service's reader says about a document, without storing anything (used when
    the form found a problem of its own, so that one answer names every bad field)."""
    errors = Errors()
    read_visit(errors, "", doc, born=patient.birth_month_start)
    return errors.items
