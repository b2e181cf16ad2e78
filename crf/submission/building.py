"""Model instances and "create" audit events from a read patient document, for the writers
that insert whole new patients (crf.submission.creating) and the test of unchanged re-sends
(crf.submission.sorting)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models

from crf.models import HAQ, MMT8, ClassificationAssessment, LabResult, Visit
from crf.submission.reading import PatientRead
from registry.audit import UNAUDITED_FIELDS, Actor, event_values, value_text
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.vocabularies import serology_group

M = TypeVar("M", bound=models.Model)


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
    classification: ClassificationAssessment | None = None

    def result(self, status: str) -> dict[str, Any]:
        """The answer for this patient, in patient_document_save's shape."""
        answer = {
            "patient_id": self.patient.patient_id,
            "status": status,
            "id": self.patient.pk,
            "visits": [
                {"visit_date": rows.visit.visit_date.isoformat(), "status": status,
                 "id": rows.visit.pk}
                for rows in self.visits
            ],
        }  # fmt: skip
        if self.classification is not None:
            answer["classification"] = {"status": status, "id": self.classification.pk}
        return answer


def build(model: type[M], values: Mapping[str, Any], **links: models.Model) -> M:
    """A model instance from a reader's values and its parents, remembering which fields the
    document set (`_document_fields`, for crf.submission.sorting).

    Positional construction with the fields' own defaults — what Model(**values) does, at a
    third of the cost, which counts at ten instances per visit and millions in a seed."""
    fields = model._meta.concrete_fields
    instance = model(*[values[f.attname] if f.attname in values else f.get_default()
                       for f in fields])  # fmt: skip
    for name, parent in links.items():
        # What assigning the relation does, without its checks: the parent's id (none yet for
        # a new patient or visit: set once the parents are inserted) and the object.
        instance.__dict__[model._meta.get_field(name).attname] = parent.pk
        instance._state.fields_cache[name] = parent
    instance._document_fields = tuple(values)  # type: ignore[attr-defined]
    return instance


def patient_rows(site: Site, index: int, read: PatientRead) -> PatientRows:
    """The instances a read document stores at `site` (read without errors), with the
    serological group its results give."""
    assert read.values is not None
    patient = build(Patient, read.values, site=site)
    rows = PatientRows(
        index,
        patient,
        [build(AutoantibodyResult, entry.values, patient=patient) for entry in read.antibodies],
        [build(TreatmentEpisode, entry.values, patient=patient) for entry in read.treatments],
    )
    for visit_read in read.visits:
        visit = build(Visit, visit_read.values, patient=patient)
        mmt = build(MMT8, visit_read.mmt8, visit=visit) if visit_read.mmt8 is not None else None
        haq = build(HAQ, visit_read.haq, visit=visit) if visit_read.haq is not None else None
        labs = [
            build(LabResult, {"enzyme": enzyme, **lab}, visit=visit)
            for enzyme, lab in visit_read.labs.items()
        ]
        rows.visits.append(VisitRows(visit, mmt, haq, labs, visit_read.reason))
    if read.classification is not None:
        rows.classification = build(ClassificationAssessment, read.classification, patient=patient)
    patient.serology_group = serology_group(
        [(result.antibody, result.result) for result in rows.antibodies]
    )
    return rows


def rows_clean(rows: PatientRows) -> None:
    """The models' own rules (those that need no query); ValidationError if one is broken.
    Field ranges are the readers' and the database's check constraints'."""
    for instance in (rows.patient, *rows.antibodies, *rows.treatments):
        instance.clean()
    for visit_rows in rows.visits:
        visit_rows.visit.clean()
    if rows.classification is not None:
        rows.classification.clean()


# --- audit events --------------------------------------------------------------------------------

_AUDITED: dict[type[models.Model], list[str]] = {}


def audit_snapshot(instance: models.Model) -> dict[str, str | None]:
    """registry.audit.snapshot, faster for the common values: text and whole numbers are
    converted here, everything else by registry.audit.value_text (at ten calls per visit)."""
    model = type(instance)
    names = _AUDITED.get(model)
    if names is None:
        names = _AUDITED[model] = [
            f.attname for f in model._meta.concrete_fields if f.attname not in UNAUDITED_FIELDS
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
    label = instance._meta.label_lower
    return event_values(who, label, instance.pk, None, audit_snapshot(instance), **ids)[0]


def create_events(actor: Actor, patients: Sequence[PatientRows]) -> list[dict[str, Any]]:
    """One "create" event per object of these inserted patients, as the services write them
    (registry.audit), as field values for registry.fastwrite.insert_events."""
    events: list[dict[str, Any]] = []
    for rows in patients:
        patient = rows.patient
        ids = {"site_id": patient.site_id, "patient_id": patient.pk}
        for instance in (patient, *rows.antibodies, *rows.treatments):
            events.append(_create_event(actor, instance, ids))
        if rows.classification is not None:
            events.append(_create_event(actor, rows.classification, ids))
        for visit_rows in rows.visits:
            # A visit document's `reason` goes into the events of its visit, as visit_write
            # records it.
            reason = (visit_rows.reason or actor.reason).strip()
            who = actor if reason == actor.reason else Actor(actor.user, actor.source, reason)
            instruments = [visit_rows.visit, visit_rows.mmt8, visit_rows.haq, *visit_rows.labs]
            events += [_create_event(who, i, ids) for i in instruments if i is not None]
    return events
