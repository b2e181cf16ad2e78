"""Import jobs: a REDCap project uploaded on the data managers' page, imported by a Celery task
while the page shows the progress, then its per-record report to download.

The uploaded files and the report are kept in the database, like the reports' export jobs: the
worker that imports and the web server that answers may run on different machines.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    # The uploads: the data dictionary, the record export and the mapping, and their file names.
    dictionary = models.TextField()
    records = models.TextField()
    mapping = models.TextField()
    filenames = models.JSONField(default=dict)
    site = models.CharField(max_length=20, blank=True, help_text="Site of records without a DAG")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict)  # records by status
    notes = models.TextField(blank=True)
    report = models.TextField(blank=True)  # the per-record report (CSV)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100),
                name="interchange_import_progress_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(report="") & Q(finished_at__isnull=False),
                name="interchange_import_done_has_report",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""),
                name="interchange_import_failed_has_error",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="interchange_import_user_recent"),
        ]

    def __str__(self) -> str:
        return f"REDCap import by {self.user} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
