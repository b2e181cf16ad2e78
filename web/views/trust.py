"""Verification, signatures, unlocking, data queries and the audit export (issue 8, web side).

Who may do what is the services' rule (crf.services raises PermissionDenied, answered 403); these
views only find the record through the access rule (another site's answers 404) and show the
services' messages.
"""

import csv
import re
from collections.abc import Iterator
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crf.attestations import refractory_attest
from crf.documents import visit_document
from crf.models import DataQuery, RefractoryAttestation, Visit
from crf.services import (
    query_answer,
    query_close,
    query_raise,
    visit_sign,
    visit_unlock,
    visit_verify,
)
from registry.access import Action, Step
from registry.documents import parse_iso_date
from registry.errors import InputError
from registry.security import is_locked_out, reauthenticate
from registry.selectors import audit_trail
from scoring.selectors import refractory_record
from web import selectors
from web.forms import (
    AttestForm,
    QueryAnswerForm,
    QueryCloseForm,
    QueryRaiseForm,
    ReasonForm,
    SignForm,
    locked_out_message,
)
from web.labels import field_label, form_anchor
from web.next_url import safe_next
from web.state import web_state
from web.views.common import actor, errors_text, get_patient, get_query, get_visit, permissions
from web.views.visits import _query_fields, visit_context


def _visit_url(visit: Visit, anchor: str = "") -> str:
    return reverse("web:visit", args=[visit.pk]) + anchor


@login_required
@require_POST
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk, Action.QUERY)
    try:
        visit_verify(actor=actor(request), visit=visit)
    except InputError as exc:
        messages.error(request, errors_text(exc.errors))
    else:
        messages.success(request, "Visit verified against the source documents.")
    return redirect(_visit_url(visit))


@login_required
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk, Action.SIGN)
    form = SignForm(request.POST or None)
    status = 200
    if request.method == "POST" and not form.is_valid():
        status = 400
    elif request.method == "POST" and is_locked_out(request.user.get_username(), request):
        status = 429
        form.add_error(None, locked_out_message())
    elif request.method == "POST":
        password = form.cleaned_data["password"]
        # The password is asked as a login asks it, so that django-axes counts a wrong one and
        # refuses a locked-out signer (registry.security). One it refuses goes no further: the
        # service is handed none, and refuses that in its own words with anything else amiss.
        if not reauthenticate(request, request.user, password):
            password = ""
        try:
            visit_sign(
                actor=actor(request),
                visit=visit,
                password=password,
                meaning=form.cleaned_data["meaning"],
            )
        except InputError as exc:
            status = 400
            for path, message in exc.errors:
                form.add_error(path if path in form.fields else None, message)
        else:
            messages.success(request, "Visit signed and locked.")
            return redirect(_visit_url(visit))
    context = visit_context(request, visit)
    context["form"] = form
    return render(request, "web/visit_sign.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def refractory_attest_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An investigator attests that mimics and malignancy were excluded, which confirms a
    refractory candidate (crf.attestations)."""
    patient = get_patient(request, pk)
    if not web_state(request).can(Step.ATTEST_REFRACTORY, patient.site_id):
        raise PermissionDenied(f"Only an investigator may {Step.ATTEST_REFRACTORY}.")
    form = AttestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            refractory_attest(
                actor=actor(request),
                patient=patient,
                password=form.cleaned_data["password"],
                meaning=form.cleaned_data["meaning"],
                request=request,
            )
        except InputError as exc:
            status = 400
            for path, message in exc.errors:
                form.add_error(path if path in form.fields else None, message)
        else:
            messages.success(request, "Attested: the refractory status is confirmed.")
            return redirect(reverse("web:patient", args=[patient.pk]) + "#refractory")
    context = {
        "patient": patient,
        "refractory": refractory_record(patient.pk),
        "statement": RefractoryAttestation.STATEMENT,
        "form": form,
    }
    return render(request, "web/refractory_attest.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk)
    if not web_state(request).can(Step.UNLOCK, visit.patient.site_id):
        raise PermissionDenied("Only a data manager may unlock a visit.")
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            visit_unlock(actor=actor(request, form.cleaned_data["reason"]), visit=visit)
        except InputError as exc:
            status = 400
            for path, message in exc.errors:
                form.add_error("reason" if path == "reason" else None, message)
        else:
            messages.success(request, "Visit unlocked; its signature is void.")
            return redirect(_visit_url(visit))
    context = visit_context(request, visit)
    context["form"] = form
    return render(request, "web/visit_unlock.html", context, status=status)


@login_required
@require_POST
def query_new(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_visit(request, pk, Action.QUERY)
    form = QueryRaiseForm(request.POST, field_choices=_query_fields(visit))
    if not form.is_valid():
        messages.error(request, "Choose the field the query is about.")
        return redirect(_visit_url(visit, "#queries"))
    try:
        query_raise(
            actor=actor(request),
            visit=visit,
            field=form.cleaned_data["field"],
            text=form.cleaned_data["text"],
        )
    except InputError as exc:
        messages.error(request, errors_text(exc.errors))
    else:
        messages.success(request, "Data query raised.")
    return redirect(_visit_url(visit, "#queries"))


@login_required
@require_POST
def query_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_query(request, pk)
    form = QueryAnswerForm(request.POST)
    form.is_valid()
    try:
        query_answer(actor=actor(request), query=query, answer=form.cleaned_data.get("answer", ""))
    except InputError as exc:
        messages.error(request, errors_text(exc.errors))
    else:
        messages.success(request, "Answer recorded.")
    return redirect(safe_next(request) or _visit_url(query.visit, "#queries"))


@login_required
@require_POST
def query_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_query(request, pk, Action.QUERY)
    form = QueryCloseForm(request.POST)
    form.is_valid()
    try:
        query_close(actor=actor(request), query=query, note=form.cleaned_data.get("note", ""))
    except InputError as exc:
        messages.error(request, errors_text(exc.errors))
    else:
        messages.success(request, "Query closed.")
    return redirect(safe_next(request) or _visit_url(query.visit, "#queries"))


def _current_value(visit: Visit, path: str) -> str:
    """The value the query is about, as the visit holds it now ("" for a block or nothing)."""
    value: object = visit_document(visit)
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return ""
    if path.startswith("labs.") and path.endswith((".value", ".uln")):
        unit = _lab_unit(visit, path.split(".")[1])
        return f"{value} {unit}".strip()
    return str(value)


def _lab_unit(visit: Visit, enzyme: str) -> str:
    for lab in visit.labs.all():
        if lab.enzyme == enzyme:
            return lab.get_unit_display()
    return ""


@login_required
@require_GET
def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One data query: the field it is about (with its value now), the question, the answer, and
    the way to correct the field in the visit form and come back here."""
    query = get_query(request, pk)
    query = (
        DataQuery.objects.select_related(
            "visit__patient__site", "raised_by", "answered_by", "closed_by"
        )
        .prefetch_related("visit__labs")
        .get(pk=query.pk)
    )
    visit = query.visit
    here = reverse("web:query", args=[query.pk])
    context = {
        "query": query,
        "visit": visit,
        "patient": visit.patient,
        "field_label": field_label(query.field),
        "current_value": _current_value(visit, query.field),
        "edit_url": (
            reverse("web:visit-edit", args=[visit.pk])
            + "?"
            + urlencode({"next": here})
            + "#"
            + form_anchor(query.field)
        ),
        "here": here,
        "answer_form": QueryAnswerForm(),
        "close_form": QueryCloseForm(),
    }
    context.update(permissions(request, visit.patient.site_id))
    return render(request, "web/query_detail.html", context)


@login_required
@require_GET
def query_list(request: HttpRequest) -> HttpResponse:
    site = web_state(request).current_site
    queries = selectors.open_queries(user=request.user, site_id=site.pk if site else None)
    page = Paginator(queries, 100).get_page(request.GET.get("page"))
    return render(request, "web/query_list.html", {"page": page, "site": site})


# --- audit export -----------------------------------------------------------------------------


class _Echo:
    """csv.writer target that hands each row back instead of buffering the file."""

    def write(self, value: str) -> str:
        return value


AUDIT_COLUMNS = (
    "event_id",
    "at",
    "user",
    "source",
    "action",
    "site_id",
    "patient_id",
    "object_type",
    "object_id",
    "field",
    "old_value",
    "new_value",
    "reason",
)


# The model fields behind AUDIT_COLUMNS, in the same order.
AUDIT_FIELDS = (
    "id",
    "at",
    "actor__username",
    "source",
    "action",
    "site_id",
    "patient_id",
    "object_type",
    "object_id",
    "field",
    "old_value",
    "new_value",
    "reason",
)


def _parse_date(raw: str) -> date | None:
    return parse_iso_date(raw)


def _require_data_manager(request: HttpRequest) -> None:
    if not web_state(request).can_audit:
        raise PermissionDenied("The audit export is for data managers.")


@login_required
@require_GET
def audit_page(request: HttpRequest) -> HttpResponse:
    _require_data_manager(request)
    return render(request, "web/audit.html", {"sites": web_state(request).sites})


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The audit trail as CSV, streamed row by row (it grows without bound)."""
    _require_data_manager(request)
    site_id = request.GET.get("site", "")
    # The filtering is the API's too (GET /api/v1/audit/): one selector for both.
    rows = audit_trail(
        # isascii: str.isdigit accepts superscripts, which int() refuses (and so a 5000-digit id).
        site_id=int(site_id)
        if site_id.isascii() and site_id.isdigit() and len(site_id) < 19
        else None,
        since=_parse_date(request.GET.get("since", "")),
        until=_parse_date(request.GET.get("until", "")),
    ).values_list(*AUDIT_FIELDS)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(AUDIT_COLUMNS)
        for row in rows.iterator(chunk_size=2000):
            at = row[1]
            yield writer.writerow(
                (row[0], at.isoformat(), row[2] or "", *row[3:10], *_csv_safe(row[10:]))
            )

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _csv_safe(values: tuple) -> list[str]:
    """Values as text; a leading =, +, @ or - (other than a negative number) is quoted with ',
    so that a spreadsheet opening the export does not run it as a formula (CSV injection)."""
    out = []
    for value in values:
        text = "" if value is None else str(value)
        if text[:1] in ("=", "+", "@", "\t", "\r") or (
            text[:1] == "-" and not _NEGATIVE_NUMBER.match(text)
        ):
            text = "'" + text
        out.append(text)
    return out


_NEGATIVE_NUMBER = re.compile(r"^-\d+(\.\d+)?$")
