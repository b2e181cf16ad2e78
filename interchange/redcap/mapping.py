"""The mapping file (YAML): which REDCap field feeds which field of the submission document.

docs/examples/redcap/README.md documents it with a complete example. Its sections mirror the
submission document (docs/data-dictionary.md "Submission document"): `patient`, `visit` (with
`mmt8`, `labs`, `haq`/`chaq`), `repeating` instruments as `treatments` / `autoantibodies` /
`adverse_events` / `hrct`, the patient-level `vital_status` and `lung`, and checkbox
`antibody_panels`; plus `events` (event name -> visit kind, or null: not a visit), `sites` (data
access group -> site code), `patient_id` (a template of the record id), `date_format` and `reason`.

A leaf is a constant (`scale: bilateral`) or a REDCap field, `{field: NAME}`, with optional
`values` (code -> document value; null drops it), `date_format` (strptime) and `factor` (a unit
conversion). The mapping is checked against the data dictionary when it is loaded: a field it
does not define, a calculated field, a value map missing a code of the choice list, or a key
the document does not have is UnusableInput — nothing is imported with a bad mapping.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from crf.documents import VISIT_VALUE_FIELDS
from crf.models import ALL_HAQ_ITEMS, MMT_SIDED_GROUPS, LabResult
from crf.outcome_documents import (
    ADVERSE_EVENT_KEYS,
    HRCT_KEYS,
    LUNG_KEYS,
    RELATED_TO_KEYS,
    VITAL_STATUS_KEYS,
)
from interchange.redcap.dictionary import Dictionary, UnusableInput
from registry.documents import ANTIBODY_KEYS, TREATMENT_KEYS

VISIT_KINDS = ("baseline", "follow_up", "unscheduled")
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_REASON = "Imported from REDCap"
TEXT_KEYS = frozenset(
    {"sex", "diagnosis", "antibody", "result", "method", "intensity", "drug", "drug_other",
     "dose_unit", "route", "frequency", "stop_reason", "scale", "side", "unit",
     "status", "cause_category", "cause_text", "source", "ild", "pattern", "term", "category",
     "severity", "outcome", "relatedness", "action"}
)  # fmt: skip
LIST_KEYS = frozenset({"aids", "help", "serious_criteria"})
# Yes/no values: REDCap's yesno and truefalse codes (1, 0) unless the leaf maps its own.
BOOLEAN_KEYS = frozenset({"serious", "rapidly_progressive", "progression"})
# Repeating instruments: the document's list each may feed.
REPEATING_TARGETS = ("treatments", "autoantibodies", "adverse_events", "hrct")
# Patient-level records of the document fed by a record's own (non-repeating) rows.
PATIENT_RECORDS = ("vital_status", "lung")
LEAF = None  # in SCHEMA: a leaf; a dict is a container of these keys
SIDED = "sided"  # in SCHEMA: {right, left} on the bilateral scale, a leaf on the unilateral

_HAQ = {"items": dict.fromkeys(ALL_HAQ_ITEMS, LEAF), "aids": LEAF, "help": LEAF, "score": LEAF}
SCHEMA: dict[str, Any] = {
    "patient": dict.fromkeys(
        ("sex", "birth_year_month", "diagnosis", "onset_date", "diagnosis_date"), LEAF
    ),
    "visit": {
        "visit_date": LEAF,
        **dict.fromkeys(VISIT_VALUE_FIELDS, LEAF),
        "mmt8": {
            **dict.fromkeys(("scale", "side", "total", "neck_flexors"), LEAF),
            **dict.fromkeys(MMT_SIDED_GROUPS, SIDED),
        },
        "labs": {
            enzyme: dict.fromkeys(("value", "unit", "uln"), LEAF)
            for enzyme in LabResult.Enzyme.values
        },
        "haq": _HAQ,
        "chaq": _HAQ,
    },
    "treatments": dict.fromkeys(TREATMENT_KEYS, LEAF),
    "autoantibodies": dict.fromkeys(ANTIBODY_KEYS, LEAF),
    # One suspect treatment per instance (`related_to` of the document: a list of one).
    "adverse_events": {
        **dict.fromkeys((k for k in ADVERSE_EVENT_KEYS if k != "related_to"), LEAF),
        "related_to": dict.fromkeys(RELATED_TO_KEYS, LEAF),
    },
    "hrct": dict.fromkeys(HRCT_KEYS, LEAF),
    "vital_status": dict.fromkeys(VITAL_STATUS_KEYS, LEAF),
    "lung": dict.fromkeys(LUNG_KEYS, LEAF),
}
TOP_KEYS = frozenset(
    {"record_id", "patient_id", "reason", "date_format", "sites", "events", "patient", "visit",
     "repeating", "antibody_panels", *PATIENT_RECORDS}
)  # fmt: skip


def target_type(key: str) -> str:
    """How a document key's value is typed: date, year_month, list, boolean, text or number."""
    if key.endswith("_date"):
        return "date"
    if key == "birth_year_month":
        return "year_month"
    if key in LIST_KEYS:
        return "list"
    if key in BOOLEAN_KEYS:
        return "boolean"
    return "text" if key in TEXT_KEYS else "number"


@dataclass(frozen=True)
class Leaf:
    """Where one value of the document comes from."""

    target: str  # target_type of its key
    field: str = ""  # the REDCap field; "" for a constant
    constant: Any = None
    values: dict[str, Any] | None = None
    date_format: str = DEFAULT_DATE_FORMAT
    factor: Decimal | None = None


@dataclass(frozen=True)
class Panel:
    """A checkbox of antibodies tested: each checked code a positive result."""

    field: str
    antibodies: dict[str, Any]  # code -> antibody (None: not imported)
    sample_date: Leaf
    method: Leaf
    unchecked: str  # "omit" or "negative"
    event: str  # "" for any event


@dataclass
class Mapping:
    record_id: str
    patient_id: str
    reason: str
    sites: dict[str, str]
    events: dict[str, str | None]
    patient: dict[str, Any]
    visit: dict[str, Any]
    repeating: dict[str, tuple[str, dict[str, Any]]]  # instrument -> (document list, template)
    panels: list[Panel] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # vital_status, lung

    def fields(self) -> set[str]:
        """Every REDCap field the mapping reads."""
        found: set[str] = {panel.field for panel in self.panels}

        def walk(node: Any) -> None:
            if isinstance(node, Leaf):
                found.add(node.field)
            elif isinstance(node, dict):
                for child in node.values():
                    walk(child)

        for node in (self.patient, self.visit, *(t for _, t in self.repeating.values()),
                     *self.records.values()):  # fmt: skip
            walk(node)
        for panel in self.panels:
            walk(panel.sample_date)
        found.discard("")
        return found


class _Loader:
    def __init__(self, dictionary: Dictionary, date_format: str) -> None:
        self.dictionary = dictionary
        self.date_format = date_format

    def fail(self, where: str, message: str) -> UnusableInput:
        return UnusableInput(f"Mapping {where}: {message}")

    def leaf(self, where: str, key: str, raw: Any) -> Leaf:
        target = target_type(key)
        if not isinstance(raw, dict):
            if isinstance(raw, (list, dict)) or raw is None:
                raise self.fail(where, "must be a constant or {field: NAME}.")
            return Leaf(target, constant=raw)
        unknown = set(raw) - {"field", "values", "date_format", "factor"}
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}.")
        name = raw.get("field")
        found = self.dictionary.fields.get(name) if isinstance(name, str) else None
        if found is None:
            raise self.fail(where, f"the field {name!r} is not in the data dictionary.")
        if found.is_calc:
            raise self.fail(
                where,
                f"{name} is a calculated field: REDCap calc fields are never imported "
                "(the registry computes its scores itself).",
            )
        if (target == "list") != found.is_checkbox:
            raise self.fail(where, "a list (aids, help) comes from a checkbox field, and only it.")
        values = self.values(where, found, raw.get("values"))
        date_format = raw.get("date_format", self.date_format)
        if not isinstance(date_format, str) or "%" not in date_format:
            raise self.fail(where, 'date_format must be a strptime format such as "%d/%m/%Y".')
        if "date_format" in raw and target not in ("date", "year_month"):
            raise self.fail(where, "date_format applies to dates only.")
        factor = None
        if raw.get("factor") is not None:
            try:
                factor = Decimal(str(raw["factor"]))
            except InvalidOperation:
                raise self.fail(where, "factor must be a number.") from None
            if target != "number" or not factor.is_finite():
                raise self.fail(where, "factor applies to numbers only.")
        return Leaf(target, name, None, values, date_format, factor)

    def values(self, where: str, found: Any, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise self.fail(where, "values must map codes to document values.")
        values = {str(code): value for code, value in raw.items()}
        if found.choices:
            strays = sorted(set(values) - set(found.choices))
            if strays:
                raise self.fail(
                    where, f"code(s) {', '.join(strays)} not in {found.name}'s choices."
                )
            missing = [code for code in found.choices if code not in values]
            if missing:
                raise self.fail(
                    where,
                    f"values must give every code of {found.name} (null to leave one out); "
                    f"missing {', '.join(missing)}.",
                )
        return values

    def template(self, where: str, raw: Any, schema: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a mapping of document keys.")
        out: dict[str, Any] = {}
        for key, value in raw.items():
            path = f"{where}.{key}"
            if key not in schema:
                raise self.fail(path, "the submission document has no such key here.")
            kind = schema[key]
            if kind is SIDED and isinstance(value, dict) and "field" not in value:
                out[key] = self.template(path, value, {"right": LEAF, "left": LEAF})
            elif isinstance(kind, dict):
                out[key] = self.template(path, value, kind)
            else:
                out[key] = self.leaf(path, key, value)
        return out


def _strings(where: str, raw: Any, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UnusableInput(f"Mapping {where}: must map names to values.")
    out = {str(key): value for key, value in raw.items()}
    for key, value in out.items():
        if allowed is not None and value not in allowed:
            raise UnusableInput(
                f"Mapping {where}.{key}: must be one of {', '.join(map(str, allowed))}."
            )
        if allowed is None and not isinstance(value, str):
            raise UnusableInput(f"Mapping {where}.{key}: must be a site code.")
    return out


def _panel(loader: _Loader, where: str, raw: Any, events: dict[str, Any]) -> Panel:
    if not isinstance(raw, dict):
        raise UnusableInput(f"Mapping {where}: must be a mapping.")
    unknown = set(raw) - {"field", "values", "sample_date", "method", "unchecked", "event"}
    if unknown:
        raise UnusableInput(f"Mapping {where}: unknown key(s) {', '.join(sorted(unknown))}.")
    found = loader.dictionary.fields.get(raw.get("field"))
    if found is None or not found.is_checkbox:
        raise UnusableInput(f"Mapping {where}.field: must be a checkbox field of the dictionary.")
    antibodies = loader.values(f"{where}.values", found, raw.get("values")) or {}
    if raw.get("unchecked", "omit") not in ("omit", "negative"):
        raise UnusableInput(f"Mapping {where}.unchecked: must be omit or negative.")
    if raw.get("sample_date") is None:
        raise UnusableInput(f"Mapping {where}.sample_date: required (the date of the panel).")
    event = str(raw.get("event") or "")
    if event and event not in events:
        raise UnusableInput(f"Mapping {where}.event: {event!r} is not one of the events.")
    return Panel(
        found.name,
        antibodies,
        loader.leaf(f"{where}.sample_date", "sample_date", raw["sample_date"]),
        loader.leaf(f"{where}.method", "method", raw.get("method", "other")),
        raw.get("unchecked", "omit"),
        event,
    )


def load_mapping(text: str, dictionary: Dictionary) -> Mapping:
    """Read and check a mapping YAML against the project's data dictionary."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UnusableInput(f"The mapping is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise UnusableInput("The mapping must be a YAML mapping (see docs/examples/redcap/).")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise UnusableInput(f"Mapping: unknown section(s) {', '.join(sorted(map(str, unknown)))}.")
    date_format = raw.get("date_format", DEFAULT_DATE_FORMAT)
    loader = _Loader(dictionary, date_format if isinstance(date_format, str) else "")
    if "%" not in loader.date_format:
        raise UnusableInput('Mapping date_format: must be a strptime format such as "%d/%m/%Y".')
    record_id = raw.get("record_id", dictionary.record_id)
    if record_id not in dictionary.fields:
        raise UnusableInput(f"Mapping record_id: {record_id!r} is not in the data dictionary.")
    patient_id = raw.get("patient_id", "{record}")
    try:
        if not isinstance(patient_id, str) or not patient_id.format(record="1", site="S", dag="d"):
            raise ValueError
    except (KeyError, ValueError, IndexError):
        raise UnusableInput(
            'Mapping patient_id: a template of {record}, {site} and {dag}, e.g. "{site}-{record}".'
        ) from None
    events = _strings("events", raw.get("events"), (*VISIT_KINDS, None))
    repeating: dict[str, tuple[str, dict[str, Any]]] = {}
    for target, spec in (raw.get("repeating") or {}).items():
        where = f"repeating.{target}"
        if target not in REPEATING_TARGETS:
            raise UnusableInput(f"Mapping {where}: must be {', '.join(REPEATING_TARGETS)}.")
        if not isinstance(spec, dict) or spec.get("instrument") not in dictionary.forms:
            raise UnusableInput(f"Mapping {where}.instrument: must be a form of the dictionary.")
        fields = loader.template(f"{where}.fields", spec.get("fields"), SCHEMA[target])
        repeating[spec["instrument"]] = (target, fields)
    panels = raw.get("antibody_panels") or []
    if not isinstance(panels, list):
        raise UnusableInput("Mapping antibody_panels: must be a list.")
    return Mapping(
        record_id=record_id,
        patient_id=patient_id,
        reason=str(raw.get("reason") or DEFAULT_REASON),
        sites=_strings("sites", raw.get("sites")),
        events=events,
        patient=loader.template("patient", raw.get("patient") or {}, SCHEMA["patient"]),
        visit=loader.template("visit", raw.get("visit") or {}, SCHEMA["visit"]),
        repeating=repeating,
        panels=[_panel(loader, f"antibody_panels[{i}]", p, events) for i, p in enumerate(panels)],
        records={
            key: loader.template(key, raw[key], SCHEMA[key])
            for key in PATIENT_RECORDS
            if raw.get(key) is not None
        },
    )
