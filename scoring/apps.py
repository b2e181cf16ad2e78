from typing import Any

from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring: IMACS and ACR/EULAR response"

    def ready(self) -> None:
        # The one-way hook of docs/architecture.md "The one-way rule": registry and crf announce
        # changes through these signals; they never import the scoring app.
        from django.db.models.signals import pre_delete

        from registry.models import TreatmentEpisode
        from registry.signals import (
            refractory_attesting,
            scoring_inputs_changed,
            visit_deleting,
            visit_locking,
        )
        from scoring import tasks

        scoring_inputs_changed.connect(
            tasks.on_scoring_inputs_changed, dispatch_uid="scoring.request_scoring"
        )
        visit_deleting.connect(_on_visit_deleting, dispatch_uid="scoring.visit_deleting")
        visit_locking.connect(_on_visit_locking, dispatch_uid="scoring.visit_locking")
        refractory_attesting.connect(
            _on_refractory_attesting, dispatch_uid="scoring.refractory_attesting"
        )
        pre_delete.connect(
            _on_episode_deleting, sender=TreatmentEpisode, dispatch_uid="scoring.episode_deleting"
        )


def _on_visit_deleting(sender: Any, visit_id: int, **kwargs: Any) -> None:
    from scoring import services

    services.records_delete_for_visit(visit_id=visit_id)


def _on_visit_locking(sender: Any, visit_id: int, patient_id: int, **kwargs: Any) -> None:
    from scoring import services

    services.score_patients(patient_ids=[patient_id], computed_by=services.process_name("signing"))


def _on_episode_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    from scoring import services

    services.episode_deleting(episode_id=instance.pk)


def _on_refractory_attesting(sender: Any, patient_id: int, **kwargs: Any) -> str:
    """Score the patient now, in the attestation's transaction, and answer its refractory
    status (crf.attestations refuses the attestation unless it is confirmed)."""
    from scoring import selectors, services

    services.score_patients(
        patient_ids=[patient_id], computed_by=services.process_name("attestation")
    )
    record = selectors.refractory_record(patient_id)
    return "no" if record is None else record.status
