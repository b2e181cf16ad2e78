"""The Celery task of the REDCap upload page: an adapter that takes an id and calls one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from interchange.redcap import jobs


@shared_task(
    bind=True,
    name=jobs.RUN_IMPORT_TASK,
    acks_late=True,
    autoretry_for=jobs.TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def run_import(self: Any, job_id: int) -> str:
    """Run an import job (idempotent: a finished job is left as it is)."""
    return jobs.import_job_run(job_id=job_id)
