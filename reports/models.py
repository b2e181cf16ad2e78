"""Export jobs: XLSX and PDF reports built by a Celery task while the investigator watches.

The built file is kept in the database rather than on a disk: the worker that builds it and the
web server that hands it out may run on different machines (docs/operations.md "Production
topology").
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


class EndpointDefinition(models.Model):
    """One version of a named trial-style endpoint (docs: OUTCOMES "Trial-style endpoints").

    A version is never changed: saving other parameters under the same name adds the next
    version, so a report computed with an older version can be computed again
    (reports.endpoints). The built-in `proderm` is version 1 of its name (migration 0002).
    """

    class Measure(models.TextChoices):
        DOI = "doi", "IMACS definition of improvement met"
        TIS = "tis", "ACR/EULAR total improvement score at least a threshold"
        CATEGORY = "category", "ACR/EULAR category at least a level"

    name = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    measure = models.CharField(max_length=10, choices=Measure.choices)
    # TIS: the least score that responds; category: the least category (minimal, moderate, major).
    threshold = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    category = models.CharField(max_length=10, blank=True)
    horizon_weeks = models.PositiveSmallIntegerField()
    window_weeks = models.PositiveSmallIntegerField()
    consecutive = models.BooleanField(default=False)
    deterioration = models.BooleanField(default=False)
    description = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="reports_endpoint_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="reports_endpoint_version_1"),
            models.CheckConstraint(
                condition=(
                    Q(measure="doi", threshold__isnull=True, category="")
                    | Q(measure="tis", threshold__isnull=False, category="")
                    | Q(
                        measure="category",
                        threshold__isnull=True,
                        category__in=["minimal", "moderate", "major"],
                    )
                ),
                name="reports_endpoint_measure_parameters",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
