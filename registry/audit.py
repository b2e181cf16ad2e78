"""The audit trail: one event per changed field, written in the caller's transaction."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from registry.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is writing, through which path, and why (the reason is required for amendments)."""

    user: Any  # a User or None (commands run without one)
    source: str  # AuditEvent.Source
    reason: str = ""

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


def value_text(value: Any) -> str | None:
    """A value as the audit trail stores it."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        # Normalised so that 15.2 as typed and 15.200 as stored are the same value.
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# Bookkeeping fields, never in an audit event (public for writers that build snapshots
# themselves, crf.submission.building).
UNAUDITED_FIELDS = frozenset({"id", "created_at", "updated_at", "version"})


def snapshot(instance: models.Model) -> dict[str, str | None]:
    """The audited field values of a model instance, as text."""
    return {
        field.attname: value_text(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.attname not in UNAUDITED_FIELDS
    }


def event_values(
    actor: Actor,
    object_type: str,
    object_id: int,
    before: dict[str, str | None] | None,
    after: dict[str, str | None] | None,
    *,
    site_id: int | None,
    patient_id: int | None,
) -> list[dict[str, Any]]:
    """The audit events describing the change from `before` to `after` (None = did not exist /
    deleted), as field values: what the bulk paths insert (registry.fastwrite.insert_events)
    and audit_events makes instances of.

    A creation or deletion is one event holding the whole record as JSON; an update is one event
    per changed field, so a reviewer sees exactly what moved.
    """
    common = {
        "actor_id": actor.user_id,
        "source": actor.source,
        "site_id": site_id,
        "patient_id": patient_id,
        "object_type": object_type,
        "object_id": object_id,
        "field": "",
        "old_value": None,
        "new_value": None,
        "reason": actor.reason,
    }
    if before is None and after is not None:
        return [{**common, "action": "create", "new_value": json.dumps(after)}]
    if after is None and before is not None:
        return [{**common, "action": "delete", "old_value": json.dumps(before)}]
    assert before is not None and after is not None
    return [
        {
            **common,
            "action": "update",
            "field": name,
            "old_value": before.get(name),
            "new_value": new,
        }
        for name, new in after.items()
        if before.get(name) != new
    ]


def audit_events(
    actor: Actor,
    instance: models.Model,
    before: dict[str, str | None] | None,
    after: dict[str, str | None] | None,
    *,
    site_id: int | None,
    patient_id: int | None,
) -> list[AuditEvent]:
    """event_values for a model instance, as unsaved AuditEvents (audit_write saves them)."""
    values = event_values(
        actor,
        instance._meta.label_lower,
        instance.pk,
        before,
        after,
        site_id=site_id,
        patient_id=patient_id,
    )
    return [AuditEvent(**value) for value in values]


def audit_write(events: list[AuditEvent]) -> None:
    if events:
        AuditEvent.objects.bulk_create(events)


def export_event(
    actor: Actor,
    *,
    object_type: str,
    object_id: int,
    site_id: int | None,
    patient_id: int | None = None,
    detail: dict[str, Any],
) -> AuditEvent:
    """An unsaved audit event saying that `actor` exported this record (a patient) or this site's
    records (a bulk export, one event per site whose data left): `detail` (format, resource
    types, ...) is stored as JSON in `new_value`. audit_write saves it."""
    return AuditEvent(
        actor_id=actor.user_id,
        source=actor.source,
        action=AuditEvent.Action.EXPORT,
        site_id=site_id,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        field="",
        old_value=None,
        new_value=json.dumps(detail, sort_keys=True),
        reason=actor.reason,
    )
