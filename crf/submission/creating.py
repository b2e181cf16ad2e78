"""Creating whole new patients in one pass: the API's bulk submission and the demo seeding.

`patient_document_save` (crf.submission.upsert) stores a patient row by row — an upsert, a
savepoint, a full_clean and an audit write per object, about 200 queries per visit: right for a
patient a coordinator edits, hours for a site that sends 10,000. New patients need none of its
amendment rules, so `patients_insert` writes each kind of row for all of them in one statement
(registry.fastwrite: COPY on PostgreSQL, executemany on SQLite, primary keys drawn first),
writes one "create" audit event per object as the services write them, and the callers ask for
scoring — the duties of every write path:

- `patients_create`: the new patients of a submission (crf.submission.sorting picks them),
  with the plausibility rules of crf.quality as the visit service applies them;
- `patients_bulk_create`: the demo cohort and the benchmarks (seed_demo), which only creates —
  a patient whose site and id exist already is an error, not an update.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from crf.models import HAQ, MMT8, ClassificationAssessment, LabResult, Visit
from crf.quality import findings, rules_apply
from crf.submission.building import PatientRows, create_events, patient_rows
from crf.submission.reading import PatientRead, read_patient_document
from registry.audit import Actor
from registry.documents import Errors, join
from registry.fastwrite import insert_events, insert_rows
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.signals import request_scoring

VISIT_STATUSES = frozenset(Visit.Status.values)


def patients_insert(*, actor: Actor, patients: Sequence[PatientRows]) -> dict[str, int]:
    """Insert these new patients with everything in them, and their "create" audit events, in
    the caller's transaction. Returns the rows created, by kind.

    Raises IntegrityError / DatabaseError if the database refuses a row (a patient created by a
    concurrent request, say).
    """
    with transaction.atomic():
        insert_rows(Patient, [p.patient for p in patients])
        # Foreign keys by id, now that the parents have one (the instances were built before).
        for rows in patients:
            for child in (*rows.antibodies, *rows.treatments, *(v.visit for v in rows.visits)):
                child.patient_id = rows.patient.pk
            if rows.classification is not None:
                rows.classification.patient_id = rows.patient.pk
        visits = [v for p in patients for v in p.visits]
        antibodies = [a for p in patients for a in p.antibodies]
        treatments = [t for p in patients for t in p.treatments]
        insert_rows(AutoantibodyResult, antibodies)
        insert_rows(TreatmentEpisode, treatments)
        insert_rows(Visit, [v.visit for v in visits])
        for visit_rows in visits:
            for instrument in (visit_rows.mmt8, visit_rows.haq, *visit_rows.labs):
                if instrument is not None:
                    instrument.visit_id = visit_rows.visit.pk
        mmts = [v.mmt8 for v in visits if v.mmt8 is not None]
        haqs = [v.haq for v in visits if v.haq is not None]
        labs = [lab for v in visits for lab in v.labs]
        insert_rows(MMT8, mmts)
        insert_rows(HAQ, haqs)
        insert_rows(LabResult, labs)
        classifications = [p.classification for p in patients if p.classification is not None]
        insert_rows(ClassificationAssessment, classifications)
        events = create_events(actor, patients)
        insert_events(events)
    return {
        "patients": len(patients),
        "autoantibodies": len(antibodies),
        "treatments": len(treatments),
        "visits": len(visits),
        "mmt8": len(mmts),
        "haq": len(haqs),
        "labs": len(labs),
        # Counted only when some were created: a cohort without assessments answers as before.
        **({"classifications": len(classifications)} if classifications else {}),
        "audit_events": len(events),
    }


def patients_create(*, actor: Actor, patients: Sequence[PatientRows]) -> None:
    """Create these new patients of a submission: one transaction, audited, checked by the
    plausibility rules, and scored.

    Raises IntegrityError / DatabaseError if the database refuses a row; nothing is stored then.
    """
    with transaction.atomic():
        patients_insert(actor=actor, patients=patients)
        for rows in patients:
            # Plausibility rules (issue 8) as the visit service applies them; most new patients
            # have no finding, and the rules' own service opens the queries of those that do.
            _attach(rows)
            visits_by_date = sorted((v.visit for v in rows.visits), key=lambda v: v.visit_date)
            if any(True for _ in findings(visits_by_date)):
                rules_apply(actor=actor, patient=rows.patient)
        request_scoring(rows.patient.pk for rows in patients)


def _attach(rows: PatientRows) -> None:
    """Put each visit's instruments where crf.quality.findings reads them, without queries."""
    for visit_rows in rows.visits:
        visit = visit_rows.visit
        visit._state.fields_cache["mmt8"] = visit_rows.mmt8
        visit._state.fields_cache["haq"] = visit_rows.haq
        labs = LabResult.objects.none()
        labs._result_cache = sorted(visit_rows.labs, key=lambda lab: lab.enzyme)
        labs._prefetch_done = True
        visit._prefetched_objects_cache = {"labs": labs}


# --- the demo cohort -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkPatient:
    """One patient of a submission document, the site it belongs to, and its visits' statuses.

    The workflow status is not part of the submission document (a site's visits arrive
    submitted); seeded visits carry it beside the document, keyed by ISO visit date.
    """

    site: Site
    document: Mapping[str, Any]
    visit_status: Mapping[str, str] = field(default_factory=dict)


def _visit_statuses(read: PatientRead, entry: BulkPatient) -> list[str]:
    """The status of each read visit; a status that is not one is an error of the read."""
    statuses = []
    for visit in read.visits:
        when = visit.values.get("visit_date")
        status = entry.visit_status.get(when.isoformat() if when else "", Visit.Status.SUBMITTED)
        if status not in VISIT_STATUSES:
            read.errors.add(
                join(visit.path, "status"), f"Must be one of: {', '.join(sorted(VISIT_STATUSES))}."
            )
        statuses.append(status)
    return statuses


def _refuse_existing(errors: Errors, reads: list[tuple[PatientRead, BulkPatient]]) -> None:
    """Patients that exist already: bulk creation never updates."""
    wanted: dict[int, list[str]] = {}
    for read, entry in reads:
        assert read.values is not None
        wanted.setdefault(entry.site.pk, []).append(read.values["patient_id"])
    existing: set[tuple[int, str]] = set()
    for site_id, patient_ids in wanted.items():
        for first in range(0, len(patient_ids), 500):  # within SQLite's parameter limit
            existing.update(
                Patient.objects.filter(
                    site_id=site_id, patient_id__in=patient_ids[first : first + 500]
                ).values_list("site_id", "patient_id")
            )
    for read, entry in reads:
        assert read.values is not None
        if (entry.site.pk, read.values["patient_id"]) in existing:
            errors.add(join(read.path, "patient_id"), "This patient exists already at the site.")


@transaction.atomic
def patients_bulk_create(
    *, actor: Actor, patients: Sequence[BulkPatient], score: bool = True
) -> dict[str, int]:
    """Create these patients with everything nested in them, all or nothing.

    Every document is read with the submission readers, so nothing is stored that the
    submission API would refuse, plus the keys the database enforces (one result per antibody
    and date, one episode per drug and start), so that a clash is a readable error rather than
    an IntegrityError. Raises InputError naming every bad field (path `patients[i]...`) and
    stores nothing then. With `score`, asks for scoring of the new patients once the
    transaction commits; without it (benchmark-sized runs), run `manage.py rescore` later.
    Returns the rows created, by kind.
    """
    errors = Errors()
    reads: list[tuple[PatientRead, BulkPatient]] = []
    statuses: list[list[str]] = []
    for index, entry in enumerate(patients):
        read = read_patient_document(entry.document, join("patients", index))
        statuses.append(_visit_statuses(read, entry))
        for path, message in read.errors.items:
            errors.add(path, message)
        reads.append((read, entry))
    if not errors and reads:
        _refuse_existing(errors, reads)
    errors.raise_if_any()

    rows = []
    for index, ((read, entry), visit_statuses) in enumerate(zip(reads, statuses, strict=True)):
        built = patient_rows(entry.site, index, read)
        for visit_rows, status in zip(built.visits, visit_statuses, strict=True):
            visit_rows.visit.status = status
        rows.append(built)
    created = patients_insert(actor=actor, patients=rows)
    if score:
        request_scoring(built.patient.pk for built in rows)
    return created
