"""Visits and their instruments in the admin: read-only, like every clinical record there
(registry.admin says why). A visit's data and status change only through crf.services."""

from django.contrib import admin

from crf.models import HAQ, MMT8, ClassificationAssessment, LabResult, Visit
from registry.admin import ReadOnlyAdminMixin


class MMT8Inline(ReadOnlyAdminMixin, admin.StackedInline):
    model = MMT8


class LabInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LabResult


class HAQInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = HAQ
    classes = ("collapse",)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "visit_date", "kind", "status", "version", "physician_global")
    list_filter = ("patient__site", "patient__diagnosis", "status", "kind")
    search_fields = ("patient__patient_id",)
    date_hierarchy = "visit_date"
    inlines = [MMT8Inline, LabInline, HAQInline]
    list_select_related = ("patient__site",)


@admin.register(ClassificationAssessment)
class ClassificationAssessmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "assessed_on", "muscle_biopsy", "updated_at")
    list_select_related = ("patient__site",)
    search_fields = ("patient__patient_id",)
