"""Storing a batch of read patient documents of one site, each patient all or nothing.

The sequence every importer follows — the API's bulk submission, the REDCap and ODM imports:
sort the patients (crf.submission.sorting), create the new ones together
(crf.submission.creating), answer the unchanged ones without a write, and upsert the rest one by
one (crf.submission.upsert). A patient the writer refuses is an outcome with its errors; the
others are stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError

from crf.submission.creating import patients_create
from crf.submission.reading import PatientRead
from crf.submission.sorting import sort_patients
from crf.submission.upsert import patient_read_save
from registry.audit import Actor
from registry.errors import ConflictError, InputError, LockedError
from registry.models import Site

CONCURRENT = "Written concurrently by another request; send the document again."


@dataclass
class Stored:
    """What became of one patient: the writer's result (patient_document_save's shape), or the
    errors (path, message) that kept it from being stored."""

    index: int
    status: str  # created, updated, unchanged or error
    result: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


def _save(actor: Actor, site: Site, index: int, read: PatientRead) -> Stored:
    try:
        result = patient_read_save(actor=actor, site=site, read=read)
    except InputError as exc:
        return Stored(index, "error", errors=list(exc.errors))
    except (ConflictError, LockedError) as exc:
        return Stored(index, "error", errors=[(read.path, str(exc))])
    except IntegrityError:
        # Another request stored the same patient or visit at the same moment; the rollback of
        # the unit left nothing behind, and sending the document again is safe.
        return Stored(index, "error", errors=[(read.path, CONCURRENT)])
    return Stored(index, result["status"], result)


def store_patients(*, actor: Actor, site: Site, reads: Sequence[PatientRead]) -> list[Stored]:
    """Store these read patient documents of `site`; one outcome per read, in their order."""
    outcomes: list[Stored | None] = [None] * len(reads)
    new, unchanged, rest = sort_patients(site, reads)
    for rows in unchanged:
        outcomes[rows.index] = Stored(rows.index, "unchanged", rows.result("unchanged"))
    if new:
        try:
            patients_create(actor=actor, patients=new)
        except DatabaseError:
            # Refused by the database — most likely a patient created meanwhile by a concurrent
            # request. Nothing of it was stored; the upsert sorts out each patient.
            rest = sorted(rest + [rows.index for rows in new])
        else:
            for rows in new:
                outcomes[rows.index] = Stored(rows.index, "created", rows.result("created"))
    for index in rest:
        outcomes[index] = _save(actor, site, index, reads[index])
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]
