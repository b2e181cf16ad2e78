from django.contrib import admin

from crf.models import HAQ, MMT8, LabResult, Visit
from crf.services import visit_delete
from registry.admin import AuditedAdminMixin
from registry.audit import Actor


class MMT8Inline(admin.StackedInline):
    model = MMT8
    extra = 0
    max_num = 1


class LabInline(admin.TabularInline):
    model = LabResult
    extra = 0
    max_num = 5


class HAQInline(admin.StackedInline):
    model = HAQ
    extra = 0
    max_num = 1
    classes = ("collapse",)


@admin.register(Visit)
class VisitAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "visit_date", "kind", "status", "version", "physician_global")
    list_filter = ("patient__site", "patient__diagnosis", "status", "kind")
    search_fields = ("patient__patient_id",)
    raw_id_fields = ("patient",)
    readonly_fields = ("version", "created_at", "updated_at")
    date_hierarchy = "visit_date"
    inlines = [MMT8Inline, LabInline, HAQInline]
    list_select_related = ("patient__site",)

    def has_change_permission(self, request, obj=None):
        # Locked (signed) visits refuse edits through every path.
        if obj is not None and obj.status == Visit.Status.LOCKED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == Visit.Status.LOCKED:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1  # an admin edit is a new version like any other
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        visit_delete(actor=Actor(user=request.user, source="admin"), visit=obj)
