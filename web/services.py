"""The web pages' own write rules, on top of registry.services (which key patients by their site
id and upsert): registering a patient must not silently update one that exists, and an edit made
on a page opened before someone else's change must not overwrite it."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crf.services import validation_to_input_error
from registry.audit import Actor
from registry.errors import ConflictError, InputError
from registry.models import Patient, Site
from registry.services import patient_upsert


@transaction.atomic
def patient_register(*, actor: Actor, site: Site, values: dict[str, Any]) -> Patient:
    """Create a patient; an id already used at the site is an error, not an update."""
    if Patient.objects.filter(site=site, patient_id=values["patient_id"]).exists():
        raise InputError(
            [("patient_id", f"A patient with this id is already registered at {site.code}.")]
        )
    try:
        with transaction.atomic():
            patient, _ = patient_upsert(actor=actor, site=site, values=values)
    except ValidationError as exc:
        raise validation_to_input_error(exc) from None
    except IntegrityError:
        # Registered by someone else between the check and the insert.
        raise InputError(
            [("patient_id", f"A patient with this id is already registered at {site.code}.")]
        ) from None
    return patient


@transaction.atomic
def patient_edit(
    *, actor: Actor, patient: Patient, values: dict[str, Any], seen_updated_at: str
) -> str:
    """Update a patient's own fields, refusing if it changed since the form was opened.

    Returns "updated" or "unchanged". The site patient id is kept (it is the record's key).
    """
    current = Patient.objects.select_for_update().select_related("site").get(pk=patient.pk)
    if seen_updated_at and current.updated_at.isoformat() != seen_updated_at:
        raise ConflictError(
            "Someone else changed this patient while you were editing. Your changes were not "
            "saved: reload the page to see the current record, then apply them again."
        )
    values = {**values, "patient_id": current.patient_id}
    try:
        with transaction.atomic():
            _, outcome = patient_upsert(actor=actor, site=current.site, values=values)
    except ValidationError as exc:
        raise validation_to_input_error(exc) from None
    return outcome
