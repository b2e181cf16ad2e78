"""Write services of the FHIR export: its audit events (INTEROP: exports are audited).

An export changes no data, but data leaving the registry is recorded like a change of it: who,
when, through which path (api, command) and what. The event is written before the first byte is
sent, so that an export cut short is still on record.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from registry.audit import Actor, audit_write, export_event
from registry.models import Patient

BUNDLE_FORMAT = "FHIR R4 Bundle"
NDJSON_FORMAT = "FHIR R4 NDJSON"


@transaction.atomic
def fhir_bundle_audit(*, actor: Actor, patient: Patient) -> None:
    """One event on the patient: their Bundle was exported."""
    audit_write(
        [
            export_event(
                actor,
                object_type=Patient._meta.label_lower,
                object_id=patient.pk,
                site_id=patient.site_id,
                patient_id=patient.pk,
                detail={"format": BUNDLE_FORMAT},
            )
        ]
    )


@transaction.atomic
def fhir_bulk_audit(*, actor: Actor, site_ids: Iterable[int], types: Iterable[str]) -> None:
    """One event per site whose records the bulk export covers, naming the resource types."""
    detail = {"format": NDJSON_FORMAT, "types": sorted(types)}
    audit_write(
        [
            export_event(
                actor,
                object_type="registry.site",
                object_id=site_id,
                site_id=site_id,
                detail=detail,
            )
            for site_id in sorted(set(site_ids))
        ]
    )
