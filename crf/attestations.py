"""The investigator's attestation that makes a refractory candidate `confirmed` (`refractory_v1`,
docs/outcomes.md): mimics of myositis and malignancy were excluded. Signed like a visit, by
re-entering the password, and audited."""

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from crf.models import RefractoryAttestation
from crf.services import _lock_patient
from registry.access import Step, require_step
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.errors import InputError
from registry.models import Patient
from registry.signals import refractory_attesting

CONFIRMED = "confirmed"


def password_confirms(user: Any, password: str, request: Any = None) -> bool:
    """Whether `password` is the signer's own, asked of the authentication backends (so that
    the login lockout counts a wrong one and refuses a locked-out account, 21 CFR 11.300(d))."""
    if not password:
        return False
    found = authenticate(request, username=user.get_username(), password=password)
    return found is not None and found.pk == user.pk


@transaction.atomic
def refractory_attest(
    *, actor: Actor, patient: Patient, password: str, meaning: str, request: Any = None
) -> RefractoryAttestation:
    """An investigator of the patient's site attests that mimics and malignancy were excluded.

    Refused (InputError naming the field) for a wrong password, an unknown meaning, or a patient
    who is not a refractory candidate: the status is computed again with the attestation in this
    transaction (registry.signals.refractory_attesting) and must come out `confirmed`.
    PermissionDenied for a role that may not attest; the caller found the patient through the
    access rule (another site's patient is not visible).
    """
    _lock_patient(patient.pk)  # scoring writes the patient's derived records under this lock
    require_step(actor.user, Step.ATTEST_REFRACTORY, patient.site_id)
    errors = []
    if not password_confirms(actor.user, password, request):
        errors.append(("password", "The password is not correct."))
    if meaning not in RefractoryAttestation.Meaning.values:
        values = ", ".join(RefractoryAttestation.Meaning.values)
        errors.append(("meaning", f"Must be one of: {values}."))
    if errors:
        raise InputError(errors)
    attestation = RefractoryAttestation.objects.create(
        patient=patient,
        meaning=meaning,
        statement=RefractoryAttestation.STATEMENT,
        attested_by=actor.user,
        attester_name=actor.user.get_full_name() or actor.user.get_username(),
        attested_at=timezone.now(),
    )
    audit_write(
        audit_events(
            actor,
            attestation,
            None,
            snapshot(attestation),
            site_id=patient.site_id,
            patient_id=patient.pk,
        )
    )
    answers = refractory_attesting.send(sender=Patient, patient_id=patient.pk)
    statuses = [status for _, status in answers]
    if CONFIRMED not in statuses:
        # Rolls the attestation back with its audit event.
        now = statuses[0] if statuses else "unknown"
        raise InputError(
            [("status", f"Only a refractory candidate can be confirmed (the status is {now}).")]
        )
    return attestation
