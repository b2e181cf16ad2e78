"""Write services of the registry app. Every write of clinical data goes through one of these:
validate, write, audit in the same transaction, and ask for re-scoring after commit."""

from typing import Any

from django.db import transaction

from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.models import AutoantibodyResult, Patient, Site, TreatmentEpisode
from registry.signals import request_scoring
from registry.vocabularies import serology_group

# A change of these patient fields can change scores: onset decides adult vs juvenile.
PATIENT_SCORING_FIELDS = ("onset_date", "birth_year", "birth_month")
# A change of these episode fields moves the episode's baseline and scored visits.
TREATMENT_SCORING_FIELDS = ("start_date", "stop_date", "drug")

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
    patient.save()
    after = snapshot(patient)
    audit_write(audit_events(actor, patient, before, after, site_id=site.pk, patient_id=patient.pk))
    if any(before[f] != after[f] for f in PATIENT_SCORING_FIELDS):
        request_scoring([patient.pk])
    return patient, "updated"


def _refresh_serology(actor: Actor, patient: Patient) -> None:
    """Derive the patient's serology group again from its results, audited as the patient's
    change that it is (reports group patients by it)."""
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
        result.save()
        audit_write(audit_events(actor, result, before, snapshot(result), **ids))
        status = "updated"
    _refresh_serology(actor, patient)
    return result, status


@transaction.atomic
def autoantibody_delete(*, actor: Actor, result: AutoantibodyResult) -> None:
    patient = result.patient
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
    if episode is None:
        episode = (
            TreatmentEpisode.objects.select_for_update()
            .filter(patient=patient, drug=values["drug"], start_date=values["start_date"])
            .first()
        )
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
    episode.save()
    after = snapshot(episode)
    audit_write(audit_events(actor, episode, before, after, **ids))
    if any(before[f] != after[f] for f in TREATMENT_SCORING_FIELDS):
        request_scoring([patient.pk])
    return episode, "updated"


@transaction.atomic
def treatment_delete(*, actor: Actor, episode: TreatmentEpisode) -> None:
    patient_id = episode.patient_id
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
