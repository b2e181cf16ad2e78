"""Admin for data managers. Every change made here is audited (source "admin") and triggers
re-scoring, through the same audit functions the services use."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction

from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.errors import LockedError
from registry.models import (
    AuditEvent,
    AutoantibodyResult,
    Membership,
    Patient,
    Site,
    TreatmentEpisode,
)
from registry.services import autoantibody_delete
from registry.signals import request_scoring
from registry.vocabularies import serology_group


def _patient_of(obj):
    for attr in ("patient", "visit"):
        related = getattr(obj, attr, None)
        if related is not None:
            return related if attr == "patient" else related.patient
    return obj if isinstance(obj, Patient) else None


@contextmanager
def _locked_refused() -> Iterator[None]:
    """A deletion that signed data depend on (a treatment episode whose response a locked
    visit's scores measure) is refused as a 403 with the reason, and the admin's transaction,
    audit events included, is rolled back."""
    try:
        yield
    except LockedError as exc:
        raise PermissionDenied(str(exc)) from exc


class AuditedAdminMixin:
    """Writes an audit event for every field an admin form changes, and asks for re-scoring."""

    def _actor(self, request) -> Actor:
        return Actor(user=request.user, source=AuditEvent.Source.ADMIN)

    def _record(self, request, obj, before, after) -> None:
        patient = _patient_of(obj)
        audit_write(
            audit_events(
                self._actor(request),
                obj,
                before,
                after,
                site_id=patient.site_id if patient else None,
                patient_id=patient.pk if patient else None,
            )
        )
        if patient is not None:
            request_scoring([patient.pk])

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        self._record(request, obj, before, snapshot(obj))

    def delete_model(self, request, obj):
        self._record(request, obj, snapshot(obj), None)
        with _locked_refused():
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        befores = {
            f.instance.pk: snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.forms
            if f.instance.pk and f.has_changed()
        }
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self._record(request, obj, snapshot(obj), None)
            with _locked_refused():
                obj.delete()
        for obj in instances:
            before = befores.get(obj.pk)
            obj.save()
            self._record(request, obj, before, snapshot(obj))
        formset.save_m2m()


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role")
    list_filter = ("role", "site")
    search_fields = ("user__username", "site__code")
    autocomplete_fields = ("user",)


class AutoantibodyInline(admin.TabularInline):
    model = AutoantibodyResult
    extra = 0


class TreatmentInline(admin.TabularInline):
    model = TreatmentEpisode
    extra = 0


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("patient_id", "site", "diagnosis", "serology_group", "sex", "onset_date")
    list_filter = ("site", "diagnosis", "serology_group", "sex")
    search_fields = ("patient_id",)
    readonly_fields = ("serology_group", "created_at", "updated_at")
    inlines = [AutoantibodyInline, TreatmentInline]
    list_select_related = ("site",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        patient = form.instance
        group = serology_group(list(patient.autoantibodies.values_list("antibody", "result")))
        Patient.objects.filter(pk=patient.pk).update(serology_group=group)


@admin.register(AutoantibodyResult)
class AutoantibodyResultAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "antibody", "result", "method", "sample_date")
    list_filter = ("patient__site", "antibody", "result", "method")
    search_fields = ("patient__patient_id",)
    raw_id_fields = ("patient",)
    list_select_related = ("patient__site",)

    def delete_model(self, request, obj):
        autoantibody_delete(actor=self._actor(request), result=obj)


@admin.register(TreatmentEpisode)
class TreatmentEpisodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("patient", "drug", "dose", "dose_unit", "start_date", "stop_date")
    list_filter = ("patient__site", "drug", "patient__diagnosis")
    search_fields = ("patient__patient_id",)
    raw_id_fields = ("patient",)
    date_hierarchy = "start_date"
    list_select_related = ("patient__site",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ("at", "actor", "source", "action", "object_type", "object_id", "field")
    list_filter = ("source", "action", "object_type")
    search_fields = ("object_id", "patient_id", "field")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
