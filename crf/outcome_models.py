"""Vital status, lung disease, HRCT assessments and adverse events (issue 14, docs/outcomes.md).

Imported by crf/models.py, so that Django and the migrations see the models; the services are
crf/outcomes.py. Codes are the submission document's codes: extend, never rename.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

# ICH E2A seriousness criteria: the document's `serious_criteria` codes. Each is a boolean column
# named criterion_<code> on AdverseEvent.
SERIOUS_CRITERIA = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "medically_important",
)
CRITERION_FIELDS = tuple(f"criterion_{code}" for code in SERIOUS_CRITERIA)


def _any_criterion() -> Q:
    condition = Q()
    for name in CRITERION_FIELDS:
        condition |= Q(**{name: True})
    return condition


def _future(value: date | None) -> bool:
    return value is not None and value > date.today()


class VitalStatus(models.Model):
    """One per patient. Lost to follow-up is status unknown with the last date known alive."""

    class Status(models.TextChoices):
        ALIVE = "alive", "Alive"
        DEAD = "dead", "Dead"
        UNKNOWN = "unknown", "Unknown"

    class Precision(models.TextChoices):
        DAY = "day", "Day"
        # Only the year and month are known: the 15th is stored and used for analysis.
        MONTH = "month", "Month (the 15th is used)"

    class Cause(models.TextChoices):
        MYOSITIS = "myositis", "Myositis"
        ILD = "interstitial_lung_disease", "Interstitial lung disease"
        INFECTION = "infection", "Infection"
        MALIGNANCY = "malignancy", "Malignancy"
        CARDIOVASCULAR = "cardiovascular", "Cardiovascular"
        TREATMENT_COMPLICATION = "treatment_complication", "Treatment complication"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    class Source(models.TextChoices):
        MEDICAL_RECORDS = "medical_records", "Medical records"
        REGISTRY_LINKAGE = "registry_linkage", "Registry linkage"
        RELATIVE = "relative", "Relative"
        OTHER = "other", "Other"

    patient = models.OneToOneField(
        "registry.Patient", on_delete=models.PROTECT, related_name="vital_status"
    )
    status = models.CharField(max_length=7, choices=Status.choices)
    last_known_alive = models.DateField(null=True, blank=True)
    death_date = models.DateField(null=True, blank=True)
    death_date_precision = models.CharField(max_length=5, choices=Precision.choices, blank=True)
    cause_category = models.CharField(max_length=25, choices=Cause.choices, blank=True)
    cause_text = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crf"
        verbose_name = "vital status"
        verbose_name_plural = "vital statuses"
        constraints = [
            # A dead patient has a date of death (the survival analyses need it).
            models.CheckConstraint(
                condition=~Q(status="dead") | Q(death_date__isnull=False),
                name="crf_vitalstatus_dead_has_date",
            ),
            # Date, precision and cause of death only when dead.
            models.CheckConstraint(
                condition=Q(status="dead")
                | Q(death_date__isnull=True, death_date_precision="", cause_category="")
                & Q(cause_text=""),
                name="crf_vitalstatus_death_fields_when_dead",
            ),
            # A date of death has its precision, and a precision belongs to a date.
            models.CheckConstraint(
                condition=Q(death_date__isnull=True, death_date_precision="")
                | Q(death_date__isnull=False, death_date_precision__in=["day", "month"]),
                name="crf_vitalstatus_precision_with_date",
            ),
            # A year-month date of death is stored as the 15th.
            models.CheckConstraint(
                condition=~Q(death_date_precision="month") | Q(death_date__day=15),
                name="crf_vitalstatus_month_is_15th",
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True)
                | Q(last_known_alive__isnull=True)
                | Q(last_known_alive__lte=F("death_date")),
                name="crf_vitalstatus_alive_before_death",
            ),
        ]
        indexes = [
            # Survival and safety reports: the dead patients, with their date of death.
            models.Index(fields=["status", "death_date"], name="crf_vital_status_death"),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.status}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.status == self.Status.DEAD:
            if self.death_date is None:
                errors["death_date"] = "A dead patient needs a date of death."
        else:
            for name in ("death_date", "cause_category", "cause_text"):
                if getattr(self, name):
                    errors[name] = "Only for a patient who died."
        if self.death_date and not self.death_date_precision:
            self.death_date_precision = self.Precision.DAY
        if not self.death_date:
            self.death_date_precision = ""
        if self.death_date_precision == self.Precision.MONTH and self.death_date:
            if self.death_date.day != 15:
                errors["death_date"] = "A year-month date of death is stored as the 15th."
        for name in ("last_known_alive", "death_date"):
            value = getattr(self, name)
            # A year-month date of death in the current month may have its 15th still ahead.
            if name == "death_date" and self.death_date_precision == self.Precision.MONTH:
                value = value.replace(day=1) if value else None
            if _future(value):
                errors.setdefault(name, "Date cannot be in the future.")
        if (
            self.death_date
            and self.last_known_alive
            and self.last_known_alive > self.death_date
            and "last_known_alive" not in errors
        ):
            errors["last_known_alive"] = "The last date known alive cannot be after the death."
        if errors:
            raise ValidationError(errors)


class LungStatus(models.Model):
    """One per patient: interstitial lung disease (FVC and DLCO are on the visits)."""

    class Ild(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNKNOWN = "unknown", "Unknown"

    patient = models.OneToOneField(
        "registry.Patient", on_delete=models.PROTECT, related_name="lung"
    )
    ild = models.CharField("interstitial lung disease", max_length=7, choices=Ild.choices)
    ild_onset_date = models.DateField("ILD onset date", null=True, blank=True)
    rapidly_progressive = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crf"
        verbose_name = "lung status"
        verbose_name_plural = "lung statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(ild="yes") | Q(ild_onset_date__isnull=True),
                name="crf_lungstatus_onset_when_ild",
            ),
            models.CheckConstraint(
                condition=Q(ild="yes") | Q(rapidly_progressive__isnull=True),
                name="crf_lungstatus_rapid_when_ild",
            ),
        ]
        indexes = [
            # Survival reports with time zero at ILD onset, and the ILD filter of PFS.
            models.Index(fields=["ild", "ild_onset_date"], name="crf_lung_ild"),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: ILD {self.ild}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.ild != self.Ild.YES:
            if self.ild_onset_date is not None:
                errors["ild_onset_date"] = "Only when interstitial lung disease is present."
            if self.rapidly_progressive is not None:
                errors["rapidly_progressive"] = "Only when interstitial lung disease is present."
        if _future(self.ild_onset_date):
            errors.setdefault("ild_onset_date", "Date cannot be in the future.")
        if errors:
            raise ValidationError(errors)


class HRCTAssessment(models.Model):
    class Pattern(models.TextChoices):
        NSIP = "nsip", "NSIP"
        OP = "op", "Organising pneumonia"
        NSIP_OP = "nsip_op", "NSIP + OP"
        UIP = "uip", "UIP"
        INDETERMINATE = "indeterminate", "Indeterminate"
        OTHER = "other", "Other"

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.PROTECT, related_name="hrct_assessments"
    )
    date = models.DateField("scan date")
    pattern = models.CharField(max_length=13, choices=Pattern.choices)
    # Radiological progression against the previous scan; null for the first or when not read.
    progression = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crf"
        ordering = ["patient_id", "date"]
        verbose_name = "HRCT assessment"
        constraints = [
            # The natural key of a scan in the submission document (also the per-patient lookup).
            models.UniqueConstraint(fields=["patient", "date"], name="crf_hrct_patient_date"),
        ]

    def __str__(self) -> str:
        return f"HRCT {self.date} of {self.patient} ({self.pattern})"

    def clean(self) -> None:
        if _future(self.date):
            raise ValidationError({"date": "Date cannot be in the future."})


class AdverseEvent(models.Model):
    """After CDISC SDTM AE: severity is intensity, seriousness (ICH E2A) is consequence."""

    class Category(models.TextChoices):
        INFECTION = "infection", "Infection"
        OPPORTUNISTIC_INFECTION = (
            "opportunistic_infection",
            "Opportunistic infection (CMV, PJP, herpes zoster…)",
        )
        THROMBOEMBOLIC = "thromboembolic", "Thromboembolic event"
        INFUSION_REACTION = "infusion_reaction", "Infusion reaction"
        CYTOPENIA = "cytopenia", "Cytopenia"
        HEPATOTOXICITY = "hepatotoxicity", "Hepatotoxicity"
        MALIGNANCY = "malignancy", "Malignancy"
        HYPERGLYCAEMIA = "hyperglycaemia", "Hyperglycaemia"
        OSTEOPOROTIC_FRACTURE = "osteoporotic_fracture", "Osteoporotic fracture"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Outcome(models.TextChoices):
        RECOVERED = "recovered", "Recovered"
        RECOVERING = "recovering", "Recovering"
        NOT_RECOVERED = "not_recovered", "Not recovered"
        RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered with sequelae"
        FATAL = "fatal", "Fatal"
        UNKNOWN = "unknown", "Unknown"

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    term = models.CharField("verbatim term", max_length=200)
    category = models.CharField(max_length=23, choices=Category.choices)
    onset_date = models.DateField()
    # Null while the event is ongoing.
    end_date = models.DateField(null=True, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    ctcae_grade = models.PositiveSmallIntegerField("CTCAE grade", null=True, blank=True)
    serious = models.BooleanField(default=False)
    criterion_death = models.BooleanField("results in death", default=False)
    criterion_life_threatening = models.BooleanField("life-threatening", default=False)
    criterion_hospitalisation = models.BooleanField(
        "hospitalisation or its prolongation", default=False
    )
    criterion_disability = models.BooleanField("persistent disability", default=False)
    criterion_congenital_anomaly = models.BooleanField("congenital anomaly", default=False)
    criterion_medically_important = models.BooleanField(
        "other medically important event", default=False
    )
    outcome = models.CharField(max_length=23, choices=Outcome.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crf"
        ordering = ["patient_id", "onset_date", "category", "term"]
        constraints = [
            # The natural key of an event in the submission document (also the per-patient list).
            models.UniqueConstraint(
                fields=["patient", "category", "term", "onset_date"],
                name="crf_adverseevent_natural_key",
            ),
            models.CheckConstraint(condition=~Q(term=""), name="crf_adverseevent_term_not_empty"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("onset_date")),
                name="crf_adverseevent_end_after_onset",
            ),
            models.CheckConstraint(
                condition=Q(ctcae_grade__isnull=True) | Q(ctcae_grade__gte=1, ctcae_grade__lte=5),
                name="crf_adverseevent_grade_range",
            ),
            # Serious exactly when at least one ICH E2A criterion is flagged.
            models.CheckConstraint(
                condition=Q(serious=True) & _any_criterion()
                | Q(serious=False, **{name: False for name in CRITERION_FIELDS}),
                name="crf_adverseevent_serious_has_criterion",
            ),
            # A fatal outcome is the death criterion, and the reverse.
            models.CheckConstraint(
                condition=Q(outcome="fatal", criterion_death=True)
                | (~Q(outcome="fatal") & Q(criterion_death=False)),
                name="crf_adverseevent_fatal_is_death_criterion",
            ),
            # CTCAE grade 5 is death related to the event.
            models.CheckConstraint(
                condition=Q(ctcae_grade__isnull=True)
                | Q(ctcae_grade=5, outcome="fatal")
                | (Q(ctcae_grade__lt=5) & ~Q(outcome="fatal")),
                name="crf_adverseevent_grade5_is_fatal",
            ),
        ]
        indexes = [
            # Safety reports: events by category and onset date (treatment-emergent windows).
            models.Index(fields=["category", "onset_date"], name="crf_ae_category_onset"),
            # Incremental pulls and the reports' "changed since" recomputation.
            models.Index(fields=["updated_at"], name="crf_ae_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.category}) from {self.onset_date}"

    @property
    def serious_criteria(self) -> list[str]:
        return [code for code in SERIOUS_CRITERIA if getattr(self, f"criterion_{code}")]

    @property
    def ongoing(self) -> bool:
        return self.end_date is None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.term is not None and not self.term.strip():
            errors["term"] = "Name the event."
        if self.onset_date and self.end_date and self.end_date < self.onset_date:
            errors["end_date"] = "The end date cannot be before the onset date."
        for name in ("onset_date", "end_date"):
            if _future(getattr(self, name)):
                errors.setdefault(name, "Date cannot be in the future.")
        if self.ctcae_grade is not None and not 1 <= self.ctcae_grade <= 5:
            errors["ctcae_grade"] = "Must be between 1 and 5."
        flagged = any(getattr(self, name) for name in CRITERION_FIELDS)
        if self.serious and not flagged:
            errors["serious_criteria"] = "A serious event needs at least one criterion."
        elif not self.serious and flagged:
            errors["serious"] = "Seriousness criteria are flagged: the event is serious."
        fatal = self.outcome == self.Outcome.FATAL
        if fatal != bool(self.criterion_death):
            errors.setdefault(
                "serious_criteria",
                "A fatal outcome is the 'death' criterion, and the reverse.",
            )
        if self.ctcae_grade is not None and "ctcae_grade" not in errors:
            if (self.ctcae_grade == 5) != fatal:
                errors["ctcae_grade"] = "CTCAE grade 5 is a fatal outcome, and only it."
        if errors:
            raise ValidationError(errors)


class AdverseEventRelation(models.Model):
    """Relatedness of an adverse event to one suspect treatment episode, and the action taken."""

    class Relatedness(models.TextChoices):
        NOT_RELATED = "not_related", "Not related"
        UNLIKELY = "unlikely", "Unlikely"
        POSSIBLE = "possible", "Possible"
        PROBABLE = "probable", "Probable"
        DEFINITE = "definite", "Definite"

    class Action(models.TextChoices):
        NONE = "none", "None"
        DOSE_REDUCED = "dose_reduced", "Dose reduced"
        INTERRUPTED = "interrupted", "Interrupted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    # Related in the safety reports' sense (docs/outcomes.md "Safety").
    RELATED = ("possible", "probable", "definite")

    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="relations"
    )
    episode = models.ForeignKey(
        "registry.TreatmentEpisode",
        on_delete=models.PROTECT,
        related_name="adverse_event_relations",
    )
    relatedness = models.CharField(max_length=11, choices=Relatedness.choices)
    action = models.CharField(max_length=14, choices=Action.choices)

    class Meta:
        app_label = "crf"
        ordering = ["adverse_event_id", "episode_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "episode"], name="crf_aerelation_event_episode"
            ),
        ]
        indexes = [
            # Safety reports: the events related to each episode (and to each drug through it).
            models.Index(fields=["episode", "relatedness"], name="crf_aerelation_episode"),
        ]

    def __str__(self) -> str:
        return f"{self.adverse_event} ~ {self.episode}: {self.relatedness}"

    def clean(self) -> None:
        if (
            self.adverse_event_id
            and self.episode_id
            and self.episode.patient_id != self.adverse_event.patient_id
        ):
            raise ValidationError({"episode": "The episode must be the same patient's."})
