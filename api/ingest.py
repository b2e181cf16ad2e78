"""Fast paths of the submission service for the two cases bulk submissions are made of.

`crf.services.patient_document_save` stores a patient row by row — an upsert, a savepoint, a
full_clean (one query per check constraint) and an audit write per object — about 200 queries
per visit. Right for one patient a coordinator edits; for a site that sends 10,000 patients it
is hours. So the submission service sorts a document's patients:

- **new patients** (their site and id not stored yet, the document valid): created here in one
  pass for all of them — the same readers, the same model instances and `clean()` rules, one
  "create" audit event per object as the services write them, the plausibility rules of
  crf.quality, and one request for scoring — with PostgreSQL COPY (`bulk_create` elsewhere);
- **unchanged patients** (stored, and the document says exactly what is stored): answered
  "unchanged" from a few set-based reads, writing nothing — re-sending a document is the
  normal case for a site's nightly export;
- **everything else** — changes, errors, anything unusual — goes to patient_document_save,
  which owns the rules for amendments (reasons, locks, versions) and names every error.

Whenever this module is unsure it hands the patient to the service, so the answer is always
the service's; tests/api/test_ingest.py pins that both paths store the same rows and events.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch

from crf.documents import read_visit
from crf.models import HAQ, MMT8, LabResult, Visit
from crf.quality import findings, rules_apply
from registry.audit import _SKIP, Actor, event_values, value_text
from registry.documents import (
    Errors,
    expect_list,
    read_autoantibody,
    read_patient,
    read_treatment,
)
from registry.fastwrite import insert_events, insert_rows
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.signals import request_scoring
from registry.vocabularies import serology_group


@dataclass
class VisitRows:
    visit: Visit
    mmt8: MMT8 | None
    haq: HAQ | None
    labs: list[LabResult]
    reason: str


@dataclass
class PatientRows:
    """A patient document as the model instances it stores (not saved)."""

    index: int  # position in the submission document
    patient: Patient
    antibodies: list[AutoantibodyResult]
    treatments: list[TreatmentEpisode]
    visits: list[VisitRows] = field(default_factory=list)

    def result(self, status: str) -> dict[str, Any]:
        """The answer for this patient, in patient_document_save's shape."""
        return {
            "patient_id": self.patient.patient_id,
            "status": status,
            "id": self.patient.pk,
            "visits": [
                {"visit_date": rows.visit.visit_date.isoformat(), "status": status,
                 "id": rows.visit.pk}
                for rows in self.visits
            ],
        }  # fmt: skip


def _build(model: type[models.Model], values: dict[str, Any], **links: Any) -> Any:
    """A model instance from a reader's values, remembering which fields the document set.

    Positional construction with the fields' own defaults — what Model(**values) does, at a
    third of the cost, which counts at ten instances per visit."""
    fields = model._meta.concrete_fields
    instance = model(*[values[f.attname] if f.attname in values else f.get_default()
                       for f in fields])  # fmt: skip
    for name, parent in links.items():
        # What assigning the relation does, without its checks: the parent's id (none yet for
        # a new patient or visit: set once the parents are inserted) and the object.
        instance.__dict__[model._meta.get_field(name).attname] = parent.pk
        instance._state.fields_cache[name] = parent
    instance._document_fields = tuple(values)
    return instance


def read_patient_rows(site: Site, index: int, data: Any) -> PatientRows | None:
    """The rows a valid patient document stores, or None if it is anything but plainly valid.

    None is not an error: the caller sends such a patient to patient_document_save, which reads
    it again and names every problem. Keys repeated within the document (which the service
    resolves as successive upserts) are sent there too.
    """
    errors = Errors()
    values = read_patient(errors, "", data)
    if errors or values is None or not isinstance(data, dict):
        return None
    born = date(values["birth_year"], values["birth_month"], 1)
    patient = _build(Patient, values, site=site)
    rows = PatientRows(index, patient, [], [])
    for key, reader, model, natural_key, into in (
        ("autoantibodies", read_autoantibody, AutoantibodyResult, ("antibody", "sample_date"),
         rows.antibodies),
        ("treatments", read_treatment, TreatmentEpisode, ("drug", "start_date"), rows.treatments),
    ):  # fmt: skip
        seen = set()
        for item in expect_list(errors, key, data.get(key)) or []:
            item_values = reader(errors, key, item, born)
            if errors or item_values is None:
                return None
            natural = tuple(item_values[name] for name in natural_key)
            if natural in seen:
                return None
            seen.add(natural)
            into.append(_build(model, item_values, patient=patient))
    dates, baselines = set(), 0
    for item in expect_list(errors, "visits", data.get("visits")) or []:
        parsed = read_visit(errors, "visits", item, born=born)
        if errors or parsed is None:
            return None
        visit = _build(Visit, parsed["visit"], patient=patient)
        if visit.visit_date in dates:
            return None
        dates.add(visit.visit_date)
        baselines += visit.kind == Visit.Kind.BASELINE
        mmt = _build(MMT8, parsed["mmt8"], visit=visit) if parsed["mmt8"] is not None else None
        haq = _build(HAQ, parsed["haq"], visit=visit) if parsed["haq"] is not None else None
        labs = [
            _build(LabResult, {"enzyme": enzyme, **lab}, visit=visit)
            for enzyme, lab in parsed["labs"].items()
        ]
        rows.visits.append(VisitRows(visit, mmt, haq, labs, (parsed.get("reason") or "").strip()))
    if errors or baselines > 1:  # `errors`: a nested list that is not a list
        return None
    try:
        # The models' own rules (those that need no query); field ranges are the readers' and
        # the database's check constraints'.
        for instance in (patient, *rows.antibodies, *rows.treatments):
            instance.clean()
        for visit_rows in rows.visits:
            visit_rows.visit.clean()
    except ValidationError:
        return None
    patient.serology_group = serology_group(
        [(result.antibody, result.result) for result in rows.antibodies]
    )
    return rows


# --- writing -------------------------------------------------------------------------------------


def patients_create(*, actor: Actor, patients: Sequence[PatientRows]) -> None:
    """Create these new patients with everything in them: one transaction, audited, and scored.

    Raises IntegrityError / DatabaseError if the database refuses a row (a patient created by a
    concurrent request, say); nothing is stored then.
    """
    with transaction.atomic():
        insert_rows(Patient, [p.patient for p in patients])
        # Foreign keys by id, now that the parents have one (the instances were built before).
        for rows in patients:
            for child in (*rows.antibodies, *rows.treatments, *(v.visit for v in rows.visits)):
                child.patient_id = rows.patient.pk
        visits = [v for p in patients for v in p.visits]
        insert_rows(AutoantibodyResult, [a for p in patients for a in p.antibodies])
        insert_rows(TreatmentEpisode, [t for p in patients for t in p.treatments])
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
        insert_events(_create_events(actor, patients))
        for rows in patients:
            # Plausibility rules (issue 8) as the visit service applies them; most new patients
            # have no finding, and the rules' own service opens the queries of those that do.
            _attach(rows)
            visits_by_date = sorted((v.visit for v in rows.visits), key=lambda v: v.visit_date)
            if any(True for _ in findings(visits_by_date)):
                rules_apply(actor=actor, patient=rows.patient)
        request_scoring(rows.patient.pk for rows in patients)


_AUDITED: dict[type[models.Model], list[str]] = {}


def _snapshot(instance: models.Model) -> dict[str, str | None]:
    """registry.audit.snapshot, faster for the common values: text and whole numbers are
    converted here, everything else by the audit module's own _text (at ten calls per visit)."""
    model = type(instance)
    names = _AUDITED.get(model)
    if names is None:
        names = _AUDITED[model] = [
            f.attname for f in model._meta.concrete_fields if f.attname not in _SKIP
        ]
    values = instance.__dict__
    out: dict[str, str | None] = {}
    for name in names:
        value = values[name]
        kind = type(value)
        if kind is str or value is None:
            out[name] = value
        else:
            out[name] = str(value) if kind is int else value_text(value)
    return out


def _create_event(who: Actor, instance: models.Model, ids: dict[str, Any]) -> dict[str, Any]:
    """The one "create" event the services write for a new object (registry.audit), from the
    instance's values read without its snapshot()."""
    label = instance._meta.label_lower
    return event_values(who, label, instance.pk, None, _snapshot(instance), **ids)[0]


def _create_events(actor: Actor, patients: Sequence[PatientRows]) -> list[dict[str, Any]]:
    """One "create" event per object, as the services write them (registry/audit.py)."""
    events: list[dict[str, Any]] = []
    for rows in patients:
        patient = rows.patient
        ids = {"site_id": patient.site_id, "patient_id": patient.pk}
        for instance in (patient, *rows.antibodies, *rows.treatments):
            events.append(_create_event(actor, instance, ids))
        for visit_rows in rows.visits:
            # A visit document's `reason` goes into the events of its visit (crf.services).
            who = actor
            if visit_rows.reason:
                who = Actor(actor.user, actor.source, visit_rows.reason)
            instruments = [visit_rows.visit, visit_rows.mmt8, visit_rows.haq, *visit_rows.labs]
            events += [_create_event(who, i, ids) for i in instruments if i is not None]
    return events


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


# --- unchanged patients --------------------------------------------------------------------------


def stored_patients(site: Site, patient_ids: Iterable[str]) -> dict[str, Patient]:
    """The stored patients with these site ids, everything nested prefetched (five queries)."""
    return {
        patient.patient_id: patient
        for patient in Patient.objects.filter(
            site=site, patient_id__in=set(patient_ids)
        ).prefetch_related(
            "autoantibodies",
            "treatments",
            Prefetch(
                "visits",
                queryset=Visit.objects.select_related("mmt8", "haq").prefetch_related("labs"),
            ),
        )
    }


def _related(visit: Visit, name: str) -> models.Model | None:
    try:
        return getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return None


def _same(stored: models.Model | None, sent: models.Model | None) -> bool:
    """Whether saving the document's values over `stored` would change nothing.

    The services' own test (registry.audit.snapshot, which normalises 6 and 6.0), on the fields
    the document sets; the others (a visit's status, the derived serology) stay as stored.
    """
    if stored is None or sent is None:
        return stored is None and sent is None
    mine, theirs = _snapshot(sent), _snapshot(stored)
    return all(mine[name] == theirs[name] for name in sent._document_fields)


def is_unchanged(rows: PatientRows, stored: Patient) -> bool:
    """Whether the patient's document would change nothing of the stored patient.

    Over exactly what the document holds, as the services apply it: stored results, episodes
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
    for visit_rows in rows.visits:
        visit_rows.visit = visits[visit_rows.visit.visit_date]
    return True


def sort_patients(
    site: Site, documents: Sequence[Any]
) -> tuple[list[PatientRows], list[PatientRows], list[int]]:
    """Split a document's patients into new ones, unchanged ones and the rest (by index)."""
    ids = [data.get("patient_id") if isinstance(data, dict) else None for data in documents]
    ids = [key if isinstance(key, str) else None for key in ids]  # a list is not hashable
    mentions = Counter(ids)
    candidates: list[PatientRows] = []
    rest: list[int] = []
    for index, data in enumerate(documents):
        repeated = ids[index] is not None and mentions[ids[index]] > 1
        # A patient sent twice is applied twice, in order, by the service.
        rows = None if repeated else read_patient_rows(site, index, data)
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
