"""Admin for data managers: sites, people and memberships are managed here; clinical data are
only viewed.

Clinical records (patients, autoantibody results, treatment episodes, visits and their
instruments, response records, the audit trail) are read-only in the admin. They are corrected
through the eCRF — the web pages, the API — whose services ask for a reason once a patient has
submitted data, move a visit's status only through its transitions (submitted, verified, signed,
unlocked) and audit every change. An admin form could do none of that: a status set to locked
with no signature, a submitted value changed with no reason."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from registry.models import (
    AuditEvent,
    AutoantibodyResult,
    Membership,
    Patient,
    Site,
    TreatmentEpisode,
)


class ReadOnlyAdminMixin:
    """Viewing only, for a ModelAdmin or an inline: no add, change or delete, by any request."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "time_zone")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role")
    list_filter = ("role", "site")
    search_fields = ("user__username", "site__code")
    autocomplete_fields = ("user",)


class AutoantibodyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AutoantibodyResult
    extra = 0


class TreatmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TreatmentEpisode
    extra = 0


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient_id", "site", "diagnosis", "serology_group", "sex", "onset_date")
    list_filter = ("site", "diagnosis", "serology_group", "sex")
    search_fields = ("patient_id",)
    inlines = [AutoantibodyInline, TreatmentInline]
    list_select_related = ("site",)


@admin.register(AutoantibodyResult)
class AutoantibodyResultAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "antibody", "result", "method", "sample_date")
    list_filter = ("patient__site", "antibody", "result", "method")
    search_fields = ("patient__patient_id",)
    list_select_related = ("patient__site",)


@admin.register(TreatmentEpisode)
class TreatmentEpisodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "drug", "dose", "dose_unit", "start_date", "stop_date")
    list_filter = ("patient__site", "drug", "patient__diagnosis")
    search_fields = ("patient__patient_id",)
    date_hierarchy = "start_date"
    list_select_related = ("patient__site",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The trail is append-only."""

    list_display = ("at", "actor", "source", "action", "object_type", "object_id", "field")
    list_filter = ("source", "action", "object_type")
    search_fields = ("object_id", "patient_id", "field")
    date_hierarchy = "at"
