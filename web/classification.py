"""The classification (2017 EULAR/ACR) on the patient page: its form, keyboard-first like the
visit form (one row per item in the paper's order, tab order = table order, yes / no /
unanswered radios, the items' definitions as help text from the pure rule), and the result
explained item by item.

The form builds the `classification` object of the submission document and hands it to the same
reader (crf.classification) and service as the API: one validation, one write path."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from crf.classification import classification_document, default_values
from crf.models import ClassificationAssessment
from registry.models import Patient
from scoring.classification_reads import derived_items, record_json
from scoring.instruments.classification import ITEMS
from scoring.models import ClassificationRecord

YES, NO, UNANSWERED = "yes", "no", ""
ANSWERS = {True: YES, False: NO, None: UNANSWERED}
VALUES = {YES: True, NO: False, UNANSWERED: None}
CATEGORY_LABELS = {
    "not_iim": "Not IIM",
    "possible": "Possible IIM",
    "probable": "Probable IIM",
    "definite": "Definite IIM",
}
SUBGROUP_LABELS = {
    "jdm": "Juvenile dermatomyositis",
    "juvenile_other": "Juvenile myositis other than JDM",
    "dm": "Dermatomyositis",
    "adm": "Amyopathic dermatomyositis",
    "ibm": "Inclusion body myositis",
    "pm": "Polymyositis (IMNM falls here)",
}
RESPONSE_LABELS = {
    "improved": "Improved",
    "not_improved": "Not improved",
    "not_treated": "Not treated",
}
ITEM_FIELDS = tuple(item.key for item in ITEMS)
_YES_NO = [(YES, "Yes"), (NO, "No")]


def _shown(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


class ClassificationForm(forms.Form):
    assessed_on = forms.CharField(
        label="Date of assessment", help_text="YYYY-MM-DD", max_length=10,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD", "autocomplete": "off"}),
    )  # fmt: skip
    muscle_biopsy = forms.ChoiceField(
        label="Muscle biopsy done",
        choices=_YES_NO,
        widget=forms.RadioSelect,
        help_text="Yes: the biopsy column's weights apply and B1–B4 may be answered.",
    )
    finger_flexor_weakness = forms.ChoiceField(
        label="Finger flexor weakness",
        choices=[*_YES_NO, (UNANSWERED, "Unanswered")],
        widget=forms.RadioSelect,
        required=False,
        help_text="No points; feeds the subgroup tree (IBM).",
    )
    treatment_response = forms.ChoiceField(
        label="Response to treatment",
        choices=list(RESPONSE_LABELS.items()),
        help_text="No points; feeds the subgroup tree (IBM).",
    )
    reason = forms.CharField(
        label="Reason for change", max_length=2000, required=False,
        help_text="recorded in the audit trail",
    )  # fmt: skip

    def __init__(self, *args: Any, derived: dict[str, bool | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.derived = derived
        for item in ITEMS:
            blank = "Unanswered"
            if item.key in derived:
                # Left unanswered, the item is derived from the patient's data.
                blank = f"Derived: {_shown(derived[item.key])}"
            hint = item.definition + (" (biopsy only)" if item.no_biopsy is None else "")
            field = forms.ChoiceField(
                label=f"{item.id} {item.definition}",
                choices=[*_YES_NO, (UNANSWERED, blank)],
                widget=forms.RadioSelect,
                required=False,
                help_text=hint,
            )
            field.item = item  # type: ignore[attr-defined]
            self.fields[item.key] = field
        # Tab order = table order: the date and biopsy first, the items, then the rest.
        order = ["assessed_on", "muscle_biopsy", *ITEM_FIELDS]
        self.order_fields([*order, "finger_flexor_weakness", "treatment_response", "reason"])

    @property
    def item_rows(self) -> list[dict[str, Any]]:
        return [
            {"field": self[key], "item": self.fields[key].item, "derived": key in self.derived}  # type: ignore[attr-defined]
            for key in ITEM_FIELDS
        ]

    def document(self) -> dict[str, Any]:
        """The `classification` object of the submission document."""
        data = self.cleaned_data
        items = {key: VALUES[data.get(key) or ""] for key in ITEM_FIELDS}
        return {
            "assessed_on": data["assessed_on"],
            "muscle_biopsy": data["muscle_biopsy"] == YES,
            # Unanswered items are left out: a biopsy item is refused without a biopsy.
            "items": {key: value for key, value in items.items() if value is not None},
            "finger_flexor_weakness": VALUES[data.get("finger_flexor_weakness") or ""],
            "treatment_response": data["treatment_response"],
        }

    def add_path_errors(self, errors: list[tuple[str, str]]) -> None:
        for path, message in errors:
            name = path.removeprefix("items.").split(".")[0]
            self.add_error(name if name in self.fields else None, message)


def initial_values(patient: Patient, assessment: ClassificationAssessment | None) -> dict:
    if assessment is None:
        values = default_values(date.today())
        values["assessed_on"] = ""
    else:
        document = classification_document(assessment)
        values = {**document, **document["items"]}
    initial = {key: ANSWERS[values.get(key)] for key in ITEM_FIELDS}
    initial.update(
        assessed_on=values["assessed_on"],
        muscle_biopsy=ANSWERS[values["muscle_biopsy"]],
        finger_flexor_weakness=ANSWERS[values["finger_flexor_weakness"]],
        treatment_response=values["treatment_response"],
    )
    return initial


def derived_answers(patient: Patient) -> dict[str, bool | None]:
    """What the patient's data give for the derivable items, by key."""
    derived, keys = derived_items(patient.pk)
    if derived is None:
        return {}
    return {key: derived.value(key) for key in keys}


def classification_context(patient: Patient) -> dict[str, Any]:
    """The patient page's Classification section: the assessment, the record's state and its
    result explained item by item (two queries)."""
    assessment = ClassificationAssessment.objects.filter(patient=patient).first()
    if assessment is None:
        return {"classification": None}
    record = ClassificationRecord.objects.filter(patient=patient).first()
    shown = record_json(record)
    result = shown["result"]
    rows = []
    used = (record.inputs.get("items", {}) if record else {}) or {}
    answers = {key: getattr(assessment, key) for key in ITEM_FIELDS}
    derived = set(result["derived"]) if result else set()
    column_keys = ITEM_FIELDS if assessment.muscle_biopsy else ITEM_FIELDS[:10]
    for item in ITEMS:
        if item.key not in column_keys:
            continue
        points = (result or {}).get("points", {}).get(item.id)
        value = used.get(item.key, answers[item.key])
        rows.append(
            {
                "item": item,
                "answer": _shown(value) if value is not None else "unanswered",
                "derived": item.key in derived,
                "points": points,
            }
        )
    return {
        "classification": {
            "assessment": assessment,
            "status": shown["status"],
            "error": shown.get("error", ""),
            "result": result,
            "rows": rows,
            "age_points": (result or {}).get("points", {}).get((result or {}).get("age_band")),
            "age_at_onset": record.inputs.get("age_at_onset") if record else None,
            "probability": f"{result['probability'] * 100:.1f} %" if result else "",
            "category": CATEGORY_LABELS.get((result or {}).get("category"), ""),
            "subgroup": SUBGROUP_LABELS.get((result or {}).get("subgroup"), ""),
            "response": RESPONSE_LABELS.get(assessment.treatment_response, ""),
        }
    }
