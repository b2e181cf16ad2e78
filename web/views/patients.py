"""Patient page (timeline, scores, charts), and the patient, autoantibody and treatment forms
(the patient list is web/views/patient_list.py)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from crf.services import validation_to_input_error
from registry.access import Action, Step
from registry.documents import Errors, read_autoantibody, read_patient, read_treatment
from registry.errors import ConflictError, InputError, LockedError
from registry.models import Patient
from registry.services import (
    autoantibody_delete,
    autoantibody_upsert,
    reason_required,
    treatment_delete,
    treatment_upsert,
)
from scoring.selectors import refractory_record
from web import selectors
from web.charts import colour_by_drug
from web.classification import classification_context
from web.forms import AutoantibodyForm, PatientForm, ReasonForm, TreatmentForm
from web.patient_charts import episode_legend, patient_charts
from web.services import patient_edit, patient_register
from web.state import web_state
from web.timeline import build_timeline
from web.views.common import (
    actor,
    get_antibody,
    get_episode,
    get_patient,
    permissions,
    reason_errors,
)
from web.views.invitations import invitations_of
from web.views.outcomes import outcomes_context


def _patient_values(form: PatientForm) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    errors = Errors()
    values = read_patient(errors, "", form.document())
    return values, errors.items


@login_required
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    state = web_state(request)
    sites = state.writable_sites
    if not sites:
        return render(request, "web/forbidden.html", {"what": "register patients"}, status=403)
    current = state.current_site
    initial_site = current if current in sites else sites[0]
    form = PatientForm(
        request.POST or None,
        sites=sites,
        editing=False,
        initial={"site": str(initial_site.pk)},
    )
    if request.method == "POST" and form.is_valid():
        site = next((s for s in sites if str(s.pk) == form.cleaned_data.get("site")), sites[0])
        values, errors = _patient_values(form)
        if not errors:
            try:
                patient = patient_register(actor=actor(request), site=site, values=values)
            except InputError as exc:
                errors = exc.errors
            else:
                messages.success(request, f"Patient {patient.patient_id} registered.")
                return redirect("web:patient", pk=patient.pk)
        form.add_path_errors(errors)
    return render(request, "web/patient_form.html", {"form": form, "patient": None})


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    initial = {
        "patient_id": patient.patient_id,
        "sex": patient.sex,
        "birth_year_month": f"{patient.birth_year:04d}-{patient.birth_month:02d}",
        "diagnosis": patient.diagnosis,
        "onset_date": patient.onset_date.isoformat(),
        "diagnosis_date": patient.diagnosis_date.isoformat() if patient.diagnosis_date else "",
        "updated_at": patient.updated_at.isoformat(),
    }
    form = PatientForm(
        request.POST or None, editing=True, reason=reason_required(patient), initial=initial
    )
    conflict = ""
    if request.method == "POST" and form.is_valid():
        values, errors = _patient_values(form)
        if not errors:
            try:
                outcome = patient_edit(
                    actor=actor(request, form.cleaned_data.get("reason", "")),
                    patient=patient,
                    values=values,
                    seen_updated_at=form.cleaned_data.get("updated_at", ""),
                )
            except InputError as exc:
                errors = exc.errors
            except ConflictError as exc:
                conflict = str(exc)
            else:
                messages.success(
                    request,
                    "Patient updated." if outcome == "updated" else "Nothing was changed.",
                )
                return redirect("web:patient", pk=patient.pk)
        form.add_path_errors(errors)
    return render(
        request, "web/patient_form.html", {"form": form, "patient": patient, "conflict": conflict}
    )


def _scores_context(patient: Patient) -> dict[str, Any]:
    visits = selectors.visits_with_instruments(patient)
    episodes = list(patient.treatments.order_by("start_date", "id"))
    # The same colour as the episode's band on the charts: one per drug.
    colour_by_drug(episodes)
    open_queries = selectors.open_query_counts([v.pk for v in visits])
    timeline = build_timeline(visits, episodes, open_queries)
    return {
        "patient": patient,
        "timeline": timeline,
        "episodes": episodes,
        "charts": patient_charts(patient, timeline, episodes),
        "legend": episode_legend(episodes),
        "population": patient.population,
    }


@login_required
@require_GET
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    context = _scores_context(patient)
    context.update(permissions(request, patient.site_id))
    context["antibodies"] = list(patient.autoantibodies.order_by("sample_date", "antibody"))
    context.update(classification_context(patient))
    context["has_baseline"] = any(
        row.visit.kind == "baseline" for row in context["timeline"]["rows"]
    )
    context["invitations"] = invitations_of(patient)
    context["refractory"] = refractory_record(patient.pk)
    context["can_attest"] = web_state(request).can(Step.ATTEST_REFRACTORY, patient.site_id)
    context.update(outcomes_context(patient))
    return render(request, "web/patient_detail.html", context)


@login_required
@require_GET
def patient_scores(request: HttpRequest, pk: int) -> JsonResponse:
    """The scores part of the patient page, polled by the page while a score is being computed."""
    patient = get_patient(request, pk)
    context = _scores_context(patient)
    context.update(permissions(request, patient.site_id))
    html = render_to_string("web/_patient_scores.html", context, request=request)
    return JsonResponse({"pending": context["timeline"]["pending"], "html": html})


@login_required
@require_GET
def patient_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    page = Paginator(selectors.patient_history(patient), 100).get_page(request.GET.get("page"))
    context = {"patient": patient, "visit": None, "events": page, "page": page}
    return render(request, "web/history.html", context)


# --- autoantibodies ---------------------------------------------------------------------------


def _antibody_values(form: AutoantibodyForm, patient: Patient, key: dict | None):
    errors = Errors()
    data = form.document()
    if key is not None:
        data.update(key)
    values = read_autoantibody(errors, "", data, patient.birth_month_start)
    return values, errors.items


@login_required
@require_http_methods(["GET", "POST"])
def antibody_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    form = AutoantibodyForm(request.POST or None, editing=False)
    if request.method == "POST" and form.is_valid():
        values, errors = _antibody_values(form, patient, None)
        if not errors:
            exists = patient.autoantibodies.filter(
                antibody=values["antibody"], sample_date=values["sample_date"]
            ).exists()
            if exists:
                errors = [("sample_date", "This antibody is already recorded for this date.")]
            else:
                try:
                    autoantibody_upsert(actor=actor(request), patient=patient, values=values)
                except ValidationError as exc:
                    errors = validation_to_input_error(exc).errors
                else:
                    messages.success(request, f"{values['antibody']} result added.")
                    return redirect(reverse("web:patient", args=[patient.pk]) + "#antibodies")
        form.add_path_errors(errors)
    return render(
        request,
        "web/simple_form.html",
        {"form": form, "patient": patient, "title": "Add an autoantibody result"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def antibody_edit(request: HttpRequest, pk: int) -> HttpResponse:
    result = get_antibody(request, pk, Action.WRITE)
    patient = result.patient
    initial = {
        "antibody": result.antibody,
        "result": result.result,
        "method": result.method,
        "intensity": result.intensity,
        "sample_date": result.sample_date.isoformat(),
    }
    form = AutoantibodyForm(
        request.POST or None, editing=True, reason=reason_required(patient), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        key = {"antibody": result.antibody, "sample_date": result.sample_date.isoformat()}
        values, errors = _antibody_values(form, patient, key)
        if not errors:
            try:
                autoantibody_upsert(
                    actor=actor(request, form.cleaned_data.get("reason", "")),
                    patient=patient,
                    values=values,
                )
            except ValidationError as exc:
                errors = validation_to_input_error(exc).errors
            except InputError as exc:
                errors = exc.errors
            else:
                messages.success(request, "Autoantibody result updated.")
                return redirect(reverse("web:patient", args=[patient.pk]) + "#antibodies")
        form.add_path_errors(errors)
    return render(
        request,
        "web/simple_form.html",
        {"form": form, "patient": patient, "title": f"Edit {result.get_antibody_display()}"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def antibody_delete(request: HttpRequest, pk: int) -> HttpResponse:
    result = get_antibody(request, pk, Action.WRITE)
    patient = result.patient
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            autoantibody_delete(actor=actor(request, form.cleaned_data["reason"]), result=result)
        except InputError as exc:
            reason_errors(form, exc)
        else:
            messages.success(request, "Autoantibody result deleted.")
            return redirect(reverse("web:patient", args=[patient.pk]) + "#antibodies")
    return render(
        request,
        "web/confirm_delete.html",
        {
            "form": form,
            "patient": patient,
            "what": f"the {result} result",
            "reason_required": reason_required(patient),
        },
    )


# --- treatment episodes -----------------------------------------------------------------------


def _treatment_values(form: TreatmentForm, patient: Patient):
    errors = Errors()
    values = read_treatment(errors, "", form.document(), patient.birth_month_start)
    return values, errors.items


@login_required
@require_http_methods(["GET", "POST"])
def treatment_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    form = TreatmentForm(request.POST or None, editing=False)
    if request.method == "POST" and form.is_valid():
        values, errors = _treatment_values(form, patient)
        if not errors:
            exists = patient.treatments.filter(
                drug=values["drug"], start_date=values["start_date"]
            ).exists()
            if exists:
                errors = [("start_date", "This drug is already recorded as started on this date.")]
            else:
                try:
                    treatment_upsert(actor=actor(request), patient=patient, values=values)
                except ValidationError as exc:
                    errors = validation_to_input_error(exc).errors
                else:
                    messages.success(request, "Treatment episode added.")
                    return redirect(reverse("web:patient", args=[patient.pk]) + "#treatments")
        form.add_path_errors(errors)
    return render(
        request,
        "web/simple_form.html",
        {"form": form, "patient": patient, "title": "Add a treatment episode"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def treatment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    episode = get_episode(request, pk, Action.WRITE)
    patient = episode.patient
    initial = {
        "drug": episode.drug,
        "drug_other": episode.drug_other,
        "dose": format(episode.dose.normalize(), "f") if episode.dose is not None else "",
        "dose_unit": episode.dose_unit,
        "route": episode.route,
        "frequency": episode.frequency,
        "start_date": episode.start_date.isoformat(),
        "stop_date": episode.stop_date.isoformat() if episode.stop_date else "",
        "stop_reason": episode.stop_reason,
        "stop_reason_other": episode.stop_reason_other,
    }
    form = TreatmentForm(
        request.POST or None, editing=True, reason=reason_required(patient), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values, errors = _treatment_values(form, patient)
        if not errors:
            try:
                treatment_upsert(
                    actor=actor(request, form.cleaned_data.get("reason", "")),
                    patient=patient,
                    values=values,
                    episode=episode,
                )
            except ValidationError as exc:
                errors = validation_to_input_error(exc).errors
            except InputError as exc:
                errors = exc.errors
            else:
                messages.success(request, "Treatment episode updated.")
                return redirect(reverse("web:patient", args=[patient.pk]) + "#treatments")
        form.add_path_errors(errors)
    return render(
        request,
        "web/simple_form.html",
        {"form": form, "patient": patient, "title": f"Edit {episode.drug_label}"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def treatment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    episode = get_episode(request, pk, Action.WRITE)
    patient = episode.patient
    form = ReasonForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            treatment_delete(actor=actor(request, form.cleaned_data["reason"]), episode=episode)
        except InputError as exc:
            reason_errors(form, exc)
        except LockedError as exc:
            error = str(exc)
        else:
            messages.success(request, "Treatment episode deleted.")
            return redirect(reverse("web:patient", args=[patient.pk]) + "#treatments")
    return render(
        request,
        "web/confirm_delete.html",
        {
            "form": form,
            "patient": patient,
            "error": error,
            "what": f"the treatment episode {episode}",
            "reason_required": reason_required(patient),
        },
    )
