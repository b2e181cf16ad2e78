"""The writer of refractory statuses (`refractory_v1`, docs/outcomes.md): the rule is
scoring.instruments.refractory, its inputs are read by scoring.selectors.refractory_inputs.

Called by scoring.services.score_patients in the pass that scores the patients (under their
locks, after their response records are written), so that the status follows every change of
its inputs: treatments (dates, drug, stop reason), visits and their scores, attestations. Per
patient it stores the current status (RefractoryRecord, as of the latest date of the patient's
data) and the status at the start of each treatment episode (EpisodeRefractory, what reports
filter by); a status whose inputs' fingerprint is unchanged is left alone. Every change is
audited (source "scoring").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from registry.audit import Actor, event_values, value_text
from registry.fastwrite import insert_events
from registry.models import AuditEvent
from scoring.instruments import refractory
from scoring.models import EpisodeRefractory, RefractoryRecord
from scoring.selectors import RefractoryInputs, refractory_inputs

_RECORD_TYPE = RefractoryRecord._meta.label_lower
_EPISODE_TYPE = EpisodeRefractory._meta.label_lower
# What the audit trail shows of a record: its outcome (the inputs are the clinical data, audited
# where they were entered; the fingerprint says which).
_AUDITED = ("as_of", "status", "episodes", "attestation_id")


def current_status(inputs: RefractoryInputs) -> tuple[refractory.RefractoryStatus, int | None]:
    """The patient's status as of the latest date of its data, and the attestation that counts
    (the earliest: any attestation stands for the patient's current status)."""
    attestation = inputs.attestations[0][0] if inputs.attestations else None
    status = refractory.refractory_as_of(
        inputs.episodes, inputs.responses, inputs.as_of, attested=attestation is not None
    )
    return status, attestation


def status_at_start(inputs: RefractoryInputs, episode: refractory.Episode) -> str:
    """The patient's status at the start of `episode`, from what was known that day (an
    attestation counts from the day it was made)."""
    attested = any(day <= episode.start for _, day in inputs.attestations)
    found = refractory.refractory_as_of(
        inputs.episodes, inputs.responses, episode.start, attested=attested
    )
    return found.status


def _audited(values: dict[str, Any]) -> dict[str, str | None]:
    return {name: value_text(values[name]) for name in _AUDITED}


def refractory_write(
    *, patient_ids: Iterable[int], computed_by: str = "", force: bool = False
) -> int:
    """Compute and store these patients' refractory statuses; returns how many records were
    written. The caller holds the patients' locks (scoring.services.score_patients)."""
    found = refractory_inputs(patient_ids)
    if not found:
        return 0
    ids = list(found)
    stored = {
        record.patient_id: record
        for record in RefractoryRecord.objects.filter(
            patient_id__in=ids, definition=refractory.DEFINITION
        )
    }
    at_start: dict[int, dict[int, EpisodeRefractory]] = {}
    for row in EpisodeRefractory.objects.filter(
        patient_id__in=ids, definition=refractory.DEFINITION
    ):
        at_start.setdefault(row.patient_id, {})[row.episode_id] = row
    now = timezone.now()
    events: list[dict[str, Any]] = []
    written = 0
    for patient_id, inputs in found.items():
        events += _write_record(inputs, stored.get(patient_id), now, computed_by, force)
        events += _write_at_start(inputs, at_start.get(patient_id, {}))
        written += 1
    insert_events(events)
    return written


def _write_record(
    inputs: RefractoryInputs,
    old: RefractoryRecord | None,
    now: Any,
    computed_by: str,
    force: bool,
) -> Iterator[dict[str, Any]]:
    status, attestation = current_status(inputs)
    data = refractory.inputs_json(
        inputs.episodes, inputs.responses, inputs.as_of, attestation is not None
    )
    data["attestation"] = attestation
    fingerprint = refractory.fingerprint(data)
    if old is not None and old.fingerprint == fingerprint and not force:
        return
    episodes = [q.as_json() for q in status.episodes]
    parameters = status.parameters.as_json()
    if (
        old is not None
        and old.fingerprint == fingerprint
        and (old.as_of, old.status, old.episodes, old.parameters)
        == (status.as_of, status.status, episodes, parameters)
    ):
        # Forced (`rescore --all`, e.g. after a fix of the rule), but the rule gives what is
        # stored: nothing to write or audit.
        return
    values = {
        "as_of": status.as_of,
        "status": status.status,
        "episodes": episodes,
        "parameters": parameters,
        "inputs": data,
        "fingerprint": fingerprint,
        "attestation_id": attestation if status.status == refractory.CONFIRMED else None,
        "computed_at": now,
        "computed_by": computed_by,
    }
    if old is None:
        record = RefractoryRecord.objects.create(
            patient_id=inputs.patient_id, definition=refractory.DEFINITION, **values
        )
        before, reason = None, "scored"
    else:
        before = _audited(
            {
                "as_of": old.as_of,
                "status": old.status,
                "episodes": old.episodes,
                "attestation_id": old.attestation_id,
            }
        )
        RefractoryRecord.objects.filter(pk=old.pk).update(**values)
        record, reason = old, "inputs changed"
    yield from event_values(
        Actor(None, AuditEvent.Source.SCORING, reason),
        _RECORD_TYPE,
        record.pk,
        before,
        _audited(values),
        site_id=inputs.site_id,
        patient_id=inputs.patient_id,
    )


def _write_at_start(
    inputs: RefractoryInputs, stored: dict[int, EpisodeRefractory]
) -> Iterator[dict[str, Any]]:
    """The status at each episode's start; rows of episodes gone went with them (CASCADE)."""
    created = Actor(None, AuditEvent.Source.SCORING, "scored")
    changed = Actor(None, AuditEvent.Source.SCORING, "inputs changed")
    ids = {"site_id": inputs.site_id, "patient_id": inputs.patient_id}
    for episode in inputs.episodes:
        status = status_at_start(inputs, episode)
        old = stored.get(episode.id)
        if old is None:
            row = EpisodeRefractory.objects.create(
                episode_id=episode.id,
                patient_id=inputs.patient_id,
                definition=refractory.DEFINITION,
                status=status,
            )
            after = {"episode_id": str(episode.id), "status": status}
            yield from event_values(created, _EPISODE_TYPE, row.pk, None, after, **ids)
        elif old.status != status:
            EpisodeRefractory.objects.filter(pk=old.pk).update(status=status)
            yield from event_values(
                changed, _EPISODE_TYPE, old.pk, {"status": old.status}, {"status": status}, **ids
            )
