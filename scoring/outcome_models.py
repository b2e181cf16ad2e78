"""Derived outcomes (docs/outcomes.md): follow-up, lung progression, survival times and
treatment-emergent adverse events, per patient and treatment episode.

Imported by scoring/models.py, so that Django and the migrations see the models. Written only by
scoring/outcomes.py in the pass that scores a patient (scoring.services.score_patients), from the
rules of scoring.instruments.outcomes; rewritten when the patient's inputs' fingerprint (stored
on FollowUp) changes, every change audited with source "scoring". Rows of an episode or an adverse
event go with it (the patient is re-scored after that commit).
"""

from django.db import models
from django.db.models import Q

from scoring.instruments import outcomes


class FollowUp(models.Model):
    """A patient's follow-up for the outcome analyses, and the fingerprint of everything the
    patient's derived outcomes were computed from (`inputs`)."""

    patient = models.OneToOneField(
        "registry.Patient", on_delete=models.PROTECT, related_name="follow_up"
    )
    # The latest of the visit, vital status and adverse event dates.
    last_known_alive = models.DateField(null=True, blank=True)
    death_date = models.DateField(null=True, blank=True)
    # The date of death, else the last date known alive: where ongoing treatments' exposure ends.
    last_follow_up = models.DateField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=32)
    computed_at = models.DateTimeField()
    computed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        app_label = "scoring"

    def __str__(self) -> str:
        return f"follow-up of patient {self.patient_id} to {self.last_follow_up}"


class LungProgression(models.Model):
    """A patient's lung progression under a named definition, from the first visit with FVC or
    DLCO; radiological progression (the first HRCT read as progressed) beside it."""

    class Definition(models.TextChoices):
        RELATIVE = outcomes.RELATIVE_FVC10_DLCO15, "Relative FVC ≥ 10 % or DLCO ≥ 15 % decline"
        ATS_ERS = outcomes.ATS_ERS_2022, "ATS/ERS 2022 physiological progression"

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.PROTECT, related_name="lung_progressions"
    )
    definition = models.CharField(max_length=30, choices=Definition.choices)
    reference_date = models.DateField(null=True, blank=True)
    progressed_on = models.DateField(null=True, blank=True)
    criterion = models.CharField(max_length=4, blank=True)  # "fvc" / "dlco"
    last_assessed = models.DateField(null=True, blank=True)
    radiological_progression = models.DateField(null=True, blank=True)

    class Meta:
        app_label = "scoring"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "definition"], name="scoring_lung_progression_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} of patient {self.patient_id}: {self.progressed_on}"


class EpisodeSurvival(models.Model):
    """Overall and progression-free survival of a treatment episode from a time zero, in whole
    days; progression-free only for patients with ILD (null otherwise)."""

    class TimeZero(models.TextChoices):
        EPISODE = outcomes.EPISODE_START, "Start of the treatment"
        ILD_ONSET = outcomes.ILD_ONSET, "ILD onset"
        DIAGNOSIS = outcomes.DIAGNOSIS, "Diagnosis"

    episode = models.ForeignKey(
        "registry.TreatmentEpisode", on_delete=models.CASCADE, related_name="survival"
    )
    patient = models.ForeignKey("registry.Patient", on_delete=models.PROTECT, related_name="+")
    time_zero = models.CharField(max_length=10, choices=TimeZero.choices)
    definition = models.CharField(max_length=30, choices=LungProgression.Definition.choices)
    os_days = models.PositiveIntegerField()
    os_event = models.BooleanField()
    pfs_days = models.PositiveIntegerField(null=True, blank=True)
    pfs_event = models.BooleanField(null=True, blank=True)

    class Meta:
        app_label = "scoring"
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "time_zero", "definition"], name="scoring_survival_unique"
            ),
            models.CheckConstraint(
                condition=Q(pfs_days__isnull=True, pfs_event__isnull=True)
                | Q(pfs_days__isnull=False, pfs_event__isnull=False),
                name="scoring_survival_pfs_pair",
            ),
        ]
        indexes = [
            # The pipeline reads and replaces a patient's rows.
            models.Index(fields=["patient"], name="scoring_survival_patient"),
        ]

    def __str__(self) -> str:
        return f"survival of episode {self.episode_id} from {self.time_zero}: {self.os_days} d"


class EpisodeAdverseEvent(models.Model):
    """An adverse event that is treatment-emergent for an episode: onset within its window
    (`in_window`) or related to it (`related`); `withdrawn`: the treatment was withdrawn."""

    episode = models.ForeignKey(
        "registry.TreatmentEpisode", on_delete=models.CASCADE, related_name="emergent_events"
    )
    adverse_event = models.ForeignKey(
        "crf.AdverseEvent", on_delete=models.CASCADE, related_name="emergent_for"
    )
    patient = models.ForeignKey("registry.Patient", on_delete=models.PROTECT, related_name="+")
    in_window = models.BooleanField()
    related = models.BooleanField()
    withdrawn = models.BooleanField()

    class Meta:
        app_label = "scoring"
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "adverse_event"], name="scoring_episode_ae_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["patient"], name="scoring_episode_ae_patient"),
            models.Index(fields=["adverse_event"], name="scoring_episode_ae_event"),
        ]

    def __str__(self) -> str:
        return f"adverse event {self.adverse_event_id} of episode {self.episode_id}"
