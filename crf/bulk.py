"""Bulk creation of whole patients, for the demo cohort and benchmarks (seed_demo).

`crf.services.patient_document_save` stores one patient of a site's submission row by row, with
an upsert, a savepoint and a full_clean per object: right for a site, far too slow for 100,000
synthetic patients. `patients_bulk_create` takes the same submission documents, reads every one
with the same readers (so nothing is stored that the submission API would refuse, and a bad
value is an InputError naming its JSON path), then inserts each kind of row in one statement,
writes one "create" audit event per object (registry.audit.audit_events), and asks for scoring
of the new patients — the duties of every write path. It only creates: a patient whose site and
id exist already is an error, not an update.

Rows go in through registry.fastwrite.insert_rows, as the API's bulk submission writes them
(COPY on PostgreSQL, executemany on SQLite, primary keys drawn first).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from django.db import models, transaction

from crf.documents import read_visit
from crf.models import HAQ, MMT8, LabResult, Visit
from registry.audit import Actor, audit_events, snapshot
from registry.documents import (
    Errors,
    expect_list,
    join,
    read_autoantibody,
    read_patient,
    read_treatment,
)
from registry.fastwrite import insert_rows
from registry.models import (
    AuditEvent,
    AutoantibodyResult,
    Patient,
    Site,
    TreatmentEpisode,
)
from registry.signals import request_scoring
from registry.vocabularies import serology_group

M = TypeVar("M", bound=models.Model)
VISIT_STATUSES = frozenset(Visit.Status.values)


@dataclass(frozen=True)
class BulkPatient:
    """One patient of a submission document, the site it belongs to, and its visits' statuses.

    The workflow status is not part of the submission document (a site's visits arrive
    submitted); seeded visits carry it beside the document, keyed by ISO visit date.
    """

    site: Site
    document: Mapping[str, Any]
    visit_status: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Read:
    site: Site
    patient: dict[str, Any]
    antibodies: list[dict[str, Any]]
    treatments: list[dict[str, Any]]
    visits: list[dict[str, Any]]  # read_visit's {"visit", "mmt8", "labs", "haq"}


def _read(errors: Errors, path: str, entry: BulkPatient) -> _Read | None:
    """Every value of one patient through the submission readers, plus the keys the database
    enforces (one visit per date, one baseline, one result per antibody and date, one episode
    per drug and start), so that a clash is a readable error rather than an IntegrityError."""
    data = entry.document
    values = read_patient(errors, path, data)
    if values is None or not isinstance(data, Mapping):
        return None
    born = None
    if values.get("birth_year") and values.get("birth_month"):
        born = date(values["birth_year"], values["birth_month"], 1)
    read = _Read(entry.site, values, [], [], [])
    for key, reader, into, natural_key in (
        ("autoantibodies", read_autoantibody, read.antibodies, ("antibody", "sample_date")),
        ("treatments", read_treatment, read.treatments, ("drug", "start_date")),
    ):
        seen: set[tuple[Any, ...]] = set()
        for index, item in enumerate(expect_list(errors, join(path, key), data.get(key)) or []):
            item_path = join(join(path, key), index)
            item_values = reader(errors, item_path, item, born)
            if item_values is None:
                continue
            into.append(item_values)
            natural = tuple(item_values.get(name) for name in natural_key)
            if None not in natural and natural in seen:
                errors.add(
                    item_path,
                    f"Repeats an earlier entry with the same {' and '.join(natural_key)}.",
                )
            seen.add(natural)
    dates: set[date] = set()
    baselines = 0
    for index, item in enumerate(
        expect_list(errors, join(path, "visits"), data.get("visits")) or []
    ):
        visit_path = join(join(path, "visits"), index)
        parsed = read_visit(errors, visit_path, item, born=born)
        if parsed is None:
            continue
        visit = parsed["visit"]
        when = visit.get("visit_date")
        if when in dates:
            errors.add(
                join(visit_path, "visit_date"), "Same date as an earlier visit; one visit per date."
            )
        if when is not None:
            dates.add(when)
        if visit.get("kind") == Visit.Kind.BASELINE:
            baselines += 1
            if baselines > 1:
                errors.add(join(visit_path, "kind"), "Only one baseline visit per patient.")
        status = entry.visit_status.get(when.isoformat() if when else "", Visit.Status.SUBMITTED)
        if status not in VISIT_STATUSES:
            errors.add(
                join(visit_path, "status"), f"Must be one of: {', '.join(sorted(VISIT_STATUSES))}."
            )
        visit["status"] = status
        read.visits.append(parsed)
    return read


def _refuse_existing(errors: Errors, reads: list[tuple[str, _Read]]) -> None:
    """Patients that exist already: bulk creation never updates."""
    wanted: dict[int, list[str]] = {}
    for _, read in reads:
        wanted.setdefault(read.site.pk, []).append(read.patient["patient_id"])
    existing: set[tuple[int, str]] = set()
    for site_id, patient_ids in wanted.items():
        for first in range(0, len(patient_ids), 500):  # within SQLite's parameter limit
            existing.update(
                Patient.objects.filter(
                    site_id=site_id, patient_id__in=patient_ids[first : first + 500]
                ).values_list("site_id", "patient_id")
            )
    for path, read in reads:
        if (read.site.pk, read.patient["patient_id"]) in existing:
            errors.add(join(path, "patient_id"), "This patient exists already at the site.")


def _new(model: type[M], values: Mapping[str, Any], **more: Any) -> M:
    """An unsaved instance, built with positional arguments: half the cost of keywords, which
    counts at millions of rows. Fields not given get their default."""
    given = {**values, **more}
    unknown = given.keys() - {f.attname for f in model._meta.concrete_fields}
    if unknown:  # what keyword construction would refuse
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return model(
        *[
            given[f.attname] if f.attname in given else f.get_default()
            for f in model._meta.concrete_fields
        ]
    )


@transaction.atomic
def patients_bulk_create(
    *, actor: Actor, patients: Sequence[BulkPatient], score: bool = True
) -> dict[str, int]:
    """Create these patients with everything nested in them, all or nothing.

    Raises InputError naming every bad field (path `patients[i]...`) and stores nothing then.
    With `score`, asks for scoring of the new patients once the transaction commits; without
    it (benchmark-sized runs), run `manage.py rescore` later. Returns the rows created, by kind.
    """
    errors = Errors()
    reads: list[tuple[str, _Read]] = []
    for index, entry in enumerate(patients):
        path = join("patients", index)
        read = _read(errors, path, entry)
        if read is not None:
            reads.append((path, read))
    if not errors and reads:
        _refuse_existing(errors, reads)
    errors.raise_if_any()

    rows: list[Patient] = []
    for _, read in reads:
        group = serology_group([(a["antibody"], a["result"]) for a in read.antibodies])
        rows.append(_new(Patient, read.patient, site_id=read.site.pk, serology_group=group))
    insert_rows(Patient, rows)

    antibodies: list[AutoantibodyResult] = []
    treatments: list[TreatmentEpisode] = []
    visits: list[Visit] = []
    for patient, (_, read) in zip(rows, reads, strict=True):
        antibodies += [_new(AutoantibodyResult, a, patient_id=patient.pk) for a in read.antibodies]
        treatments += [_new(TreatmentEpisode, t, patient_id=patient.pk) for t in read.treatments]
        visits += [_new(Visit, v["visit"], patient_id=patient.pk) for v in read.visits]
    insert_rows(AutoantibodyResult, antibodies)
    insert_rows(TreatmentEpisode, treatments)
    insert_rows(Visit, visits)

    mmts: list[MMT8] = []
    haqs: list[HAQ] = []
    labs: list[LabResult] = []
    parsed_visits = (parsed for _, read in reads for parsed in read.visits)
    for visit, parsed in zip(visits, parsed_visits, strict=True):
        if parsed["mmt8"] is not None:
            mmts.append(_new(MMT8, parsed["mmt8"], visit_id=visit.pk))
        if parsed["haq"] is not None:
            haqs.append(_new(HAQ, parsed["haq"], visit_id=visit.pk))
        labs += [
            _new(LabResult, values, visit_id=visit.pk, enzyme=enzyme)
            for enzyme, values in parsed["labs"].items()
        ]
    insert_rows(MMT8, mmts)
    insert_rows(HAQ, haqs)
    insert_rows(LabResult, labs)

    # One "create" event per object, as the per-patient services write them.
    site_of = {patient.pk: patient.site_id for patient in rows}
    patient_of_visit = {visit.pk: visit.patient_id for visit in visits}
    events = []
    for obj in rows:
        events += audit_events(
            actor, obj, None, snapshot(obj), site_id=obj.site_id, patient_id=obj.pk
        )
    for obj in (*antibodies, *treatments, *visits):
        events += audit_events(
            actor,
            obj,
            None,
            snapshot(obj),
            site_id=site_of[obj.patient_id],
            patient_id=obj.patient_id,
        )
    for obj in (*mmts, *haqs, *labs):
        patient_id = patient_of_visit[obj.visit_id]
        events += audit_events(
            actor, obj, None, snapshot(obj), site_id=site_of[patient_id], patient_id=patient_id
        )
    insert_rows(AuditEvent, events)  # what audit_write does, by the same fast path

    if score:
        request_scoring(patient.pk for patient in rows)
    return {
        "patients": len(rows),
        "autoantibodies": len(antibodies),
        "treatments": len(treatments),
        "visits": len(visits),
        "mmt8": len(mmts),
        "haq": len(haqs),
        "labs": len(labs),
        "audit_events": len(events),
    }


__all__ = ["BulkPatient", "patients_bulk_create"]
