"""Export jobs: XLSX and PDF reports built by a Celery task while the investigator watches.

The built file is kept in the database rather than on a disk: the worker that builds it and the
web server that hands it out may run on different machines (DESIGN.md "Production").
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ExportJob(models.Model):
    class Kind(models.TextChoices):
        XLSX = "xlsx", "Excel workbook (summary, episodes, data dictionary)"
        PDF = "pdf", "PDF report with charts"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The report's filters (reports.filters.ReportFilters.as_dict), re-read when the job runs.
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100),
                name="reports_export_progress_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(content__isnull=False, finished_at__isnull=False),
                name="reports_export_done_has_content",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="reports_export_failed_has_error"
            ),
        ]
        indexes = [
            # The investigator's list of their recent exports.
            models.Index(fields=["user", "-created_at"], name="reports_export_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user} ({self.status})"

    @property
    def content_type(self) -> str:
        if self.kind == self.Kind.PDF:
            return "application/pdf"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
