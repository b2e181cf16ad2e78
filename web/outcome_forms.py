"""Forms of vital status, lung status, HRCT assessments and adverse events (web/views/outcomes.py).

Like web/forms.py: they collect text and build the submission document's object, which the
readers of crf.outcome_documents judge; the readers' JSON-path errors land on the field of the
same name. Field order is reading order, so the tab order is too.
"""

from typing import Any

from django import forms

from crf.outcome_models import (
    SERIOUS_CRITERIA,
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    VitalStatus,
)
from registry.models import TreatmentEpisode
from web.forms import DocumentForm, _ask_reason, _date, _select, _text

YES_NO = [("yes", "Yes"), ("no", "No")]
CRITERIA_LABELS = {
    "death": "Results in death",
    "life_threatening": "Life-threatening",
    "hospitalisation": "Hospitalisation or its prolongation",
    "disability": "Persistent disability",
    "congenital_anomaly": "Congenital anomaly",
    "medically_important": "Other medically important event",
}


def _reason() -> forms.CharField:
    return _text("Reason for change", hint="recorded in the audit trail", max_length=2000)


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def yes_no_text(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class VitalStatusForm(DocumentForm):
    status = _select("Vital status", VitalStatus.Status.choices)
    last_known_alive = _date("Last date known alive")
    death_date = _text(
        "Date of death",
        hint="YYYY-MM-DD, or YYYY-MM when only the month is known",
        max_length=10,
        inputmode="numeric",
    )
    cause_category = _select("Cause of death", VitalStatus.Cause.choices)
    cause_text = _text("Cause of death as recorded", max_length=200)
    source = _select("Source of the information", VitalStatus.Source.choices)
    reason = _reason()

    def __init__(self, *args: Any, editing: bool, reason: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _ask_reason(self, editing=editing, required=reason)


class LungForm(DocumentForm):
    ild = _select("Interstitial lung disease", LungStatus.Ild.choices)
    ild_onset_date = _date("ILD onset date")
    rapidly_progressive = _select("Rapidly progressive", YES_NO)
    reason = _reason()

    def __init__(self, *args: Any, editing: bool, reason: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _ask_reason(self, editing=editing, required=reason)

    def document(self) -> dict[str, Any]:
        doc = super().document()
        if "rapidly_progressive" in doc:
            doc["rapidly_progressive"] = _yes_no(doc["rapidly_progressive"])
        return doc


class HRCTForm(DocumentForm):
    date = _date("Scan date")
    pattern = _select("Pattern", HRCTAssessment.Pattern.choices)
    progression = _select("Progression against the previous scan", YES_NO)
    reason = _reason()

    def __init__(self, *args: Any, editing: bool, reason: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _ask_reason(self, editing=editing, required=reason)

    def document(self) -> dict[str, Any]:
        doc = super().document()
        if "progression" in doc:
            doc["progression"] = _yes_no(doc["progression"])
        return doc


def _relatedness_field(episode: TreatmentEpisode) -> forms.CharField:
    return _select(
        f"Related to {episode.drug_label} from {episode.start_date:%Y-%m-%d}",
        AdverseEventRelation.Relatedness.choices,
        blank="— not suspected",
    )


class AdverseEventForm(DocumentForm):
    """An adverse event; for each of the patient's treatment episodes, its relatedness and the
    action taken with it (fields rel_<id> and act_<id>, after the event's own)."""

    number_fields = ("ctcae_grade",)

    term = _text("Event (verbatim term)", max_length=200)
    category = _select("Category", AdverseEvent.Category.choices)
    onset_date = _date("Onset date")
    end_date = _date("End date")
    severity = _select("Severity (intensity)", AdverseEvent.Severity.choices)
    ctcae_grade = _text("CTCAE grade", hint="optional, 1–5", max_length=2, inputmode="numeric")
    serious = _select("Serious", YES_NO)
    serious_criteria = forms.MultipleChoiceField(
        label="Seriousness criteria",
        required=False,
        choices=[(code, CRITERIA_LABELS[code]) for code in SERIOUS_CRITERIA],
        widget=forms.CheckboxSelectMultiple,
        help_text="at least one when serious",
    )
    outcome = _select("Outcome", AdverseEvent.Outcome.choices)
    reason = _reason()

    def __init__(
        self,
        *args: Any,
        episodes: list[TreatmentEpisode],
        editing: bool,
        reason: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.episodes = episodes
        for episode in episodes:
            self.fields[f"rel_{episode.pk}"] = _relatedness_field(episode)
            self.fields[f"act_{episode.pk}"] = _select(
                f"Action taken with {episode.drug_label}", AdverseEventRelation.Action.choices
            )
        _ask_reason(self, editing=editing, required=reason)
        if "reason" in self.fields:
            self.order_fields([*[n for n in self.fields if n != "reason"], "reason"])

    def document(self) -> dict[str, Any]:
        doc = {
            name: value
            for name, value in super().document().items()
            if not name.startswith(("rel_", "act_"))
        }
        doc["serious"] = _yes_no(doc["serious"]) if "serious" in doc else None
        doc["serious_criteria"] = list(self.cleaned_data.get("serious_criteria") or [])
        related = []
        self.related_fields: list[int] = []  # the episode of each related_to entry
        for episode in self.episodes:
            relatedness = self.cleaned_data.get(f"rel_{episode.pk}")
            if not relatedness:
                continue
            related.append(
                {
                    "drug": episode.drug,
                    "start_date": episode.start_date.isoformat(),
                    "relatedness": relatedness,
                    "action": self.cleaned_data.get(f"act_{episode.pk}") or None,
                }
            )
            self.related_fields.append(episode.pk)
        doc["related_to"] = related
        return doc

    def add_path_errors(self, errors: Any) -> None:
        """related_to[k].relatedness / .action land on that episode's fields."""
        rest = []
        for path, message in errors:
            if path.startswith("related_to["):
                index = int(path[len("related_to[") : path.index("]")])
                pk = self.related_fields[index]
                field = f"act_{pk}" if path.endswith(".action") else f"rel_{pk}"
                self.add_error(field, message)
            else:
                rest.append((path, message))
        super().add_path_errors(rest)
