"""Vital status, lung status, HRCT assessments and adverse events on the patient page: the
coordinators' forms (issue 14), through the services of crf.outcomes.

Each form's text is read by the submission document's readers (crf.outcome_documents), so a
person and a site's script hear the same message for the same mistake. Another site's record
answers 404, a role that may not write 403 (web.views.common).
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crf.outcome_documents import (
    adverse_event_document,
    hrct_document,
    lung_document,
    one_to_one,
    read_adverse_event,
    read_hrct,
    read_lung,
    read_vital_status,
    vital_status_document,
)
from crf.outcome_models import AdverseEvent, HRCTAssessment
from crf.outcomes import (
    RelationValues,
    adverse_event_delete,
    adverse_event_upsert,
    hrct_delete,
    hrct_upsert,
    lung_save,
    vital_status_save,
)
from registry.access import Action
from registry.documents import Errors
from registry.errors import InputError
from registry.models import Patient
from registry.services import reason_required
from web.forms import ReasonForm
from web.outcome_forms import (
    AdverseEventForm,
    HRCTForm,
    LungForm,
    VitalStatusForm,
    yes_no_text,
)
from web.views.common import actor, check, get_patient, reason_errors


def outcomes_context(patient: Patient) -> dict[str, Any]:
    """What the patient page shows of these records (web/templates/web/outcome_section.html):
    one query for the patient's vital and lung status and whether it has scans and events, the
    lists only when there are some."""
    found = (
        Patient.objects.filter(pk=patient.pk)
        .select_related("vital_status", "lung")
        .annotate(
            has_hrct=Exists(HRCTAssessment.objects.filter(patient=OuterRef("pk"))),
            has_events=Exists(AdverseEvent.objects.filter(patient=OuterRef("pk"))),
        )
        .get()
    )
    events = []
    if found.has_events:
        events = list(
            patient.adverse_events.order_by("onset_date", "category", "term").prefetch_related(
                "relations__episode"
            )
        )
    return {
        "vital_status": one_to_one(found, "vital_status"),
        "lung": one_to_one(found, "lung"),
        "hrct": list(patient.hrct_assessments.order_by("date")) if found.has_hrct else [],
        "adverse_events": events,
    }


def _back(patient: Patient) -> HttpResponse:
    return redirect(reverse("web:patient", args=[patient.pk]) + "#outcomes")


def _text_values(document: dict[str, Any]) -> dict[str, str]:
    """A stored record's document as a form's initial text."""
    initial: dict[str, str] = {}
    for key, value in document.items():
        if isinstance(value, bool) or (value is None and key in ("rapidly_progressive", "serious")):
            initial[key] = yes_no_text(value)
        elif value is None:
            initial[key] = ""
        elif isinstance(value, list):
            continue
        else:
            initial[key] = str(value)
    return initial


def _form_page(
    request: HttpRequest,
    patient: Patient,
    form: Any,
    title: str,
    save: Callable[[Any], str | None],
) -> HttpResponse:
    """Read the form's document, save it (`save` returns errors' absence as None), or show the
    form again with every error at its field and in the summary."""
    if request.method == "POST" and form.is_valid():
        try:
            done = save(form)
        except InputError as exc:
            form.add_path_errors(exc.errors)
        else:
            if done is not None:
                messages.success(request, done)
                return _back(patient)
    return render(
        request, "web/outcome_form.html", {"form": form, "patient": patient, "title": title}
    )


def _read(form: Any, reader: Callable[..., Any], patient: Patient) -> Any:
    errors = Errors()
    values = reader(errors, "", form.document(), patient.birth_month_start)
    errors.raise_if_any()
    return values


def _reason(form: Any) -> str:
    return form.cleaned_data.get("reason", "") if "reason" in form.fields else ""


# --- one per patient ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def vital_status_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    stored = one_to_one(patient, "vital_status")
    initial = _text_values(vital_status_document(stored)) if stored else {}
    form = VitalStatusForm(
        request.POST or None,
        editing=stored is not None,
        reason=reason_required(patient),
        initial=initial,
    )

    def save(form: VitalStatusForm) -> str:
        values = _read(form, read_vital_status, patient)
        vital_status_save(actor=actor(request, _reason(form)), patient=patient, values=values)
        return "Vital status saved."

    return _form_page(request, patient, form, "Vital status", save)


@login_required
@require_http_methods(["GET", "POST"])
def lung_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    stored = one_to_one(patient, "lung")
    initial = _text_values(lung_document(stored)) if stored else {}
    form = LungForm(
        request.POST or None,
        editing=stored is not None,
        reason=reason_required(patient),
        initial=initial,
    )

    def save(form: LungForm) -> str:
        values = _read(form, read_lung, patient)
        lung_save(actor=actor(request, _reason(form)), patient=patient, values=values)
        return "Lung status saved."

    return _form_page(request, patient, form, "Interstitial lung disease", save)


# --- HRCT assessments --------------------------------------------------------------------------


def _get_scan(request: HttpRequest, pk: int) -> HRCTAssessment:
    scan = HRCTAssessment.objects.select_related("patient__site").filter(pk=pk).first()
    if scan is None:
        raise Http404("No such HRCT assessment.")
    check(request, Action.WRITE, scan.patient.site_id)
    return scan


def _hrct_page(request: HttpRequest, patient: Patient, scan: HRCTAssessment | None) -> HttpResponse:
    initial = _text_values(hrct_document(scan)) if scan else {}
    form = HRCTForm(
        request.POST or None,
        editing=scan is not None,
        reason=reason_required(patient),
        initial=initial,
    )

    def save(form: HRCTForm) -> str | None:
        values = _read(form, read_hrct, patient)
        if scan is None and patient.hrct_assessments.filter(date=values["date"]).exists():
            raise InputError([("date", "The patient has a scan on this date already.")])
        hrct_upsert(
            actor=actor(request, _reason(form)), patient=patient, values=values, assessment=scan
        )
        return "HRCT assessment saved."

    title = "Add an HRCT assessment" if scan is None else f"HRCT of {scan.date:%Y-%m-%d}"
    return _form_page(request, patient, form, title, save)


@login_required
@require_http_methods(["GET", "POST"])
def hrct_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _hrct_page(request, get_patient(request, pk, Action.WRITE), None)


@login_required
@require_http_methods(["GET", "POST"])
def hrct_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scan = _get_scan(request, pk)
    return _hrct_page(request, scan.patient, scan)


# --- adverse events ----------------------------------------------------------------------------


def _get_event(request: HttpRequest, pk: int) -> AdverseEvent:
    event = AdverseEvent.objects.select_related("patient__site").filter(pk=pk).first()
    if event is None:
        raise Http404("No such adverse event.")
    check(request, Action.WRITE, event.patient.site_id)
    return event


def _event_page(request: HttpRequest, patient: Patient, event: AdverseEvent | None) -> HttpResponse:
    episodes = list(patient.treatments.order_by("start_date", "drug"))
    initial: dict[str, Any] = {}
    if event is not None:
        document = adverse_event_document(event)
        initial = _text_values(document)
        initial["serious_criteria"] = document["serious_criteria"]
        for relation in event.relations.all():
            initial[f"rel_{relation.episode_id}"] = relation.relatedness
            initial[f"act_{relation.episode_id}"] = relation.action
    form = AdverseEventForm(
        request.POST or None,
        episodes=episodes,
        editing=event is not None,
        reason=reason_required(patient),
        initial=initial,
    )
    by_pk = {episode.pk: episode for episode in episodes}

    def save(form: AdverseEventForm) -> str:
        errors = Errors()
        read = read_adverse_event(errors, "", form.document(), patient.birth_month_start)
        errors.raise_if_any()
        assert read is not None
        relations = [
            RelationValues(by_pk[pk], related.relatedness, related.action, related.path)
            for pk, related in zip(form.related_fields, read.related, strict=True)
        ]
        if event is None:
            key = {name: read.values[name] for name in ("category", "term", "onset_date")}
            if patient.adverse_events.filter(**key).exists():
                raise InputError([("term", "This event, with this onset, is recorded already.")])
        adverse_event_upsert(
            actor=actor(request, _reason(form)),
            patient=patient,
            values=read.values,
            relations=relations,
            event=event,
        )
        return "Adverse event saved."

    title = "Add an adverse event" if event is None else f"Adverse event: {event.term}"
    return _form_page(request, patient, form, title, save)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_page(request, get_patient(request, pk, Action.WRITE), None)


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_event(request, pk)
    return _event_page(request, event.patient, event)


# --- deleting ----------------------------------------------------------------------------------


def _delete_page(
    request: HttpRequest, patient: Patient, what: str, delete: Callable[[Any], None]
) -> HttpResponse:
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            delete(actor(request, form.cleaned_data["reason"]))
        except InputError as exc:
            reason_errors(form, exc)
        else:
            messages.success(request, f"Deleted {what}.")
            return _back(patient)
    return render(
        request,
        "web/confirm_delete.html",
        {
            "form": form,
            "patient": patient,
            "error": "",
            "what": what,
            "reason_required": reason_required(patient),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def hrct_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    scan = _get_scan(request, pk)
    return _delete_page(
        request,
        scan.patient,
        f"the HRCT assessment of {scan.date:%Y-%m-%d}",
        lambda who: hrct_delete(actor=who, assessment=scan),
    )


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_event(request, pk)
    return _delete_page(
        request,
        event.patient,
        f"the adverse event '{event.term}' of {event.onset_date:%Y-%m-%d}",
        lambda who: adverse_event_delete(actor=who, event=event),
    )
