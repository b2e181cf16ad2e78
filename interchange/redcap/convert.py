"""A REDCap record (its rows) as one patient of the submission document, and where each value
came from.

The document is what a site would send to the API; it is then read by the submission readers
and stored by the one patient-document writer (crf.submission). This module only moves and
types values: a code outside the field's choice list, a date not in the mapping's format or a
number that is not one is an Issue here; every clinical rule is the readers'. `Origin` keeps,
for every JSON path of the document, the REDCap event, instance and field it came from, so the
readers' errors can be reported in REDCap's terms.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from interchange.redcap.dictionary import Dictionary
from interchange.redcap.mapping import Leaf, Mapping, Panel
from interchange.redcap.records import DAG, EVENT, REPEAT_INSTRUMENT, Issue, Row
from registry.documents import join

_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\])$")


class _Bad(Exception):
    """A value that cannot be typed; its message names what is wrong."""


@dataclass
class Origin:
    """JSON path of the document -> (event, instance, field) of the record."""

    record: str
    root: tuple[str, str, str]
    paths: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def locate(self, path: str, message: str) -> Issue:
        """The issue of a reader's error at `path`, at the REDCap field it came from."""
        while path and path not in self.paths:
            match = _LAST_STEP.search(path)
            path = path[: match.start()] if match else ""
        event, instance, name = self.paths.get(path, self.root)
        return Issue(self.record, event, name, message, instance)


@dataclass
class Converted:
    record: str
    dag: str
    document: dict[str, Any] | None  # None when there are issues
    origin: Origin
    issues: list[Issue] = field(default_factory=list)


_INTEGER = re.compile(r"-?\d+\Z")
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z")


_BOOLEANS = {"1": True, "0": False}


def _number(raw: str, factor: Decimal | None) -> int | float:
    """A number as the JSON readers take it (written plainly: no spaces, no thousands marks)."""
    if factor is None and _INTEGER.match(raw):
        return int(raw)
    if not _DECIMAL.match(raw):
        raise _Bad(f"{raw!r} is not a number.")
    return float(raw) if factor is None else float(Decimal(raw) * factor)


class _Builder:
    def __init__(self, dictionary: Dictionary, mapping: Mapping, origin: Origin) -> None:
        self.dictionary = dictionary
        self.mapping = mapping
        self.origin = origin
        self.issues: list[Issue] = []

    def issue(self, row: Row, name: str, message: str) -> None:
        self.issues.append(Issue(row.record, row.event, name, message, row.instance))

    def value(self, leaf: Leaf, row: Row) -> tuple[Any, bool]:
        """The leaf's value for this row, and whether it came from the record."""
        if not leaf.field:
            return leaf.constant, False
        found = self.dictionary.fields[leaf.field]
        if found.is_checkbox:
            codes = row.checked.get(leaf.field, set())
            mapped = [
                (leaf.values or {}).get(code, code) for code in found.choices if code in codes
            ]
            mapped = [value for value in mapped if value is not None]
            return mapped, bool(mapped)
        raw = row.values.get(leaf.field, "")
        if raw == "":
            return None, False
        if found.choices and raw not in found.choices:
            listed = ", ".join(found.choices)
            raise _Bad(f"Code {raw!r} is not one of the field's choices ({listed}).")
        if leaf.values is not None:
            value = leaf.values[raw]
            return value, value is not None
        if leaf.target in ("date", "year_month"):
            try:
                when = datetime.strptime(raw, leaf.date_format).date()
            except ValueError:
                raise _Bad(
                    f"{raw!r} is not a date as {leaf.date_format} (the mapping's date_format)."
                ) from None
            if leaf.target == "year_month":
                return f"{when.year:04d}-{when.month:02d}", True
            return when.isoformat(), True
        if leaf.target == "number":
            return _number(raw, leaf.factor), True
        if leaf.target == "boolean":
            if raw not in _BOOLEANS:
                raise _Bad(f"{raw!r} is not yes (1) or no (0): map its codes with `values`.")
            return _BOOLEANS[raw], True
        return raw, True

    def fill(self, template: dict[str, Any], row: Row, path: str) -> tuple[dict[str, Any], bool]:
        """The object of a template for this row, and whether any value came from the record."""
        out: dict[str, Any] = {}
        present = False
        for key, node in template.items():
            here = f"{path}.{key}" if path else key
            if isinstance(node, dict):
                child, given = self.fill(node, row, here)
                if given:
                    out[key] = child
                    present = True
                continue
            try:
                value, given = self.value(node, row)
            except _Bad as exc:
                self.issue(row, node.field, str(exc))
                continue
            if node.field and value is not None:
                self.origin.paths[here] = (row.event, row.instance, node.field)
            if value is not None:
                out[key] = value
            present |= given
        return out, present

    def panel(self, panel: Panel, row: Row, document: dict[str, Any]) -> None:
        codes = row.checked.get(panel.field, set())
        try:
            sample_date, dated = self.value(panel.sample_date, row)
            method, _ = self.value(panel.method, row)
        except _Bad as exc:
            self.issue(row, panel.sample_date.field, str(exc))
            return
        if not codes and not dated:
            return
        if not dated:
            name = panel.sample_date.field or panel.field
            self.issue(row, name, f"The date of the panel is required when {panel.field} is given.")
            return
        for code, antibody in panel.antibodies.items():
            if antibody is None or (code not in codes and panel.unchecked == "omit"):
                continue
            path = join("autoantibodies", len(document["autoantibodies"]))
            self.origin.paths[path] = (row.event, row.instance, panel.field)
            self.origin.paths[join(path, "sample_date")] = (
                row.event, row.instance, panel.sample_date.field or panel.field
            )  # fmt: skip
            document["autoantibodies"].append(
                {"antibody": antibody, "result": "positive" if code in codes else "negative",
                 "method": method, "sample_date": sample_date}
            )  # fmt: skip


def convert_record(
    record: str, rows: list[Row], dictionary: Dictionary, mapping: Mapping, longitudinal: bool
) -> Converted:
    """One record as a patient document (or its issues)."""
    origin = Origin(record, (rows[0].event, "", mapping.record_id))
    builder = _Builder(dictionary, mapping, origin)
    document: dict[str, Any] = {
        "patient_id": "",
        "reason": mapping.reason,
        "autoantibodies": [],
        "treatments": [],
        "visits": [],
    }
    for target, _ in mapping.repeating.values():
        document.setdefault(target, [])
    own_fields = {**mapping.patient, **mapping.records}  # the record's own rows feed these
    for key, leaf in own_fields.items():
        origin.paths[key] = (rows[0].event, "", getattr(leaf, "field", "") or mapping.record_id)
    patient: dict[str, Any] = {}
    given_at: dict[str, str] = {}
    dags = {row.dag for row in rows if row.dag}
    for row in rows:
        if longitudinal and row.event not in mapping.events:
            builder.issue(row, EVENT, f"Unknown event {row.event!r}: the mapping's events "
                          "do not say what it is.")  # fmt: skip
            continue
        kind = mapping.events.get(row.event) if longitudinal else mapping.events.get("", "baseline")
        if row.instrument:
            if row.instrument in mapping.repeating:
                target, template = mapping.repeating[row.instrument]
                path = join(target, len(document[target]))
                entry, given = builder.fill(template, row, path)
                if "related_to" in entry:  # an adverse event's one suspect treatment
                    entry["related_to"] = [entry["related_to"]]
                if given:
                    origin.paths[path] = (row.event, row.instance, REPEAT_INSTRUMENT)
                    document[target].append(entry)
            elif row.instrument not in dictionary.forms:
                builder.issue(row, REPEAT_INSTRUMENT, f"Unknown instrument {row.instrument!r}.")
            continue
        own, _ = builder.fill(own_fields, row, "")
        for key, value in own.items():
            if key in patient and patient[key] != value:
                builder.issue(row, origin.paths[key][2], f"Differs from the value given at "
                              f"event {given_at[key]!r}.")  # fmt: skip
            elif key not in patient:
                patient[key] = value
                given_at[key] = row.event
        for panel in mapping.panels:
            if not panel.event or panel.event == row.event:
                builder.panel(panel, row, document)
        if kind is not None:
            path = join("visits", len(document["visits"]))
            visit, given = builder.fill(mapping.visit, row, path)
            if given:
                date_field = getattr(mapping.visit.get("visit_date"), "field", "") or EVENT
                origin.paths[path] = (row.event, row.instance, date_field)
                document["visits"].append({"kind": kind, **visit})
    if len(dags) > 1:
        builder.issue(rows[0], DAG, f"The record is in several data access groups: {sorted(dags)}.")
    document.update(patient)
    issues = builder.issues
    return Converted(record, next(iter(dags), ""), None if issues else document, origin, issues)
