"""docs/data-dictionary.md, written from the code that validates and exports the data.

The submission document's fields come from the OpenAPI components (api.schema), which are built
from the readers' keys and the models' vocabularies; the report downloads' columns from
reports.dictionary, which the downloads themselves are built from; the codes from
registry.vocabularies. So the page cannot describe a field the code does not have.
`python manage.py data_dictionary` writes it; tests/api/test_data_dictionary.py fails when the
committed page differs from what the code gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from api.schema.examples import SUBMISSION_EXAMPLE
from api.schema.fields import Schema
from api.schema.hooks import components
from registry import vocabularies
from reports import dictionary

PATH = Path(settings.BASE_DIR) / "docs" / "data-dictionary.md"

# Units of the document's numeric fields, by key: the schema states ranges, the unit is
# otherwise only in prose. A numeric field without a unit here is a count, a grade or an index.
UNITS = {
    "physician_global": "cm (VAS)",
    "patient_global": "cm (VAS)",
    "extramuscular": "cm (VAS)",
    "physician_damage": "cm (VAS)",
    "patient_global_damage": "cm (VAS)",
    "fvc_percent": "% predicted",
    "dlco_percent": "% predicted",
    "glucocorticoid_mg_per_day": "mg/day, prednisone equivalent",
    "value": "the result's `unit`",
    "uln": "the result's `unit`",
    "dose": "`dose_unit`",
    "ctcae_grade": "CTCAE grade",
}
# Sibling keys with one and the same schema are listed as one row when there are at least this
# many (the HAQ items, the enzymes, the MMT-8 groups).
SAME_SHAPE_MIN = 4
# The vocabularies listed with their labels, in the order a reader meets them.
VOCABULARIES: tuple[type[models.TextChoices], ...] = (
    vocabularies.Sex,
    vocabularies.Diagnosis,
    vocabularies.Antibody,
    vocabularies.AntibodyResult,
    vocabularies.AntibodyMethod,
    vocabularies.SerologyGroup,
    vocabularies.Drug,
    vocabularies.DrugClass,
    vocabularies.Route,
    vocabularies.StopReason,
)


@dataclass(frozen=True)
class Row:
    path: str
    type: str
    values: str
    unit: str
    required: bool
    description: str


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _codes(values: Iterable[Any]) -> str:
    return ", ".join(f"`{value}`" for value in values if value is not None)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class _Walker:
    """Flattens the document's components into rows, one table per component."""

    def __init__(self, schemas: dict[str, Schema]) -> None:
        self.schemas = schemas
        self.seen: set[str] = set()
        self.queue: list[str] = []

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return {**self.schemas[name], **{k: v for k, v in schema.items() if k != "$ref"}}, name
        if len(schema.get("allOf", ())) == 1:
            inner, name = self.resolve(schema["allOf"][0])
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return {**inner, **rest}, name
        return schema, None

    def component(self, name: str) -> None:
        """Give the component a table of its own, after the ones already queued."""
        if name not in self.seen:
            self.seen.add(name)
            self.queue.append(name)

    def run(self, root: str) -> Iterator[tuple[str, list[Row]]]:
        self.component(root)
        while self.queue:
            name = self.queue.pop(0)
            rows: list[Row] = []
            self.object_rows(self.schemas[name], "", rows)
            yield name, rows

    def object_rows(self, schema: Schema, prefix: str, rows: list[Row]) -> None:
        if "oneOf" in schema:  # MMT-8: grades or a legacy total, on either scale
            for number, variant in enumerate(schema["oneOf"], start=1):
                shape = f"*shape {number}*"
                rows.append(Row(shape, "object", "", "", False, variant.get("description", "")))
                self.object_rows(variant, prefix, rows)
            return
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        groups: dict[str, list[str]] = {}
        for key, value in props.items():
            groups.setdefault(json.dumps(value, sort_keys=True), []).append(key)
        done: set[str] = set()
        for key, value in props.items():
            if key in done:
                continue
            same = groups[json.dumps(value, sort_keys=True)]
            if len(same) >= SAME_SHAPE_MIN:
                done.update(same)
                label = f"<{' | '.join(same)}>" if len(same) <= 8 else "<item>"
                note = "" if len(same) <= 8 else f" One key per item: {_codes(same)}."
                self.field_rows(f"{prefix}{label}", key, value, False, rows, note)
            else:
                self.field_rows(f"{prefix}{key}", key, value, key in required, rows, "")

    def field_rows(
        self, path: str, key: str, schema: Schema, required: bool, rows: list[Row], note: str
    ) -> None:
        resolved, name = self.resolve(schema)
        description = resolved.get("description", "")
        if resolved.get("type") == "array":
            item, item_name = self.resolve(resolved.get("items", {}))
            if item_name and item.get("type") == "object":
                self.component(item_name)
                kind, values = "list of objects", f"see [{item_name}](#{item_name.lower()})"
            elif item.get("type") == "object":
                rows.append(Row(path, "list of objects", "", "", required, description + note))
                self.object_rows(item, f"{path}[].", rows)
                return
            else:
                kind, values = f"list of {item.get('type', 'values')}", _codes(item.get("enum", ()))
            rows.append(Row(path, kind, values, "", required, description + note))
            return
        if name and (resolved.get("type") == "object" or "oneOf" in resolved):
            self.component(name)
            see = f"see [{name}](#{name.lower()})"
            rows.append(Row(path, "object", see, "", required, description + note))
            return
        if resolved.get("type") == "object" or "oneOf" in resolved:
            rows.append(Row(path, "object", "", "", required, description + note))
            self.object_rows(resolved, f"{path}.", rows)
            return
        kind, values, unit = self.kind(resolved), self.values(resolved), UNITS.get(key, "")
        rows.append(Row(path, kind, values, unit, required, description + note))

    @staticmethod
    def kind(schema: Schema) -> str:
        if schema.get("format") == "date":
            return "date"
        kind = str(schema.get("type", "any"))
        return f"{kind} or null" if schema.get("nullable") else kind

    @staticmethod
    def values(schema: Schema) -> str:
        if "enum" in schema:
            return _codes(schema["enum"])
        if schema.get("format") == "date":
            return "`YYYY-MM-DD`"
        if "pattern" in schema:
            return f"pattern `{schema['pattern']}`"
        parts = []
        if "minimum" in schema:
            low = _number(schema["minimum"])
            high = _number(schema["maximum"]) if "maximum" in schema else "…"
            prefix = "> " if schema.get("exclusiveMinimum") else ""
            parts.append(f"{prefix}{low} – {high}" if not prefix else f"> {low}, ≤ {high}")
        if "maxLength" in schema:
            parts.append(f"up to {schema['maxLength']} characters")
        return "; ".join(parts)


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _row_cells(row: Row) -> tuple[str, ...]:
    path = row.path if row.path.startswith("*") else f"`{row.path}`"  # "*shape 1*" is no key
    required = "yes" if row.required else ""
    return (path, row.type, row.values, row.unit, required, row.description)


def _document() -> list[str]:
    schemas = components()
    lines: list[str] = []
    for name, rows in _Walker(schemas).run("SubmissionDocument"):
        lines += ["", f"### {name}", ""]
        schema = schemas[name]
        if schema.get("description"):
            lines += [_cell(schema["description"]), ""]
        lines += _table(
            ("field", "type", "values or range", "unit", "required", "description"),
            (_row_cells(row) for row in rows),
        )
    return lines


def _columns(title: str, intro: str, columns: Iterable[dictionary.Column]) -> list[str]:
    lines = ["", f"### {title}", "", intro, ""]
    return lines + _table(("column", "meaning"), ((f"`{c.name}`", c.description) for c in columns))


def render() -> str:
    """The whole page, as committed in docs/data-dictionary.md."""
    lines = [
        "# Data dictionary",
        "",
        "*Written by `python manage.py data_dictionary` from `api/schema/`,",
        "`reports/dictionary.py` and `registry/vocabularies.py`: change those, not this page",
        "(`tests/api/test_data_dictionary.py` fails when it is out of date).*",
        "",
        "Every field of the submission document (what sites send to `POST /api/v1/submissions/`,",
        "what the API gives back in the same shape, and what the importers map onto), every code",
        "it uses, and every column of the report downloads. The rules behind the computed values",
        "are in [scoring.md](scoring.md), [classification.md](classification.md) and",
        "[outcomes.md](outcomes.md); the API itself in [api.md](api.md).",
        "",
        "## Submission document",
        "",
        "A JSON object: the site's code and a list of patients, each with everything nested in it.",
        "Keys are the site's own — `site` and `patient_id`, and within a patient the visit date —",
        "so sending a document twice changes nothing. Codes are fixed (extended, never renamed);",
        "labels are for people. Every field marked `or null` may also be left out. Paths in error",
        "messages read like `patients[0].visits[1].labs.ck.uln`. Enzyme units are `U/L` or",
        "`ukat/L` (1 µkat/L = 60 U/L), with value and ULN in the same unit.",
        "",
        "An example:",
        "",
        "```json",
        json.dumps(SUBMISSION_EXAMPLE, indent=1, ensure_ascii=False),
        "```",
        *_document(),
        "",
        "## Codes",
        "",
        "The vocabularies of `registry/vocabularies.py`, with the labels the pages show. The",
        "serological group and the drug class are derived, never sent.",
    ]
    for choices in VOCABULARIES:
        lines += ["", f"### {choices.__name__}", ""]
        lines += _table(("code", "label"), ((f"`{v}`", str(label)) for v, label in choices.choices))
    lines += [
        "",
        "## Report downloads",
        "",
        "The columns of the CSV, XLSX and PDF downloads of the reports, from",
        "`reports/dictionary.py` (which the downloads are built from). Percentages come with 95 %",
        "Wilson intervals; counts of fewer than 5 patients that include another site's are",
        "withheld for everyone but data managers.",
        "",
        "### Definitions",
        "",
        *_table(("term", "definition"), dictionary.RULES),
        *_columns(
            "Outcomes by treatment: summary",
            "One row per treatment (drug or class) and stratum.",
            dictionary.SUMMARY_COLUMNS,
        ),
        *_columns(
            "Outcomes by treatment: endpoint columns",
            "Added to the summary when an endpoint is chosen (`endpoint=NAME`).",
            dictionary.ENDPOINT_COLUMNS,
        ),
        *_columns(
            "Outcomes by treatment: episodes",
            "One row per treatment episode of your own sites.",
            dictionary.EPISODE_COLUMNS,
        ),
        *_columns(
            "Long export",
            "One row per visit, reference visit and core set measure, with the values as scored.",
            dictionary.LONG_COLUMNS,
        ),
        *_columns(
            "Survival by treatment",
            "One row per treatment and stratum; W stands for each of 26, 52 and 104.",
            dictionary.SURVIVAL_DICTIONARY,
        ),
        *_columns(
            "Safety by treatment",
            "One row per treatment and stratum; CATEGORY and CAUSE stand for each code.",
            dictionary.SAFETY_DICTIONARY,
        ),
    ]
    return "\n".join(lines) + "\n"
