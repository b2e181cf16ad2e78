"""Reads of the classification records (2017 EULAR/ACR) as the API and the pages show them:
the stored result with its state, a dry run's preview, and what the form pre-fills (the items
derived from the patient's data)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scoring import scores
from scoring.classifying import DERIVED_KEYS, Derived, classification_inputs, derive
from scoring.classifying import classification_outcome as outcome_of
from scoring.models import ClassificationRecord
from scoring.selectors import load_inputs

SCORED = "scored"
PREVIEW = "preview"


def record_json(record: ClassificationRecord | None) -> dict[str, Any]:
    """A stored record as shown: its state (`scored`, `pending` while a task is queued,
    `failed` with `error`) and the result it holds (null before the first computation)."""
    if record is None:
        return {"status": scores.PENDING, "result": None}
    status = {scores.DONE: SCORED}.get(record.status, record.status)
    answer: dict[str, Any] = {"status": status, "result": record.result}
    if record.error:
        answer["error"] = record.error
    return answer


def classification_records(patient_ids: Iterable[int]) -> dict[int, ClassificationRecord]:
    """The stored records of these patients, by patient id."""
    return {
        record.patient_id: record
        for record in ClassificationRecord.objects.filter(patient_id__in=list(patient_ids))
    }


def preview_classifications(patient_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The classification these patients' current data call for, computed from what this
    transaction sees (a dry run's uncommitted writes), storing nothing; patients without an
    assessment are left out."""
    answer: dict[int, dict[str, Any]] = {}
    for patient in load_inputs(patient_ids).values():
        inputs = classification_inputs(patient)
        if inputs is None:
            continue
        outcome = outcome_of(inputs)
        shown: dict[str, Any] = {"status": PREVIEW if not outcome.error else scores.FAILED}
        shown["result"] = outcome.result
        if outcome.error:
            shown["error"] = outcome.error
        answer[patient.id] = shown
    return answer


def derived_items(patient_id: int) -> tuple[Derived | None, tuple[str, ...]]:
    """What the patient's data give for the derivable items (anti-Jo-1, raised enzymes), for the
    form to pre-fill, and the keys of those items; None if the patient does not exist."""
    found = load_inputs([patient_id], measures=False).get(patient_id)
    return (None if found is None else derive(found)), DERIVED_KEYS
