"""The FHIR R4 export: which resources come from what (one table), a patient's Bundle, and NDJSON
per resource type streamed in chunks of patients.

The table is the mapping of INTEROP ("FHIR R4"): a resource type, what it is built from (the
prefetches of interchange.fhir.selectors) and the builder. A new kind of record is a prefetch in
the selectors, a builder (resources.py, adverse_events.py) and one row here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from interchange.fhir import resources
from interchange.fhir.adverse_events import adverse_event_resource
from interchange.fhir.questionnaires import questionnaires
from interchange.fhir.selectors import (
    ADVERSE_EVENTS,
    SCORES,
    TREATMENTS,
    VISITS,
    VITAL_STATUS,
    patients_for_export,
)
from interchange.fhir.terminology import code_systems
from registry.access import NotVisible
from registry.models import Patient

CHUNK_SIZE = 200  # patients per chunk: a few queries each, memory bounded by one chunk

Resource = dict[str, Any]


@dataclass(frozen=True)
class PatientMapping:
    resource_type: str
    needs: tuple[str, ...]  # interchange.fhir.selectors.PREFETCHES keys
    build: Callable[[Any], Iterable[Resource]]  # a patient as patients_for_export loads it


def _questionnaire_responses(patient: Any) -> Iterator[Resource]:
    for visit in patient.fhir_visits:
        # Who entered the answers is not recorded yet: they are the site's until patient
        # invitations mark the values a patient entered (then entered_by_patient comes from
        # there and the response's `source` is the Patient).
        yield from resources.visit_responses(visit, patient, entered_by_patient=False)


PATIENT_MAPPINGS: tuple[PatientMapping, ...] = (
    PatientMapping("Patient", (VITAL_STATUS,), lambda p: [resources.patient_resource(p)]),
    PatientMapping("Condition", (), lambda p: [resources.condition_resource(p)]),
    PatientMapping(
        "Observation",
        (VISITS, SCORES),
        lambda p: resources.observations(p, p.fhir_visits, p.fhir_scores),
    ),
    PatientMapping("QuestionnaireResponse", (VISITS,), _questionnaire_responses),
    PatientMapping(
        "MedicationStatement",
        (TREATMENTS,),
        lambda p: (resources.medication_statement(e, p) for e in p.fhir_treatments),
    ),
    PatientMapping(
        "AdverseEvent",
        (ADVERSE_EVENTS,),
        lambda p: (adverse_event_resource(e, p) for e in p.fhir_adverse_events),
    ),
)
BY_TYPE = {mapping.resource_type: mapping for mapping in PATIENT_MAPPINGS}

# The registry's own definitions, the same for every patient: exported once, in bulk.
DEFINITIONS: dict[str, Callable[[], list[Resource]]] = {
    "CodeSystem": code_systems,
    "Questionnaire": questionnaires,
}

RESOURCE_TYPES: tuple[str, ...] = (*BY_TYPE, *DEFINITIONS)


def patient_bundle(patients: QuerySet[Patient], patient_id: int) -> tuple[Patient, Resource]:
    """A patient's resources as a Bundle of type collection. `patients` is the caller's scope:
    a patient outside it is NotVisible (404)."""
    needs = [need for mapping in PATIENT_MAPPINGS for need in mapping.needs]
    patient = patients_for_export(patients.filter(pk=patient_id), needs).first()
    if patient is None:
        raise NotVisible("No such patient.")
    entries = [
        {"resource": resource}
        for mapping in PATIENT_MAPPINGS
        for resource in mapping.build(patient)
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }
    return patient, bundle


def ndjson_line(resource: Resource) -> bytes:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def resources_of_type(
    resource_type: str,
    patients: QuerySet[Patient],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Resource]:
    """Every resource of this type of these patients, streamed: patients are read in chunks of
    `chunk_size` with the prefetches of their type, so memory does not grow with the registry.
    `progress` is called with the number of patients of each chunk done."""
    if resource_type in DEFINITIONS:
        yield from DEFINITIONS[resource_type]()
        return
    mapping = BY_TYPE[resource_type]
    pending = 0
    for patient in patients_for_export(patients, mapping.needs).iterator(chunk_size=chunk_size):
        yield from mapping.build(patient)
        pending += 1
        if progress is not None and pending == chunk_size:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)


def ndjson(resource_type: str, patients: QuerySet[Patient], **options: Any) -> Iterator[bytes]:
    """NDJSON: one resource of this type per line."""
    for resource in resources_of_type(resource_type, patients, **options):
        yield ndjson_line(resource)
