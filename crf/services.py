"""Write services for visits and their instruments (a whole patient document: crf.submission).

One function per operation (docs/architecture.md "Data flow"): validate, write the visit and its
instruments in one transaction with their audit events, and ask for scoring after commit.
"""

from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crf.documents import read_visit
from crf.models import HAQ, MMT8, DataQuery, LabResult, Signature, Visit
from crf.pro_models import patient_entered_keys
from crf.quality import rules_apply
from registry.access import Step, require_step
from registry.audit import Actor, audit_events, audit_write, snapshot
from registry.documents import Errors, join
from registry.errors import ConflictError, InputError, LockedError
from registry.models import Patient
from registry.services import CLEAN
from registry.signals import request_scoring, visit_deleting, visit_locking


def validation_to_input_error(exc: ValidationError, path: str = "") -> InputError:
    """Django's field errors as (JSON path, message) pairs."""
    if hasattr(exc, "error_dict"):
        pairs = []
        for field, errors in exc.error_dict.items():
            where = path if field == "__all__" else join(path, field)
            pairs.extend((where, message) for e in errors for message in e.messages)
        return InputError(pairs)
    return InputError([(path, message) for message in exc.messages])


def integrity_to_error(exc: IntegrityError, path: str = "") -> Exception:
    """A database refusal as a domain error: a broken key is a concurrent write (409), a broken
    check constraint is bad input that slipped past the readers (400, naming the constraint)."""
    message = str(exc)
    if "UNIQUE" in message or "unique" in message:
        return ConflictError(f"The record was written concurrently; retry. ({message})")
    return InputError([(path, f"Refused by the database rule: {message}")])


def _visit_state(visit: Visit) -> dict[str, Any]:
    """Everything stored for a visit, for change detection and audit."""
    state: dict[str, Any] = {"visit": snapshot(visit)}
    mmt = MMT8.objects.filter(visit=visit).first()
    state["mmt8"] = snapshot(mmt) if mmt else None
    haq = HAQ.objects.filter(visit=visit).first()
    state["haq"] = snapshot(haq) if haq else None
    state["labs"] = {
        lab.enzyme: (lab, snapshot(lab)) for lab in LabResult.objects.filter(visit=visit)
    }
    return state


def _write_one_to_one(model, visit: Visit, existing_snapshot, values, actor, ids) -> list:
    """Create, replace or delete the visit's MMT-8 or HAQ row; return audit events."""
    current = model.objects.filter(visit=visit).first()
    if values is None:
        if current is None:
            return []
        events = audit_events(actor, current, existing_snapshot, None, **ids)
        current.delete()
        return events
    if current is None:
        current = model(visit=visit, **values)
        current.full_clean(exclude=["visit"], **CLEAN)
        current.save()
        return audit_events(actor, current, None, snapshot(current), **ids)
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean(exclude=["visit"], **CLEAN)
    after = snapshot(current)
    if after == existing_snapshot:
        return []
    current.save()
    return audit_events(actor, current, existing_snapshot, after, **ids)


def _write_labs(visit: Visit, existing: dict, labs: dict, actor: Actor, ids) -> list:
    events = []
    for enzyme, (lab, before) in existing.items():
        if enzyme not in labs:
            events += audit_events(actor, lab, before, None, **ids)
            lab.delete()
    for enzyme, values in labs.items():
        if enzyme in existing:
            lab, before = existing[enzyme]
            for name, value in values.items():
                setattr(lab, name, value)
            lab.full_clean(exclude=["visit"], **CLEAN)
            after = snapshot(lab)
            if after != before:
                lab.save()
                events += audit_events(actor, lab, before, after, **ids)
        else:
            lab = LabResult(visit=visit, enzyme=enzyme, **values)
            lab.full_clean(exclude=["visit"], **CLEAN)
            lab.save()
            events += audit_events(actor, lab, None, snapshot(lab), **ids)
    return events


def _check_baseline(patient: Patient, visit: Visit | None, values: dict, path: str) -> None:
    if values.get("kind") != Visit.Kind.BASELINE:
        return
    others = Visit.objects.filter(patient=patient, kind=Visit.Kind.BASELINE)
    if visit is not None and visit.pk:
        others = others.exclude(pk=visit.pk)
    other = others.first()
    if other is not None:
        raise InputError(
            [
                (
                    join(path, "kind"),
                    f"The patient already has a baseline visit ({other.visit_date}).",
                )
            ]
        )


def _changes_patient_entered(actor: Actor, visit: Visit, before: dict, events: list) -> bool:
    """Whether someone other than the patient, without a reason, changes a value the patient
    entered through an invitation (crf/invitations.py)."""
    if actor.reason or actor.source == "patient":
        return False
    entered = patient_entered_keys(visit.pk)
    after = snapshot(visit)
    for key in entered:
        if key == "haq" and any(e.object_type == HAQ._meta.label_lower for e in events):
            return True
        if key != "haq" and before["visit"].get(key) != after.get(key):
            return True
    return False


def visit_save(
    *,
    actor: Actor,
    patient: Patient,
    data: dict[str, Any],
    visit: Visit | None = None,
    expected_version: int | None = None,
    status: str | None = None,
    path: str = "",
) -> tuple[Visit, str]:
    """Create or replace a visit and all its instruments from a visit document.

    The visit is `visit` when given (an edit; its date may change), else the patient's visit on
    the document's date. The document is the whole visit: an instrument it leaves out is
    removed. With `expected_version`, a visit changed since that version raises ConflictError.
    Returns the visit and "created", "updated" or "unchanged".
    """
    errors = Errors()
    parsed = read_visit(errors, path, data, born=patient.birth_month_start)
    errors.raise_if_any()
    assert parsed is not None
    values = parsed["visit"]
    if status is not None:
        if status not in (Visit.Status.DRAFT, Visit.Status.SUBMITTED):
            raise InputError(
                [
                    (
                        join(path, "status"),
                        "A visit is saved as draft or submitted; "
                        "verification and locking have their own actions.",
                    )
                ]
            )
        values["status"] = status
    return visit_write(
        actor=actor,
        patient=patient,
        values=values,
        mmt8=parsed["mmt8"],
        haq=parsed["haq"],
        labs=parsed["labs"],
        reason=parsed["reason"],
        visit=visit,
        expected_version=expected_version,
        path=path,
    )


@transaction.atomic
def visit_write(
    *,
    actor: Actor,
    patient: Patient,
    values: dict[str, Any],
    mmt8: dict[str, Any] | None,
    haq: dict[str, Any] | None,
    labs: dict[str, dict[str, Any]],
    reason: str,
    visit: Visit | None = None,
    expected_version: int | None = None,
    path: str = "",
) -> tuple[Visit, str]:
    """visit_save of a visit document read already (crf.documents.read_visit's values, or a
    crf.submission read): the visit's own fields, its instruments (None: none) and labs, and
    the reason for change, which goes into the audit events of the visit's changes."""
    if reason:
        actor = replace(actor, reason=reason)
    actor = replace(actor, reason=actor.reason.strip())

    if visit is None:
        visit = (
            Visit.objects.select_for_update()
            .filter(patient=patient, visit_date=values["visit_date"])
            .first()
        )
    else:
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        clash = Visit.objects.filter(patient=patient, visit_date=values["visit_date"])
        if clash.exclude(pk=visit.pk).exists():
            raise InputError(
                [(join(path, "visit_date"), "The patient already has a visit on this date.")]
            )
    if visit is not None:
        if expected_version is not None and visit.version != expected_version:
            raise ConflictError(
                f"The visit was changed by someone else (now version {visit.version}, "
                f"you edited version {expected_version}). Reload it and apply your change again.",
                current_version=visit.version,
            )
    _check_baseline(patient, visit, values, path)
    ids = {"site_id": patient.site_id, "patient_id": patient.pk}

    try:
        with transaction.atomic():
            if visit is None:
                visit = Visit(patient=patient, **values)
                visit.full_clean(**CLEAN)
                visit.save()
                events = audit_events(actor, visit, None, snapshot(visit), **ids)
                events += _write_one_to_one(MMT8, visit, None, mmt8, actor, ids)
                events += _write_one_to_one(HAQ, visit, None, haq, actor, ids)
                events += _write_labs(visit, {}, labs, actor, ids)
                outcome = "created"
            else:
                before = _visit_state(visit)
                for name, value in values.items():
                    setattr(visit, name, value)
                visit.full_clean(**CLEAN)
                events = _write_one_to_one(MMT8, visit, before["mmt8"], mmt8, actor, ids)
                events += _write_one_to_one(HAQ, visit, before["haq"], haq, actor, ids)
                events += _write_labs(visit, before["labs"], labs, actor, ids)
                if not events and snapshot(visit) == before["visit"]:
                    return visit, "unchanged"
                if before["visit"]["status"] == Visit.Status.LOCKED:
                    # Re-sending a signed visit unchanged is fine; changing it is not. Raising
                    # here rolls back the instrument writes above (inner savepoint).
                    raise LockedError("The visit is locked (signed); unlock it before editing.")
                if _changes_patient_entered(actor, visit, before, events):
                    raise InputError(
                        [
                            (
                                join(path, "reason"),
                                "Give a reason for changing what the patient entered.",
                            )
                        ]
                    )
                was = before["visit"]["status"]
                if was in (Visit.Status.SUBMITTED, Visit.Status.VERIFIED) and not actor.reason:
                    # 21 CFR 11.10(e): a change to data already submitted records why. Raising
                    # here rolls back the instrument writes above (inner savepoint).
                    raise InputError(
                        [(join(path, "reason"), "Give a reason for changing submitted data.")]
                    )
                if was == Visit.Status.VERIFIED:
                    # Changed data are no longer the data the monitor verified.
                    visit.status = Visit.Status.SUBMITTED
                    visit.verified_by = None
                    visit.verified_at = None
                visit.version += 1
                visit.save()
                events = (
                    audit_events(actor, visit, before["visit"], snapshot(visit), **ids) + events
                )
                outcome = "updated"
    except ValidationError as exc:
        raise validation_to_input_error(exc, path) from None
    except IntegrityError as exc:
        # Most likely a concurrent writer created the same visit between our check and insert.
        raise integrity_to_error(exc, path) from None
    audit_write(events)
    rules_apply(actor=actor, patient=patient)
    request_scoring([patient.pk])
    return visit, outcome


@transaction.atomic
def visit_delete(*, actor: Actor, visit: Visit, expected_version: int | None = None) -> None:
    """Delete a visit with its instruments and data queries, audited.

    A submitted visit needs a reason; a visit that was ever signed cannot be deleted, because its
    signature records must stay linked to it (21 CFR 11.70).
    """
    _lock_patient(visit.patient_id)  # the response records of the patient go too
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if expected_version is not None and visit.version != expected_version:
        raise ConflictError("The visit was changed by someone else.", current_version=visit.version)
    if visit.status == Visit.Status.LOCKED:
        raise LockedError("The visit is locked (signed); unlock it before deleting.")
    if visit.status != Visit.Status.DRAFT and not actor.reason.strip():
        raise InputError([("reason", "Give a reason for deleting submitted data.")])
    if Signature.objects.filter(visit=visit).exists():
        raise InputError([("visit", "A visit that was signed cannot be deleted; amend it.")])
    ids = {"site_id": visit.patient.site_id, "patient_id": visit.patient_id}
    state = _visit_state(visit)
    events = []
    for model, key in ((MMT8, "mmt8"), (HAQ, "haq")):
        events += _write_one_to_one(model, visit, state[key], None, actor, ids)
    events += _write_labs(visit, state["labs"], {}, actor, ids)
    for query in DataQuery.objects.filter(visit=visit):
        events += audit_events(actor, query, snapshot(query), None, **ids)
        query.delete()
    events += audit_events(actor, visit, state["visit"], None, **ids)
    # Response records reference the visit; the scoring app removes them through its hook.
    visit_deleting.send(sender=Visit, visit_id=visit.pk)
    visit.delete()
    audit_write(events)
    rules_apply(actor=actor, patient=visit.patient)
    request_scoring([visit.patient_id])


def _lock_patient(patient_id: int) -> None:
    """Lock the patient's row before any of its visits, in a transaction that also writes the
    patient's response records: the scoring tasks lock the patient first and then write records
    that reference its visits (scoring.selectors.load_inputs), so the other order could wait on
    a task that waits on this transaction's visit lock — a deadlock."""
    list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True))


def _audited_change(actor: Actor, obj: Any, visit: Visit, **changes: Any) -> Any:
    """Set fields of a visit or of something on it, save, and audit each field that moved."""
    before = snapshot(obj)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()
    audit_write(
        audit_events(
            actor,
            obj,
            before,
            snapshot(obj),
            site_id=visit.patient.site_id,
            patient_id=visit.patient_id,
        )
    )
    return obj


def _visit_transition(actor: Actor, visit: Visit, **changes: Any) -> Visit:
    visit.version += 1  # a status change is a new version like any edit
    return _audited_change(actor, visit, visit, **changes)


@transaction.atomic
def visit_verify(*, actor: Actor, visit: Visit) -> Visit:
    """A monitor (or data manager) confirms the visit's data against the source documents."""
    visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
    require_step(actor.user, Step.VERIFY, visit.patient.site_id)
    if visit.status != Visit.Status.SUBMITTED:
        raise InputError(
            [("status", f"Only a submitted visit can be verified (it is {visit.status}).")]
        )
    if DataQuery.objects.filter(visit=visit).exclude(status=DataQuery.Status.CLOSED).exists():
        raise InputError([("queries", "Close the visit's open data queries before verifying it.")])
    return _visit_transition(
        actor,
        visit,
        status=Visit.Status.VERIFIED,
        verified_by=actor.user,
        verified_at=timezone.now(),
    )


@transaction.atomic
def visit_sign(*, actor: Actor, visit: Visit, password: str, meaning: str) -> Signature:
    """An investigator signs a verified visit by re-entering the password, which locks it.

    21 CFR 11.200(a): a signature outside a continuous session uses both identification
    components; re-entering the password at signing is the registry's application of it.
    """
    _lock_patient(visit.patient_id)  # the patient is scored before the lock (visit_locking)
    visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
    require_step(actor.user, Step.SIGN, visit.patient.site_id)
    errors = []
    if not password or not actor.user.check_password(password):
        errors.append(("password", "The password is not correct."))
    if meaning not in Signature.Meaning.values:
        errors.append(("meaning", f"Must be one of: {', '.join(Signature.Meaning.values)}."))
    if visit.status != Visit.Status.VERIFIED:
        errors.append(("status", f"Only a verified visit can be signed (it is {visit.status})."))
    if errors:
        raise InputError(errors)
    now = timezone.now()
    # The scores signed are those of the data signed: computed now, before the lock freezes
    # them, rather than whenever a queued task would have run.
    visit_locking.send(sender=Visit, visit_id=visit.pk, patient_id=visit.patient_id)
    _visit_transition(actor, visit, status=Visit.Status.LOCKED)
    signature = Signature.objects.create(
        visit=visit,
        signer=actor.user,
        signer_name=actor.user.get_full_name() or actor.user.get_username(),
        meaning=meaning,
        signed_at=now,
        visit_version=visit.version,
    )
    audit_write(
        audit_events(
            actor,
            signature,
            None,
            snapshot(signature),
            site_id=visit.patient.site_id,
            patient_id=visit.patient_id,
        )
    )
    return signature


@transaction.atomic
def visit_unlock(*, actor: Actor, visit: Visit) -> Visit:
    """A data manager unlocks a signed visit with a reason; the signature is voided."""
    visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit.pk)
    require_step(actor.user, Step.UNLOCK, visit.patient.site_id)
    if not actor.reason.strip():
        raise InputError([("reason", "Give a reason for unlocking the visit.")])
    if visit.status != Visit.Status.LOCKED:
        raise InputError([("status", "The visit is not locked.")])
    for signature in Signature.objects.select_for_update().filter(
        visit=visit, voided_at__isnull=True
    ):
        _audited_change(
            actor,
            signature,
            visit,
            voided_at=timezone.now(),
            voided_by=actor.user,
            void_reason=actor.reason,
        )
    visit = _visit_transition(
        actor, visit, status=Visit.Status.SUBMITTED, verified_by=None, verified_at=None
    )
    # The visit is live again: bring its scores up to date.
    request_scoring([visit.patient_id])
    return visit


@transaction.atomic
def query_raise(*, actor: Actor, visit: Visit, field: str, text: str) -> DataQuery:
    require_step(actor.user, Step.RAISE_QUERY, visit.patient.site_id)
    errors = []
    if not field.strip():
        errors.append(("field", "Name the field the query is about."))
    if not text.strip():
        errors.append(("text", "Write the question."))
    if errors:
        raise InputError(errors)
    query = DataQuery.objects.create(
        visit=visit, field=field.strip(), text=text.strip(), raised_by=actor.user
    )
    audit_write(
        audit_events(
            actor,
            query,
            None,
            snapshot(query),
            site_id=visit.patient.site_id,
            patient_id=visit.patient_id,
        )
    )
    return query


def _query_transition(actor: Actor, query: DataQuery, **changes: Any) -> DataQuery:
    return _audited_change(actor, query, query.visit, **changes)


@transaction.atomic
def query_answer(*, actor: Actor, query: DataQuery, answer: str) -> DataQuery:
    query = DataQuery.objects.select_for_update().select_related("visit__patient").get(pk=query.pk)
    require_step(actor.user, Step.ANSWER_QUERY, query.visit.patient.site_id)
    if query.status == DataQuery.Status.CLOSED:
        raise InputError([("status", "The query is closed.")])
    if not answer.strip():
        raise InputError([("answer", "Write the answer.")])
    return _query_transition(
        actor,
        query,
        answer=answer.strip(),
        answered_by=actor.user,
        answered_at=timezone.now(),
        status=DataQuery.Status.ANSWERED,
    )


@transaction.atomic
def query_close(*, actor: Actor, query: DataQuery, note: str = "") -> DataQuery:
    query = DataQuery.objects.select_for_update().select_related("visit__patient").get(pk=query.pk)
    require_step(actor.user, Step.CLOSE_QUERY, query.visit.patient.site_id)
    if query.status == DataQuery.Status.CLOSED:
        raise InputError([("status", "The query is closed already.")])
    return _query_transition(
        actor,
        query,
        status=DataQuery.Status.CLOSED,
        closed_by=actor.user,
        closed_at=timezone.now(),
        close_note=note.strip(),
    )
