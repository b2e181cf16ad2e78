"""Celery tasks of the reports: adapters that take an id and call one service
(docs/architecture.md, conventions 6)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from reports import services
from reports.services import BUILD_EXPORT_TASK, TRANSIENT_ERRORS


@shared_task(
    bind=True,
    name=BUILD_EXPORT_TASK,
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def build_export(self: Any, job_id: int) -> str:
    """Build an XLSX or PDF export job (idempotent: a finished job is left as it is)."""
    return services.export_job_build(job_id=job_id)
