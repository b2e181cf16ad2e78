"""Model instances and "create" audit events from a read patient document, for the writers
that insert whole new patients (crf.submission.creating) and the test of unchanged re-sends
(crf.submission.sorting)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models

from crf.models import (
    HAQ,
    MMT8,
    AdverseEvent,
    AdverseEventRelation,
    ClassificationAssessment,
    HRCTAssessment,
    LabResult,
    LungStatus,
    Visit,
    VitalStatus,
)
from crf.outcomes import fatal_events_uncovered
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
    # Vital status, lung status, HRCT scans, adverse events and their suspect episodes.
    vital_status: VitalStatus | None = None
    lung: LungStatus | None = None
    hrct: list[HRCTAssessment] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    relations: list[AdverseEventRelation] = field(default_factory=list)

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
            **self.outcome_results(status),
        }  # fmt: skip
        if self.classification is not None:
            answer["classification"] = {"status": status, "id": self.classification.pk}
        return answer

    def outcome_results(self, status: str) -> dict[str, Any]:
        """The per-record results of the outcome records, as crf.submission.outcomes gives them."""

        def one(record: models.Model | None) -> dict[str, Any] | None:
            return None if record is None else {"status": status, "id": record.pk}

        return {
            "vital_status": one(self.vital_status),
            "lung": one(self.lung),
            "hrct": [{"date": scan.date.isoformat(), "status": status, "id": scan.pk}
                     for scan in self.hrct],
            "adverse_events": [one(event) for event in self.adverse_events],
        }  # fmt: skip

    def outcome_instances(self) -> list[models.Model]:
        """The outcome records, parents before children (the order they are inserted in)."""
        one = [r for r in (self.vital_status, self.lung) if r is not None]
        return [*one, *self.hrct, *self.adverse_events, *self.relations]


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
    _outcome_rows(rows, read)
    return rows


def _outcome_rows(rows: PatientRows, read: PatientRead) -> None:
    """The outcome records of the document. Suspect episodes name the document's treatments
    (read.unresolved_related() is empty: the callers checked)."""
    patient = rows.patient
    if read.vital_status is not None:
        rows.vital_status = build(VitalStatus, read.vital_status, patient=patient)
    if read.lung is not None:
        rows.lung = build(LungStatus, read.lung, patient=patient)
    rows.hrct = [build(HRCTAssessment, entry.values, patient=patient) for entry in read.hrct]
    episodes = {(episode.drug, episode.start_date): episode for episode in rows.treatments}
    for event_read in read.adverse_events:
        event = build(AdverseEvent, event_read.values, patient=patient)
        rows.adverse_events.append(event)
        for related in event_read.related:
            values = {"relatedness": related.relatedness, "action": related.action}
            rows.relations.append(
                build(
                    AdverseEventRelation,
                    values,
                    adverse_event=event,
                    episode=episodes[related.episode_key],
                )
            )


def outcome_rows_clean(rows: PatientRows) -> None:
    """The outcome records' own rules and the fatal events' vital status; ValidationError."""
    for instance in (rows.vital_status, rows.lung, *rows.hrct, *rows.adverse_events):
        if instance is not None:
            instance.clean()
    uncovered = fatal_events_uncovered(rows.vital_status, rows.adverse_events)
    if uncovered:
        raise ValidationError({"adverse_events": uncovered})


def rows_clean(rows: PatientRows) -> None:
    """The models' own rules (those that need no query); ValidationError if one is broken.
    Field ranges are the readers' and the database's check constraints'."""
    for instance in (rows.patient, *rows.antibodies, *rows.treatments):
        instance.clean()
    for visit_rows in rows.visits:
        visit_rows.visit.clean()
    if rows.classification is not None:
        rows.classification.clean()
    outcome_rows_clean(rows)


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
        events += [_create_event(actor, instance, ids) for instance in rows.outcome_instances()]
    return events
