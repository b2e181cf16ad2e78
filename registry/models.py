"""Sites, people and roles, patients, autoantibodies, treatment episodes, the audit trail and API
tokens."""

from datetime import date
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from registry.vocabularies import (
    DRUG_CLASS,
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    SerologyGroup,
    Sex,
    StopReason,
)
from scoring.instruments import population_for


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a time zone of the IANA database.")


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Site(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    # Times are stored in UTC; the site's pages (history, queries) show them in the site's own
    # time, which is the clock its coordinators read from the source documents.
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="IANA time zone of the site, e.g. Europe/London",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="registry_site_code_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Role(models.TextChoices):
    """What a membership allows is registry.access's table; Membership.Role is this enum."""

    COORDINATOR = "coordinator", "Research coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    MONITOR = "monitor", "Monitor"
    SUBMITTER = "submitter", "Submitter (API account)"
    DATA_MANAGER = "data_manager", "Data manager (all sites)"


class Membership(models.Model):
    """A user's role at one site, or registry-wide for data managers (site empty)."""

    Role = Role

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "role"], name="registry_membership_unique"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role=Role.DATA_MANAGER),
                name="registry_membership_one_data_manager_row",
            ),
            # Data managers are registry-wide; every other role belongs to one site.
            models.CheckConstraint(
                condition=(Q(role=Role.DATA_MANAGER) & Q(site__isnull=True))
                | (~Q(role=Role.DATA_MANAGER) & Q(site__isnull=False)),
                name="registry_membership_site_matches_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "all sites"
        return f"{self.user} — {self.get_role_display()} ({where})"


class Patient(models.Model):
    """A pseudonymous patient: no names or full identifiers, only the site's own id."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    patient_id = models.CharField(
        "site patient id", max_length=64, help_text="The site's own pseudonymous identifier"
    )
    sex = models.CharField(max_length=10, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField()
    birth_month = models.PositiveSmallIntegerField()
    diagnosis = models.CharField(max_length=40, choices=Diagnosis.choices)
    onset_date = models.DateField("date of symptom onset")
    diagnosis_date = models.DateField(null=True, blank=True)
    # Derived from the autoantibody results by registry.services; stored because reports
    # filter and group the whole cohort by it.
    serology_group = models.CharField(
        max_length=20, choices=SerologyGroup.choices, default=SerologyGroup.NOT_TESTED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site__code", "patient_id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "patient_id"], name="registry_patient_site_id"),
            models.CheckConstraint(
                condition=~Q(patient_id=""), name="registry_patient_id_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(birth_month__gte=1, birth_month__lte=12),
                name="registry_patient_birth_month_range",
            ),
            models.CheckConstraint(
                condition=Q(birth_year__gte=1900, birth_year__lte=2100),
                name="registry_patient_birth_year_range",
            ),
            models.CheckConstraint(
                condition=Q(diagnosis_date__isnull=True) | Q(diagnosis_date__gte=F("onset_date")),
                name="registry_patient_diagnosis_after_onset",
            ),
        ]
        indexes = [
            # Incremental pulls: GET /api/v1/patients/?updated_since=...
            models.Index(fields=["site", "updated_at"], name="registry_patient_site_upd"),
            # Report filters by diagnosis and serology within a site.
            models.Index(fields=["diagnosis", "serology_group"], name="registry_patient_dx_sero"),
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.patient_id}"

    @property
    def birth_month_start(self) -> date:
        return date(self.birth_year, self.birth_month, 1)

    @property
    def population(self) -> str:
        """Adult or juvenile by age at symptom onset (docs/scoring.md §3)."""
        return population_for(self.birth_year, self.birth_month, self.onset_date)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.birth_year and self.birth_month and 1 <= self.birth_month <= 12:
            born = self.birth_month_start
            if self.onset_date and self.onset_date < born:
                errors["onset_date"] = "Symptom onset cannot be before the month of birth."
            if self.diagnosis_date and self.diagnosis_date < born:
                errors["diagnosis_date"] = "Diagnosis cannot be before the month of birth."
        today = date.today()
        for name in ("onset_date", "diagnosis_date"):
            value = getattr(self, name)
            if value and value > today and name not in errors:
                errors[name] = "Date cannot be in the future."
        if (
            self.birth_year
            and self.birth_month
            and (
                self.birth_year,
                self.birth_month,
            )
            > (today.year, today.month)
        ):
            errors["birth_month"] = "Month of birth cannot be in the future."
        if errors:
            raise ValidationError(errors)


class AutoantibodyResult(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="autoantibodies")
    antibody = models.CharField(max_length=20, choices=Antibody.choices)
    result = models.CharField(max_length=10, choices=AntibodyResult.choices)
    method = models.CharField(max_length=20, choices=AntibodyMethod.choices)
    intensity = models.CharField(
        max_length=40, blank=True, help_text="Optional intensity or titre as reported"
    )
    sample_date = models.DateField()

    class Meta:
        ordering = ["sample_date", "antibody"]
        constraints = [
            # The natural key of a result in the submission document.
            models.UniqueConstraint(
                fields=["patient", "antibody", "sample_date"],
                name="registry_autoantibody_natural_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.antibody} {self.result} ({self.sample_date})"

    def clean(self) -> None:
        if self.sample_date and self.sample_date > date.today():
            raise ValidationError({"sample_date": "Date cannot be in the future."})


class TreatmentEpisode(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatments")
    drug = models.CharField(max_length=30, choices=Drug.choices)
    drug_other = models.CharField(max_length=100, blank=True)
    dose = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, blank=True)
    route = models.CharField(max_length=10, choices=Route.choices, blank=True)
    frequency = models.CharField(max_length=60, blank=True)
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    # Only beside stop_reason "other" (what the other reason was); free text that sites send as
    # the reason is read as a code when it plainly means one (registry.vocabularies).
    stop_reason_other = models.CharField("other reason stopped", max_length=200, blank=True)

    class Meta:
        ordering = ["start_date", "drug"]
        constraints = [
            # The natural key of an episode in the submission document.
            models.UniqueConstraint(
                fields=["patient", "drug", "start_date"], name="registry_treatment_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(stop_date__gte=F("start_date")),
                name="registry_treatment_stop_after_start",
            ),
            models.CheckConstraint(
                condition=Q(dose__isnull=True) | Q(dose__gte=0),
                name="registry_treatment_dose_range",
            ),
            models.CheckConstraint(
                condition=~Q(drug="other") | ~Q(drug_other=""),
                name="registry_treatment_other_named",
            ),
            models.CheckConstraint(
                condition=Q(stop_reason__in=["", *StopReason.values]),
                name="registry_treatment_stop_reason_code",
            ),
            models.CheckConstraint(
                condition=Q(stop_reason=StopReason.OTHER) | Q(stop_reason_other=""),
                name="registry_treatment_stop_reason_other_only_beside_other",
            ),
        ]
        indexes = [
            # Reports group episodes by drug.
            models.Index(fields=["drug", "start_date"], name="registry_treatment_drug"),
        ]

    def __str__(self) -> str:
        return f"{self.drug_label} from {self.start_date}"

    @property
    def drug_label(self) -> str:
        return self.drug_other if self.drug == Drug.OTHER else self.get_drug_display()

    @property
    def drug_class(self) -> str:
        return DRUG_CLASS[self.drug]

    @property
    def stop_reason_label(self) -> str:
        if self.stop_reason == StopReason.OTHER and self.stop_reason_other:
            return self.stop_reason_other
        return self.get_stop_reason_display() if self.stop_reason else ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.drug == Drug.OTHER and not self.drug_other:
            errors["drug_other"] = "Name the drug when it is 'other'."
        if self.stop_reason_other and self.stop_reason != StopReason.OTHER:
            errors["stop_reason_other"] = "Give the other reason only when the reason is 'other'."
        if self.start_date and self.stop_date and self.stop_date < self.start_date:
            errors["stop_date"] = "The stop date cannot be before the start date."
        today = date.today()
        if self.start_date and self.start_date > today:
            errors.setdefault("start_date", "Date cannot be in the future.")
        if self.stop_date and self.stop_date > today:
            errors.setdefault("stop_date", "Date cannot be in the future.")
        if errors:
            raise ValidationError(errors)


class AuditEvent(models.Model):
    """One change of one field of clinical data. Append-only."""

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Management command"
        SCORING = "scoring", "Scoring"
        PATIENT = "patient", "Patient (invitation link)"
        IMPORT = "import", "Import (ODM, REDCap)"

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        # Data leaving the registry in bulk or per patient (interchange's exports): who took
        # what, when, through which path; `new_value` says what was exported.
        EXPORT = "export", "Export"

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    # Plain ids rather than foreign keys: the trail must outlive what it describes.
    site_id = models.BigIntegerField(null=True, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    field = models.CharField(max_length=60, blank=True)
    # NULL means "no value" (a field that was empty, or the whole record on create/delete),
    # which differs from an empty string that was stored.
    old_value = models.TextField(null=True, blank=True)  # noqa: DJ001
    new_value = models.TextField(null=True, blank=True)  # noqa: DJ001
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A record's history page: events of one object in time order.
            models.Index(fields=["object_type", "object_id", "at"], name="registry_audit_object"),
            # A patient's history and the per-site audit export.
            models.Index(fields=["patient_id", "at"], name="registry_audit_patient"),
            models.Index(fields=["site_id", "at"], name="registry_audit_site"),
            # The whole trail in its order (the audit API and export without a filter): pages
            # are read by (at, id) ranges rather than by sorting the table.
            models.Index(fields=["at", "id"], name="registry_audit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


# API clients: tokens (stored only as hashes) and idempotency records of submissions. Issuing,
# revoking and checking tokens is registry/tokens.py.

PREFIX_LENGTH = 8  # characters of a token kept in clear (ApiToken.prefix)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # The first characters of the token, to tell tokens apart in lists without revealing them.
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the token, hex")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "API token"
        constraints = [
            # Authentication looks a token up by its digest: unique, and indexed by the constraint.
            models.UniqueConstraint(fields=["digest"], name="registry_apitoken_digest"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="registry_apitoken_revoked_after_created",
            ),
        ]
        indexes = [
            # The api_token command and the admin list a user's tokens.
            models.Index(fields=["user", "created_at"], name="registry_apitoken_user"),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… of {self.user} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first answer to a submission sent with an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path, query and body: the same key with another request is refused.
    request_digest = models.CharField(max_length=64)
    # Empty while the first request is being processed.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="registry_idempotency_user_key"),
        ]
        indexes = [
            # The purge of expired records.
            models.Index(fields=["created_at"], name="registry_idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.user}"
