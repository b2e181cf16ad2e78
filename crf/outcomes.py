"""Write services for vital status, lung status, HRCT assessments and adverse events (issue 14).

Like every write service (docs/architecture.md "Data flow"): the model's own rules (full_clean), the
rules that span records (a fatal adverse event needs the patient dead on or after its onset; the
suspect treatment episodes are the patient's own), the write with its audit events in the same
transaction, a reason for correcting or deleting recorded values once the patient has data past
draft (registry.services.reason_required), and a request for scoring on commit: the derived
survival, progression and safety values depend on these records. The callers check access
(registry.access.require): the web views and the submission API find the patient first.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crf.outcome_models import (
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    VitalStatus,
)
from crf.services import integrity_to_error, validation_to_input_error
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.documents import join
from registry.errors import InputError
from registry.models import Patient, TreatmentEpisode
from registry.services import CLEAN, _corrects, _with_reason
from registry.signals import request_scoring


@dataclass(frozen=True)
class RelationValues:
    """One suspect treatment episode of an adverse event, as the services take it."""

    episode: TreatmentEpisode
    relatedness: str
    action: str
    path: str = ""  # where the document named it, for errors


def _ids(patient: Patient) -> dict[str, int]:
    return {"site_id": patient.site_id, "patient_id": patient.pk}


def _errors_at(exc: ValidationError, path: str) -> InputError:
    return validation_to_input_error(exc, path)


def death_covers(vital: VitalStatus | None, onset: date) -> bool:
    """Whether the patient's vital status is dead on or after `onset` (a year-month date of
    death covers the whole month)."""
    if vital is None or vital.status != VitalStatus.Status.DEAD or vital.death_date is None:
        return False
    if vital.death_date_precision == VitalStatus.Precision.MONTH:
        return (vital.death_date.year, vital.death_date.month) >= (onset.year, onset.month)
    return vital.death_date >= onset


def fatal_events_uncovered(vital: VitalStatus | None, events: Sequence[AdverseEvent]) -> list[str]:
    """Messages for the fatal events among `events` that the vital status does not cover."""
    return [
        f"The adverse event '{event.term}' of {event.onset_date} was fatal: the vital status "
        "must be dead, with a date of death on or after its onset."
        for event in events
        if event.outcome == AdverseEvent.Outcome.FATAL and not death_covers(vital, event.onset_date)
    ]


def _write(
    actor: Actor,
    patient: Patient,
    instance: Any,
    values: dict[str, Any],
    *,
    what: str,
    path: str,
    extra_check=None,
    corrects=_corrects,
) -> tuple[Any, str, Actor]:
    """Create or update `instance` (unsaved: created) with `values`: clean, reason, save, audit.

    Returns the instance, "created" / "updated" / "unchanged" and the actor the change was
    recorded with (its reason checked)."""
    creating = instance.pk is None
    before = None if creating else snapshot(instance)
    for name, value in values.items():
        setattr(instance, name, value)
    try:
        instance.full_clean(exclude=["patient"], **CLEAN)
    except ValidationError as exc:
        raise _errors_at(exc, path) from None
    after = snapshot(instance)
    if not creating and after == before:
        return instance, "unchanged", actor
    if extra_check is not None:
        extra_check(instance)
    if before is not None and corrects(before, after):
        actor = _with_reason(actor, patient, what)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise integrity_to_error(exc, path) from None
    audit_write(audit_events(actor, instance, before, after, **_ids(patient)))
    return instance, "created" if creating else "updated", actor


# --- vital status ------------------------------------------------------------------------------

# Follow-up, not a correction: the status moving on (alive or unknown to dead, alive and unknown
# to each other) and the last date known alive moving later.
_STATUS_MOVES_ON = {
    ("alive", "dead"),
    ("unknown", "dead"),
    ("alive", "unknown"),
    ("unknown", "alive"),
}


def _vital_corrects(before: dict[str, str | None], after: dict[str, str | None]) -> bool:
    before, after = dict(before), dict(after)
    if (before["status"], after["status"]) in _STATUS_MOVES_ON:
        before["status"] = after["status"]
    old, new = before["last_known_alive"], after["last_known_alive"]
    if old and new and new > old:  # ISO dates compare as text
        before["last_known_alive"] = new
    return _corrects(before, after)


@transaction.atomic
def vital_status_save(
    *, actor: Actor, patient: Patient, values: dict[str, Any], path: str = ""
) -> tuple[VitalStatus, str]:
    """Create or replace the patient's vital status with `values` (the whole record)."""
    vital = VitalStatus.objects.select_for_update().filter(patient=patient).first()
    if vital is None:
        vital = VitalStatus(patient=patient)
    full = {
        "last_known_alive": None,
        "death_date": None,
        "death_date_precision": "",
        "cause_category": "",
        "cause_text": "",
        "source": "",
        **values,
    }

    def fatal_events_still_covered(record: VitalStatus) -> None:
        for event in AdverseEvent.objects.filter(
            patient=patient, outcome=AdverseEvent.Outcome.FATAL
        ).order_by("onset_date"):
            if not death_covers(record, event.onset_date):
                raise InputError(
                    [
                        (
                            join(path, "death_date" if record.death_date else "status"),
                            f"The adverse event '{event.term}' of {event.onset_date} was fatal: "
                            "the patient is dead, on or after its onset.",
                        )
                    ]
                )

    vital, status, _ = _write(
        actor,
        patient,
        vital,
        full,
        what="changing the vital status",
        path=path,
        extra_check=fatal_events_still_covered,
        corrects=_vital_corrects,
    )
    if status != "unchanged":
        request_scoring([patient.pk])
    return vital, status


# --- lung status -------------------------------------------------------------------------------


@transaction.atomic
def lung_save(
    *, actor: Actor, patient: Patient, values: dict[str, Any], path: str = ""
) -> tuple[LungStatus, str]:
    """Create or replace the patient's lung status with `values` (the whole record)."""
    lung = LungStatus.objects.select_for_update().filter(patient=patient).first()
    if lung is None:
        lung = LungStatus(patient=patient)
    full = {"ild_onset_date": None, "rapidly_progressive": None, **values}
    lung, status, _ = _write(actor, patient, lung, full, what="changing the lung status", path=path)
    if status != "unchanged":
        request_scoring([patient.pk])
    return lung, status


# --- HRCT assessments --------------------------------------------------------------------------


@transaction.atomic
def hrct_upsert(
    *,
    actor: Actor,
    patient: Patient,
    values: dict[str, Any],
    assessment: HRCTAssessment | None = None,
    path: str = "",
) -> tuple[HRCTAssessment, str]:
    """Create or update a scan: the given one (its date may change), else the one on the date."""
    scans = HRCTAssessment.objects.select_for_update()
    if assessment is None:
        assessment = scans.filter(patient=patient, date=values["date"]).first()
    else:
        assessment = scans.get(pk=assessment.pk, patient=patient)
        clash = HRCTAssessment.objects.filter(patient=patient, date=values["date"])
        if clash.exclude(pk=assessment.pk).exists():
            raise InputError([(join(path, "date"), "The patient has a scan on this date already.")])
    if assessment is None:
        assessment = HRCTAssessment(patient=patient)
    full = {"progression": None, **values}
    assessment, status, _ = _write(
        actor,
        patient,
        assessment,
        full,
        what=f"changing the HRCT assessment of {assessment.date or values['date']}",
        path=path,
    )
    if status != "unchanged":
        request_scoring([patient.pk])
    return assessment, status


@transaction.atomic
def hrct_delete(*, actor: Actor, assessment: HRCTAssessment) -> None:
    patient = assessment.patient
    actor = _with_reason(actor, patient, f"deleting the HRCT assessment of {assessment.date}")
    audit_write(audit_events(actor, assessment, snapshot(assessment), None, **_ids(patient)))
    assessment.delete()
    request_scoring([patient.pk])


# --- adverse events ----------------------------------------------------------------------------


def _check_fatal(patient: Patient, event: AdverseEvent, path: str) -> None:
    if event.outcome != AdverseEvent.Outcome.FATAL:
        return
    vital = VitalStatus.objects.filter(patient=patient).first()
    if not death_covers(vital, event.onset_date):
        raise InputError(
            [
                (
                    join(path, "outcome"),
                    "A fatal outcome needs the patient's vital status dead, with a date of death "
                    "on or after the onset.",
                )
            ]
        )


def _write_relations(
    actor: Actor, event: AdverseEvent, relations: Sequence[RelationValues], path: str
) -> tuple[list, bool]:
    """Replace the event's relations with `relations`: (audit events, whether one was corrected
    or removed)."""
    seen: dict[int, int] = {}
    for index, relation in enumerate(relations):
        where = relation.path or join(join(path, "related_to"), index)
        if relation.episode.patient_id != event.patient_id:
            raise InputError([(where, "The treatment episode must be the patient's own.")])
        if relation.episode.pk in seen:
            first = seen[relation.episode.pk]
            raise InputError([(where, f"Names the same episode as related_to[{first}].")])
        seen[relation.episode.pk] = index
    existing = {r.episode_id: r for r in AdverseEventRelation.objects.filter(adverse_event=event)}
    ids = _ids(event.patient)
    events: list = []
    corrected = False
    for episode_id, stored in existing.items():
        if episode_id not in seen:
            events += audit_events(actor, stored, snapshot(stored), None, **ids)
            stored.delete()
            corrected = True
    for index, relation in enumerate(relations):
        where = relation.path or join(join(path, "related_to"), index)
        stored = existing.get(relation.episode.pk)
        before = snapshot(stored) if stored is not None else None
        if stored is None:
            stored = AdverseEventRelation(adverse_event=event, episode=relation.episode)
        stored.relatedness = relation.relatedness
        stored.action = relation.action
        try:
            stored.full_clean(exclude=["adverse_event", "episode"], **CLEAN)
        except ValidationError as exc:
            raise _errors_at(exc, where) from None
        after = snapshot(stored)
        if after == before:
            continue
        corrected |= before is not None
        stored.save()
        events += audit_events(actor, stored, before, after, **ids)
    return events, corrected


@transaction.atomic
def adverse_event_upsert(
    *,
    actor: Actor,
    patient: Patient,
    values: dict[str, Any],
    relations: Sequence[RelationValues] = (),
    event: AdverseEvent | None = None,
    path: str = "",
) -> tuple[AdverseEvent, str]:
    """Create or update an adverse event with its suspect episodes (replaced whole): the given
    event (its natural key may change), else the one keyed by (category, term, onset_date)."""
    events_qs = AdverseEvent.objects.select_for_update()
    key = {name: values.get(name) for name in ("category", "term", "onset_date")}
    if event is None:
        event = events_qs.filter(patient=patient, **key).first()
    else:
        event = events_qs.get(pk=event.pk, patient=patient)
        if AdverseEvent.objects.filter(patient=patient, **key).exclude(pk=event.pk).exists():
            raise InputError(
                [(join(path, "term"), "The patient has this event, with this onset, already.")]
            )
    if event is None:
        event = AdverseEvent(patient=patient)
    creating = event.pk is None
    before = None if creating else snapshot(event)
    full = {"end_date": None, "ctcae_grade": None, **values}
    for name, value in full.items():
        setattr(event, name, value)
    try:
        event.full_clean(exclude=["patient"], **CLEAN)
    except ValidationError as exc:
        raise _errors_at(exc, path) from None
    _check_fatal(patient, event, path)
    after = snapshot(event)
    try:
        with transaction.atomic():
            if creating or after != before:
                event.save()
            relation_events, relations_corrected = _write_relations(actor, event, relations, path)
            if not creating and after == before and not relation_events:
                return event, "unchanged"
            if not creating and (relations_corrected or _corrects(before, after)):
                who = _with_reason(actor, patient, f"changing the adverse event '{event.term}'")
                actor = who
                relation_events = [_with_actor(e, who) for e in relation_events]
    except IntegrityError as exc:
        raise integrity_to_error(exc, path) from None
    own = audit_events(actor, event, before, after, **_ids(patient)) if after != before else []
    audit_write(own + relation_events)
    request_scoring([patient.pk])
    return event, "created" if creating else "updated"


def _with_actor(event: Any, actor: Actor) -> Any:
    event.reason = actor.reason
    return event


@transaction.atomic
def adverse_event_delete(*, actor: Actor, event: AdverseEvent) -> None:
    """Delete an adverse event with its relations to treatment episodes, audited."""
    patient = event.patient
    actor = _with_reason(actor, patient, f"deleting the adverse event '{event.term}'")
    ids = _ids(patient)
    events = []
    for relation in AdverseEventRelation.objects.filter(adverse_event=event):
        events += audit_events(actor, relation, snapshot(relation), None, **ids)
        relation.delete()
    events += audit_events(actor, event, snapshot(event), None, **ids)
    event.delete()
    audit_write(events)
    request_scoring([patient.pk])
