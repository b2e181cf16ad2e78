"""Invitations of patients to answer their own instruments (patient-reported outcomes, issue 17).

Imported by crf/models.py, so that Django and the migrations see the model; the services are
crf/invitations.py. The link's token is never stored, only its SHA-256 digest
(registry.tokens.token_digest), like the API tokens.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# What a patient can be invited to answer: the key of the document's visit each lands on.
INSTRUMENTS = ("haq", "patient_global", "patient_global_damage")


class ProInvitation(models.Model):
    class State(models.TextChoices):
        SENT = "sent", "Sent"
        OPENED = "opened", "Opened"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    class Respondent(models.TextChoices):
        PATIENT = "patient", "The patient"
        PARENT = "parent", "A parent"

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.PROTECT, related_name="pro_invitations"
    )
    # The visit the answers land on: an existing draft, or the one planned on visit_date,
    # created as a draft when the answers arrive.
    visit = models.ForeignKey(
        "crf.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pro_invitations",
    )
    visit_date = models.DateField()
    instruments = models.JSONField(default=list)
    # "haq" or "chaq": the HAQ instrument asked, chosen by the patient's population at creation.
    haq_instrument = models.CharField(max_length=4, blank=True)
    respondent = models.CharField(max_length=7, choices=Respondent.choices, blank=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the link's token, hex")
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Answers saved but not yet submitted, in the document's visit shape (resume on one device).
    draft = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crf"
        ordering = ["-created_at", "-id"]
        verbose_name = "patient invitation"
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="crf_proinvitation_digest"),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="crf_proinvitation_submitted_or_revoked",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "created_at"], name="crf_proinv_patient"),
        ]

    def __str__(self) -> str:
        return f"Invitation {self.pk} for {self.visit_date} ({self.state})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.submitted_at is not None:
            return self.State.SUBMITTED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        if self.opened_at is not None:
            return self.State.OPENED
        return self.State.SENT

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.SENT, self.State.OPENED)

    def get_state_display(self) -> str:
        return self.State(self.state).label


def pending_invitations() -> Q:
    """ProInvitation.is_pending as a filter: neither answered nor revoked nor expired."""
    return Q(submitted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


def patient_entered_keys(visit_id: int | None) -> set[str]:
    """The keys of a visit's document whose values the patient entered (submitted answers)."""
    if visit_id is None:
        return set()
    keys: set[str] = set()
    for instruments in ProInvitation.objects.filter(
        visit_id=visit_id, submitted_at__isnull=False
    ).values_list("instruments", flat=True):
        keys.update(instruments or ())
    return keys
