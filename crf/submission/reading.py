"""Reading a patient document once: every value through the submission readers, as typed rows.

The readers of registry.documents and crf.documents check each value and name each bad one by
its JSON path; `read_patient_document` runs them over a whole patient — its own fields, its
autoantibody results, treatment episodes, visits and classification assessment — and adds the
rules that span entries (one visit per date, one baseline). The result is what every writer of
crf.submission takes: none of them reads the document again.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crf.classification import read_classification
from crf.documents import read_visit
from crf.outcome_documents import (
    ADVERSE_EVENT_NATURAL_KEY,
    AdverseEventRead,
    read_adverse_event,
    read_hrct,
    read_lung,
    read_vital_status,
)
from registry.documents import (
    Errors,
    expect_list,
    join,
    read_autoantibody,
    read_patient,
    read_reason,
    read_treatment,
)

# The nested lists of autoantibody results and treatment episodes, and their natural keys.
ANTIBODIES = "autoantibodies"
TREATMENTS = "treatments"
UNKNOWN_EPISODE = "No treatment episode of this patient with this drug and start date."


@dataclass(slots=True)
class EntryRead:
    """An autoantibody result or a treatment episode: its position and its field values."""

    index: int
    values: dict[str, Any]


@dataclass(slots=True)
class VisitRead:
    """A visit: its own field values, its instruments' (None: not given) and its labs."""

    index: int
    path: str
    values: dict[str, Any]
    mmt8: dict[str, Any] | None
    haq: dict[str, Any] | None
    labs: dict[str, dict[str, Any]]  # by enzyme
    reason: str  # the reason for change, for the audit events of the visit (crf.services)


@dataclass
class PatientRead:
    """A patient document as read: the values to store, and every error with its path.

    Entries the readers could not read at all (not a JSON object) are left out of the lists;
    their errors are in `errors`, and nothing is written while there are any.
    """

    path: str
    data: Any  # the document as sent
    values: dict[str, Any] | None  # the patient's own fields; None if it is not an object
    born: date | None
    errors: Errors
    antibodies: list[EntryRead] = field(default_factory=list)
    treatments: list[EntryRead] = field(default_factory=list)
    visits: list[VisitRead] = field(default_factory=list)
    # The classification assessment's values (crf.classification); None: not in the document,
    # which leaves a stored assessment as it is.
    classification: dict[str, Any] | None = None
    # Why stored data changes: covers the patient's own fields, its nested lists and the visits
    # that give no reason of their own.
    reason: str = ""
    # Vital status and lung status (None: not in the document), HRCT scans and adverse events.
    vital_status: dict[str, Any] | None = None
    lung: dict[str, Any] | None = None
    hrct: list[EntryRead] = field(default_factory=list)
    adverse_events: list[AdverseEventRead] = field(default_factory=list)

    def entries(self, key: str) -> list[EntryRead]:
        return self.antibodies if key == ANTIBODIES else self.treatments

    def unresolved_related(self) -> list[tuple[str, str]]:
        """Suspect episodes of adverse events that name no treatment of this document, as
        errors: for the writers that only create (a stored patient's episodes also count for
        the upsert, crf.submission.upsert)."""
        sent = {(e.values.get("drug"), e.values.get("start_date")) for e in self.treatments}
        return [
            (related.path, UNKNOWN_EPISODE)
            for event in self.adverse_events
            for related in event.related
            if related.episode_key not in sent
        ]


def read_patient_document(data: Any, path: str = "") -> PatientRead:
    """Read one patient of a submission document (docs/data-dictionary.md "Submission document")
    whole.

    Every bad value is an error of the result, so that one answer names them all; entries
    stored earlier but absent from the document are none of the reader's business.
    """
    errors = Errors()
    values = read_patient(errors, path, data)
    reason = read_reason(errors, path, data)
    born = None
    if values and values.get("birth_year") and values.get("birth_month"):
        born = date(values["birth_year"], values["birth_month"], 1)
    read = PatientRead(path, data, values, born, errors, reason=reason)
    if not isinstance(data, dict):
        return read
    for key, reader in ((ANTIBODIES, read_autoantibody), (TREATMENTS, read_treatment)):
        key_path = join(path, key)
        into = read.entries(key)
        for index, item in enumerate(expect_list(errors, key_path, data.get(key)) or []):
            item_values = reader(errors, join(key_path, index), item, born)
            if item_values is not None:
                into.append(EntryRead(index, item_values))
    if data.get("classification") is not None:
        read.classification = read_classification(
            errors, join(path, "classification"), data["classification"], born
        )
    visits_path = join(path, "visits")
    first_on: dict[Any, int] = {}
    baselines: list[int] = []
    for index, item in enumerate(expect_list(errors, visits_path, data.get("visits")) or []):
        visit_path = join(visits_path, index)
        parsed = read_visit(errors, visit_path, item, born=born)
        if not isinstance(item, dict):
            continue
        if parsed is not None:
            read.visits.append(
                VisitRead(index, visit_path, parsed["visit"], parsed["mmt8"], parsed["haq"],
                          parsed["labs"], parsed["reason"])
            )  # fmt: skip
            when = parsed["visit"].get("visit_date")
        else:
            when = None
        # One visit per date: the date read, or the text sent where it is not a date.
        sent = item.get("visit_date")
        key = when if when is not None else sent if isinstance(sent, str) else None
        if key is not None:
            first = first_on.setdefault(key, index)
            if first != index:
                errors.add(
                    join(visit_path, "visit_date"),
                    f"Same date as visits[{first}]; one visit per date.",
                )
        if item.get("kind") == "baseline":
            baselines.append(index)
    for index in baselines[1:]:
        errors.add(join(join(visits_path, index), "kind"), "Only one baseline visit per patient.")
    _read_outcomes(read, data, born)
    return read


def _read_outcomes(read: PatientRead, data: dict, born: date | None) -> None:
    """The patient's vital status, lung status, HRCT scans and adverse events (issue 14)."""
    errors, path = read.errors, read.path
    if data.get("vital_status") is not None:
        read.vital_status = read_vital_status(
            errors, join(path, "vital_status"), data["vital_status"], born
        )
    if data.get("lung") is not None:
        read.lung = read_lung(errors, join(path, "lung"), data["lung"], born)
    hrct_path = join(path, "hrct")
    for index, item in enumerate(expect_list(errors, hrct_path, data.get("hrct")) or []):
        scan = read_hrct(errors, join(hrct_path, index), item, born)
        if scan is not None:
            read.hrct.append(EntryRead(index, scan))
    events_path = join(path, "adverse_events")
    events = expect_list(errors, events_path, data.get("adverse_events")) or []
    for index, item in enumerate(events):
        event = read_adverse_event(errors, join(events_path, index), item, born, index)
        if event is not None:
            read.adverse_events.append(event)
    # A scan or an event given twice would be stored once, the later silently winning: an
    # error naming both (as registry.documents does for results and episodes).
    for key, natural_key, entries in (
        ("hrct", ("date",), read.hrct),
        ("adverse_events", ADVERSE_EVENT_NATURAL_KEY, read.adverse_events),
    ):
        first: dict[tuple[Any, ...], int] = {}
        for entry in entries:
            natural = tuple(entry.values.get(name) for name in natural_key)
            earlier = first.setdefault(natural, entry.index)
            if earlier != entry.index:
                errors.add(
                    join(join(path, key), entry.index),
                    f"Same {' and '.join(natural_key)} as {join(join(path, key), earlier)}; "
                    "give each entry once.",
                )
