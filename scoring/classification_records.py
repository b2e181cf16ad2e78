"""Writing the patients' classification records (2017 EULAR/ACR), a stage of
scoring.services.score_patients: in its transaction, under its patient locks, from the inputs
scoring.selectors.load_inputs read and scoring.classifying planned.

Like the response records: a record whose fingerprint matches the current inputs is left alone
(unless forced), the others are computed and written, a patient without an assessment has no
record, and every create, change and delete writes audit events (source "scoring").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry.audit import Actor, event_values, value_text
from registry.fastwrite import insert_events
from registry.models import AuditEvent
from scoring.classifying import classification_inputs, classification_outcome, fingerprint
from scoring.models import ClassificationRecord
from scoring.planning import PatientInputs

# What a record says, as the audit trail records it: its outcome. Its inputs are audited as the
# clinical data they are, where they were entered.
OUTCOME_FIELDS: tuple[str, ...] = (
    "score", "category", "probability", "subgroup", "biopsy_recommended", "complete", "error",
)  # fmt: skip
_RECORD_TYPE = ClassificationRecord._meta.label_lower


@dataclass(frozen=True, slots=True)
class ClassificationSummary:
    written: int
    unchanged: int
    deleted: int
    failed: int


def _outcome(values: Iterable[Any]) -> dict[str, str | None]:
    return dict(zip(OUTCOME_FIELDS, map(value_text, values), strict=True))


def _events(
    patient: PatientInputs, pk: int, before: dict | None, after: dict | None, reason: str
) -> list[dict[str, Any]]:
    return event_values(
        Actor(None, AuditEvent.Source.SCORING, reason),
        _RECORD_TYPE,
        pk,
        before,
        after,
        site_id=patient.site_id,
        patient_id=patient.id,
    )


def score_classifications(
    patients: Iterable[PatientInputs], *, force: bool, now: Any, computed_by: str
) -> ClassificationSummary:
    """(Re)compute the classification records of these patients (locked by the caller)."""
    by_id = {patient.id: patient for patient in patients}
    stored = {
        record.patient_id: record
        for record in ClassificationRecord.objects.filter(patient_id__in=list(by_id))
    }
    written = unchanged = deleted = failed = 0
    events: list[dict[str, Any]] = []
    for patient in by_id.values():
        old = stored.get(patient.id)
        inputs = classification_inputs(patient)
        if inputs is None:
            if old is not None:
                before = _outcome(getattr(old, name) for name in OUTCOME_FIELDS)
                events += _events(patient, old.pk, before, None, "assessment deleted")
                old.delete()
                deleted += 1
            continue
        digest = fingerprint(inputs)
        if not force and old is not None and old.fingerprint == digest and old.result is not None:
            if old.status != ClassificationRecord.Status.DONE:
                # Marked pending by a request, but its inputs did not change.
                old.status = ClassificationRecord.Status.DONE
                old.save(update_fields=["status"])
            unchanged += 1
            continue
        outcome = classification_outcome(inputs)
        columns = outcome.columns
        values = {
            "status": ClassificationRecord.Status.FAILED
            if outcome.error
            else ClassificationRecord.Status.DONE,
            "error": outcome.error,
            "inputs": inputs,
            "fingerprint": digest,
            "result": outcome.result,
            "score": columns.get("score"),
            "category": columns.get("category", ""),
            "probability": columns.get("probability"),
            "subgroup": columns.get("subgroup", ""),
            "biopsy_recommended": columns.get("biopsy_recommended"),
            "complete": columns.get("complete"),
            "computed_at": now,
            "computed_by": computed_by,
        }
        failed += bool(outcome.error)
        after = _outcome(values[name] for name in OUTCOME_FIELDS)
        if old is None:
            record = ClassificationRecord.objects.create(patient_id=patient.id, **values)
            events += _events(patient, record.pk, None, after, "scored")
        else:
            before = _outcome(getattr(old, name) for name in OUTCOME_FIELDS)
            reason = "inputs changed" if old.fingerprint != digest else "recomputed on request"
            ClassificationRecord.objects.filter(pk=old.pk).update(**values)
            events += _events(patient, old.pk, before, after, reason)
        written += 1
    insert_events(events)
    return ClassificationSummary(written, unchanged, deleted, failed)
