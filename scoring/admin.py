"""Response records in the admin: read-only (they are derived, the tasks are their only writer),
with an action that asks for the selected records' patients to be scored again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from kombu.exceptions import OperationalError as BrokerOperationalError

from registry.admin import ReadOnlyAdminMixin
from scoring import tasks
from scoring.models import ClassificationRecord, ResponseRecord


@admin.register(ResponseRecord)
class ResponseRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "visit", "reference_visit", "algorithm", "reference_kind", "status", "met", "score",
        "category", "confirmed", "computed_at",
    )  # fmt: skip
    list_filter = ("algorithm", "status", "reference_kind", "category")
    list_select_related = ("visit__patient__site", "reference_visit__patient__site")
    search_fields = ("visit__patient__patient_id",)
    date_hierarchy = "computed_at"
    actions = ["rescore_patients"]

    @admin.action(description="Score the patients of the selected records again")
    def rescore_patients(self, request: HttpRequest, queryset: QuerySet[ResponseRecord]) -> None:
        ids = set(queryset.values_list("patient_id", flat=True))
        try:
            tasks.enqueue(ids, force=True)
        except BrokerOperationalError:
            self.message_user(
                request, "The broker cannot be reached; try again later.", messages.ERROR
            )
            return
        self.message_user(request, f"Scoring of {len(ids)} patient(s) asked for.")


@admin.register(ClassificationRecord)
class ClassificationRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "status", "score", "category", "subgroup", "computed_at")
    list_filter = ("status", "category", "subgroup")
    list_select_related = ("patient__site",)
    search_fields = ("patient__patient_id",)
