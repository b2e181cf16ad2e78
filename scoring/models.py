"""Response records: one per (visit, reference visit, algorithm), with the inputs they used.

docs/architecture.md "Data flow" 2 and "Domain model". A record is derived data: the scoring tasks
(scoring/tasks.py → scoring/services.py) are its only writers, and it can always be rebuilt from
the clinical data by `rescore`. The inputs it was computed from are stored beside the result, with a
fingerprint of them, so that anyone can see what a score was based on and the reconciliation sweep
can find records whose inputs no longer match the current data without re-scoring anything.
"""

from typing import Any

from django.db import models
from django.db.models import F, Q

from crf.models import RefractoryAttestation, Visit
from registry.models import Patient, TreatmentEpisode
from registry.vocabularies import Drug
from scoring import planning, scores
from scoring.instruments import refractory


class ResponseRecord(models.Model):
    class Algorithm(models.TextChoices):
        # Identifiers of docs/scoring.md: a change of rule is a new identifier, never a silent
        # change of old results.
        IMACS_DOI = planning.DOI, "IMACS definition of improvement (2004)"
        ACR_EULAR = planning.TIS, "ACR/EULAR total improvement score (2016)"
        WORSENING = planning.WORSENING, "ProDERM worsening, confirmed deterioration (2022)"

    class ReferenceKind(models.TextChoices):
        # The patient's baseline visit (it may also be the baseline of treatment episodes, which
        # are then listed in `episodes`), or only a treatment episode's baseline.
        BASELINE = planning.BASELINE_REFERENCE, "Patient baseline"
        TREATMENT = planning.TREATMENT_REFERENCE, "Treatment episode baseline"

    class Status(models.TextChoices):
        PENDING = scores.PENDING, "Pending"
        DONE = scores.DONE, "Done"
        FAILED = scores.FAILED, "Failed"

    # Denormalised from the visit: tasks lock, read and replace records patient by patient.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="response_records")
    # Clinical rows are never deleted under a record: crf sends visit_deleting first and the
    # scoring app deletes the records then (registry/signals.py), hence PROTECT.
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, related_name="response_records", db_index=False
    )
    reference_visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="+")
    # Only for the worsening algorithm: the visit before this one after the same reference
    # (docs/scoring.md §4, "confirmed when it holds at two consecutive visits").
    previous_visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    algorithm = models.CharField(max_length=30, choices=Algorithm.choices)
    reference_kind = models.CharField(max_length=10, choices=ReferenceKind.choices)
    episodes = models.ManyToManyField(
        TreatmentEpisode, through="ResponseEpisode", related_name="response_records", blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    # The measures of the reference, scored and (worsening) previous visit as exact decimal
    # strings, and the population: everything the algorithm was given.
    inputs = models.JSONField(default=dict)
    # Digest of inputs, algorithm, reference kind, episodes and the pipeline revision
    # (scoring.planning.REVISION): the sweep compares it with the digest of the current data.
    fingerprint = models.CharField(max_length=32, blank=True)
    # The calculator's JSON for this algorithm (docs/scoring.md §6): every per-measure detail.
    result = models.JSONField(null=True, blank=True)
    # Query columns copied from `result`, so that reports filter and count in the database.
    met = models.BooleanField(
        null=True, blank=True, help_text="IMACS DOI met (null: not evaluable)"
    )
    score = models.DecimalField(
        "total improvement score", max_digits=4, decimal_places=1, null=True, blank=True
    )
    category = models.CharField(max_length=10, blank=True, help_text="ACR/EULAR category")
    complete = models.BooleanField(null=True, blank=True, help_text="ACR/EULAR: no CSM missing")
    worsened = models.BooleanField(null=True, blank=True, help_text="ProDERM worsening at visit")
    confirmed = models.BooleanField(null=True, blank=True, help_text="Confirmed deterioration")
    requested_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Which process computed it ("celery@host pid 123", or "eager@host pid 123" in-process).
    computed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["visit_id", "reference_visit_id", "algorithm"]
        constraints = [
            # docs/scoring.md §7: one record per (visit, reference visit, algorithm); tasks upsert
            # on it.
            models.UniqueConstraint(
                fields=["visit", "reference_visit", "algorithm"], name="scoring_record_unique"
            ),
            models.CheckConstraint(
                condition=~Q(visit=F("reference_visit")), name="scoring_record_not_self"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(computed_at__isnull=False, result__isnull=False),
                name="scoring_record_done_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="scoring_record_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="scoring_record_score_range",
            ),
        ]
        indexes = [
            # The sweep and scoring_status look for records that are not done.
            models.Index(
                fields=["status"], condition=~Q(status="done"), name="scoring_record_not_done"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} of visit {self.visit_id} against {self.reference_visit_id}"


class ResponseEpisode(models.Model):
    """A treatment episode whose response a record measures (its baseline is the record's
    reference and the visit falls in the episode's window, docs/scoring.md §7)."""

    # Derived links: they go with the record, and with the episode when it is deleted (the
    # patient is re-scored after that commit).
    record = models.ForeignKey(ResponseRecord, on_delete=models.CASCADE, db_index=False)
    episode = models.ForeignKey(
        TreatmentEpisode, on_delete=models.CASCADE, related_name="response_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "episode"], name="scoring_episode_link_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"record {self.record_id} — episode {self.episode_id}"


class RefractoryRecord(models.Model):
    """A patient's refractory status under a definition (`refractory_v1`, docs/outcomes.md), as of
    the patient's latest recorded date, with the qualifying episodes, the parameters and the inputs
    it was computed from. Derived like a response record: written by scoring.services in the pass
    that scores the patient, recomputed when its inputs' fingerprint changes, audited."""

    class Status(models.TextChoices):
        NO = refractory.NO, "Not refractory"
        CANDIDATE = refractory.CANDIDATE, "Refractory candidate"
        CONFIRMED = refractory.CONFIRMED, "Refractory, confirmed"

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="refractory_records"
    )
    definition = models.CharField(max_length=30, default=refractory.DEFINITION)
    # The latest date in the patient's data (visits, treatment starts and stops): what the status
    # knows, an ongoing treatment counting up to it.
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    # The qualifying episodes: [{"episode", "drug", "start_date", "role", "reason",
    # "evaluated_on", "visit", "visit_date", "doi_met", "tis"}] (scoring.instruments.refractory).
    episodes = models.JSONField(default=list)
    parameters = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=32)
    # The attestation that confirmed the status, if any.
    attestation = models.ForeignKey(
        RefractoryAttestation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    computed_at = models.DateTimeField()
    computed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["patient_id", "definition"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "definition"], name="scoring_refractory_one_per_definition"
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(attestation__isnull=False),
                name="scoring_refractory_confirmed_attested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} of patient {self.patient_id}: {self.status} ({self.as_of})"

    @property
    def episode_rows(self) -> list[dict[str, Any]]:
        """The qualifying episodes with their drugs' labels, for pages."""
        return [{**row, "drug_label": Drug(row["drug"]).label} for row in self.episodes]


class EpisodeRefractory(models.Model):
    """The patient's refractory status at the start of a treatment episode, from what was known
    that day (scoring.instruments.refractory.refractory_as_of): what reports filter and stratify
    episodes by. Written with the patient's RefractoryRecord; goes with the episode."""

    episode = models.ForeignKey(
        TreatmentEpisode, on_delete=models.CASCADE, related_name="refractory_at_start"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    definition = models.CharField(max_length=30, default=refractory.DEFINITION)
    status = models.CharField(max_length=10, choices=RefractoryRecord.Status.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "definition"], name="scoring_episode_refractory_unique"
            ),
        ]
        indexes = [
            # The pipeline reads and replaces a patient's rows.
            models.Index(fields=["patient"], name="scoring_episode_refr_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.definition} at the start of episode {self.episode_id}: {self.status}"


class ClassificationRecord(models.Model):
    """A patient's 2017 EULAR/ACR classification (docs/classification.md), derived from its
    classification assessment, age at onset, antibody panel and earliest visit's enzymes by
    scoring.classifying; written by scoring.services like the response records."""

    class Status(models.TextChoices):
        PENDING = scores.PENDING, "Pending"
        DONE = scores.DONE, "Done"
        FAILED = scores.FAILED, "Failed"

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="classification_record"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    # The answers as used (derived L1/L2 filled in), the age at onset, which items were
    # derived and from what.
    inputs = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=32, blank=True)
    # The calculator's answer, plus points per item, the intercept `a`, the age band and the
    # derived items.
    result = models.JSONField(null=True, blank=True)
    # Query columns copied from `result`, so that reports filter and group in the database.
    score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    category = models.CharField(max_length=10, blank=True)
    probability = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    subgroup = models.CharField(max_length=16, blank=True)
    biopsy_recommended = models.BooleanField(null=True, blank=True)
    complete = models.BooleanField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    computed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(computed_at__isnull=False, result__isnull=False),
                name="scoring_classification_done_has_result",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""),
                name="scoring_classification_failed_has_error",
            ),
        ]
        indexes = [
            # Reports filter the cohort by category and subgroup.
            models.Index(fields=["category", "subgroup"], name="scoring_classification_cat"),
        ]

    def __str__(self) -> str:
        return f"Classification of patient {self.patient_id}: {self.category or self.status}"


# Derived outcomes (survival, lung progression, safety), in their own module.
from scoring.outcome_models import (  # noqa: E402, F401
    EpisodeAdverseEvent,
    EpisodeSurvival,
    FollowUp,
    LungProgression,
)
