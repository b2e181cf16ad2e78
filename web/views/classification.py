"""The classification form of a patient (2017 EULAR/ACR): coordinators write, others read the
result on the patient page, another site's patient is 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crf.classification import classification_save, read_classification
from crf.models import ClassificationAssessment
from registry.access import Action
from registry.documents import Errors
from registry.errors import InputError
from registry.services import reason_required
from web.classification import ClassificationForm, derived_answers, initial_values
from web.views.common import actor, get_patient


@login_required
@require_http_methods(["GET", "POST"])
def classification_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk, Action.WRITE)
    assessment = ClassificationAssessment.objects.filter(patient=patient).first()
    form = ClassificationForm(
        request.POST or None,
        initial=initial_values(patient, assessment),
        derived=derived_answers(patient),
    )
    must_say_why = assessment is not None and reason_required(patient)
    if must_say_why:
        form.fields["reason"].help_text = (
            "required to change a recorded answer: the patient has submitted data; recorded in "
            "the audit trail"
        )
    if request.method == "POST" and form.is_valid():
        errors = Errors()
        values = read_classification(errors, "", form.document(), patient.birth_month_start)
        if values is None:
            form.add_path_errors(errors.items)
        else:
            try:
                classification_save(
                    actor=actor(request, form.cleaned_data.get("reason", "")),
                    patient=patient,
                    values=values,
                )
            except InputError as exc:
                form.add_path_errors(exc.errors)
            else:
                messages.success(request, "Classification saved; its score follows shortly.")
                return redirect(reverse("web:patient", args=[patient.pk]) + "#classification")
    return render(
        request,
        "web/classification_form.html",
        {"form": form, "patient": patient, "editing": assessment is not None},
    )
