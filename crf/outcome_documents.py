"""The submission document's `vital_status`, `lung`, `hrct` and `adverse_events` ⇄ model values.

Readers in the manner of registry/documents.py (every error with its JSON path, nothing raised),
and the same records rendered back in the document's shape for the patient API, so that what a
site sends and what it reads back are one format (docs/outcomes.md "In the submission document").
Rules spanning fields of one record (death fields only when dead, serious exactly with a
criterion, …) are the models' clean(), which the writers run and name by the same keys.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crf.outcome_models import (
    SERIOUS_CRITERIA,
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    VitalStatus,
)
from registry.documents import (
    MISSING,
    Errors,
    choice,
    expect_list,
    expect_object,
    iso_date,
    join,
    number,
    required,
    text,
)
from registry.vocabularies import Drug

# The patient-level keys, in the order the document lists them.
OUTCOME_KEYS = ("vital_status", "lung", "hrct", "adverse_events")
VITAL_STATUS_KEYS = (
    "status",
    "last_known_alive",
    "death_date",
    "cause_category",
    "cause_text",
    "source",
)
LUNG_KEYS = ("ild", "ild_onset_date", "rapidly_progressive")
HRCT_KEYS = ("date", "pattern", "progression")
ADVERSE_EVENT_KEYS = (
    "term",
    "category",
    "onset_date",
    "end_date",
    "severity",
    "ctcae_grade",
    "serious",
    "serious_criteria",
    "related_to",
    "outcome",
)
RELATED_TO_KEYS = ("drug", "start_date", "relatedness", "action")
# Natural keys within the patient: a scan's date; an event's category, term and onset.
HRCT_NATURAL_KEY = ("date",)
ADVERSE_EVENT_NATURAL_KEY = ("category", "term", "onset_date")


@dataclass(slots=True)
class RelatedRead:
    """A suspect treatment episode named by drug and start date, resolved by the writers."""

    path: str
    drug: str | None
    start_date: date | None
    relatedness: str | None
    action: str | None

    @property
    def episode_key(self) -> tuple[str | None, date | None]:
        return (self.drug, self.start_date)


@dataclass(slots=True)
class AdverseEventRead:
    index: int
    path: str
    values: dict[str, Any]
    related: list[RelatedRead] = field(default_factory=list)


def _boolean(errors: Errors, path: str, value: Any, *, nullable: bool) -> bool | None:
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        errors.add(path, "Must be true or false" + (" (or null)." if nullable else "."))
        return None
    return value


def _optional_date(errors: Errors, obj: dict, path: str, key: str, born: date | None) -> Any:
    if obj.get(key) is None:
        return None
    return iso_date(errors, join(path, key), obj[key], not_before=born, what="the month of birth")


def _required_choice(errors: Errors, obj: dict, path: str, key: str, vocabulary: type) -> Any:
    raw = required(errors, obj, path, key)
    return None if raw is MISSING else choice(errors, join(path, key), raw, vocabulary)


def _optional_choice(errors: Errors, obj: dict, path: str, key: str, vocabulary: type) -> str:
    if obj.get(key) is None:
        return ""
    return choice(errors, join(path, key), obj[key], vocabulary) or ""


def death_date(errors: Errors, path: str, value: Any, born: date | None) -> tuple[Any, str]:
    """A date of death as (date, precision): YYYY-MM-DD, or YYYY-MM stored as the 15th."""
    if isinstance(value, str) and len(value) == 7 and value[4] == "-":
        try:
            year, month = int(value[:4]), int(value[5:])
            when = date(year, month, 15)
        except ValueError:
            errors.add(path, "Must be a date as YYYY-MM-DD, or a year and month as YYYY-MM.")
            return None, ""
        today = date.today()
        if (year, month) > (today.year, today.month):
            errors.add(path, "Date cannot be in the future.")
            return None, ""
        if born is not None and (year, month) < (born.year, born.month):
            errors.add(path, "Date cannot be before the month of birth.")
            return None, ""
        return when, VitalStatus.Precision.MONTH
    if not isinstance(value, str) or len(value) != 10:
        errors.add(path, "Must be a date as YYYY-MM-DD, or a year and month as YYYY-MM.")
        return None, ""
    when = iso_date(errors, path, value, not_before=born, what="the month of birth")
    return when, VitalStatus.Precision.DAY if when else ""


def read_vital_status(errors: Errors, path: str, data: Any, born: date | None) -> dict | None:
    obj = expect_object(errors, path, data, VITAL_STATUS_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {
        "status": _required_choice(errors, obj, path, "status", VitalStatus.Status),
        "last_known_alive": _optional_date(errors, obj, path, "last_known_alive", born),
        "death_date": None,
        "death_date_precision": "",
        "cause_category": _optional_choice(errors, obj, path, "cause_category", VitalStatus.Cause),
        "cause_text": text(errors, join(path, "cause_text"), obj.get("cause_text"), max_length=200),
        "source": _optional_choice(errors, obj, path, "source", VitalStatus.Source),
    }
    if obj.get("death_date") is not None:
        values["death_date"], values["death_date_precision"] = death_date(
            errors, join(path, "death_date"), obj["death_date"], born
        )
    return values


def read_lung(errors: Errors, path: str, data: Any, born: date | None) -> dict | None:
    obj = expect_object(errors, path, data, LUNG_KEYS)
    if obj is None:
        return None
    return {
        "ild": _required_choice(errors, obj, path, "ild", LungStatus.Ild),
        "ild_onset_date": _optional_date(errors, obj, path, "ild_onset_date", born),
        "rapidly_progressive": _boolean(
            errors, join(path, "rapidly_progressive"), obj.get("rapidly_progressive"), nullable=True
        ),
    }


def read_hrct(errors: Errors, path: str, data: Any, born: date | None) -> dict | None:
    obj = expect_object(errors, path, data, HRCT_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {}
    raw = required(errors, obj, path, "date")
    if raw is not MISSING:
        values["date"] = iso_date(
            errors, join(path, "date"), raw, not_before=born, what="the month of birth"
        )
    values["pattern"] = _required_choice(errors, obj, path, "pattern", HRCTAssessment.Pattern)
    values["progression"] = _boolean(
        errors, join(path, "progression"), obj.get("progression"), nullable=True
    )
    return values


def _read_related(errors: Errors, path: str, data: Any, born: date | None) -> RelatedRead | None:
    obj = expect_object(errors, path, data, RELATED_TO_KEYS)
    if obj is None:
        return None
    drug = _required_choice(errors, obj, path, "drug", Drug)
    start = None
    raw = required(errors, obj, path, "start_date")
    if raw is not MISSING:
        start = iso_date(
            errors, join(path, "start_date"), raw, not_before=born, what="the month of birth"
        )
    relatedness = _required_choice(
        errors, obj, path, "relatedness", AdverseEventRelation.Relatedness
    )
    action = _required_choice(errors, obj, path, "action", AdverseEventRelation.Action)
    return RelatedRead(path, drug, start, relatedness, action)


def read_adverse_event(
    errors: Errors, path: str, data: Any, born: date | None, index: int = 0
) -> AdverseEventRead | None:
    obj = expect_object(errors, path, data, ADVERSE_EVENT_KEYS)
    if obj is None:
        return None
    values: dict[str, Any] = {}
    raw = required(errors, obj, path, "term")
    if raw is not MISSING:
        values["term"] = text(errors, join(path, "term"), raw, max_length=200, allow_empty=False)
    values["category"] = _required_choice(errors, obj, path, "category", AdverseEvent.Category)
    raw = required(errors, obj, path, "onset_date")
    if raw is not MISSING:
        values["onset_date"] = iso_date(
            errors, join(path, "onset_date"), raw, not_before=born, what="the month of birth"
        )
    values["end_date"] = _optional_date(errors, obj, path, "end_date", born)
    values["severity"] = _required_choice(errors, obj, path, "severity", AdverseEvent.Severity)
    values["ctcae_grade"] = None
    if obj.get("ctcae_grade") is not None:
        values["ctcae_grade"] = number(
            errors,
            join(path, "ctcae_grade"),
            obj["ctcae_grade"],
            minimum=1,
            maximum=5,
            integer=True,
        )
    raw = required(errors, obj, path, "serious")
    values["serious"] = (
        False if raw is MISSING else _boolean(errors, join(path, "serious"), raw, nullable=False)
    )
    criteria_path = join(path, "serious_criteria")
    criteria = expect_list(errors, criteria_path, obj.get("serious_criteria")) or []
    flagged: set[str] = set()
    for position, code in enumerate(criteria):
        where = join(criteria_path, position)
        if not isinstance(code, str) or code not in SERIOUS_CRITERIA:
            errors.add(where, f"Must be one of: {', '.join(SERIOUS_CRITERIA)}.")
        elif code in flagged:
            errors.add(where, "Repeats an earlier criterion.")
        else:
            flagged.add(code)
    for code in SERIOUS_CRITERIA:
        values[f"criterion_{code}"] = code in flagged
    values["outcome"] = _required_choice(errors, obj, path, "outcome", AdverseEvent.Outcome)
    read = AdverseEventRead(index, path, values)
    related_path = join(path, "related_to")
    for position, item in enumerate(expect_list(errors, related_path, obj.get("related_to")) or []):
        related = _read_related(errors, join(related_path, position), item, born)
        if related is not None:
            read.related.append(related)
    return read


# --- rendering -----------------------------------------------------------------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def vital_status_document(vital: VitalStatus) -> dict[str, Any]:
    death = _iso(vital.death_date)
    if death and vital.death_date_precision == VitalStatus.Precision.MONTH:
        death = death[:7]
    return {
        "status": vital.status,
        "last_known_alive": _iso(vital.last_known_alive),
        "death_date": death,
        "cause_category": vital.cause_category or None,
        "cause_text": vital.cause_text or None,
        "source": vital.source or None,
    }


def lung_document(lung: LungStatus) -> dict[str, Any]:
    return {
        "ild": lung.ild,
        "ild_onset_date": _iso(lung.ild_onset_date),
        "rapidly_progressive": lung.rapidly_progressive,
    }


def hrct_document(scan: HRCTAssessment) -> dict[str, Any]:
    return {"date": _iso(scan.date), "pattern": scan.pattern, "progression": scan.progression}


def adverse_event_document(event: AdverseEvent) -> dict[str, Any]:
    """An event in the document's shape; its relations with their episodes (prefetch them)."""
    relations = sorted(event.relations.all(), key=lambda r: (r.episode.start_date, r.episode.drug))
    return {
        "term": event.term,
        "category": event.category,
        "onset_date": _iso(event.onset_date),
        "end_date": _iso(event.end_date),
        "severity": event.severity,
        "ctcae_grade": event.ctcae_grade,
        "serious": event.serious,
        "serious_criteria": event.serious_criteria,
        "related_to": [
            {
                "drug": relation.episode.drug,
                "start_date": _iso(relation.episode.start_date),
                "relatedness": relation.relatedness,
                "action": relation.action,
            }
            for relation in relations
        ],
        "outcome": event.outcome,
    }


# What to prefetch (and select) with patients to read these without a query per record.
OUTCOME_PREFETCH = ("hrct_assessments", "adverse_events__relations__episode")
OUTCOME_SELECT = ("vital_status", "lung")


def one_to_one(patient: Any, name: str) -> Any:
    """The patient's vital status or lung status, None when not recorded."""
    try:
        return getattr(patient, name)
    except (VitalStatus.DoesNotExist, LungStatus.DoesNotExist):
        return None


def outcomes_document(patient: Any) -> dict[str, Any]:
    """The patient's `vital_status`, `lung` (null when not recorded), `hrct` and
    `adverse_events`, in the submission document's shape."""
    vital = one_to_one(patient, "vital_status")
    lung = one_to_one(patient, "lung")
    return {
        "vital_status": vital_status_document(vital) if vital else None,
        "lung": lung_document(lung) if lung else None,
        "hrct": [
            hrct_document(scan) for scan in sorted(patient.hrct_assessments.all(), key=_by_date)
        ],
        "adverse_events": [
            adverse_event_document(event)
            for event in sorted(
                patient.adverse_events.all(), key=lambda e: (e.onset_date, e.category, e.term)
            )
        ],
    }


def _by_date(scan: HRCTAssessment) -> date:
    return scan.date
