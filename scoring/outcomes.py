"""The writer of derived outcomes (docs/outcomes.md): the rules are scoring.instruments.outcomes,
the rows scoring.outcome_models.

Called by scoring.services.score_patients in the pass that scores the patients (under their
locks), so that the outcomes follow every change of their inputs: vital status, lung status and
HRCT, visits' FVC and DLCO and dates, treatments, adverse events and their relations. A patient
whose inputs' fingerprint (FollowUp.fingerprint) is unchanged is left alone; otherwise its rows
are compared with what the rules give and only the differences are written. Every row created,
changed or deleted is audited (source "scoring") in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Model
from django.utils import timezone

from crf.models import (
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    Visit,
    VitalStatus,
)
from registry.audit import Actor, event_values, value_text
from registry.fastwrite import insert_events
from registry.models import AuditEvent, Patient, TreatmentEpisode
from scoring.instruments import outcomes as rules
from scoring.outcome_models import EpisodeAdverseEvent, EpisodeSurvival, FollowUp, LungProgression


@dataclass(slots=True)
class _Patient:
    site_id: int | None
    diagnosis_date: date | None
    death: date | None = None
    recorded_alive: date | None = None
    ild: str = ""
    ild_onset: date | None = None
    visits: list[rules.LungVisit] = field(default_factory=list)
    scans: list[rules.Scan] = field(default_factory=list)
    episodes: list[rules.Episode] = field(default_factory=list)
    events: dict[int, rules.AdverseEvent] = field(default_factory=dict)
    relations: dict[int, list[rules.Relation]] = field(default_factory=dict)

    def inputs(self) -> rules.OutcomeInputs:
        return rules.OutcomeInputs(
            diagnosis_date=self.diagnosis_date,
            death=self.death,
            recorded_alive=self.recorded_alive,
            ild=self.ild,
            ild_onset=self.ild_onset,
            visits=tuple(self.visits),
            scans=tuple(self.scans),
            episodes=tuple(self.episodes),
            adverse_events=tuple(
                rules.AdverseEvent(e.id, e.onset, e.end, tuple(self.relations.get(e.id, ())))
                for e in self.events.values()
            ),
        )


def outcome_inputs(patient_ids: Iterable[int]) -> dict[int, tuple[int | None, rules.OutcomeInputs]]:
    """(site, inputs) of these patients, in seven queries."""
    found = {
        pk: _Patient(site_id, diagnosis)
        for pk, site_id, diagnosis in Patient.objects.filter(pk__in=set(patient_ids)).values_list(
            "pk", "site_id", "diagnosis_date"
        )
    }
    if not found:
        return {}
    ids = list(found)
    for patient_id, status, alive, death in VitalStatus.objects.filter(
        patient_id__in=ids
    ).values_list("patient_id", "status", "last_known_alive", "death_date"):
        found[patient_id].recorded_alive = alive
        found[patient_id].death = death if status == VitalStatus.Status.DEAD else None
    for patient_id, ild, onset in LungStatus.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "ild", "ild_onset_date"
    ):
        found[patient_id].ild, found[patient_id].ild_onset = ild, onset
    for patient_id, day, fvc, dlco in Visit.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "visit_date", "fvc_percent", "dlco_percent"
    ):
        found[patient_id].visits.append(rules.LungVisit(day, fvc, dlco))
    for patient_id, day, progression in HRCTAssessment.objects.filter(
        patient_id__in=ids
    ).values_list("patient_id", "date", "progression"):
        found[patient_id].scans.append(rules.Scan(day, progression))
    for pk, patient_id, drug, start, stop, reason in TreatmentEpisode.objects.filter(
        patient_id__in=ids
    ).values_list("pk", "patient_id", "drug", "start_date", "stop_date", "stop_reason"):
        found[patient_id].episodes.append(rules.Episode(pk, drug, start, stop, reason or ""))
    for pk, patient_id, onset, end in AdverseEvent.objects.filter(patient_id__in=ids).values_list(
        "pk", "patient_id", "onset_date", "end_date"
    ):
        found[patient_id].events[pk] = rules.AdverseEvent(pk, onset, end)
    for (
        patient_id,
        event_id,
        episode_id,
        relatedness,
        action,
    ) in AdverseEventRelation.objects.filter(adverse_event__patient_id__in=ids).values_list(
        "adverse_event__patient_id", "adverse_event_id", "episode_id", "relatedness", "action"
    ):
        found[patient_id].relations.setdefault(event_id, []).append(
            rules.Relation(episode_id, relatedness, action)
        )
    return {pk: (p.site_id, p.inputs()) for pk, p in found.items()}


_FOLLOW_UP = ("last_known_alive", "death_date", "last_follow_up")
_LUNG = (
    "reference_date",
    "progressed_on",
    "criterion",
    "last_assessed",
    "radiological_progression",
)
_SURVIVAL = ("os_days", "os_event", "pfs_days", "pfs_event")
_ADVERSE = ("in_window", "related", "withdrawn")


def _text(values: dict[str, Any]) -> dict[str, str | None]:
    return {name: value_text(value) for name, value in values.items()}


@dataclass
class _Writes:
    """The rows to create, update and delete, and their audit events, over all patients."""

    now: Any
    computed_by: str
    events: list[dict[str, Any]] = field(default_factory=list)
    creates: dict[type[Model], list[tuple[Model, dict[str, Any], dict[str, int | None]]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def audit(
        self,
        reason: str,
        model: type[Model],
        pk: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        ids: dict[str, int | None],
    ) -> None:
        self.events += event_values(
            Actor(None, AuditEvent.Source.SCORING, reason),
            model._meta.label_lower,
            pk,
            None if before is None else _text(before),
            None if after is None else _text(after),
            **ids,
        )

    def sync(
        self,
        model: type[Model],
        key_fields: tuple[str, ...],
        fields: tuple[str, ...],
        stored: dict[tuple[Any, ...], Model],
        wanted: dict[tuple[Any, ...], dict[str, Any]],
        ids: dict[str, int | None],
    ) -> None:
        """Make the stored rows of one patient the wanted ones: key -> values of `fields`."""
        for key, values in wanted.items():
            old = stored.get(key)
            if old is None:
                keyed = dict(zip(key_fields, key, strict=True))
                row = model(**keyed, **values, patient_id=ids["patient_id"])
                self.creates[model].append((row, {**keyed, **values}, ids))
                continue
            before = {name: getattr(old, name) for name in fields}
            if before != values:
                model._default_manager.filter(pk=old.pk).update(**values)
                self.audit("inputs changed", model, old.pk, before, values, ids)
        gone = [old for key, old in stored.items() if key not in wanted]
        if gone:
            model._default_manager.filter(pk__in=[old.pk for old in gone]).delete()
            for old in gone:
                before = {name: getattr(old, name) for name in (*key_fields, *fields)}
                self.audit("no longer applies", model, old.pk, before, None, ids)

    def create_all(self) -> None:
        for model, rows in self.creates.items():
            made = model._default_manager.bulk_create([row for row, _, _ in rows], batch_size=1000)
            for instance, (_, values, ids) in zip(made, rows, strict=True):
                self.audit("scored", model, instance.pk, None, values, ids)


def _by_patient(model: type[Model], ids: list[int], key: tuple[str, ...]) -> dict[int, dict]:
    rows: dict[int, dict[tuple[Any, ...], Model]] = defaultdict(dict)
    for row in model._default_manager.filter(patient_id__in=ids):
        # type: ignore[attr-defined]
        rows[row.patient_id][tuple(getattr(row, name) for name in key)] = row
    return rows


def outcomes_write(
    *, patient_ids: Iterable[int], computed_by: str = "", force: bool = False
) -> int:
    """Compute and store these patients' derived outcomes; returns how many patients' rows were
    (re)written. The caller holds the patients' locks (scoring.services.score_patients)."""
    found = outcome_inputs(patient_ids)
    if not found:
        return 0
    stored = {f.patient_id: f for f in FollowUp.objects.filter(patient_id__in=list(found))}
    changed: dict[int, tuple[int | None, dict[str, Any], str, rules.OutcomeInputs]] = {}
    for patient_id, (site_id, inputs) in found.items():
        data = inputs.as_json()
        digest = rules.fingerprint(data)
        old = stored.get(patient_id)
        if force or old is None or old.fingerprint != digest:
            changed[patient_id] = (site_id, data, digest, inputs)
    if not changed:
        return 0
    ids = list(changed)
    writes = _Writes(timezone.now(), computed_by)
    lungs = _by_patient(LungProgression, ids, ("definition",))
    survivals = _by_patient(EpisodeSurvival, ids, ("episode_id", "time_zero", "definition"))
    adverse = _by_patient(EpisodeAdverseEvent, ids, ("episode_id", "adverse_event_id"))
    for patient_id, (site_id, data, digest, inputs) in changed.items():
        derived = rules.derive(inputs)
        who = {"site_id": site_id, "patient_id": patient_id}
        _write_follow_up(writes, stored.get(patient_id), derived, data, digest, who)
        writes.sync(
            LungProgression,
            ("definition",),
            _LUNG,
            lungs.get(patient_id, {}),
            {
                (p.definition,): {
                    "reference_date": p.reference,
                    "progressed_on": p.progressed_on,
                    "criterion": p.criterion,
                    "last_assessed": p.last_assessed,
                    "radiological_progression": derived.radiological_progression,
                }
                for p in derived.lung
            },
            who,
        )
        writes.sync(
            EpisodeSurvival,
            ("episode_id", "time_zero", "definition"),
            _SURVIVAL,
            survivals.get(patient_id, {}),
            {
                (s.episode, s.time_zero, s.definition): {
                    "os_days": s.os_days,
                    "os_event": s.os_event,
                    "pfs_days": s.pfs_days,
                    "pfs_event": s.pfs_event,
                }
                for s in derived.survival
            },
            who,
        )
        writes.sync(
            EpisodeAdverseEvent,
            ("episode_id", "adverse_event_id"),
            _ADVERSE,
            adverse.get(patient_id, {}),
            {
                (a.episode, a.adverse_event): {
                    "in_window": a.in_window,
                    "related": a.related,
                    "withdrawn": a.withdrawn,
                }
                for a in derived.adverse_events
            },
            who,
        )
    writes.create_all()
    insert_events(writes.events)
    return len(changed)


def _write_follow_up(
    writes: _Writes,
    old: FollowUp | None,
    derived: rules.Derived,
    data: dict[str, Any],
    digest: str,
    who: dict[str, int | None],
) -> None:
    outcome = {
        "last_known_alive": derived.last_known_alive,
        "death_date": derived.death,
        "last_follow_up": derived.last_follow_up,
    }
    values = {
        **outcome,
        "inputs": data,
        "fingerprint": digest,
        "computed_at": writes.now,
        "computed_by": writes.computed_by,
    }
    if old is None:
        row = FollowUp.objects.create(patient_id=who["patient_id"], **values)
        writes.audit("scored", FollowUp, row.pk, None, outcome, who)
        return
    before = {name: getattr(old, name) for name in _FOLLOW_UP}
    if old.fingerprint == digest and before == outcome:
        return  # forced, but the rules give what is stored: nothing to write
    FollowUp.objects.filter(pk=old.pk).update(**values)
    if before != outcome:
        writes.audit("inputs changed", FollowUp, old.pk, before, outcome, who)
