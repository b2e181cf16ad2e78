"""An ODM 1.3.2 Snapshot file in the registry's OIDs -> submission documents, one per subject.

Each SubjectData becomes a patient of the submission document (docs/data-dictionary.md) with the XML
path of every value, so that the submission readers' errors can be named where they are in the file.
What the reader itself refuses — an unknown StudyEventOID, FormOID or ItemOID, a subject of
another site — fails that subject alone, with its XML path. Values the registry keeps or derives
itself (a visit's status, signatures, response scores, totals, the serological group) are not
imported: the registry recomputes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from crf.models import ALL_HAQ_ITEMS, HAQ, MMT8, MMT_SIDED_GROUPS
from interchange.odm import metadata as md
from interchange.odm import outcome_forms
from interchange.odm.xml import ODM_NS, iterparse, local
from registry.errors import InputError

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
KIND_BY_EVENT = {oid: kind for kind, oid in md.VISIT_EVENTS.items()}
Q = f"{{{ODM_NS}}}"


@dataclass
class Subject:
    index: int  # position in the file, from 0
    key: str
    xml_path: str
    site: str | None
    patient: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)  # document path -> XML path
    errors: list[tuple[str, str]] = field(default_factory=list)
    # FormRepeatKey -> the document's entry: what a suspect treatment's items point to.
    treatments: dict[str, dict[str, Any]] = field(default_factory=dict)
    adverse_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    relations: list[Any] = field(default_factory=list)  # FORM.AE_RELATION forms, resolved last

    def xml_path_of(self, document_path: str) -> str:
        """The XML path of a document path relative to the patient ("visits[1].cmas"), or of
        the nearest enclosing object that has one."""
        path = document_path
        while path:
            if path in self.paths:
                return self.paths[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.xml_path


def _quote(value: str) -> str:
    return "'" + value.replace("'", "&apos;") + "'"


def _number(item: md.ItemSpec, value: str | None) -> Any:
    """A Value as the readers take it: a JSON-like number for numeric items, else the text."""
    if value is None:
        return None
    value = value.strip()
    try:
        if item.data_type == "integer":
            return int(value)
        if item.data_type == "float":
            return int(value) if value.lstrip("-").isdigit() else float(value)
        if item.data_type == "boolean":
            return _BOOLEANS.get(value, value)  # else the reader names it
    except ValueError:
        return value  # the reader names it: "Must be a number."
    return value


class _Form:
    """The items of one FormData: attname -> (value, unit OID, XML path)."""

    def __init__(self, spec: md.FormSpec, path: str, key: str | None = None) -> None:
        self.spec = spec
        self.path = path
        self.key = key  # FormRepeatKey
        self.values: dict[str, tuple[Any, str | None, str]] = {}

    def get(self, name: str) -> Any:
        return self.values.get(name, (None, None, ""))[0]

    def map(self, subject: Subject, document_path: str, name: str) -> None:
        if name in self.values:
            subject.paths[document_path] = self.values[name][2]


def _read_form(subject: Subject, element: Any, path: str) -> _Form | None:
    oid = element.get("FormOID", "")
    spec = md.FORM_BY_OID.get(oid)
    if spec is None:
        subject.errors.append((f"{path}/@FormOID", f"Unknown FormOID {oid!r}."))
        return None
    form = _Form(spec, path, element.get("FormRepeatKey"))
    for g, group in enumerate(element.iter(f"{Q}ItemGroupData"), 1):
        gpath = f"{path}/ItemGroupData[{g}]"
        if group.get("ItemGroupOID") != spec.group_oid:
            subject.errors.append(
                (f"{gpath}/@ItemGroupOID", f"The item group of {oid} is {spec.group_oid}.")
            )
            continue
        for child in group:
            if local(child.tag) != "ItemData":
                continue  # annotations, audit records, signatures: not data
            item_oid = child.get("ItemOID", "")
            ipath = f"{gpath}/ItemData[@ItemOID={_quote(item_oid)}]"
            found = md.item_index().get(item_oid)
            if found is None or found[0] is not spec:
                subject.errors.append((ipath, f"Unknown ItemOID {item_oid!r} in {oid}."))
                continue
            item = found[1]
            if item.derived or item.name in spec.managed:
                continue  # kept or computed by the registry, never imported
            value = None if child.get("IsNull") == "Yes" else child.get("Value")
            ref = child.find(f"{Q}MeasurementUnitRef")
            unit = None if ref is None else ref.get("MeasurementUnitOID")
            form.values[item.name] = (_number(item, value), unit, ipath)
    return form


def _entry(subject: Subject, form: _Form, rel: str) -> dict[str, Any]:
    subject.paths[rel] = form.path
    entry = {}
    for name, (value, _, ipath) in form.values.items():
        subject.paths[f"{rel}.{name}"] = ipath
        if value is not None:
            entry[name] = value
    return entry


def _patient_form(subject: Subject, form: _Form) -> None:
    patient = subject.patient
    for name in ("sex", "diagnosis", "onset_date", "diagnosis_date"):
        form.map(subject, name, name)
        if form.get(name) is not None:
            patient[name] = form.get(name)
    year, month = form.get("birth_year"), form.get("birth_month")
    form.map(subject, "birth_year_month", "birth_year")
    if isinstance(year, int) and isinstance(month, int):
        patient["birth_year_month"] = f"{year:04d}-{month:02d}"
    elif year is not None or month is not None:
        patient["birth_year_month"] = f"{year}-{month}"  # the reader names what is wrong


def _mmt8(subject: Subject, form: _Form, rel: str) -> dict[str, Any]:
    subject.paths[rel] = form.path
    doc: dict[str, Any] = {"scale": form.get("scale")}
    form.map(subject, f"{rel}.scale", "scale")
    if form.get("scale") == MMT8.Scale.UNILATERAL:
        doc["side"] = form.get("side") or "right"
        form.map(subject, f"{rel}.side", "side")
    if form.get("legacy_total") is not None:
        doc["total"] = form.get("legacy_total")
        form.map(subject, f"{rel}.total", "legacy_total")
    side = doc.get("side")
    if form.get("neck_flexors") is not None:
        doc["neck_flexors"] = form.get("neck_flexors")
    form.map(subject, f"{rel}.neck_flexors", "neck_flexors")
    for group in MMT_SIDED_GROUPS:
        if side:
            column = f"{group}_{side}"
            form.map(subject, f"{rel}.{group}", column)
            if form.get(column) is not None:
                doc[group] = form.get(column)
            other = f"{group}_{'left' if side == 'right' else 'right'}"
            if form.get(other) is not None:
                subject.errors.append(
                    (form.values[other][2], f"The unilateral scale grades the {side} side only.")
                )
            continue
        sides = {s: form.get(f"{group}_{s}") for s in ("right", "left")}
        for s in sides:
            form.map(subject, f"{rel}.{group}.{s}", f"{group}_{s}")
        if any(v is not None for v in sides.values()):
            doc[group] = sides
    return doc


def _lab(subject: Subject, form: _Form, visit: dict[str, Any], rel: str) -> None:
    enzyme = form.get("enzyme")
    if not isinstance(enzyme, str) or not enzyme:
        subject.errors.append((form.path, "A lab result names its enzyme (IT.LAB.ENZYME)."))
        return
    labs = visit.setdefault("labs", {})
    if enzyme in labs:
        subject.errors.append((form.path, f"A second result for {enzyme} at this visit."))
        return
    lab_rel = f"{rel}.labs.{enzyme}"
    subject.paths[lab_rel] = form.path
    unit = form.get("unit")
    if unit is None:
        unit_oid = form.values.get("value", (None, None, ""))[1]
        unit = md.UNIT_BY_OID.get(unit_oid or "", "U/L")
    lab = {"unit": unit}
    for name in ("value", "uln"):
        form.map(subject, f"{lab_rel}.{name}", name)
        if form.get(name) is not None:
            lab[name] = form.get(name)
    form.map(subject, f"{lab_rel}.unit", "unit")
    labs[enzyme] = lab


def _haq(subject: Subject, form: _Form, visit: dict[str, Any], rel: str) -> None:
    instrument = form.get("instrument")
    if instrument not in HAQ.Instrument.values:
        path = form.values.get("instrument", (None, None, form.path))[2]
        subject.errors.append((path, f"Must be one of: {', '.join(HAQ.Instrument.values)}."))
        return
    haq_rel = f"{rel}.{instrument}"
    subject.paths[haq_rel] = form.path
    items = {name: form.get(name) for name in ALL_HAQ_ITEMS if form.get(name) is not None}
    for name in ALL_HAQ_ITEMS:
        form.map(subject, f"{haq_rel}.items.{name}", name)
    for code in str(form.get("not_applicable") or "").split():
        items[code] = "na"
    form.map(subject, f"{haq_rel}.items", "not_applicable")
    lists = {key: str(form.get(key) or "").split() for key in ("aids", "help")}
    for key in lists:
        form.map(subject, f"{haq_rel}.{key}", key)
    doc: dict[str, Any] = {}
    if form.get("legacy_score") is not None:
        doc["score"] = form.get("legacy_score")
        form.map(subject, f"{haq_rel}.score", "legacy_score")
        doc.update({k: v for k, v in {"items": items, **lists}.items() if v})
    else:
        doc = {"items": items, **lists}
    visit[instrument] = doc


def _visit(subject: Subject, forms: list[_Form], kind: str, rel: str, path: str) -> dict:
    subject.paths[rel] = path
    visit: dict[str, Any] = {"kind": kind}
    seen: set[str] = set()
    for form in forms:
        oid = form.spec.oid
        if not form.spec.repeating and oid in seen:
            subject.errors.append((form.path, f"{oid} is given twice for this visit."))
            continue
        seen.add(oid)
        if oid == "FORM.VISIT":
            for name in form.spec.fields:
                if name == "kind":
                    if form.get("kind") not in (None, kind):
                        subject.errors.append(
                            (form.values["kind"][2], "Differs from the visit's StudyEventOID.")
                        )
                    continue
                form.map(subject, f"{rel}.{name}", name)
                if form.get(name) is not None:
                    visit[name] = form.get(name)
        elif oid == "FORM.MMT8":
            visit["mmt8"] = _mmt8(subject, form, f"{rel}.mmt8")
        elif oid == "FORM.LAB":
            _lab(subject, form, visit, rel)
        elif oid == "FORM.HAQ":
            _haq(subject, form, visit, rel)
        elif oid not in md.WORKFLOW_FORMS:
            subject.errors.append((form.path, f"{oid} is not a form of a visit."))
    return visit


def _subject(index: int, element: Any, site: str | None) -> Subject:
    key = element.get("SubjectKey", "")
    path = f"/ODM/ClinicalData/SubjectData[@SubjectKey={_quote(key)}]"
    code, _, patient_id = key.rpartition("/")
    ref = element.find(f"{Q}SiteRef")
    ref_code = None if ref is None else ref.get("LocationOID", "").removeprefix("LOC.")
    subject = Subject(index, key, path, code or ref_code or site, {"patient_id": patient_id})
    subject.paths["patient_id"] = f"{path}/@SubjectKey"
    if ref_code and code and ref_code != code:
        subject.errors.append((f"{path}/SiteRef", f"The site of {key!r} is {code}."))
    if site and subject.site != site:
        subject.errors.append((f"{path}/@SubjectKey", f"Not a subject of site {site}."))
    if not subject.site:
        subject.errors.append((f"{path}/@SubjectKey", "Name the site: SITE/PATIENT_ID."))
    patient_events = 0
    visits: list[dict[str, Any]] = []
    for e, event in enumerate(element.findall(f"{Q}StudyEventData"), 1):
        epath = f"{path}/StudyEventData[{e}]"
        oid = event.get("StudyEventOID", "")
        forms = [
            form
            for f, data in enumerate(event.findall(f"{Q}FormData"), 1)
            if (form := _read_form(subject, data, f"{epath}/FormData[{f}]")) is not None
        ]
        if oid == md.PATIENT_EVENT:
            patient_events += 1
            for form in forms:
                _patient_level(subject, form)
        elif oid in KIND_BY_EVENT:
            rel = f"visits[{len(visits)}]"
            visits.append(_visit(subject, forms, KIND_BY_EVENT[oid], rel, epath))
        else:
            subject.errors.append((f"{epath}/@StudyEventOID", f"Unknown StudyEventOID {oid!r}."))
    outcome_forms.resolve(subject)
    if patient_events != 1:
        subject.errors.append((path, f"A subject has one {md.PATIENT_EVENT} StudyEventData."))
    subject.patient["visits"] = visits
    return subject


def _patient_level(subject: Subject, form: _Form) -> None:
    oid = form.spec.oid
    if oid == "FORM.PATIENT":
        _patient_form(subject, form)
    elif oid in ("FORM.AUTOANTIBODY", "FORM.TREATMENT"):
        key = "autoantibodies" if oid == "FORM.AUTOANTIBODY" else "treatments"
        entries = subject.patient.setdefault(key, [])
        entry = _entry(subject, form, f"{key}[{len(entries)}]")
        entries.append(entry)
        if oid == "FORM.TREATMENT" and form.key is not None:
            subject.treatments[form.key] = entry
    elif form.spec in md.OUTCOME_FORMS:
        outcome_forms.read(subject, form)
    elif oid not in md.WORKFLOW_FORMS:
        subject.errors.append((form.path, f"{oid} is a form of a visit, not of the patient."))


def read_odm(stream: IO[bytes], *, site: str | None = None) -> Iterator[Subject]:
    """The subjects of an ODM Snapshot file, one at a time (the file is never held whole).

    Raises UnsafeXML / MalformedXML (xml.py) for a file that cannot be read safely, InputError
    for a file that is not an ODM 1.3.2 Snapshot.
    """
    index = 0
    stack: list[Any] = []  # the open elements, root first
    for event, element in iterparse(stream):
        if event == "start":
            if not stack:
                _check_root(element)
            stack.append(element)
            continue
        stack.pop()
        if element.tag == f"{Q}SubjectData" and len(stack) == 2:
            yield _subject(index, element, site)
            index += 1
            stack[-1].remove(element)  # read: let it go
        elif len(stack) == 1 and element.tag in (f"{Q}Study", f"{Q}AdminData"):
            stack[-1].remove(element)


def _check_root(root: Any) -> None:
    if root.tag != f"{Q}ODM":
        namespace = root.tag.partition("}")[0].lstrip("{") if "}" in root.tag else ""
        message = f"Not an ODM 1.3 file: the root is {local(root.tag)!r} in {namespace!r}."
        raise InputError([("/ODM", message)])
    if root.get("ODMVersion") not in ("1.3.2", "1.3.1", "1.3"):
        raise InputError([("/ODM/@ODMVersion", "Must be 1.3.2.")])
    if root.get("FileType") != "Snapshot":
        raise InputError([("/ODM/@FileType", "Only Snapshot files are imported.")])
