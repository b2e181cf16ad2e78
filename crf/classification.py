"""A patient's baseline assessment for the 2017 EULAR/ACR classification criteria: the
`classification` object of the submission document ⇄ model field values, and its write
services.

The items are checked by the pure rule's own reader (scoring.instruments.classification), so
there is one definition of a valid case; its errors are named by their document path
(`patients[0].classification.items.heliotrope`). The age at onset is the patient's, never the
document's. The scoring app derives and scores the classification record from it.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crf.models import ClassificationAssessment
from crf.services import integrity_to_error, validation_to_input_error
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.documents import Errors, expect_object, iso_date, join
from registry.errors import InputError
from registry.models import Patient
from registry.services import CLEAN, _corrects, _with_reason
from registry.signals import request_scoring
from scoring.instruments import CalculatorInputError, read_classification_case
from scoring.instruments.classification import (
    BIOPSY,
    COLUMN_ITEM_KEYS,
    ITEM_KEYS,
    NO_BIOPSY,
    NOT_TREATED,
)

CLASSIFICATION_KEYS = (
    "assessed_on",
    "muscle_biopsy",
    "items",
    "finger_flexor_weakness",
    "treatment_response",
)
# The fields of the assessment that the document sets, in the order of the model.
VALUE_FIELDS = (
    "assessed_on",
    "muscle_biopsy",
    *ITEM_KEYS,
    "finger_flexor_weakness",
    "treatment_response",
)
# Any age passes the pure reader's check: the age at onset is the patient's, scored later.
_ANY_AGE = 0


def _message(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def read_classification(
    errors: Errors, path: str, data: Any, born: date | None = None
) -> dict[str, Any] | None:
    """The assessment's model field values from a `classification` object, or None (then
    `errors` names every problem by its path under `path`)."""
    obj = expect_object(errors, path, data, CLASSIFICATION_KEYS)
    if obj is None:
        return None
    before = len(errors.items)
    assessed_on = None
    if obj.get("assessed_on") is None:
        errors.add(join(path, "assessed_on"), "This field is required.")
    else:
        assessed_on = iso_date(
            errors, join(path, "assessed_on"), obj["assessed_on"], not_before=born,
            what="the month of birth",
        )  # fmt: skip
    case_data = {key: obj[key] for key in CLASSIFICATION_KEYS[1:] if key in obj}
    try:
        case = read_classification_case({"age_at_onset": _ANY_AGE, **case_data})
    except CalculatorInputError as exc:
        for where, message in exc.errors:
            errors.add(join(path, where) if where else path, _message(message))
        return None
    if len(errors.items) > before:
        return None
    items = obj.get("items") or {}
    return {
        "assessed_on": assessed_on,
        "muscle_biopsy": case.muscle_biopsy,
        # Every item, null where unanswered (biopsy items too: null without a biopsy).
        **{key: items.get(key) for key in ITEM_KEYS},
        "finger_flexor_weakness": case.finger_flexor_weakness,
        "treatment_response": case.treatment_response,
    }


def classification_document(assessment: ClassificationAssessment) -> dict[str, Any]:
    """A stored assessment in the document's shape (what read_classification reads): every
    item of its column, null where unanswered (biopsy items only with a biopsy)."""
    column = BIOPSY if assessment.muscle_biopsy else NO_BIOPSY
    items = {key: getattr(assessment, key) for key in COLUMN_ITEM_KEYS[column]}
    return {
        "assessed_on": assessment.assessed_on.isoformat(),
        "muscle_biopsy": assessment.muscle_biopsy,
        "items": items,
        "finger_flexor_weakness": assessment.finger_flexor_weakness,
        "treatment_response": assessment.treatment_response,
    }


def default_values(assessed_on: date) -> dict[str, Any]:
    """An empty assessment: no biopsy, every item unanswered."""
    values: dict[str, Any] = dict.fromkeys(VALUE_FIELDS)
    values.update(assessed_on=assessed_on, muscle_biopsy=False, treatment_response=NOT_TREATED)
    return values


@transaction.atomic
def classification_save(
    *, actor: Actor, patient: Patient, values: Mapping[str, Any], path: str = ""
) -> tuple[ClassificationAssessment, str]:
    """Create or update the patient's classification assessment (one per patient).

    `values` are read_classification's. Changing or emptying a recorded answer of a patient
    with data past draft needs the actor's reason (InputError naming `reason`). Audited in this
    transaction; asks for the patient's scoring after commit. Returns the assessment and
    "created", "updated" or "unchanged".
    """
    unknown = set(values) - set(VALUE_FIELDS)
    if unknown:
        raise InputError([(join(path, name), "Unknown field.") for name in sorted(unknown)])
    # The patient first, as every writer of scored data locks it (scoring.selectors.load_inputs).
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
    assessment = (
        ClassificationAssessment.objects.select_for_update().filter(patient=patient).first()
    )
    ids = {"site_id": patient.site_id, "patient_id": patient.pk}
    try:
        if assessment is None:
            assessment = ClassificationAssessment(patient=patient, **values)
            assessment.full_clean(exclude=["patient"], **CLEAN)
            with transaction.atomic():
                assessment.save()
            audit_write(audit_events(actor, assessment, None, snapshot(assessment), **ids))
            outcome = "created"
        else:
            before = snapshot(assessment)
            for name, value in values.items():
                setattr(assessment, name, value)
            assessment.full_clean(exclude=["patient"], **CLEAN)
            after = snapshot(assessment)
            if after == before:
                return assessment, "unchanged"
            if _corrects(before, after):
                actor = _with_reason(actor, patient, "changing the classification assessment")
            with transaction.atomic():
                assessment.save()
            audit_write(audit_events(actor, assessment, before, after, **ids))
            outcome = "updated"
    except ValidationError as exc:
        raise validation_to_input_error(exc, path) from None
    except IntegrityError as exc:
        raise integrity_to_error(exc, path) from None
    request_scoring([patient.pk])
    return assessment, outcome


@transaction.atomic
def classification_delete(*, actor: Actor, assessment: ClassificationAssessment) -> None:
    """Delete a classification assessment, audited; a reason is needed once the patient has
    data past draft. The scoring app removes the patient's classification record after commit."""
    patient = assessment.patient
    actor = _with_reason(actor, patient, "deleting the classification assessment")
    audit_write(
        audit_events(
            actor,
            assessment,
            snapshot(assessment),
            None,
            site_id=patient.site_id,
            patient_id=patient.pk,
        )
    )
    assessment.delete()
    request_scoring([patient.pk])
