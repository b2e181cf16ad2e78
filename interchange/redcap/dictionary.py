"""A REDCap project's data dictionary (its 18-column CSV), read into fields with their choices.

Unusable input — not a data dictionary, a column missing, a choice list that does not parse —
raises UnusableInput: the import cannot start (the command exits 2, the page shows the message).
"""

import csv
import io
from dataclasses import dataclass, field

COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
# Field types whose values are codes of a choice list.
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox", "yesno", "truefalse"})
FIXED_CHOICES = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}
# Types that hold no value of a record.
NO_VALUE_TYPES = frozenset({"descriptive"})


class UnusableInput(Exception):
    """An input file the import cannot use at all (malformed CSV, bad mapping)."""


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)  # code -> label, in order
    validation: str = ""

    @property
    def is_calc(self) -> bool:
        return self.type == "calc"

    @property
    def is_checkbox(self) -> bool:
        return self.type == "checkbox"


@dataclass
class Dictionary:
    fields: dict[str, Field]  # by name, in the dictionary's order

    @property
    def record_id(self) -> str:
        """The record id field: the first field of the project."""
        return next(iter(self.fields))

    @property
    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields.values()))

    @property
    def calc_fields(self) -> list[str]:
        return [name for name, f in self.fields.items() if f.is_calc]


def parse_choices(text: str, where: str) -> dict[str, str]:
    """`1, Female | 2, Male` as {"1": "Female", "2": "Male"}."""
    choices: dict[str, str] = {}
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            raise UnusableInput(f"{where}: the choice {part!r} is not 'code, label'.")
        choices[code.strip()] = label.strip()
    return choices


def csv_rows(text: str, what: str) -> list[list[str]]:
    """The rows of a CSV text; UnusableInput if it is not one."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise UnusableInput(f"The {what} is not a text CSV file (it contains NUL bytes).")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise UnusableInput(f"The {what} is not a well-formed CSV file: {exc}.") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise UnusableInput(f"The {what} is empty.")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise UnusableInput(
                f"The {what} is not a well-formed CSV file: row {number} has {len(row)} "
                f"columns, the header {width}."
            )
    return rows


def read_dictionary(text: str) -> Dictionary:
    rows = csv_rows(text, "data dictionary")
    header = [cell.strip() for cell in rows[0]]
    if len(header) != len(COLUMNS) or header[0] != COLUMNS[0]:
        raise UnusableInput(
            f"The data dictionary must have REDCap's {len(COLUMNS)} columns, starting with "
            f"{COLUMNS[0]!r}; this one has {len(header)} starting with {header[0]!r}."
        )
    fields: dict[str, Field] = {}
    for number, row in enumerate(rows[1:], start=2):
        name, form, _section, kind, label, choices_text = (cell.strip() for cell in row[:6])
        validation = row[7].strip()
        where = f"Data dictionary row {number} ({name or 'no name'})"
        if not name or not form or not kind:
            raise UnusableInput(f"{where}: the field name, form name and field type are required.")
        if name in fields:
            raise UnusableInput(f"{where}: the field is defined twice.")
        if kind in NO_VALUE_TYPES:
            continue
        choices: dict[str, str] = {}
        if kind in FIXED_CHOICES:
            choices = dict(FIXED_CHOICES[kind])
        elif kind in CHOICE_TYPES:
            choices = parse_choices(choices_text, where)
            if not choices:
                raise UnusableInput(f"{where}: a {kind} field needs a choice list.")
        fields[name] = Field(name, form, kind, label, choices, validation)
    if not fields:
        raise UnusableInput("The data dictionary defines no field.")
    return Dictionary(fields)
