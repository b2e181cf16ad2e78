"""Forms of the smaller pages. They only collect text: validation is the document readers'
(registry.documents, the same rules as the API's), whose JSON-path errors are put on the field
of the same name, so a person and a site's script hear the same message for the same mistake."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from crf.models import DataQuery, RefractoryAttestation, Signature
from registry.models import Site
from registry.security import is_locked_out, lockout_minutes
from registry.vocabularies import (
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    Sex,
    StopReason,
)
from web.visit_form import parse_number

DATE_HINT = "YYYY-MM-DD"


def _blank(choices: Iterable[tuple[str, str]], label: str = "—") -> list[tuple[str, str]]:
    return [("", label), *choices]


def _text(label: str, *, hint: str = "", max_length: int = 200, **attrs: Any) -> forms.CharField:
    attrs.setdefault("autocomplete", "off")
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=hint,
        widget=forms.TextInput(attrs=attrs),
    )


def _date(label: str) -> forms.CharField:
    return _text(label, hint=DATE_HINT, max_length=10, inputmode="numeric", placeholder=DATE_HINT)


def _select(label: str, choices: Iterable[tuple[str, str]], blank: str = "—") -> forms.CharField:
    # A CharField with a select widget: the reader, not the form, judges the value.
    return forms.CharField(
        label=label, required=False, widget=forms.Select(choices=_blank(choices, blank))
    )


class DocumentForm(forms.Form):
    """Collects text, builds the document object, shows the reader's errors at their fields."""

    number_fields: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        assert self.is_valid()
        doc: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in ("reason", "site", "updated_at") or value in ("", None):
                continue
            doc[name] = parse_number(value) if name in self.number_fields else value
        return doc

    def add_path_errors(self, errors: Iterable[tuple[str, str]]) -> None:
        for path, message in errors:
            name = path.split(".")[0].split("[")[0]
            if name == "birth_year" or name == "birth_month":
                name = "birth_year_month"
            self.add_error(name if name in self.fields else None, message)


def _ask_reason(form: forms.Form, *, editing: bool, required: bool) -> None:
    """An edit asks why; `required` once the patient has data past draft (the services refuse
    a correction without a reason then, and their error is shown at this field)."""
    if not editing:
        del form.fields["reason"]
    elif required:
        hint = "required: the patient has submitted data; recorded in the audit trail"
        form.fields["reason"].help_text = hint


class PatientForm(DocumentForm):
    patient_id = _text("Site patient id", hint="the site's own pseudonymous id", max_length=64)
    sex = _select("Sex", Sex.choices)
    birth_year_month = _text(
        "Year and month of birth", hint="YYYY-MM", max_length=7, placeholder="YYYY-MM"
    )
    diagnosis = _select("Diagnosis", Diagnosis.choices)
    onset_date = _date("Date of symptom onset")
    diagnosis_date = _date("Date of diagnosis")
    reason = _text("Reason for change", hint="recorded in the audit trail", max_length=2000)
    updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        sites: list[Site] | None = None,
        editing: bool,
        reason: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if editing:
            # The site patient id is the patient's key at the site (and in the sites'
            # submissions); it is shown but not changed here.
            self.fields["patient_id"].disabled = True
        else:
            del self.fields["updated_at"]
        _ask_reason(self, editing=editing, required=reason)
        if sites is not None and len(sites) > 1:
            self.fields["site"] = forms.ChoiceField(
                label="Site", choices=[(str(s.pk), f"{s.code} — {s.name}") for s in sites]
            )
            self.order_fields(["site"])


class AutoantibodyForm(DocumentForm):
    antibody = _select("Antibody", Antibody.choices)
    result = _select("Result", AntibodyResult.choices)
    method = _select("Method", AntibodyMethod.choices)
    intensity = _text("Intensity or titre", hint="optional, as reported", max_length=40)
    sample_date = _date("Sample date")
    reason = _text("Reason for change", hint="recorded in the audit trail", max_length=2000)

    def __init__(self, *args: Any, editing: bool, reason: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if editing:
            # Antibody and sample date are the result's key; a different one is a new result.
            self.fields["antibody"].disabled = True
            self.fields["sample_date"].disabled = True
        _ask_reason(self, editing=editing, required=reason)


class TreatmentForm(DocumentForm):
    number_fields = ("dose",)

    drug = _select("Drug", Drug.choices)
    drug_other = _text("Other drug", hint="name it when the drug is 'Other'", max_length=100)
    dose = _text("Dose", inputmode="decimal", max_length=20)
    dose_unit = _text("Dose unit", hint="e.g. mg, g/kg, mg/m²", max_length=20)
    route = _select("Route", Route.choices)
    frequency = _text("Frequency", hint="e.g. daily, weekly, every 4 weeks", max_length=60)
    start_date = _date("Start date")
    stop_date = _date("Stop date")
    stop_reason = _select("Reason stopped", StopReason.choices)
    stop_reason_other = _text("Other reason", hint="only when the reason is 'Other'")
    reason = _text("Reason for change", hint="recorded in the audit trail", max_length=2000)

    def __init__(self, *args: Any, editing: bool, reason: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _ask_reason(self, editing=editing, required=reason)


class ReasonForm(forms.Form):
    """Deleting or unlocking: the reason goes to the audit trail."""

    reason = forms.CharField(
        label="Reason", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SignForm(forms.Form):
    # No initial choice: the signer says what the signature means, every time (21 CFR 11.50).
    meaning = forms.ChoiceField(
        label="Meaning of the signature",
        choices=Signature.Meaning.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what your signature means."},
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        required=False,
        help_text="Re-enter your password to sign (21 CFR 11.200).",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AttestForm(forms.Form):
    """An investigator's attestation that mimics and malignancy were excluded: signed, like a
    visit, by re-entering the password."""

    meaning = forms.ChoiceField(
        label="Meaning of the signature",
        choices=RefractoryAttestation.Meaning.choices,
        widget=forms.RadioSelect,
        initial=RefractoryAttestation.Meaning.EXCLUSION,
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        required=False,
        help_text="Re-enter your password to sign (21 CFR 11.200).",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class QueryRaiseForm(forms.Form):
    field = forms.ChoiceField(label="Field")
    text = forms.CharField(
        label="Question", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices


class QueryAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Answer", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class QueryCloseForm(forms.Form):
    note = forms.CharField(label="Closing note", max_length=2000, required=False)


def locked_out_message() -> str:
    return (
        "Too many failed logins or signatures for this account or from this computer. "
        f"Wait {lockout_minutes()} minutes and try again."
    )


class LoginForm(AuthenticationForm):
    """Django's login form, saying so when the account or address is locked out (the backends
    refuse even the right password then, registry.security), or has just been by this failure."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and is_locked_out(username, self.request):
            raise self._locked_out()
        try:
            return super().clean()
        except forms.ValidationError:
            if username and is_locked_out(username, self.request):
                raise self._locked_out() from None
            raise

    def _locked_out(self) -> forms.ValidationError:
        # This page tells of the lockout itself (web.views.auth.lockout_response).
        self.request.lockout_shown = True
        return forms.ValidationError(locked_out_message(), code="locked_out")


QUERY_STATUS_LABELS = dict(DataQuery.Status.choices)
