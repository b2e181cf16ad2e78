"""Celery tasks of the scoring app: adapters that take ids and call one service
(docs/architecture.md, conventions 6).

Every change that can alter a score is announced after its commit (registry.signals); the
receiver here marks the patient's records pending and queues `score_patients`. Tasks are
idempotent (scoring.services.score_patients leaves current records alone and upserts under the
unique constraint), acknowledged late so that a worker killed mid-task leaves its message to be
delivered again, and retried with backoff only on transient database errors. Anything lost on the
way — a broker down at save time, a message dropped — is found by the periodic `sweep_stale`.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.result import AsyncResult
from celery.signals import worker_process_init, worker_ready
from django.db import DatabaseError, InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from scoring import selectors, services

log = logging.getLogger(__name__)

# Patients per task: large enough that a task's fixed cost (a transaction, seven queries) is
# spread over a few hundred visits, small enough to hold patient locks for well under a second.
BATCH_SIZE = 100
# The periodic sweep leaves alone what was asked for less than this long ago: its task is most
# likely still in the queue.
SWEEP_GRACE = timedelta(minutes=2)
# Transient: the database restarting, a connection dropped, a deadlock or serialisation failure
# (all OperationalError). Anything else is a bug or bad data, and retrying would repeat it.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
_RETRY = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@worker_ready.connect
@worker_process_init.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """Move everything a worker process has loaded at start-up (Django, the apps, Celery: some
    tens of thousands of long-lived objects) out of the cyclic garbage collector's reach.

    Scoring allocates many short-lived objects (fractions, result dicts), so full collections
    are frequent, and each one would rescan all of these for nothing: about a tenth of a scoring
    worker's CPU time. Frozen objects are never collected, which is right for objects that live
    as long as the process anyway. `worker_ready` covers a solo or threaded worker,
    `worker_process_init` each child of a prefork one.
    """
    gc.collect()
    gc.freeze()


def _computed_by(request: Any) -> str:
    if request.is_eager or not request.hostname:
        return services.process_name("eager")
    return services.process_name(request.hostname)


@shared_task(bind=True, name="scoring.tasks.score_patients", **_RETRY)
def score_patients(self: Any, patient_ids: list[int], force: bool = False) -> dict[str, int]:
    """Score every visit of these patients against every reference (scoring.services)."""
    summary = services.score_patients(
        patient_ids=patient_ids, force=force, computed_by=_computed_by(self.request)
    )
    return dataclasses.asdict(summary)


@shared_task(bind=True, name="scoring.tasks.sweep_stale", **_RETRY)
def sweep_stale(self: Any, grace_seconds: float | None = None) -> int:
    """Reconciliation (beat, CELERY_BEAT_SCHEDULE): queue the patients with a visit never scored,
    pending for too long, or scored from data that has changed since. Returns how many."""
    grace = SWEEP_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
    queued = 0
    for _, needing in selectors.patients_needing_scoring(grace=grace):
        if needing:
            enqueue(needing)
            queued += len(needing)
    if queued:
        log.info("scoring sweep queued %d patients", queued)
    return queued


def enqueue(
    patient_ids: Iterable[int], *, force: bool = False, batch_size: int = BATCH_SIZE
) -> list[AsyncResult]:
    """Queue `score_patients` for these patients in batches (run them now in eager mode).

    Raises kombu's OperationalError when the broker cannot be reached.
    """
    ids = sorted(set(patient_ids))
    return [
        score_patients.apply_async(args=[ids[start : start + batch_size]], kwargs={"force": force})
        for start in range(0, len(ids), batch_size)
    ]


def on_scoring_inputs_changed(sender: Any, patient_ids: Iterable[int], **kwargs: Any) -> None:
    """Receiver of registry.signals.scoring_inputs_changed, sent after a commit.

    The change is committed already, so nothing here may fail the save: with the database or the
    broker unavailable the records are left pending (or unscored) and the sweep scores them once
    both are back. Logs carry counts only, never patient data.
    """
    ids = sorted(set(patient_ids))
    try:
        services.mark_pending(patient_ids=ids)
    except DatabaseError:
        log.warning("could not mark the records of %d patients pending", len(ids), exc_info=True)
    try:
        enqueue(ids)
    except (BrokerOperationalError, ConnectionError, OSError) as exc:
        log.warning(
            "scoring of %d patients not queued, broker unreachable (%s); the sweep will score them",
            len(ids),
            type(exc).__name__,
        )
