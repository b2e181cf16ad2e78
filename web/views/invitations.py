"""The coordinator's side of the patients' invitations (issue 17): create one for a patient (the
link and its QR code are shown once, to print or hand over), see one, revoke one, and the list of
pending invitations of the site."""

from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crf.invitations import (
    invitation_days,
    pro_invitation_create,
    pro_invitation_email,
    pro_invitation_revoke,
)
from crf.models import ProInvitation, Visit
from crf.pro_models import pending_invitations
from registry.access import Action, NotVisible, restrict
from registry.errors import InputError
from registry.models import Patient
from web.state import web_state
from web.views.common import actor, check, get_patient, permissions

INSTRUMENT_LABELS = {
    "haq": "HAQ (the CHAQ for juvenile onset)",
    "patient_global": "Patient global activity",
    "patient_global_damage": "Patient global damage",
}


class InvitationForm(forms.Form):
    visit = forms.ChoiceField(label="Visit", required=False)
    visit_date = forms.CharField(
        label="Or a planned visit on",
        required=False,
        help_text="YYYY-MM-DD; the visit is created as a draft when the answers arrive",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    instruments = forms.MultipleChoiceField(
        label="Questions to answer",
        choices=list(INSTRUMENT_LABELS.items()),
        initial=["haq", "patient_global"],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    email = forms.EmailField(
        label="Send the link to (optional)",
        required=False,
        help_text="Used for this message only; the address is not stored",
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        drafts = patient.visits.filter(status=Visit.Status.DRAFT).order_by("-visit_date")
        self.fields["visit"].choices = [("", "— a planned visit (date below) —")] + [
            (str(v.pk), f"{v.visit_date:%Y-%m-%d} (draft)") for v in drafts
        ]


def invitations_of(patient: Patient) -> list[ProInvitation]:
    return list(ProInvitation.objects.filter(patient=patient).select_related("visit"))


def _qr_svg(url: str) -> str:
    # Drawn here, from the link alone: no third-party service sees it.
    return segno.make(url, error="m").svg_inline(scale=5, border=2, title="QR code of the link")


def _invitation(request: HttpRequest, pk: int, action: Action | str) -> ProInvitation:
    invitation = ProInvitation.objects.select_related("patient__site", "visit").filter(pk=pk)
    found = invitation.first()
    if found is None:
        raise Http404("No such invitation.")
    check(request, action, found.patient.site_id)
    return found


@login_required
@require_http_methods(["GET", "POST"])
def invitation_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    form = InvitationForm(request.POST or None, patient=patient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        visit = None
        if data["visit"]:
            visit = patient.visits.filter(pk=int(data["visit"])).first()
        try:
            with transaction.atomic():
                invitation, token = pro_invitation_create(
                    actor=actor(request),
                    instruments=data["instruments"],
                    visit=visit,
                    patient=None if visit else patient,
                    visit_date=None if visit else (data["visit_date"] or None),
                )
                url = request.build_absolute_uri(reverse("web:pro-answer", args=[token]))
                if data["email"]:
                    address = data["email"]
                    transaction.on_commit(
                        lambda: pro_invitation_email(
                            invitation=invitation, url=url, address=address
                        )
                    )
        except NotVisible:
            raise Http404("No such record.") from None
        except InputError as exc:
            for path, message in exc.errors:
                name = path.split("[", 1)[0]
                form.add_error(name if name in form.fields else None, message)
        else:
            context = _detail_context(request, invitation)
            context.update({"url": url, "qr": _qr_svg(url), "emailed": bool(data["email"])})
            return render(request, "web/pro_invitation.html", context, status=201)
    return render(
        request,
        "web/pro_invitation_new.html",
        {"form": form, "patient": patient, "days": invitation_days()},
        status=400 if form.errors else 200,
    )


def _detail_context(request: HttpRequest, invitation: ProInvitation) -> dict[str, Any]:
    context: dict[str, Any] = {
        "invitation": invitation,
        "patient": invitation.patient,
        "labels": [INSTRUMENT_LABELS[i] for i in invitation.instruments],
    }
    context.update(permissions(request, invitation.patient.site_id))
    return context


@login_required
@require_GET
def invitation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk, Action.READ)
    return render(request, "web/pro_invitation.html", _detail_context(request, invitation))


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk, Action.WRITE)
    try:
        pro_invitation_revoke(actor=actor(request), invitation=invitation)
    except InputError as exc:
        messages.error(request, " ".join(message for _, message in exc.errors))
    except PermissionDenied:
        raise
    else:
        messages.success(request, "The invitation is revoked: its link no longer works.")
    return redirect("web:invitation", pk=invitation.pk)


@login_required
@require_GET
def invitation_list(request: HttpRequest) -> HttpResponse:
    """The invitations still waiting for the patient's answers, at the current site."""
    state = web_state(request)
    invitations = restrict(
        ProInvitation.objects.all(), request.user, Action.READ, site_field="patient__site"
    )
    if state.current_site is not None:
        invitations = invitations.filter(patient__site=state.current_site)
    pending = invitations.filter(pending_invitations()).select_related("patient__site", "visit")
    return render(
        request,
        "web/pro_invitation_list.html",
        {"invitations": list(pending.order_by("visit_date", "id")[:500]), "nav": "invitations"},
    )
