"""A patient document's vital status, lung status, HRCT scans and adverse events, written by the
upsert (crf.submission.upsert) through the services of crf.outcomes, with the per-record results
of the submission answer."""

from typing import Any

from crf.outcomes import (
    RelationValues,
    adverse_event_upsert,
    hrct_upsert,
    lung_save,
    vital_status_save,
)
from crf.submission.reading import UNKNOWN_EPISODE, PatientRead
from registry.audit import Actor
from registry.documents import join
from registry.errors import InputError
from registry.models import Patient, TreatmentEpisode


def _result(record: Any, status: str) -> dict[str, Any]:
    return {"status": status, "id": record.pk}


def outcomes_save(*, actor: Actor, patient: Patient, read: PatientRead) -> dict[str, Any]:
    """Store the document's outcome records (in the caller's transaction); their results.

    The vital status goes first: a fatal adverse event needs it. Scans and events are upserted
    by their natural keys; those stored earlier but absent from the document are kept. Episodes
    named by `related_to` are the patient's, stored or sent in the same document (the
    treatments are written before this)."""
    path = read.path
    results: dict[str, Any] = {"vital_status": None, "lung": None, "hrct": [], "adverse_events": []}
    if read.vital_status is not None:
        vital, status = vital_status_save(
            actor=actor,
            patient=patient,
            values=read.vital_status,
            path=join(path, "vital_status"),
        )
        results["vital_status"] = _result(vital, status)
    if read.lung is not None:
        lung, status = lung_save(
            actor=actor, patient=patient, values=read.lung, path=join(path, "lung")
        )
        results["lung"] = _result(lung, status)
    for entry in read.hrct:
        scan, status = hrct_upsert(
            actor=actor,
            patient=patient,
            values=entry.values,
            path=join(join(path, "hrct"), entry.index),
        )
        results["hrct"].append({"date": scan.date.isoformat(), **_result(scan, status)})
    if not read.adverse_events:
        return results
    episodes = {(e.drug, e.start_date): e for e in TreatmentEpisode.objects.filter(patient=patient)}
    unknown = [
        (related.path, UNKNOWN_EPISODE)
        for event in read.adverse_events
        for related in event.related
        if related.episode_key not in episodes
    ]
    if unknown:
        raise InputError(unknown)
    for event_read in read.adverse_events:
        relations = [
            RelationValues(
                episodes[related.episode_key], related.relatedness, related.action, related.path
            )
            for related in event_read.related
        ]
        event, status = adverse_event_upsert(
            actor=actor,
            patient=patient,
            values=event_read.values,
            relations=relations,
            path=event_read.path,
        )
        results["adverse_events"].append(_result(event, status))
    return results
