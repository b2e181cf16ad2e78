"""Write services of the registry app. Every write of clinical data goes through one of these:
validate, write, audit in the same transaction, and ask for re-scoring after commit."""

from dataclasses import replace
from typing import Any

from django.db import transaction

from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.errors import InputError
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.signals import data_past_draft, request_scoring
from registry.vocabularies import serology_group

# A change of these patient fields can change scores: onset decides adult vs juvenile.
PATIENT_SCORING_FIELDS = ("onset_date", "birth_year", "birth_month")
# A change of these episode fields moves the episode's baseline and scored visits, or its
# refractory status (the reason it was stopped).
TREATMENT_SCORING_FIELDS = ("start_date", "stop_date", "drug", "stop_reason")

# Field validation and each model's clean() run on every write; the database checks the named
# range constraints and keys itself at INSERT/UPDATE. Django's constraint validation would ask
# the database again, one SELECT per constraint (about 70 per visit with its instruments), for
# values the document readers have already checked with their JSON paths.
CLEAN = {"validate_constraints": False, "validate_unique": False}


def _apply(instance: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def reason_required(patient: Patient) -> bool:
    """Whether correcting or deleting this patient's clinical data must say why: once the patient
    has data past draft (a visit submitted, verified or signed), 21 CFR 11.10(e). The apps that
    hold such data answer through registry.signals.data_past_draft."""
    answers = data_past_draft.send(sender=Patient, patient_id=patient.pk)
    return any(answer for _, answer in answers)


def _corrects(before: dict[str, str | None], after: dict[str, str | None]) -> bool:
    """Whether a change alters or empties a recorded value. Filling an empty field (a first stop
    date on an ongoing treatment, a diagnosis date learnt later) adds data: no reason needed."""
    return any(old not in (None, "") and after.get(name) != old for name, old in before.items())


def _with_reason(actor: Actor, patient: Patient, what: str) -> Actor:
    """The actor of a correction or deletion of `what`, its reason checked (InputError naming
    `reason` when the patient has data past draft and none is given)."""
    actor = replace(actor, reason=actor.reason.strip())
    if not actor.reason and reason_required(patient):
        raise InputError([("reason", f"Give a reason for {what}: the patient has submitted data.")])
    return actor


@transaction.atomic
def patient_upsert(*, actor: Actor, site: Site, values: dict[str, Any]) -> tuple[Patient, str]:
    """Create or update the patient keyed by (site, patient_id).

    Returns the patient and "created", "updated" or "unchanged".
    """
    patient = (
        Patient.objects.select_for_update()
        .filter(site=site, patient_id=values["patient_id"])
        .first()
    )
    if patient is None:
        patient = Patient(site=site, **values)
        patient.full_clean(**CLEAN)
        patient.save()
        audit_write(
            audit_events(
                actor, patient, None, snapshot(patient), site_id=site.pk, patient_id=patient.pk
            )
        )
        return patient, "created"
    before = snapshot(patient)
    if not _apply(patient, values):
        return patient, "unchanged"
    patient.full_clean(**CLEAN)
    after = snapshot(patient)
    if _corrects(before, after):
        actor = _with_reason(actor, patient, f"changing patient {patient.patient_id}")
    patient.save()
    audit_write(audit_events(actor, patient, before, after, site_id=site.pk, patient_id=patient.pk))
    if any(before[f] != after[f] for f in PATIENT_SCORING_FIELDS):
        request_scoring([patient.pk])
    return patient, "updated"


def _refresh_serology(actor: Actor, patient: Patient) -> None:
    """Derive the patient's serology group again from its results, audited as the patient's
    change that it is (reports group patients by it), and ask for the patient's scoring."""
    # The classification criteria's anti-Jo-1 item is derived from the results (scoring).
    request_scoring([patient.pk])
    group = serology_group(list(patient.autoantibodies.values_list("antibody", "result")))
    if patient.serology_group != group:
        before = {"serology_group": patient.serology_group}
        Patient.objects.filter(pk=patient.pk).update(serology_group=group)
        patient.serology_group = group
        audit_write(
            audit_events(
                actor,
                patient,
                before,
                {"serology_group": group},
                site_id=patient.site_id,
                patient_id=patient.pk,
            )
        )


@transaction.atomic
def autoantibody_upsert(
    *, actor: Actor, patient: Patient, values: dict[str, Any]
) -> tuple[AutoantibodyResult, str]:
    """Create or update the result keyed by (patient, antibody, sample_date)."""
    result = (
        AutoantibodyResult.objects.select_for_update()
        .filter(patient=patient, antibody=values["antibody"], sample_date=values["sample_date"])
        .first()
    )
    ids = {"site_id": patient.site_id, "patient_id": patient.pk}
    if result is None:
        result = AutoantibodyResult(patient=patient, **values)
        result.full_clean(**CLEAN)
        result.save()
        audit_write(audit_events(actor, result, None, snapshot(result), **ids))
        status = "created"
    else:
        before = snapshot(result)
        if not _apply(result, values):
            return result, "unchanged"
        result.full_clean(**CLEAN)
        after = snapshot(result)
        if _corrects(before, after):
            actor = _with_reason(
                actor, patient, f"changing the {result.antibody} result of {result.sample_date}"
            )
        result.save()
        audit_write(audit_events(actor, result, before, after, **ids))
        status = "updated"
    _refresh_serology(actor, patient)
    return result, status


@transaction.atomic
def autoantibody_delete(*, actor: Actor, result: AutoantibodyResult) -> None:
    patient = result.patient
    actor = _with_reason(actor, patient, f"deleting the {result} result")
    audit_write(
        audit_events(
            actor, result, snapshot(result), None, site_id=patient.site_id, patient_id=patient.pk
        )
    )
    result.delete()
    _refresh_serology(actor, patient)


@transaction.atomic
def treatment_upsert(
    *,
    actor: Actor,
    patient: Patient,
    values: dict[str, Any],
    episode: TreatmentEpisode | None = None,
) -> tuple[TreatmentEpisode, str]:
    """Create or update an episode: the given one, else the one keyed by (drug, start_date)."""
    episodes = TreatmentEpisode.objects.select_for_update()
    if episode is None:
        episode = episodes.filter(
            patient=patient, drug=values["drug"], start_date=values["start_date"]
        ).first()
    else:
        # Read again, locked: the caller's instance is neither trusted nor changed.
        episode = episodes.get(pk=episode.pk)
    ids = {"site_id": patient.site_id, "patient_id": patient.pk}
    if episode is None:
        episode = TreatmentEpisode(patient=patient, **values)
        episode.full_clean(**CLEAN)
        episode.save()
        audit_write(audit_events(actor, episode, None, snapshot(episode), **ids))
        request_scoring([patient.pk])
        return episode, "created"
    before = snapshot(episode)
    if not _apply(episode, values):
        return episode, "unchanged"
    episode.full_clean(**CLEAN)
    after = snapshot(episode)
    if _corrects(before, after):
        actor = _with_reason(actor, patient, f"changing the treatment episode {episode}")
    episode.save()
    audit_write(audit_events(actor, episode, before, after, **ids))
    if any(before[f] != after[f] for f in TREATMENT_SCORING_FIELDS):
        request_scoring([patient.pk])
    return episode, "updated"


@transaction.atomic
def treatment_delete(*, actor: Actor, episode: TreatmentEpisode) -> None:
    patient_id = episode.patient_id
    actor = _with_reason(actor, episode.patient, f"deleting the treatment episode {episode}")
    audit_write(
        audit_events(
            actor,
            episode,
            snapshot(episode),
            None,
            site_id=episode.patient.site_id,
            patient_id=patient_id,
        )
    )
    episode.delete()
    request_scoring([patient_id])
