"""A REDCap record export — flat or EAV CSV — read into rows grouped by record.

Flat: one row per record × event × repeat instance, a column per field, checkbox fields as one
`field___code` column per choice (1 checked, 0 not), `<form>_complete` status columns. EAV: one
row per value, `record, redcap_event_name, field_name, value` (and the repeat columns when the
project repeats), a checked checkbox as its code. Which of the two a file is, its header says.

What is wrong with the file as a whole (not a CSV, no record column) raises UnusableInput; what
is wrong in one record (a column the dictionary does not define, a checkbox value other than
0/1) is an Issue of that record, which is then not stored.
"""

from dataclasses import dataclass, field

from interchange.redcap.dictionary import Dictionary, UnusableInput, csv_rows

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
SPECIAL = frozenset({EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, DAG, "redcap_survey_identifier"})
EAV_COLUMNS = ("record", EVENT, "field_name", "value")
CHECKBOX_SEPARATOR = "___"


@dataclass(frozen=True)
class Issue:
    """An error of one record: where in REDCap (event, field, instance) and what is wrong."""

    record: str
    event: str
    field: str
    message: str
    instance: str = ""


@dataclass
class Row:
    """One record × event × repeat instance: its values and its checked checkbox codes."""

    record: str
    event: str
    instrument: str = ""
    instance: str = ""
    values: dict[str, str] = field(default_factory=dict)
    checked: dict[str, set[str]] = field(default_factory=dict)
    dag: str = ""


@dataclass
class Records:
    """The rows of each record, records in the order of the file; and their issues."""

    kind: str  # "flat" or "eav"
    longitudinal: bool
    rows: dict[str, list[Row]] = field(default_factory=dict)
    issues: dict[str, list[Issue]] = field(default_factory=dict)

    def issue(self, row: Row, name: str, message: str) -> None:
        self.issues.setdefault(row.record, []).append(
            Issue(row.record, row.event, name, message, row.instance)
        )


def _checkbox(dictionary: Dictionary, column: str) -> tuple[str, str] | None:
    """(field, code) of a `field___code` column of a checkbox field."""
    name, separator, code = column.partition(CHECKBOX_SEPARATOR)
    found = dictionary.fields.get(name)
    if not separator or found is None or not found.is_checkbox:
        return None
    return name, code


def _form_status(dictionary: Dictionary, column: str) -> bool:
    return column.endswith("_complete") and column[: -len("_complete")] in dictionary.forms


def _set_value(records: Records, dictionary: Dictionary, row: Row, name: str, value: str) -> None:
    """One value of a row, by its column (flat) or field name (EAV)."""
    if name == DAG:
        row.dag = value
        return
    if name in SPECIAL or _form_status(dictionary, name) or name.endswith("_timestamp"):
        return
    known = dictionary.fields.get(name)
    if known is not None and known.is_checkbox:
        # EAV: the code of a checked box.
        if value not in known.choices:
            records.issue(row, name, f"Code {value!r} is not one of the field's choices.")
        else:
            row.checked.setdefault(name, set()).add(value)
        return
    if known is not None:
        row.values[name] = value
        return
    box = _checkbox(dictionary, name)
    if box is None:
        records.issue(row, name, "Unknown field: the data dictionary does not define it.")
        return
    box_field, code = box
    choices = {c.lower(): c for c in dictionary.fields[box_field].choices}
    if code.lower() not in choices:
        records.issue(row, name, f"Code {code!r} is not one of the choices of {box_field}.")
        return
    if value not in ("0", "1"):
        records.issue(row, name, f"A checkbox column holds 0 or 1, not {value!r}.")
        return
    checked = row.checked.setdefault(box_field, set())
    if value == "1":
        checked.add(choices[code.lower()])


def _header(rows: list[list[str]]) -> list[str]:
    return [cell.strip() for cell in rows[0]]


def _read_flat(rows: list[list[str]], dictionary: Dictionary) -> Records:
    header = _header(rows)
    if header[0] not in (dictionary.record_id, "record_id"):
        raise UnusableInput(
            f"The records' first column must be the record id ({dictionary.record_id!r}), "
            f"not {header[0]!r}: is this a REDCap export of this project?"
        )
    records = Records("flat", EVENT in header)
    at = {name: index for index, name in enumerate(header)}
    for cells in rows[1:]:
        record = cells[0].strip()
        if not record:
            raise UnusableInput("A row of the records has no record id.")
        row = Row(
            record,
            cells[at[EVENT]].strip() if EVENT in at else "",
            cells[at[REPEAT_INSTRUMENT]].strip() if REPEAT_INSTRUMENT in at else "",
            cells[at[REPEAT_INSTANCE]].strip() if REPEAT_INSTANCE in at else "",
        )
        records.rows.setdefault(record, []).append(row)
        for name, value in zip(header[1:], cells[1:], strict=True):
            if value.strip():  # an empty cell: no value (an unchecked box, a field not filled)
                _set_value(records, dictionary, row, name, value.strip())
    return records


def _read_eav(rows: list[list[str]], dictionary: Dictionary) -> Records:
    at = {name: index for index, name in enumerate(_header(rows))}
    records = Records("eav", EVENT in at)
    by_key: dict[tuple[str, str, str, str], Row] = {}

    def cell(cells: list[str], name: str) -> str:
        return cells[at[name]].strip() if name in at else ""

    for cells in rows[1:]:
        record = cell(cells, "record")
        if not record:
            raise UnusableInput("A row of the records has no record id.")
        key = (
            record,
            cell(cells, EVENT),
            cell(cells, REPEAT_INSTRUMENT),
            cell(cells, REPEAT_INSTANCE),
        )
        row = by_key.get(key)
        if row is None:
            row = by_key[key] = Row(*key)
            records.rows.setdefault(record, []).append(row)
        name, value = cell(cells, "field_name"), cell(cells, "value")
        if name == dictionary.record_id:
            continue
        _set_value(records, dictionary, row, name, value)
    return records


def read_records(text: str, dictionary: Dictionary) -> Records:
    """Read a flat or EAV export (told apart by the header)."""
    rows = csv_rows(text, "records file")
    header = _header(rows)
    if header[0] == "record" and all(name in header for name in EAV_COLUMNS):
        records = _read_eav(rows, dictionary)
    else:
        records = _read_flat(rows, dictionary)
    # A record's data access group may be given on one of its rows only; it holds for all.
    for record_rows in records.rows.values():
        dag = next((row.dag for row in record_rows if row.dag), "")
        for row in record_rows:
            row.dag = row.dag or dag
    return records
