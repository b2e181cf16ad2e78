"""Visits and their instruments (docs/architecture.md "Domain model"; ranges from
docs/scoring.md)."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from registry.models import Patient

# Column name of each MMT-8 grade. Neck flexors are graded once (midline); the other seven
# groups once per side on the bilateral scale (docs/scoring.md §1).
MMT_SIDED_GROUPS = (
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)
MMT_GRADE_COLUMNS = ("neck_flexors",) + tuple(
    f"{group}_{side}" for group in MMT_SIDED_GROUPS for side in ("right", "left")
)

# CHAQ (Singh 1994) items; the HAQ-DI's 20 items (Fries 1980) are a subset of these keys.
HAQ_ITEMS = (
    "dress",
    "shampoo",
    "stand",
    "bed",
    "cut_meat",
    "lift_cup",
    "open_carton",
    "walk",
    "climb_steps",
    "wash_body",
    "bath",
    "toilet",
    "reach_object",
    "pick_up_clothing",
    "car_doors",
    "open_jars",
    "faucets",
    "errands",
    "car_in_out",
    "chores",
)
CHAQ_ONLY_ITEMS = (
    "socks",
    "nails",
    "brush_teeth",
    "comb_hair",
    "pull_sweater",
    "turn_neck",
    "write",
    "push_door",
    "bike",
    "play",
)
ALL_HAQ_ITEMS = HAQ_ITEMS + CHAQ_ONLY_ITEMS

VAS_FIELDS = (
    "physician_global",
    "patient_global",
    "extramuscular",
    "physician_damage",
    "patient_global_damage",
)


def _vas_field(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=3, decimal_places=1, null=True, blank=True)


class Visit(models.Model):
    class Kind(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        FOLLOW_UP = "follow_up", "Follow-up"
        UNSCHEDULED = "unscheduled", "Unscheduled"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        VERIFIED = "verified", "Verified"
        LOCKED = "locked", "Locked"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    visit_date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.FOLLOW_UP)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    # Optimistic concurrency: every change increments it; an edit made against an older
    # version is refused (409) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    physician_global = _vas_field("physician global activity (VAS cm)")
    patient_global = _vas_field("patient global activity (VAS cm)")
    extramuscular = _vas_field("extramuscular global activity (MDAAT VAS cm)")
    physician_damage = _vas_field("physician global damage (VAS cm)")
    patient_global_damage = _vas_field("patient global damage (VAS cm)")
    cmas = models.PositiveSmallIntegerField("CMAS", null=True, blank=True)
    fvc_percent = models.DecimalField(
        "FVC % predicted", max_digits=4, decimal_places=1, null=True, blank=True
    )
    dlco_percent = models.DecimalField(
        "DLCO % predicted", max_digits=4, decimal_places=1, null=True, blank=True
    )
    glucocorticoid_mg_per_day = models.DecimalField(
        "glucocorticoid dose (prednisone equivalent, mg/day)",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["patient_id", "visit_date"]
        constraints = [
            # A visit's key in the submission document is its date within the patient.
            models.UniqueConstraint(
                fields=["patient", "visit_date"], name="crf_visit_patient_date"
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=Q(kind="baseline"), name="crf_visit_one_baseline"
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": 0, f"{name}__lte": 10}),
                    name=f"crf_visit_{name}_range",
                )
                for name in VAS_FIELDS
            ],
            models.CheckConstraint(
                condition=Q(cmas__isnull=True) | Q(cmas__gte=0, cmas__lte=52),
                name="crf_visit_cmas_range",
            ),
            models.CheckConstraint(
                condition=Q(fvc_percent__isnull=True) | Q(fvc_percent__gte=0, fvc_percent__lte=200),
                name="crf_visit_fvc_range",
            ),
            models.CheckConstraint(
                condition=Q(dlco_percent__isnull=True)
                | Q(dlco_percent__gte=0, dlco_percent__lte=200),
                name="crf_visit_dlco_range",
            ),
            models.CheckConstraint(
                condition=Q(glucocorticoid_mg_per_day__isnull=True)
                | Q(glucocorticoid_mg_per_day__gte=0, glucocorticoid_mg_per_day__lte=2000),
                name="crf_visit_glucocorticoid_range",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="crf_visit_version_positive"),
        ]
        indexes = [
            # Incremental pulls: GET /api/v1/visits/?updated_since=...
            models.Index(fields=["updated_at"], name="crf_visit_updated"),
            # Status filters on the patient list and the verification queue.
            models.Index(fields=["status"], name="crf_visit_status"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.visit_date} ({self.kind})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.visit_date:
            if self.visit_date > date.today():
                errors["visit_date"] = "The visit date cannot be in the future."
            elif self.patient_id and self.visit_date < self.patient.birth_month_start:
                errors["visit_date"] = "The visit date cannot be before the month of birth."
        for name in VAS_FIELDS:
            value = getattr(self, name)
            if value is not None and not Decimal(0) <= Decimal(value) <= Decimal(10):
                errors[name] = "Must be between 0 and 10 cm."
        if errors:
            raise ValidationError(errors)


class MMT8(models.Model):
    """Manual muscle testing of the 8 IMACS groups, Kendall 0–10 (docs/scoring.md §1).

    Unilateral grades are stored in the columns of the side tested. A legacy total replaces the
    grades when only the total is known.
    """

    class Scale(models.TextChoices):
        UNILATERAL = "unilateral", "Unilateral (0–80)"
        BILATERAL = "bilateral", "Bilateral (0–150)"

    class Side(models.TextChoices):
        RIGHT = "right", "Right"
        LEFT = "left", "Left"

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="mmt8")
    scale = models.CharField(max_length=10, choices=Scale.choices)
    side = models.CharField(max_length=5, choices=Side.choices, blank=True)
    legacy_total = models.PositiveSmallIntegerField(null=True, blank=True)
    neck_flexors = models.PositiveSmallIntegerField(null=True, blank=True)
    deltoid_right = models.PositiveSmallIntegerField(null=True, blank=True)
    deltoid_left = models.PositiveSmallIntegerField(null=True, blank=True)
    biceps_right = models.PositiveSmallIntegerField(null=True, blank=True)
    biceps_left = models.PositiveSmallIntegerField(null=True, blank=True)
    wrist_extensors_right = models.PositiveSmallIntegerField(null=True, blank=True)
    wrist_extensors_left = models.PositiveSmallIntegerField(null=True, blank=True)
    gluteus_maximus_right = models.PositiveSmallIntegerField(null=True, blank=True)
    gluteus_maximus_left = models.PositiveSmallIntegerField(null=True, blank=True)
    gluteus_medius_right = models.PositiveSmallIntegerField(null=True, blank=True)
    gluteus_medius_left = models.PositiveSmallIntegerField(null=True, blank=True)
    quadriceps_right = models.PositiveSmallIntegerField(null=True, blank=True)
    quadriceps_left = models.PositiveSmallIntegerField(null=True, blank=True)
    ankle_dorsiflexors_right = models.PositiveSmallIntegerField(null=True, blank=True)
    ankle_dorsiflexors_left = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "MMT-8"
        verbose_name_plural = "MMT-8"
        constraints = [
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{column}__isnull": True})
                    | Q(**{f"{column}__gte": 0, f"{column}__lte": 10}),
                    name=f"crf_mmt_{column}_range",
                )
                for column in MMT_GRADE_COLUMNS
            ],
            models.CheckConstraint(
                condition=Q(legacy_total__isnull=True)
                | Q(scale="unilateral", legacy_total__lte=80)
                | Q(scale="bilateral", legacy_total__lte=150),
                name="crf_mmt_legacy_total_range",
            ),
            # The side is named exactly when the scale is unilateral.
            models.CheckConstraint(
                condition=Q(scale="unilateral", side__in=["right", "left"])
                | Q(scale="bilateral", side=""),
                name="crf_mmt_side_matches_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"MMT-8 {self.scale} of {self.visit}"

    def grades(self) -> dict:
        """Grades in the shape scoring.instruments.mmt8_total takes."""
        if self.scale == self.Scale.UNILATERAL:
            side = self.side
            grades: dict = {"neck_flexors": self.neck_flexors}
            for group in MMT_SIDED_GROUPS:
                grades[group] = getattr(self, f"{group}_{side}")
            return grades
        grades = {"neck_flexors": self.neck_flexors}
        for group in MMT_SIDED_GROUPS:
            grades[group] = {
                "right": getattr(self, f"{group}_right"),
                "left": getattr(self, f"{group}_left"),
            }
        return grades

    @property
    def maximum(self) -> int:
        return 80 if self.scale == self.Scale.UNILATERAL else 150

    @property
    def total(self) -> int | None:
        from scoring.instruments import mmt8_total

        if self.legacy_total is not None:
            return self.legacy_total
        return mmt8_total(self.scale, self.grades())


class LabResult(models.Model):
    class Enzyme(models.TextChoices):
        CK = "ck", "CK"
        ALDOLASE = "aldolase", "Aldolase"
        LDH = "ldh", "LDH"
        AST = "ast", "AST"
        ALT = "alt", "ALT"

    class Unit(models.TextChoices):
        U_PER_L = "U/L", "U/L"
        UKAT_PER_L = "ukat/L", "µkat/L"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="labs")
    enzyme = models.CharField(max_length=10, choices=Enzyme.choices)
    value = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.U_PER_L)
    uln = models.DecimalField("upper limit of normal", max_digits=12, decimal_places=3)

    class Meta:
        ordering = ["visit_id", "enzyme"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "enzyme"], name="crf_lab_visit_enzyme"),
            # docs/scoring.md §1: enzyme values and ULNs must be > 0.
            models.CheckConstraint(condition=Q(value__gt=0), name="crf_lab_value_positive"),
            models.CheckConstraint(condition=Q(uln__gt=0), name="crf_lab_uln_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.enzyme} {self.value} {self.unit} (ULN {self.uln})"

    @property
    def times_uln(self) -> Decimal:
        return self.value / self.uln


class HAQ(models.Model):
    """HAQ-DI (adults, 20 items) or CHAQ (juveniles, 30 items), or a legacy index.

    Aids/devices and help are recorded per category (docs/scoring.md §5); CHAQ items may be marked
    not applicable, which excludes them rather than scoring them 0.
    """

    class Instrument(models.TextChoices):
        HAQ = "haq", "HAQ-DI"
        CHAQ = "chaq", "CHAQ"

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="haq")
    instrument = models.CharField(max_length=4, choices=Instrument.choices)
    legacy_score = models.DecimalField(
        "legacy disability index", max_digits=5, decimal_places=3, null=True, blank=True
    )
    aids = models.JSONField(default=list, blank=True, help_text="Categories with aids/devices")
    help = models.JSONField(default=list, blank=True, help_text="Categories with help")
    not_applicable = models.JSONField(default=list, blank=True, help_text="CHAQ items n/a")
    dress = models.PositiveSmallIntegerField(null=True, blank=True)
    shampoo = models.PositiveSmallIntegerField(null=True, blank=True)
    stand = models.PositiveSmallIntegerField(null=True, blank=True)
    bed = models.PositiveSmallIntegerField(null=True, blank=True)
    cut_meat = models.PositiveSmallIntegerField(null=True, blank=True)
    lift_cup = models.PositiveSmallIntegerField(null=True, blank=True)
    open_carton = models.PositiveSmallIntegerField(null=True, blank=True)
    walk = models.PositiveSmallIntegerField(null=True, blank=True)
    climb_steps = models.PositiveSmallIntegerField(null=True, blank=True)
    wash_body = models.PositiveSmallIntegerField(null=True, blank=True)
    bath = models.PositiveSmallIntegerField(null=True, blank=True)
    toilet = models.PositiveSmallIntegerField(null=True, blank=True)
    reach_object = models.PositiveSmallIntegerField(null=True, blank=True)
    pick_up_clothing = models.PositiveSmallIntegerField(null=True, blank=True)
    car_doors = models.PositiveSmallIntegerField(null=True, blank=True)
    open_jars = models.PositiveSmallIntegerField(null=True, blank=True)
    faucets = models.PositiveSmallIntegerField(null=True, blank=True)
    errands = models.PositiveSmallIntegerField(null=True, blank=True)
    car_in_out = models.PositiveSmallIntegerField(null=True, blank=True)
    chores = models.PositiveSmallIntegerField(null=True, blank=True)
    socks = models.PositiveSmallIntegerField(null=True, blank=True)
    nails = models.PositiveSmallIntegerField(null=True, blank=True)
    brush_teeth = models.PositiveSmallIntegerField(null=True, blank=True)
    comb_hair = models.PositiveSmallIntegerField(null=True, blank=True)
    pull_sweater = models.PositiveSmallIntegerField(null=True, blank=True)
    turn_neck = models.PositiveSmallIntegerField(null=True, blank=True)
    write = models.PositiveSmallIntegerField(null=True, blank=True)
    push_door = models.PositiveSmallIntegerField(null=True, blank=True)
    bike = models.PositiveSmallIntegerField(null=True, blank=True)
    play = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "HAQ / CHAQ"
        verbose_name_plural = "HAQ / CHAQ"
        constraints = [
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{item}__isnull": True})
                    | Q(**{f"{item}__gte": 0, f"{item}__lte": 3}),
                    name=f"crf_haq_{item}_range",
                )
                for item in ALL_HAQ_ITEMS
            ],
            models.CheckConstraint(
                condition=Q(legacy_score__isnull=True)
                | Q(legacy_score__gte=0, legacy_score__lte=3),
                name="crf_haq_legacy_score_range",
            ),
            # The ten CHAQ-only items belong to the CHAQ.
            models.CheckConstraint(
                condition=Q(instrument="chaq")
                | Q(**{f"{item}__isnull": True for item in CHAQ_ONLY_ITEMS}),
                name="crf_haq_chaq_items_only_on_chaq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} of {self.visit}"

    def items(self) -> dict:
        keys = HAQ_ITEMS if self.instrument == self.Instrument.HAQ else ALL_HAQ_ITEMS
        values: dict = {key: getattr(self, key) for key in keys}
        for key in self.not_applicable or ():
            values[key] = "na"
        return values

    @property
    def score(self):
        """The exact disability index (a Fraction), or None when not computable."""
        from fractions import Fraction

        from scoring.instruments import chaq_di, haq_di

        if self.legacy_score is not None:
            return Fraction(self.legacy_score)
        if self.instrument == self.Instrument.HAQ:
            return haq_di(self.items(), self.aids, self.help)
        return chaq_di(self.items(), self.aids, self.help)


class Signature(models.Model):
    """An investigator's electronic signature of a visit (21 CFR Part 11 §11.50): who, when, and
    what the signature means. Voided, never deleted, when a data manager unlocks the visit."""

    class Meaning(models.TextChoices):
        APPROVAL = "approval", "I approve the data of this visit as accurate and complete"
        REVIEW = "review", "I have reviewed the data of this visit"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=10, choices=Meaning.choices)
    signed_at = models.DateTimeField()
    visit_version = models.PositiveIntegerField()
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            # At most one signature in force per visit.
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(voided_at__isnull=True),
                name="crf_signature_one_in_force",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="crf_signature_void_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} signed {self.visit} ({self.meaning}) at {self.signed_at}"


class DataQuery(models.Model):
    """A question about one field of a visit, raised by a monitor, a data manager, or a
    plausibility rule; answered by the coordinator; closed by the monitor (or by the rule when
    the data are corrected)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="queries")
    field = models.CharField(max_length=80, help_text="JSON path of the field in the visit")
    text = models.TextField()
    rule = models.CharField(max_length=40, blank=True, help_text="Plausibility rule that raised it")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name_plural = "data queries"
        constraints = [
            # A rule raises at most one open query per visit and field.
            models.UniqueConstraint(
                fields=["visit", "rule", "field"],
                condition=~Q(rule="") & ~Q(status="closed"),
                name="crf_query_one_open_per_rule",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="crf_query_closed_has_time",
            ),
        ]
        indexes = [
            # The open-queries list per site: status filter, newest first.
            models.Index(fields=["status", "raised_at"], name="crf_query_status"),
        ]

    def __str__(self) -> str:
        return f"Query on {self.field} of {self.visit} ({self.status})"


class RefractoryAttestation(models.Model):
    """An investigator's signed statement that mimics of myositis and malignancy were excluded
    for a patient: with a refractory candidate status it makes the status `confirmed`
    (`refractory_v1`, docs/outcomes.md). Signed like a visit, by re-entering the password (21 CFR
    11.200(a)); who, when, what was stated and what the signature means are kept verbatim."""

    class Meaning(models.TextChoices):
        EXCLUSION = (
            "exclusion",
            "I attest that mimics of myositis and malignancy were excluded for this patient",
        )

    STATEMENT = (
        "Mimics of myositis and malignancy were excluded for this patient, whose treatment "
        "history makes them a refractory candidate."
    )

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="refractory_attestations"
    )
    definition = models.CharField(max_length=30, default="refractory_v1")
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    statement = models.TextField()
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    attester_name = models.CharField(max_length=200)
    attested_at = models.DateTimeField()

    class Meta:
        ordering = ["attested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(statement=""), name="crf_attestation_statement_not_empty"
            ),
        ]
        indexes = [
            # The refractory status reads a patient's attestations of a definition.
            models.Index(fields=["patient", "definition"], name="crf_attestation_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.attester_name} attested {self.definition} for {self.patient}"


# Vital status, lung disease, HRCT and adverse events (crf/outcome_models.py), the classification
# assessment and patients' invitations: each in its own module.
from crf.classification_models import ClassificationAssessment  # noqa: E402, F401

# Vital status, lung disease, HRCT and adverse events, in their own module (crf/outcome_models.py).
from crf.outcome_models import (  # noqa: E402, F401
    AdverseEvent,
    AdverseEventRelation,
    HRCTAssessment,
    LungStatus,
    VitalStatus,
)
from crf.pro_models import ProInvitation  # noqa: E402, F401
