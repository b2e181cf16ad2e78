"""Reading the submission document (docs/data-dictionary.md): strict, with the JSON path of every
error.

Unknown keys, wrong types and out-of-range values are errors, never silently dropped or coerced,
because a site's script that misspells a field must learn it at once rather than lose data.
"""

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from registry.errors import InputError
from registry.vocabularies import (
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    Sex,
    StopReason,
    stop_reason_code,
)

MISSING = object()


class Errors:
    """Collects (path, message) pairs so one answer names every bad field."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def expect_object(errors: Errors, path: str, value: Any, allowed: Iterable[str]) -> dict | None:
    if not isinstance(value, Mapping):
        errors.add(path, "Must be a JSON object.")
        return None
    allowed = set(allowed)
    for key in value:
        if key not in allowed:
            errors.add(join(path, str(key)), "Unknown field.")
    return dict(value)


def expect_list(errors: Errors, path: str, value: Any) -> list | None:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "Must be a JSON list.")
        return None
    return value


def required(errors: Errors, obj: Mapping, path: str, key: str) -> Any:
    if key not in obj or obj[key] is None:
        errors.add(join(path, key), "This field is required.")
        return MISSING
    return obj[key]


def text(
    errors: Errors, path: str, value: Any, *, max_length: int, allow_empty: bool = True
) -> str | None:
    if value is None:
        return "" if allow_empty else None
    if not isinstance(value, str):
        errors.add(path, "Must be a string.")
        return None
    if "\x00" in value:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail at INSERT.
        errors.add(path, "Must not contain NUL characters.")
        return None
    if not (value.isascii() and value.isprintable()) and _HIDDEN.search(value):
        errors.add(
            path,
            "Must not contain control characters or bidirectional overrides (they hide or "
            "reorder what a reader sees).",
        )
        return None
    value = value.strip()
    if not value and not allow_empty:
        errors.add(path, "Must not be empty.")
        return None
    if len(value) > max_length:
        errors.add(path, f"Must be at most {max_length} characters.")
        return None
    return value


# Control characters other than tab and line breaks, and the bidirectional embeddings, overrides
# and isolates, which make text display in another order than it is stored ("Trojan Source").
_HIDDEN = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Emoji presentation selectors, skin-tone modifiers, and the keycap: parts of emoji.
_EMOJI_PARTS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef\U0001f3fb-\U0001f3ff\u20e3]")
# Letters, marks, digits, punctuation, and mathematical, currency and modifier symbols.
_VISIBLE_CATEGORIES = frozenset(
    "Lu Ll Lt Lm Lo Mn Mc Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk".split()
)


def _visible(value: str) -> bool:
    """Letters, marks, digits, punctuation, mathematical, currency and modifier symbols, and the
    plain space: no control, format (zero-width, bidirectional), private-use or unassigned
    character, no other space, and no emoji (category So, and the parts above)."""
    if value.isascii():
        return value.isprintable()
    if _EMOJI_PARTS.search(value):
        return False
    return all(ch == " " or unicodedata.category(ch) in _VISIBLE_CATEGORIES for ch in value)


def identifier(errors: Errors, path: str, value: Any, *, max_length: int) -> str | None:
    """A key people read and type (a site patient id, a site code): required, printable and
    visible, so that two ids that look the same are the same."""
    if isinstance(value, str) and "\x00" not in value and not _visible(value.strip()):
        errors.add(
            path,
            "Must contain only visible characters: letters, digits, punctuation and spaces "
            "(no control, invisible or bidirectional characters, no emoji).",
        )
        return None
    return text(errors, path, value, max_length=max_length, allow_empty=False)


@functools.cache
def _codes(choices: type) -> tuple[str, ...]:
    # Django builds a TextChoices' .choices list anew on every access; bulk reads (seed_demo,
    # large submissions) call choice() hundreds of thousands of times.
    return tuple(c for c, _ in choices.choices)


def choice(errors: Errors, path: str, value: Any, choices: type) -> str | None:
    values = _codes(choices)
    if not isinstance(value, str) or value not in values:
        errors.add(path, f"Must be one of: {', '.join(values)}.")
        return None
    return value


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_iso_date(value: Any) -> date | None:
    """A date written exactly YYYY-MM-DD (ASCII digits), or None.

    date.fromisoformat alone is not enough: since Python 3.11 it also reads 20210104 and the
    week date 2021-W01-1, which a person reading the document would not take for a date.
    """
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # well-formed but impossible, such as 2024-02-30
        return None


def parse_iso_datetime(value: Any) -> datetime | None:
    """A date-time in ISO 8601's extended calendar form, or None: YYYY-MM-DDTHH:MM[:SS[.f]]
    with an optional Z or ±HH:MM offset (a space for the T, as in SQL, is read too)."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def iso_date(
    errors: Errors, path: str, value: Any, *, not_before: date | None = None, what: str = ""
) -> date | None:
    parsed = parse_iso_date(value)
    if parsed is None:
        errors.add(path, "Must be a date as YYYY-MM-DD.")
        return None
    if parsed > date.today():
        errors.add(path, "Date cannot be in the future.")
        return None
    if not_before is not None and parsed < not_before:
        errors.add(path, f"Date cannot be before {what or not_before.isoformat()}.")
        return None
    return parsed


def number(
    errors: Errors,
    path: str,
    value: Any,
    *,
    minimum: Decimal | int | None = None,
    maximum: Decimal | int | None = None,
    places: int | None = None,
    integer: bool = False,
    exclusive_minimum: bool = False,
    unit: str = "",
) -> Decimal | int | None:
    """A JSON number within range, at the stated resolution; strings and booleans are errors.

    Decimals are read too (a form's text, typed exactly); however long a number is, it is
    compared, never converted to text or to a float, so no length makes this fail.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        errors.add(path, "Must be a number.")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors.add(path, "Must be a finite number.")
        return None
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite():
        errors.add(path, "Must be a finite number.")
        return None
    if integer and exact != exact.to_integral_value():
        errors.add(path, "Must be a whole number.")
        return None
    suffix = f" {unit}" if unit else ""
    if minimum is not None and (exact <= minimum if exclusive_minimum else exact < minimum):
        if exclusive_minimum:
            errors.add(path, f"Must be greater than {minimum}{suffix}.")
        else:
            errors.add(
                path,
                f"Must be between {minimum} and {maximum}{suffix}."
                if maximum is not None
                else f"Must be at least {minimum}{suffix}.",
            )
        return None
    if maximum is not None and exact > maximum:
        if minimum is not None and not exclusive_minimum:
            errors.add(path, f"Must be between {minimum} and {maximum}{suffix}.")
        else:
            errors.add(path, f"Must be at most {maximum}{suffix}.")
        return None
    if (
        places is not None
        and -exact.as_tuple().exponent > places
        and exact != exact.quantize(Decimal(1).scaleb(-places))
    ):
        step = "whole numbers" if places == 0 else f"steps of {Decimal(1).scaleb(-places)}"
        errors.add(path, f"Must be given in {step}.")
        return None
    if integer:
        return int(exact)
    return exact


def optional(obj: Mapping, key: str, reader: Callable[[Any], Any]) -> Any:
    value = obj.get(key)
    return None if value is None else reader(value)


# --- patients -----------------------------------------------------------------------------------

PATIENT_KEYS = (
    "patient_id",
    "sex",
    "birth_year_month",
    "diagnosis",
    "onset_date",
    "diagnosis_date",
    "reason",  # why stored data are corrected: read by the document's writer, not a field
    "autoantibodies",
    "treatments",
    "visits",
    "classification",  # the 2017 EULAR/ACR assessment: read by crf.submission
    # Vital status, lung disease, HRCT and adverse events: read by crf.outcome_documents.
    "vital_status",
    "lung",
    "hrct",
    "adverse_events",
)
ANTIBODY_KEYS = ("antibody", "result", "method", "intensity", "sample_date")
TREATMENT_KEYS = (
    "drug",
    "drug_other",
    "dose",
    "dose_unit",
    "route",
    "frequency",
    "start_date",
    "stop_date",
    "stop_reason",
    "stop_reason_other",
)


_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def birth_year_month(errors: Errors, path: str, value: Any) -> tuple[int, int] | None:
    # A pattern of ASCII digits: int() alone would take "1968- 4", "1_68" and fullwidth digits.
    matched = _YEAR_MONTH.fullmatch(value) if isinstance(value, str) else None
    if matched is None:
        errors.add(path, "Must be a year and month as YYYY-MM.")
        return None
    year, month = int(matched[1]), int(matched[2])
    today = date.today()
    if not (1 <= month <= 12 and 1900 <= year):
        errors.add(path, "Must be a year and month as YYYY-MM.")
        return None
    if (year, month) > (today.year, today.month):
        errors.add(path, "Cannot be in the future.")
        return None
    return year, month


def read_patient(errors: Errors, path: str, data: Any) -> dict | None:
    """The patient's own fields as model field values (nested lists are read separately)."""
    obj = expect_object(errors, path, data, PATIENT_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {}
    raw = required(errors, obj, path, "patient_id")
    if raw is not MISSING:
        values["patient_id"] = identifier(errors, join(path, "patient_id"), raw, max_length=64)
    raw = required(errors, obj, path, "sex")
    if raw is not MISSING:
        values["sex"] = choice(errors, join(path, "sex"), raw, Sex)
    raw = required(errors, obj, path, "diagnosis")
    if raw is not MISSING:
        values["diagnosis"] = choice(errors, join(path, "diagnosis"), raw, Diagnosis)
    born = None
    raw = required(errors, obj, path, "birth_year_month")
    if raw is not MISSING:
        ym = birth_year_month(errors, join(path, "birth_year_month"), raw)
        if ym:
            values["birth_year"], values["birth_month"] = ym
            born = date(ym[0], ym[1], 1)
    raw = required(errors, obj, path, "onset_date")
    if raw is not MISSING:
        values["onset_date"] = iso_date(
            errors, join(path, "onset_date"), raw, not_before=born, what="the month of birth"
        )
    values["diagnosis_date"] = None
    if obj.get("diagnosis_date") is not None:
        values["diagnosis_date"] = iso_date(
            errors,
            join(path, "diagnosis_date"),
            obj["diagnosis_date"],
            not_before=values.get("onset_date") or born,
            what="the onset date" if values.get("onset_date") else "the month of birth",
        )
    _refuse_repeats(errors, path, obj)
    return values


def read_reason(errors: Errors, path: str, data: Any) -> str:
    """The optional `reason` of a document object: why it changes stored data ("" if none)."""
    raw = data.get("reason") if isinstance(data, Mapping) else None
    return text(errors, join(path, "reason"), raw, max_length=2000) or ""


# The keys that identify an entry of a patient's nested lists (the database's unique keys).
NESTED_KEYS = {"autoantibodies": ("antibody", "sample_date"), "treatments": ("drug", "start_date")}


def _refuse_repeats(errors: Errors, path: str, obj: Mapping) -> None:
    """An entry given twice in one patient would be stored once, the later silently winning:
    an error naming both. Compared as written, which for valid codes and YYYY-MM-DD dates is
    comparing the values (an invalid entry gets its own error from its reader)."""
    for key, natural_key in NESTED_KEYS.items():
        listed = obj.get(key)
        if not isinstance(listed, list):
            continue
        first: dict[tuple, int] = {}
        for index, item in enumerate(listed):
            if not isinstance(item, Mapping):
                continue
            natural = tuple(item.get(name) for name in natural_key)
            if not all(isinstance(part, str) for part in natural):
                continue
            earlier = first.setdefault(natural, index)
            if earlier != index:
                errors.add(
                    join(join(path, key), index),
                    f"Same {' and '.join(natural_key)} as {join(join(path, key), earlier)}; "
                    "give each entry once.",
                )


def patient_list(errors: Errors, path: str, value: Any) -> list | None:
    """The patients of a document. A patient given twice would be stored twice over, the later
    silently overriding the earlier: an error naming both (the document is refused)."""
    patients = expect_list(errors, path, value)
    first: dict[str, int] = {}
    for index, data in enumerate(patients or []):
        patient_id = data.get("patient_id") if isinstance(data, Mapping) else None
        if not isinstance(patient_id, str):
            continue
        earlier = first.setdefault(patient_id.strip(), index)
        if earlier != index:
            errors.add(
                join(join(path, index), "patient_id"),
                f"Same patient as {join(path, earlier)}; give each patient once per document.",
            )
    return patients


def read_autoantibody(errors: Errors, path: str, data: Any, born: date | None) -> dict | None:
    obj = expect_object(errors, path, data, ANTIBODY_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {}
    for key, vocabulary in (
        ("antibody", Antibody),
        ("result", AntibodyResult),
        ("method", AntibodyMethod),
    ):
        raw = required(errors, obj, path, key)
        if raw is not MISSING:
            values[key] = choice(errors, join(path, key), raw, vocabulary)
    values["intensity"] = text(errors, join(path, "intensity"), obj.get("intensity"), max_length=40)
    raw = required(errors, obj, path, "sample_date")
    if raw is not MISSING:
        values["sample_date"] = iso_date(
            errors, join(path, "sample_date"), raw, not_before=born, what="the month of birth"
        )
    return values


def read_treatment(errors: Errors, path: str, data: Any, born: date | None) -> dict | None:
    obj = expect_object(errors, path, data, TREATMENT_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {}
    raw = required(errors, obj, path, "drug")
    if raw is not MISSING:
        values["drug"] = choice(errors, join(path, "drug"), raw, Drug)
    values["drug_other"] = text(
        errors, join(path, "drug_other"), obj.get("drug_other"), max_length=100
    )
    if values.get("drug") == Drug.OTHER and not values["drug_other"]:
        errors.add(join(path, "drug_other"), "Name the drug when drug is 'other'.")
    values["dose"] = None
    if obj.get("dose") is not None:
        values["dose"] = number(
            errors, join(path, "dose"), obj["dose"], minimum=0, maximum=Decimal("9999999"), places=3
        )
    values["dose_unit"] = text(errors, join(path, "dose_unit"), obj.get("dose_unit"), max_length=20)
    values["route"] = ""
    if obj.get("route") is not None:
        values["route"] = choice(errors, join(path, "route"), obj["route"], Route)
    values["frequency"] = text(errors, join(path, "frequency"), obj.get("frequency"), max_length=60)
    raw = required(errors, obj, path, "start_date")
    if raw is not MISSING:
        values["start_date"] = iso_date(
            errors, join(path, "start_date"), raw, not_before=born, what="the month of birth"
        )
    values["stop_date"] = None
    if obj.get("stop_date") is not None:
        start = values.get("start_date")
        values["stop_date"] = iso_date(
            errors,
            join(path, "stop_date"),
            obj["stop_date"],
            not_before=start or born,
            what="the start date" if start else "the month of birth",
        )
    values.update(read_stop_reason(errors, path, obj))
    return values


def read_stop_reason(errors: Errors, path: str, obj: Mapping) -> dict[str, str]:
    """`stop_reason` as a code (docs/outcomes.md), or free text read as the code it plainly means
    (registry.vocabularies.stop_reason_code), else `other` keeping the text; the other text only
    beside `other`. The same text always gives the same values: re-sending changes nothing."""
    raw = text(errors, join(path, "stop_reason"), obj.get("stop_reason"), max_length=200)
    other = text(
        errors, join(path, "stop_reason_other"), obj.get("stop_reason_other"), max_length=200
    )
    if raw is None or other is None:
        return {}
    code, from_text = stop_reason_code(raw)
    if other and code != StopReason.OTHER:
        errors.add(
            join(path, "stop_reason_other"), "Give the other reason only with stop_reason 'other'."
        )
        return {}
    if other and from_text and other != from_text:
        errors.add(
            join(path, "stop_reason_other"),
            "The stop_reason is free text already: give it as stop_reason 'other' with this "
            "other reason.",
        )
        return {}
    return {"stop_reason": code, "stop_reason_other": other or from_text}
