"""`import_redcap mapping-suggest`: a first draft of the mapping from the data dictionary.

Fields are matched to the submission document by their names and labels (MMT-8 groups and
sides, enzymes and their ULN and unit, HAQ items, the globals, the treatment and antibody
forms), and choice lists to the registry's codes by their labels. What it cannot match it
leaves out, or maps to null with a `# check` comment; events and data access groups are not in
a data dictionary, so they are drafted from a record export when one is given. The draft is
meant to be read and corrected, then used with `import_redcap --mapping`.
"""

import json
import re
from collections.abc import Iterable

from crf.models import HAQ_ITEMS, LabResult
from interchange.redcap.dictionary import Dictionary, Field
from interchange.redcap.mapping import DEFAULT_DATE_FORMAT
from interchange.redcap.records import Records
from registry.vocabularies import (
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    Sex,
)
from scoring.instruments import HAQ_CATEGORIES

DATE_FORMATS = {"date_dmy": "%d/%m/%Y", "date_mdy": "%m/%d/%Y"}
ENZYMES = {
    "ck": ("ck", "creatine kinase", "cpk"),
    "aldolase": ("aldolase", "aldo"),
    "ldh": ("ldh", "lactate dehydrogenase"),
    "ast": ("ast", "aspartate"),
    "alt": ("alt", "alanine"),
}
VISIT_VALUES = (
    ("physician_global", (("md", "global"), ("physician", "global"), ("phys", "global"))),
    ("patient_global", (("pt", "global"), ("patient", "global"))),
    ("extramuscular", (("extramuscular",), ("extra", "muscular"))),
    ("physician_damage", (("damage",),)),
    ("cmas", (("cmas",),)),
    ("fvc_percent", (("fvc",),)),
    ("dlco_percent", (("dlco",),)),
    ("glucocorticoid_mg_per_day", (("pred",), ("glucocorticoid",), ("steroid",))),
)
SIDES = {"right": ("r", "right", "rt"), "left": ("l", "left", "lt")}
GROUP_WORDS = {
    "deltoid": ("deltoid",),
    "biceps": ("biceps",),
    "wrist_extensors": ("wrist",),
    "gluteus_maximus": ("gluteus_maximus", "glut_max", "gmax"),
    "gluteus_medius": ("gluteus_medius", "glut_med", "gmed"),
    "quadriceps": ("quadriceps", "quad"),
    "ankle_dorsiflexors": ("ankle", "dorsiflexors"),
}
TREATMENT_FIELDS = (
    ("drug_other", ("other",)),
    ("dose_unit", ("unit",)),
    ("stop_reason", ("reason",)),
    ("start_date", ("start",)),
    ("stop_date", ("stop",)),
    ("drug", ("drug",)),
    ("dose", ("dose",)),
    ("route", ("route",)),
    ("frequency", ("frequency", "freq")),
)
ANTIBODY_FIELDS = (
    ("sample_date", ("date",)),
    ("result", ("result",)),
    ("method", ("method",)),
    ("intensity", ("intensity",)),
    ("antibody", ("name", "antibody", "ab")),
)
VOCABULARIES = {
    "sex": Sex,
    "diagnosis": Diagnosis,
    "drug": Drug,
    "route": Route,
    "antibody": Antibody,
    "result": AntibodyResult,
    "method": AntibodyMethod,
}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("γ", "gamma")).strip("_")


def _words(found: Field) -> set[str]:
    return set(_norm(found.name).split("_")) | set(_norm(found.label).split("_"))


def _has(found: Field, *groups: Iterable[str]) -> bool:
    """Whether the field's name or label has all the words of one of the groups."""
    words = _words(found)
    text = _norm(found.name) + "__" + _norm(found.label)
    return any(all(w in words or ("_" in w and w in text) for w in group) for group in groups)


def _is_date(found: Field) -> bool:
    return found.validation.startswith("date")


def _code(label: str, codes: list[tuple[str, str]]) -> str | None:
    want = _norm(label)
    for code, text in codes:
        if want in (_norm(code), _norm(text)):
            return code
    for code, text in codes:
        if want and (_norm(text).startswith(want) or want.startswith(_norm(text))):
            return code
    return None


class _Draft:
    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.lines: list[str] = []
        self.used: set[str] = set()

    def leaf(self, indent: int, key: str, found: Field, codes: list[tuple[str, str]] | None = None,
             ) -> None:  # fmt: skip
        pad = "  " * indent
        self.used.add(found.name)
        extra = ""
        if _is_date(found) and found.validation in DATE_FORMATS:
            extra = f', date_format: "{DATE_FORMATS[found.validation]}"'
        if not codes or not found.choices:
            self.lines.append(f"{pad}{key}: {{field: {found.name}{extra}}}")
            return
        self.lines.append(f"{pad}{key}:")
        self.lines.append(f"{pad}  field: {found.name}")
        self.lines.append(f"{pad}  values:")
        for code, label in found.choices.items():
            match = _code(label, codes)
            note = "" if match else f"  # check: no registry code for {label!r}"
            value = json.dumps(match) if match else "null"
            self.lines.append(f"{pad}    {json.dumps(code)}: {value}{note}")

    def pick(self, fields: Iterable[Field], *groups: Iterable[str], date: bool | None = None,
             ) -> Field | None:  # fmt: skip
        for found in fields:
            if found.name in self.used or found.is_calc:
                continue
            if date is not None and _is_date(found) != date:
                continue
            if _has(found, *groups):
                return found
        return None


def _choices(vocabulary: type) -> list[tuple[str, str]]:
    return list(vocabulary.choices)


def _section(draft: _Draft, indent: int, fields: list[Field], rules: Iterable[tuple[str, tuple]],
             ) -> None:  # fmt: skip
    for key, words in rules:
        found = draft.pick(fields, *[(w,) for w in words], date=key.endswith("_date") or None)
        if found is not None:
            vocabulary = VOCABULARIES.get(key)
            draft.leaf(indent, key, found, _choices(vocabulary) if vocabulary else None)


def suggest_mapping(dictionary: Dictionary, records: Records | None = None) -> str:
    """A draft mapping YAML for this data dictionary (and the events and DAGs of `records`)."""
    draft = _Draft(dictionary)
    out = draft.lines
    fields = [f for f in dictionary.fields.values() if f.name != dictionary.record_id]
    repeating = {
        form: target
        for form in dictionary.forms
        for target, words in (("treatments", ("treat", "medic", "drug")),
                              ("autoantibodies", ("antibod", "serolog")))
        if any(w in form.lower() for w in words)
    }  # fmt: skip
    plain = [f for f in fields if f.form not in repeating]
    out += [
        "# Draft mapping from import_redcap mapping-suggest: read and correct it before use",
        "# (docs/examples/redcap/README.md documents every key).",
        f"record_id: {dictionary.record_id}",
        'patient_id: "{site}-{record}"',
        f'date_format: "{DEFAULT_DATE_FORMAT}"',
    ]
    if dictionary.calc_fields:
        out.append(f"# Calculated fields, never imported (the registry computes its scores): "
                   f"{', '.join(dictionary.calc_fields)}")  # fmt: skip
    out.append("sites:  # data access group -> the registry's site code")
    for dag in sorted({row.dag for rows in (records.rows.values() if records else ())
                       for row in rows if row.dag}):  # fmt: skip
        out.append(f"  {dag}: {json.dumps(dag[:3].upper())}  # check: the site's code")
    out.append("events:  # event name -> baseline, follow_up, unscheduled, or null (not a visit)")
    events = {row.event for rows in (records.rows.values() if records else ()) for row in rows}
    for event in sorted(events):
        low = event.lower()
        kind = next((k for k, words in (("baseline", ("baseline", "screen", "enrol")),
                     ("unscheduled", ("unsched", "flare"))) if any(w in low for w in words)),
                    "follow_up")  # fmt: skip
        out.append(f"  {json.dumps(event)}: {kind}")
    out.append("patient:")
    _section(draft, 1, plain, (("sex", ("sex", "gender")), ("birth_year_month", ("dob", "birth")),
             ("onset_date", ("onset",)), ("diagnosis_date", ("diagnosis",)),
             ("diagnosis", ("diagnosis", "dx"))))  # fmt: skip
    _visit(draft, plain)
    if repeating:
        out.append("repeating:")
        for form, target in repeating.items():
            out += [f"  {target}:", f"    instrument: {form}", "    fields:"]
            own = [f for f in fields if f.form == form]
            _section(draft, 3, own, TREATMENT_FIELDS if target == "treatments" else ANTIBODY_FIELDS)
    return "\n".join(out) + "\n"


def _visit(draft: _Draft, fields: list[Field]) -> None:
    out = draft.lines
    out.append("visit:")
    found = draft.pick(fields, ("visit", "date"), date=True)
    if found is not None:
        draft.leaf(1, "visit_date", found)
    for key, groups in VISIT_VALUES:
        found = draft.pick([f for f in fields if not f.choices], *groups)
        if found is not None:
            draft.leaf(1, key, found)
    mmt = [f for f in fields if _has(f, ("mmt",), ("muscle", "testing"))]
    neck = draft.pick(mmt, ("neck",))
    if neck is not None:
        out += ["  mmt8:", "    scale: bilateral"]
        draft.leaf(2, "neck_flexors", neck)
        for group, words in GROUP_WORDS.items():
            sides = {side: draft.pick(mmt, *[(w, s) for w in words for s in short])
                     for side, short in SIDES.items()}  # fmt: skip
            if all(sides.values()):
                out.append(f"    {group}:")
                for side, side_field in sides.items():
                    assert side_field is not None
                    draft.leaf(3, side, side_field)
    labs: list[tuple[str, dict[str, Field]]] = []
    for enzyme, words in ENZYMES.items():
        parts: dict[str, Field] = {}
        for part, extra in (("uln", ("uln",)), ("unit", ("unit",)), ("value", ())):
            found = draft.pick(fields, *[(w, *extra) for w in words])
            if found is not None and not (part == "value" and found.choices):
                parts[part] = found
        if "value" in parts:
            labs.append((enzyme, parts))
    if labs:
        out.append("  labs:")
        for enzyme, parts in labs:
            out.append(f"    {enzyme}:")
            for part, found in parts.items():
                codes = [(u, u) for u in LabResult.Unit.values] if part == "unit" else None
                draft.leaf(3, part, found, codes)
    items = [(item, draft.pick(fields, ("haq", item))) for item in HAQ_ITEMS]
    if any(found for _, found in items):
        out += ["  haq:", "    items:"]
        for item, found in items:
            if found is not None:
                draft.leaf(3, item, found)
        categories = [(c, c) for c in HAQ_CATEGORIES]
        for key in ("aids", "help"):
            found = draft.pick([f for f in fields if f.is_checkbox], ("haq", key), (key,))
            if found is not None:
                draft.leaf(2, key, found, categories)
