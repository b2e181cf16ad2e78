"""Patients answer their own instruments by an invitation link (issue 17): the services.

A coordinator invites a patient to answer the HAQ (the CHAQ for juvenile onset), the patient
global activity and, optionally, the patient global damage for one visit: an existing draft, or
the visit planned on a date (created as a draft when the answers arrive). The link carries a
token of 256 random bits; only its digest is stored (registry.tokens.token_digest). The patient's
own actions are audited with source `patient`, no actor, and the invitation's id; the answers land
on the visit through crf.services.visit_save, so they are validated by the same readers as any
visit (crf.documents) and the visit is scored as usual.
"""

import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from crf.documents import VAS, read_haq, visit_document
from crf.models import HAQ, Visit
from crf.pro_models import INSTRUMENTS, ProInvitation
from crf.services import visit_save
from registry.access import Action, require
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.documents import Errors, choice, expect_list, expect_object, number
from registry.errors import ConflictError, InputError
from registry.models import AuditEvent, Patient
from registry.tokens import TOKEN_BYTES, token_digest
from scoring.instruments import JUVENILE

DEFAULT_DAYS = 14
RESPONDENT = "respondent"


class VisitClosed(ConflictError):
    """The visit was submitted, verified or locked: it no longer takes the patient's answers."""


def invitation_days() -> int:
    return int(getattr(settings, "PRO_INVITATION_DAYS", DEFAULT_DAYS))


def patient_actor(invitation: ProInvitation) -> Actor:
    """The patient, acting through the link: no user; the invitation named in the reason."""
    return Actor(
        user=None,
        source=AuditEvent.Source.PATIENT,
        reason=f"Answered by the patient through invitation {invitation.pk}.",
    )


def _snapshot(invitation: ProInvitation) -> dict[str, str | None]:
    # The digest is left out of the trail: it is the link's only trace.
    values = snapshot(invitation)
    values.pop("digest", None)
    return values


def _audit(actor: Actor, invitation: ProInvitation, before: dict | None) -> None:
    audit_write(
        audit_events(
            actor,
            invitation,
            before,
            _snapshot(invitation),
            site_id=invitation.patient.site_id,
            patient_id=invitation.patient_id,
        )
    )


def _read_instruments(errors: Errors, value: Any) -> list[str]:
    listed = expect_list(errors, "instruments", value)
    if listed is None:
        return []
    chosen: list[str] = []
    for index, name in enumerate(listed):
        if name not in INSTRUMENTS:
            errors.add(f"instruments[{index}]", f"Must be one of: {', '.join(INSTRUMENTS)}.")
        elif name not in chosen:
            chosen.append(name)
    if not listed:
        errors.add("instruments", f"Choose at least one of: {', '.join(INSTRUMENTS)}.")
    return chosen


def _planned_date(errors: Errors, value: Any, patient: Patient, expires: date) -> date | None:
    if not isinstance(value, str):
        errors.add("visit_date", "Must be a date as YYYY-MM-DD.")
        return None
    try:
        parsed = date.fromisoformat(value)
        if len(value) != 10:
            raise ValueError(value)
    except ValueError:
        errors.add("visit_date", "Must be a date as YYYY-MM-DD.")
        return None
    if parsed < patient.birth_month_start:
        errors.add("visit_date", "Date cannot be before the month of birth.")
    elif parsed > expires:
        errors.add("visit_date", f"Date cannot be after the link expires ({expires}).")
    return parsed


@transaction.atomic
def pro_invitation_create(
    *,
    actor: Actor,
    instruments: Any,
    visit: Visit | None = None,
    patient: Patient | None = None,
    visit_date: Any = None,
) -> tuple[ProInvitation, str]:
    """Invite the patient of `visit` (a draft), or `patient` for the visit on `visit_date`.

    Returns the invitation and the link's token, which is never shown again.
    """
    if visit is not None and (patient is not None or visit_date is not None):
        raise InputError([("visit", "Give either a visit, or a patient and a visit date.")])
    if visit is None and patient is None:
        raise InputError([("visit", "Give a visit, or a patient and a visit date.")])
    target = visit.patient if visit is not None else patient
    assert target is not None
    require(actor.user, Action.WRITE, target.site_id)
    errors = Errors()
    chosen = _read_instruments(errors, instruments)
    expires_at = timezone.now() + timedelta(days=invitation_days())
    if visit is not None:
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status != Visit.Status.DRAFT:
            errors.add("visit", "Only a draft visit takes a patient's answers.")
        planned = visit.visit_date
    else:
        if visit_date is None:
            errors.add("visit_date", "This field is required with a patient.")
        planned = _planned_date(errors, visit_date, target, timezone.localdate(expires_at))
        if planned is not None:
            visit = Visit.objects.filter(patient=target, visit_date=planned).first()
            if visit is not None and visit.status != Visit.Status.DRAFT:
                errors.add("visit_date", "The visit on this date is no longer a draft.")
    errors.raise_if_any()
    assert planned is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = ProInvitation.objects.create(
        patient=target,
        visit=visit,
        visit_date=planned,
        instruments=chosen,
        haq_instrument=(
            (HAQ.Instrument.CHAQ if target.population == JUVENILE else HAQ.Instrument.HAQ)
            if "haq" in chosen
            else ""
        ),
        digest=token_digest(token),
        expires_at=expires_at,
        created_by=actor.user,
    )
    _audit(actor, invitation, None)
    return invitation, token


@transaction.atomic
def pro_invitation_revoke(*, actor: Actor, invitation: ProInvitation) -> ProInvitation:
    invitation = (
        ProInvitation.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=invitation.pk)
    )
    require(actor.user, Action.WRITE, invitation.patient.site_id)
    if invitation.submitted_at is not None:
        raise InputError([("state", "The patient has submitted the answers already.")])
    if invitation.revoked_at is None:
        before = _snapshot(invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        _audit(actor, invitation, before)
    return invitation


def pro_invitation_find(token: str) -> ProInvitation | None:
    """The invitation of a link's token, whatever its state, or None."""
    if not token or len(token) > 200:
        return None
    return (
        ProInvitation.objects.select_related("patient__site", "visit")
        .filter(digest=token_digest(token))
        .first()
    )


@transaction.atomic
def pro_invitation_open(*, invitation: ProInvitation) -> ProInvitation:
    """The patient opened the link: recorded the first time."""
    if invitation.opened_at is None and invitation.is_pending:
        before = _snapshot(invitation)
        invitation.opened_at = timezone.now()
        invitation.save(update_fields=["opened_at", "updated_at"])
        _audit(patient_actor(invitation), invitation, before)
    return invitation


def _json_numbers(value: Any) -> Any:
    """Answers as JSON can hold them: the forms read numbers as Decimals, which the readers have
    checked by now (so each is small and finite); an integral one is kept as an integer."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_numbers(item) for item in value]
    return value


def _read_answers(invitation: ProInvitation, data: Any, *, complete: bool) -> dict[str, Any]:
    """The answers in the document's visit shape, with only the invited keys; InputError naming
    every bad field. With `complete`, every invited question must be answered."""
    errors = Errors()
    haq_keys = ("haq", "chaq") if invitation.haq_instrument == HAQ.Instrument.CHAQ else ("haq",)
    invited = [k for k in invitation.instruments if k != "haq"]
    allowed = [*invited, *(haq_keys if "haq" in invitation.instruments else ()), RESPONDENT]
    obj = expect_object(errors, "", data, allowed)
    if obj is None:
        errors.raise_if_any()
        return {}
    answers: dict[str, Any] = {}
    for name in invited:
        raw = obj.get(name)
        if raw is None:
            if complete:
                errors.add(name, "Answer this question.")
            continue
        if number(errors, name, raw, **VAS) is not None:
            answers[name] = raw  # as sent: checked here, read again by visit_save
    if "haq" in invitation.instruments:
        key = next((k for k in haq_keys if obj.get(k) is not None), None)
        if key is None:
            if complete:
                errors.add("haq", "Answer these questions.")
        else:
            haq = obj[key]
            items = haq.get("items") if isinstance(haq, dict) else None
            unanswered = items is None or (
                isinstance(items, dict) and all(value is None for value in items.values())
            )
            if not complete and isinstance(haq, dict) and unanswered and haq.get("score") is None:
                # A draft saved before any item is answered keeps no HAQ yet: the readers refuse
                # a HAQ with no answered item (and a score would be computed from nothing).
                haq = None
        if key is not None and haq is not None:
            if isinstance(haq, dict) and haq.get("score") is not None:
                errors.add(f"{key}.score", "Answer the questions; the score is computed.")
            values = read_haq(errors, key, haq, invitation.haq_instrument)
            if values is not None:
                answers["haq"] = haq
                if complete:
                    items = (haq.get("items") or {}) if isinstance(haq, dict) else {}
                    for item in _haq_items(invitation):
                        if items.get(item) is None:
                            errors.add(f"{key}.items.{item}", "Answer this question.")
    if obj.get(RESPONDENT) is not None:
        answers[RESPONDENT] = choice(errors, RESPONDENT, obj[RESPONDENT], ProInvitation.Respondent)
    errors.raise_if_any()
    return answers


def _haq_items(invitation: ProInvitation) -> tuple[str, ...]:
    from scoring.instruments import CHAQ_CATEGORIES, HAQ_CATEGORIES

    spec = CHAQ_CATEGORIES if invitation.haq_instrument == HAQ.Instrument.CHAQ else HAQ_CATEGORIES
    return tuple(item for items in spec.values() for item in items)


def _refuse_unless_answerable(invitation: ProInvitation) -> None:
    if invitation.visit is not None and invitation.visit.status != Visit.Status.DRAFT:
        raise VisitClosed("The visit is closed: it no longer takes answers.")


def _locked(invitation: ProInvitation) -> ProInvitation:
    return (
        ProInvitation.objects.select_for_update(of=("self",))
        .select_related("patient__site", "visit")
        .get(pk=invitation.pk)
    )


class InvitationGone(Exception):
    """The link was submitted, expired or revoked (answered as 410)."""


def _check_pending(invitation: ProInvitation) -> None:
    if not invitation.is_pending:
        raise InvitationGone(invitation.state)


@transaction.atomic
def pro_invitation_save_draft(*, invitation: ProInvitation, data: Any) -> ProInvitation:
    """Keep the answers given so far, to resume on the same device; nothing lands on the visit."""
    invitation = _locked(invitation)
    _check_pending(invitation)
    _refuse_unless_answerable(invitation)
    answers = _read_answers(invitation, data, complete=False)
    before = _snapshot(invitation)
    invitation.draft = _json_numbers(answers)
    if invitation.opened_at is None:
        invitation.opened_at = timezone.now()
    if _snapshot(invitation) != before:
        invitation.save()
        _audit(patient_actor(invitation), invitation, before)
    return invitation


@transaction.atomic
def pro_invitation_submit(*, invitation: ProInvitation, data: Any) -> ProInvitation:
    """Land the answers on the visit (a draft) and close the link."""
    invitation = _locked(invitation)
    _check_pending(invitation)
    if invitation.visit is not None:
        Visit.objects.select_for_update().filter(pk=invitation.visit_id).first()
        invitation.visit.refresh_from_db()
    _refuse_unless_answerable(invitation)
    answers = _read_answers(invitation, data, complete=True)
    if invitation.visit is None and invitation.visit_date > timezone.localdate():
        raise InputError(
            [
                (
                    "visit_date",
                    f"The answers can be sent from the day of the visit, "
                    f"{invitation.visit_date:%d %B %Y}.",
                )
            ]
        )
    actor = patient_actor(invitation)
    visit = invitation.visit
    if visit is None:
        # Another invitation, or the coordinator, may have created the planned visit since.
        visit = Visit.objects.filter(
            patient=invitation.patient, visit_date=invitation.visit_date
        ).first()
        if visit is not None and visit.status != Visit.Status.DRAFT:
            raise VisitClosed("The visit is closed: it no longer takes answers.")
    document = (
        visit_document(visit) if visit is not None else {"visit_date": str(invitation.visit_date)}
    )
    for name in ("patient_global", "patient_global_damage"):
        if name in answers:
            document[name] = answers[name]
    if "haq" in answers:
        document.pop("haq", None)
        document.pop("chaq", None)
        document[invitation.haq_instrument] = answers["haq"]
    visit, _ = visit_save(
        actor=actor,
        patient=invitation.patient,
        data=document,
        visit=visit,
        status=Visit.Status.DRAFT if visit is None else None,
    )
    before = _snapshot(invitation)
    invitation.visit = visit
    invitation.submitted_at = timezone.now()
    invitation.opened_at = invitation.opened_at or invitation.submitted_at
    invitation.draft = {}
    if "haq" in invitation.instruments:
        invitation.respondent = answers.get(RESPONDENT) or (
            ProInvitation.Respondent.PATIENT
            if invitation.haq_instrument == HAQ.Instrument.HAQ
            else ""
        )
    invitation.save()
    _audit(actor, invitation, before)
    return invitation


def pro_invitation_email(*, invitation: ProInvitation, url: str, address: str) -> None:
    """Send the link to `address`, which is used for this message only and never stored."""
    site = invitation.patient.site
    send_mail(
        subject=f"Your questionnaire for your visit at {site.name}",
        message=(
            f"Hello,\n\n{site.name} asks you to answer a few questions before your visit on "
            f"{invitation.visit_date:%d %B %Y}. It takes about five minutes.\n\n{url}\n\n"
            f"The link works until {timezone.localtime(invitation.expires_at):%d %B %Y}. "
            "Please do not forward it: it is for you alone.\n"
        ),
        from_email=None,
        recipient_list=[address],
    )


__all__ = [
    "InvitationGone",
    "VisitClosed",
    "pro_invitation_create",
    "pro_invitation_email",
    "pro_invitation_find",
    "pro_invitation_open",
    "pro_invitation_revoke",
    "pro_invitation_save_draft",
    "pro_invitation_submit",
]
