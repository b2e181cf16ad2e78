"""The visit form (new and edit), the visit page, its score explanation and its deletion."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from crf.models import DataQuery, Signature, Visit
from crf.pro_models import patient_entered_keys
from crf.services import visit_delete, visit_save
from registry.access import Action
from registry.errors import ConflictError, InputError, LockedError
from registry.models import Patient
from reports.selectors import signed_against_earlier_baseline
from scoring import selectors as scoring_selectors
from web import selectors
from web.explain import enzyme_label, explain_rows
from web.forms import QueryAnswerForm, QueryCloseForm, QueryRaiseForm, ReasonForm
from web.haq_answers import haq_answers
from web.labels import (
    VISIT_FIELD_LABELS,
    field_label,
    query_field_choices,
)
from web.next_url import safe_next
from web.timeline import Score, measures_of
from web.views.common import actor, get_patient, get_visit, permissions, reason_errors
from web.visit_form import VisitForm, reader_errors


def _save(request: HttpRequest, form: VisitForm, patient: Patient, visit: Visit | None):
    """Post → document → visit_save. Returns the saved visit, or None with the form's errors."""
    form.fill_from_post(request.POST)
    doc, problems = form.document()
    if problems:
        form.add_errors(problems + reader_errors(patient, doc))
        return None
    action = request.POST.get("action", "submit")
    if visit is None or visit.status == Visit.Status.DRAFT:
        status = Visit.Status.DRAFT if action == "draft" else Visit.Status.SUBMITTED
    else:
        status = None  # submitted and verified visits stay in the workflow
    expected = None
    if visit is not None:
        try:
            expected = int(request.POST.get("version", ""))
        except ValueError:
            expected = visit.version
    try:
        saved, outcome = visit_save(
            actor=actor(request),
            patient=patient,
            data=doc,
            visit=visit,
            expected_version=expected,
            status=status,
        )
    except InputError as exc:
        form.add_errors(exc.errors)
        return None
    except ConflictError as exc:
        form.conflict = str(exc)
        return None
    except LockedError as exc:
        form.locked = str(exc)
        return None
    verb = {
        "created": "saved as a draft" if status == Visit.Status.DRAFT else "submitted",
        "updated": "updated",
        "unchanged": "unchanged: nothing was different",
    }[outcome]
    messages.success(request, f"Visit of {saved.visit_date:%Y-%m-%d} {verb}.")
    return saved


def _render_form(request: HttpRequest, form: VisitForm, patient: Patient, visit: Visit | None):
    status = 400 if form.has_errors else 200
    if form.conflict:
        status = 409
    return render(
        request,
        "web/visit_form.html",
        {"form": form, "patient": patient, "visit": visit},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    form = VisitForm(patient=patient)
    if request.method == "POST":
        saved = _save(request, form, patient, None)
        if saved is not None:
            return redirect("web:patient", pk=patient.pk)
    else:
        visits = selectors.visits_with_instruments(patient)
        form.fill_new(
            has_baseline=any(v.kind == Visit.Kind.BASELINE for v in visits),
            previous=visits[-1] if visits else None,
        )
    return _render_form(request, form, patient, None)


@login_required
@require_http_methods(["GET", "POST"])
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk, Action.WRITE)
    patient = visit.patient
    form = VisitForm(patient=patient, visit=visit)
    if visit.status == Visit.Status.LOCKED:
        messages.error(request, "This visit is signed and locked; a data manager can unlock it.")
        return redirect("web:visit", pk=visit.pk)
    if request.method == "POST":
        saved = _save(request, form, patient, visit)
        if saved is not None:
            # A data query links here to correct its field: back to the query after the save.
            return redirect(safe_next(request) or reverse("web:patient", args=[patient.pk]))
    else:
        form.fill_from_visit(visit)
    return _render_form(request, form, patient, visit)


def _query_fields(visit: Visit) -> list[tuple[str, str]]:
    """The fields a data query can be about, by the JSON path the rules also use."""
    return query_field_choices()


def _scores(visit: Visit) -> list[Score]:
    return [Score(s) for s in scoring_selectors.scores_for_visits([visit.pk]).get(visit.pk, [])]


def visit_context(request: HttpRequest, visit: Visit) -> dict[str, Any]:
    patient = visit.patient
    scores = _scores(visit)
    queries = list(
        DataQuery.objects.filter(visit=visit)
        .select_related("raised_by", "answered_by", "closed_by")
        .order_by("raised_at", "id")
    )
    signatures = list(Signature.objects.filter(visit=visit).order_by("signed_at"))
    for query in queries:
        query.field_label = field_label(query.field)
    context = {
        "visit": visit,
        "patient": patient,
        "measures": measures_of(visit),
        "labs": list(visit.labs.all()),
        "mmt": _related(visit, "mmt8"),
        "haq": _related(visit, "haq"),
        "haq_answers": haq_answers(_related(visit, "haq")),
        "scores": scores,
        # Reference visits of frozen scores the treatment reports no longer count.
        "earlier_baselines": signed_against_earlier_baseline([visit.pk]).get(visit.pk, set()),
        "queries": queries,
        # Open: awaiting the coordinator's answer; answered: awaiting the monitor's close. An
        # answered query is not "open", but it still holds up verification.
        "open_queries": [q for q in queries if q.status == DataQuery.Status.OPEN],
        "answered_queries": [q for q in queries if q.status == DataQuery.Status.ANSWERED],
        "unclosed_queries": [q for q in queries if q.status != DataQuery.Status.CLOSED],
        "signatures": signatures,
        "raise_form": QueryRaiseForm(field_choices=_query_fields(visit)),
        "answer_form": QueryAnswerForm(),
        "close_form": QueryCloseForm(),
        "field_labels": VISIT_FIELD_LABELS,
        "patient_entered": patient_entered_keys(visit.pk),
    }
    context.update(permissions(request, patient.site_id))
    return context


def _related(visit: Visit, name: str) -> Any:
    from crf.models import HAQ, MMT8

    try:
        return getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return None


@login_required
@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk)
    return render(request, "web/visit_detail.html", visit_context(request, visit))


@login_required
@require_GET
def visit_explain(request: HttpRequest, pk: int) -> HttpResponse:
    """Each measure's percent change and points against each reference visit."""
    visit = get_visit(request, pk)
    scores = _scores(visit)
    reference_ids = [score.reference_id for score in scores]
    references = {
        v.pk: v
        for v in Visit.objects.filter(pk__in=reference_ids, patient_id=visit.patient_id)
        .select_related("mmt8", "haq")
        .prefetch_related("labs")
    }
    episodes = {e.pk: e for e in visit.patient.treatments.all()}
    explained = []
    for score in scores:
        reference = references.get(score.reference_id)
        explained.append(
            {
                "score": score,
                "reference": reference,
                "episodes": [episodes[i] for i in score.episodes if i in episodes],
                "rows": explain_rows(score, reference, visit),
                "enzyme": enzyme_label(score),
            }
        )
    return render(
        request,
        "web/visit_explain.html",
        {"visit": visit, "patient": visit.patient, "explained": explained},
    )


@login_required
@require_GET
def visit_history(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk)
    events = selectors.visit_history(visit)
    return render(
        request,
        "web/history.html",
        {"patient": visit.patient, "visit": visit, "events": events, "page": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk, Action.WRITE)
    patient = visit.patient
    form = ReasonForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            visit_delete(actor=actor(request, form.cleaned_data["reason"]), visit=visit)
        except InputError as exc:
            reason_errors(form, exc)
        except LockedError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Visit of {visit.visit_date:%Y-%m-%d} deleted.")
            return redirect(reverse("web:patient", args=[patient.pk]))
    return render(
        request,
        "web/confirm_delete.html",
        {
            "form": form,
            "patient": patient,
            "visit": visit,
            "error": error,
            "what": f"the visit of {visit.visit_date:%Y-%m-%d}",
            "reason_required": visit.status != Visit.Status.DRAFT,
        },
    )
