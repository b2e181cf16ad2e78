"""Sorting a submission's patients for the writer that fits each: new, unchanged, the rest.

- **new patients** (their site and id not stored yet, the document plainly valid): created
  together by crf.submission.creating.patients_create;
- **unchanged patients** (stored, and the document says exactly what is stored): answered
  "unchanged" from a few set-based reads, writing nothing — re-sending a document is the
  normal case for a site's nightly export;
- **everything else** — changes, errors, anything unusual — goes to patient_read_save
  (crf.submission.upsert), which owns the rules for amendments (reasons, locks, versions) and
  names every error.

Whenever this module is unsure it hands the patient to the upsert, so the answer is always
the upsert's; tests/api/test_ingest.py pins that the paths store the same rows and events.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch

from crf.models import HAQ, MMT8, ClassificationAssessment, Visit
from crf.submission.building import PatientRows, audit_snapshot, patient_rows, rows_clean
from crf.submission.reading import PatientRead, read_patient_document
from registry.documents import join
from registry.models import Patient, Site


def plain_rows(site: Site, index: int, read: PatientRead) -> PatientRows | None:
    """The rows a read document stores, or None if it is anything but plainly valid.

    None is not an error: the caller sends such a patient to the upsert, which names every
    problem.
    """
    if read.errors:
        return None
    rows = patient_rows(site, index, read)
    try:
        rows_clean(rows)
    except ValidationError:
        return None
    return rows


def read_patient_rows(site: Site, index: int, data: Any) -> PatientRows | None:
    """plain_rows of a patient document not read yet."""
    return plain_rows(site, index, read_patient_document(data))


def stored_patients(site: Site, patient_ids: Iterable[str]) -> dict[str, Patient]:
    """The stored patients with these site ids, everything nested prefetched (five queries)."""
    return {
        patient.patient_id: patient
        for patient in Patient.objects.filter(site=site, patient_id__in=set(patient_ids))
        .select_related("classification")
        .prefetch_related(
            "autoantibodies",
            "treatments",
            Prefetch(
                "visits",
                queryset=Visit.objects.select_related("mmt8", "haq").prefetch_related("labs"),
            ),
        )
    }


def _related(owner: models.Model, name: str) -> models.Model | None:
    try:
        return getattr(owner, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist, ClassificationAssessment.DoesNotExist):
        return None


def _same(stored: models.Model | None, sent: models.Model | None) -> bool:
    """Whether saving the document's values over `stored` would change nothing.

    The services' own test (registry.audit.snapshot, which normalises 6 and 6.0), on the fields
    the document sets; the others (a visit's status, the derived serology) stay as stored.
    """
    if stored is None or sent is None:
        return stored is None and sent is None
    mine, theirs = audit_snapshot(sent), audit_snapshot(stored)
    return all(mine[name] == theirs[name] for name in sent._document_fields)  # type: ignore[attr-defined]


def is_unchanged(rows: PatientRows, stored: Patient) -> bool:
    """Whether the patient's document would change nothing of the stored patient.

    Over exactly what the document holds, as the upsert applies it: stored results, episodes
    and visits absent from the document are kept, a visit's instruments are replaced whole.
    """
    if not _same(stored, rows.patient):
        return False
    antibodies = {(a.antibody, a.sample_date): a for a in stored.autoantibodies.all()}
    for result in rows.antibodies:
        if not _same(antibodies.get((result.antibody, result.sample_date)), result):
            return False
    treatments = {(t.drug, t.start_date): t for t in stored.treatments.all()}
    for episode in rows.treatments:
        if not _same(treatments.get((episode.drug, episode.start_date)), episode):
            return False
    if rows.classification is not None and not _same(
        _related(stored, "classification"), rows.classification
    ):
        return False
    visits = {v.visit_date: v for v in stored.visits.all()}
    for visit_rows in rows.visits:
        visit = visits.get(visit_rows.visit.visit_date)
        if visit is None or not _same(visit, visit_rows.visit):
            return False
        if not _same(_related(visit, "mmt8"), visit_rows.mmt8):
            return False
        if not _same(_related(visit, "haq"), visit_rows.haq):
            return False
        labs = {lab.enzyme: lab for lab in visit.labs.all()}
        if set(labs) != {lab.enzyme for lab in visit_rows.labs}:
            return False
        if not all(_same(labs[lab.enzyme], lab) for lab in visit_rows.labs):
            return False
    # Answer with the stored records' ids.
    rows.patient = stored
    if rows.classification is not None:
        rows.classification = _related(stored, "classification")  # type: ignore[assignment]
    for visit_rows in rows.visits:
        visit_rows.visit = visits[visit_rows.visit.visit_date]
    return True


def read_patients(documents: Sequence[Any]) -> list[PatientRead]:
    """Each patient of a submission read once, with its path `patients[i]`."""
    return [read_patient_document(data, join("patients", i)) for i, data in enumerate(documents)]


def sort_patients(
    site: Site, documents: Sequence[Any]
) -> tuple[list[PatientRows], list[PatientRows], list[int]]:
    """Split a submission's patients into new ones, unchanged ones and the rest (by index).

    `documents` are the patients as sent or, to read them only once, as read_patients read
    them (then the rest go to patient_read_save with their reads).
    """
    reads = [
        data if isinstance(data, PatientRead) else read_patient_document(data, join("patients", i))
        for i, data in enumerate(documents)
    ]
    ids = [read.data.get("patient_id") if isinstance(read.data, dict) else None for read in reads]
    ids = [key if isinstance(key, str) else None for key in ids]  # a list is not hashable
    mentions = Counter(ids)
    candidates: list[PatientRows] = []
    rest: list[int] = []
    for index, read in enumerate(reads):
        # A patient sent twice is applied twice, in order, by the upsert.
        repeated = ids[index] is not None and mentions[ids[index]] > 1
        rows = None if repeated else plain_rows(site, index, read)
        if rows is None:
            rest.append(index)
        else:
            candidates.append(rows)
    stored = stored_patients(site, (rows.patient.patient_id for rows in candidates))
    new, unchanged = [], []
    for rows in candidates:
        existing = stored.get(rows.patient.patient_id)
        if existing is None:
            new.append(rows)
        elif is_unchanged(rows, existing):
            unchanged.append(rows)
        else:
            rest.append(rows.index)
    return new, unchanged, sorted(rest)
