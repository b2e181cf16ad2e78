"""Write services of the reports: export jobs (create, build). docs/architecture.md, conventions 2
and 6.

An XLSX or PDF report of the whole registry takes a while to build, so the page creates a job
and a Celery task builds it (reports.tasks), updating the job's progress as it goes; the page
shows the progress and then the download. Building is idempotent: a finished job is left alone,
and a job whose worker died is built again from scratch when its message is delivered again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from registry.access import Action, can_anywhere
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.errors import InputError
from reports.disclosure import Disclosure
from reports.endpoints import Parameters, endpoint_lookup, parse_definition
from reports.filters import ReportFilters, parse_filters
from reports.models import EndpointDefinition, ExportJob
from reports.outcomes import outcomes_by_treatment
from reports.pdf import pdf
from reports.selectors import episodes_for_drilldown, outcome_rows, validate_sites
from reports.xlsx import workbook

log = logging.getLogger(__name__)

EXPORT_RETENTION = timedelta(days=7)

# The database restarting or a dropped connection: worth another try (the task retries). Anything
# else fails the job with its message.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# The build task, looked up by its Celery name when a job is queued: reports.tasks imports this
# module (a task adapts a service), so this module does not import it back. ReportsConfig.ready()
# registers the task in every process.
BUILD_EXPORT_TASK = "reports.tasks.build_export"


def can_report(user: Any) -> bool:
    """Registry-wide aggregate reports: investigators and data managers (registry.access)."""
    return can_anywhere(user, Action.REPORT)


def require_report(user: Any) -> None:
    if not can_report(user):
        raise PermissionDenied("Reports are for investigators and data managers.")


@transaction.atomic
def export_job_create(*, user: Any, kind: str, filters: ReportFilters) -> ExportJob:
    """Record the request and queue its build after the commit.

    The user's exports older than EXPORT_RETENTION go at the same time: a built file is a copy
    of patient-level data (the episodes sheet), kept only as long as it is likely downloaded.
    """
    require_report(user)
    if kind not in ExportJob.Kind.values:
        raise InputError([("kind", f"Must be one of: {', '.join(ExportJob.Kind.values)}.")])
    validate_sites(filters)
    if filters.endpoint:
        endpoint_lookup(filters.endpoint)
    ExportJob.objects.filter(user=user, created_at__lt=timezone.now() - EXPORT_RETENTION).delete()
    job = ExportJob.objects.create(user=user, kind=kind, filters=filters.as_dict())

    transaction.on_commit(lambda: current_app.tasks[BUILD_EXPORT_TASK].delay(job.pk))
    return job


def _progress(job_id: int) -> Any:
    def report(percent: int, stage: str) -> None:
        # Its own statement, outside any transaction of the build, so that the page polling
        # the job sees it at once.
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING).update(
            progress=max(0, min(percent, 99)), stage=stage[:200]
        )

    return report


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )


def export_job_build(*, job_id: int) -> str:
    """Build the job's file and store it. Returns the job's final status.

    The caller's access is checked again at build time: the episodes sheet holds the episodes of
    the sites the user may read *now*. Database errors propagate (the task retries them); any
    other error fails the job with its message, as building it again would fail again.
    """
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .exclude(status=ExportJob.Status.DONE)
        .update(
            status=ExportJob.Status.RUNNING,
            started_at=timezone.now(),
            progress=0,
            stage="Started",
            error="",
        )
    )
    if not claimed:
        return ExportJob.Status.DONE if ExportJob.objects.filter(pk=job_id).exists() else ""
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    progress = _progress(job_id)
    try:
        if not can_report(job.user):
            _fail(job_id, "You may no longer see registry-wide reports.")
            return ExportJob.Status.FAILED
        filters = parse_filters(job.filters)
        progress(2, "Counting the outcomes")
        report = outcomes_by_treatment(filters, disclosure=Disclosure.for_user(job.user))
        if job.kind == ExportJob.Kind.XLSX:
            episodes = episodes_for_drilldown(job.user, filters)
            content = workbook(
                report,
                outcome_rows(episodes, detail=True),
                episode_total=episodes.count(),
                progress=progress,
            )
        else:
            content = pdf(report, progress=progress)
    except InputError as exc:
        _fail(job_id, str(exc))
        return ExportJob.Status.FAILED
    except Exception as exc:
        if isinstance(exc, TRANSIENT_ERRORS):
            raise
        # Ids only in the log: no clinical values.
        log.exception("report export %s failed", job_id)
        _fail(job_id, f"{type(exc).__name__}: {exc}")
        return ExportJob.Status.FAILED
    stamp = timezone.now()
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE,
        content=content,
        progress=100,
        stage="Ready",
        filename=f"outcomes-by-treatment-{stamp:%Y%m%d-%H%M}.{job.kind}",
        finished_at=stamp,
    )
    return ExportJob.Status.DONE


@transaction.atomic
def endpoint_define(*, actor: Actor, data: Any) -> tuple[EndpointDefinition, bool]:
    """Save an endpoint (reports.endpoints): a new name is version 1; a known name with other
    parameters is its next version; the same parameters again are the latest version, unchanged
    (returned with False). Investigators and data managers only; audited."""
    require_report(actor.user)
    name, parameters, description = parse_definition(data)
    # Two requests saving the same name wait for each other here, so versions never collide.
    versions = list(
        EndpointDefinition.objects.select_for_update().filter(name=name).order_by("-version")
    )
    latest = versions[0] if versions else None
    if latest is not None and Parameters.of(latest) == parameters:
        return latest, False
    try:
        with transaction.atomic():
            definition = _endpoint_create(actor, name, parameters, description, latest)
    except IntegrityError:
        # A new name saved twice at the same moment: no row was there to lock.
        raise InputError(
            [("name", "This endpoint was saved by another request at the same time; send again.")]
        ) from None
    audit_write(
        audit_events(actor, definition, None, snapshot(definition), site_id=None, patient_id=None)
    )
    return definition, True


def _endpoint_create(
    actor: Actor,
    name: str,
    parameters: Parameters,
    description: str,
    latest: EndpointDefinition | None,
) -> EndpointDefinition:
    return EndpointDefinition.objects.create(
        name=name,
        version=1 if latest is None else latest.version + 1,
        measure=parameters.measure,
        threshold=parameters.threshold,
        category=parameters.category,
        horizon_weeks=parameters.horizon_weeks,
        window_weeks=parameters.window_weeks,
        consecutive=parameters.consecutive,
        deterioration=parameters.deterioration,
        description=description,
        created_by=actor.user,
    )
