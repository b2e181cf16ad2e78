"""Import jobs of the upload page (docs/architecture.md, conventions 2 and 6): create one, and run
it in a Celery task.

The page stores the three uploaded files in a job and queues the task after the commit; the
task runs the import (interchange.redcap.importing) with the uploader's rights, updating the
job's progress as it goes, and keeps the per-record report for download. Running is idempotent:
a finished job is left alone, and a job whose worker died runs again when its message is
delivered again (the import itself changes nothing the second time).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from interchange.models import ImportJob
from interchange.redcap.dictionary import UnusableInput
from interchange.redcap.importing import import_redcap, require_import

log = logging.getLogger(__name__)

IMPORT_RETENTION = timedelta(days=30)
# Worth another try (the task retries); anything else fails the job with its message.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Looked up by name when a job is queued: the task module imports this one, not back.
RUN_IMPORT_TASK = "interchange.redcap.tasks.run_import"


@transaction.atomic
def import_job_create(
    *,
    user: Any,
    dictionary: str,
    records: str,
    mapping: str,
    filenames: dict[str, str],
    site: str = "",
    dry_run: bool = False,
) -> ImportJob:
    """Record the uploads and queue the import after the commit (PermissionDenied unless the
    user may import). The user's jobs older than IMPORT_RETENTION go at the same time: they
    hold copies of patient data."""
    require_import(user)
    ImportJob.objects.filter(user=user, created_at__lt=timezone.now() - IMPORT_RETENTION).delete()
    job = ImportJob.objects.create(
        user=user,
        dictionary=dictionary,
        records=records,
        mapping=mapping,
        filenames=filenames,
        site=site,
        dry_run=dry_run,
    )
    transaction.on_commit(lambda: current_app.tasks[RUN_IMPORT_TASK].delay(job.pk))
    return job


def _fail(job_id: int, message: str) -> str:
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )
    return ImportJob.Status.FAILED


def import_job_run(*, job_id: int) -> str:
    """Run the job's import and keep its report. Returns the job's final status."""
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .exclude(status__in=(ImportJob.Status.DONE, ImportJob.Status.FAILED))
        .update(status=ImportJob.Status.RUNNING, started_at=timezone.now(), progress=0,
                stage="Reading the files", error="")
    )  # fmt: skip
    if not claimed:
        return ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    job = ImportJob.objects.select_related("user").get(pk=job_id)

    def progress(done: int, total: int) -> None:
        # Its own statement, so that the page polling the job sees it at once.
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(
            progress=min(99, done * 100 // max(total, 1)),
            stage=f"{done} of {total} records",
        )

    try:
        report = import_redcap(
            dictionary=job.dictionary,
            records=job.records,
            mapping=job.mapping,
            site=job.site,
            dry_run=job.dry_run,
            user=job.user,
            progress=progress,
        )
    except (UnusableInput, PermissionDenied) as exc:
        return _fail(job_id, str(exc))
    except Exception as exc:
        if isinstance(exc, TRANSIENT_ERRORS):
            raise
        log.exception("REDCap import %s failed", job_id)  # ids only: no clinical values
        return _fail(job_id, f"{type(exc).__name__}: {exc}")
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE,
        progress=100,
        stage="Done",
        summary=report.summary(),
        notes="\n".join(report.notes()),
        report=report.csv(),
        finished_at=timezone.now(),
    )
    return ImportJob.Status.DONE
