"""The per-patient writer: a patient document applied as an upsert, row by row, as one unit.

For a patient that changes (and every one crf.submission.sorting is unsure about): the
registry's upsert services for the patient, its results and episodes, crf.services' visit
writer for each visit and crf.classification's for the assessment, with the amendment rules
(reasons, locks, versions) they own.
"""

from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crf.classification import classification_save
from crf.services import integrity_to_error, validation_to_input_error, visit_write
from crf.submission.reading import ANTIBODIES, TREATMENTS, PatientRead, read_patient_document
from registry.audit import Actor
from registry.documents import join
from registry.errors import InputError
from registry.models import Site
from registry.services import autoantibody_upsert, patient_upsert, treatment_upsert


def patient_document_save(*, actor: Actor, site: Site, data: Any, path: str = "") -> dict[str, Any]:
    """Store one patient of a submission document with everything nested in it, as one unit
    (patient_read_save of the document read at `path`)."""
    return patient_read_save(actor=actor, site=site, read=read_patient_document(data, path))


def patient_read_save(*, actor: Actor, site: Site, read: PatientRead) -> dict[str, Any]:
    """Store one read patient document with everything nested in it, as one unit.

    All or nothing: any error rolls the whole patient back and raises InputError naming every
    bad field. Nested autoantibodies and treatments are upserted by their natural keys; entries
    stored earlier but absent from the document are kept (a site deletes through the API).
    Returns the result entry of the submission answer for this patient and its visits.
    """
    read.errors.raise_if_any()
    assert read.values is not None
    path = read.path
    if read.reason:
        actor = replace(actor, reason=read.reason)
    try:
        with transaction.atomic():
            patient, outcome = patient_upsert(actor=actor, site=site, values=read.values)
            nested_changed = False
            for key, upsert in ((ANTIBODIES, autoantibody_upsert), (TREATMENTS, treatment_upsert)):
                for entry in read.entries(key):
                    try:
                        _, status = upsert(actor=actor, patient=patient, values=entry.values)
                    except ValidationError as exc:
                        where = join(join(path, key), entry.index)
                        raise validation_to_input_error(exc, where) from None
                    nested_changed |= status != "unchanged"
            # Visits that stop being the baseline go first, so a document that moves the
            # baseline to another date does not trip over the one-baseline rule halfway.
            order = sorted(read.visits, key=lambda v: v.values.get("kind") == "baseline")
            visit_results: list[dict[str, Any]] = [{} for _ in read.visits]
            for visit_read in order:
                visit, visit_outcome = visit_write(
                    actor=actor,
                    patient=patient,
                    values=visit_read.values,
                    mmt8=visit_read.mmt8,
                    haq=visit_read.haq,
                    labs=visit_read.labs,
                    reason=visit_read.reason,
                    path=visit_read.path,
                )
                visit_results[visit_read.index] = {
                    "visit_date": visit.visit_date.isoformat(),
                    "status": visit_outcome,
                    "id": visit.pk,
                }
                nested_changed |= visit_outcome != "unchanged"
            classification = None
            if read.classification is not None:
                assessment, status = classification_save(
                    actor=actor,
                    patient=patient,
                    values=read.classification,
                    path=join(path, "classification"),
                )
                classification = {"status": status, "id": assessment.pk}
                nested_changed |= status != "unchanged"
    except ValidationError as exc:
        raise validation_to_input_error(exc, path) from None
    except IntegrityError as exc:
        raise integrity_to_error(exc, path) from None
    except InputError as exc:
        # The registry services name a missing reason as `reason`: the patient's key here.
        pairs = [(join(path, "reason") if p == "reason" else p, m) for p, m in exc.errors]
        raise InputError(pairs) from None
    if outcome == "unchanged" and nested_changed:
        outcome = "updated"
    answer = {
        "patient_id": patient.patient_id,
        "status": outcome,
        "id": patient.pk,
        "visits": visit_results,
    }
    if classification is not None:
        answer["classification"] = classification
    return answer
