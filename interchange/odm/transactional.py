"""ClinicalData of a Transactional (archival) file: the audit trail of a chunk of patients.

Every audit event of clinical data becomes ItemData with TransactionType Insert (a creation: one
ItemData per field of the record), Update (one changed field) or Remove (a deletion), each with
its AuditRecord: UserRef, LocationRef (the patient's site), DateTimeStamp, ReasonForChange and
SourceID = the audit event's id; EditPoint DataManagement for scoring, Monitoring for a monitor,
DBAudit otherwise. Containers carry TransactionType="Context". Events of objects that are not
clinical data of a patient (API tokens, exports) are not part of ClinicalData.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crf.models import HAQ, MMT8, DataQuery, LabResult, Signature, Visit
from interchange.odm import metadata as md
from interchange.odm.define import location_oid, user_oid
from interchange.odm.xml import element, empty, text, timestamp
from registry.models import AuditEvent, Patient, Role
from scoring.models import ResponseRecord

CONTEXT = {"TransactionType": "Context"}
TRANSACTION = {"create": "Insert", "update": "Update", "delete": "Remove"}
VISIT_CHILDREN = (MMT8, HAQ, LabResult, Signature, DataQuery, ResponseRecord)
_TRUE_FALSE = {"True": "true", "False": "false"}


@dataclass
class Placement:
    """Where the objects of one chunk's patients live: visit kinds and each record's visit."""

    kinds: dict[int, str] = field(default_factory=dict)  # visit id -> kind
    parents: dict[tuple[str, int], int] = field(default_factory=dict)  # (type, id) -> visit id

    def learn(self, event: AuditEvent, payload: dict[str, Any]) -> None:
        if event.object_type == "crf.visit":
            if payload.get("kind") in md.VISIT_EVENTS:
                self.kinds.setdefault(event.object_id, payload["kind"])
        elif payload.get("visit_id") is not None:
            self.parents.setdefault((event.object_type, event.object_id), int(payload["visit_id"]))

    def visit_of(self, event: AuditEvent) -> int | None:
        if event.object_type == "crf.visit":
            return event.object_id
        return self.parents.get((event.object_type, event.object_id))


def _placement(patient_ids: list[int]) -> Placement:
    place = Placement()
    place.kinds.update(Visit.objects.filter(patient_id__in=patient_ids).values_list("id", "kind"))
    for model in VISIT_CHILDREN:
        label = model._meta.label_lower
        rows = model.objects.filter(visit__patient_id__in=patient_ids).values_list("id", "visit_id")
        place.parents.update(((label, pk), visit) for pk, visit in rows)
    return place


def _value(item: md.ItemSpec, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    raw = str(raw)
    if raw.startswith("[") and item.name in md.LIST_ITEMS:
        codes = json.loads(raw)
        return " ".join(codes) if codes else None
    if item.person:
        return user_oid(int(raw))
    if item.data_type == "boolean":
        return _TRUE_FALSE.get(raw, raw)
    return raw


def _payload(event: AuditEvent) -> dict[str, Any] | None:
    if event.action == AuditEvent.Action.CREATE:
        return json.loads(event.new_value or "{}")
    if event.action == AuditEvent.Action.DELETE:
        return json.loads(event.old_value or "{}")
    if event.action == AuditEvent.Action.UPDATE:
        return {event.field: event.new_value}
    return None  # an export: no data changed


def edit_point(event: AuditEvent, roles: dict[int, set[str]]) -> str:
    if event.source == AuditEvent.Source.SCORING:
        return "DataManagement"
    if event.actor_id is not None and Role.MONITOR in roles.get(event.actor_id, ()):
        return "Monitoring"
    return "DBAudit"


def audit_record(event: AuditEvent, site_code: str, roles: dict[int, set[str]]) -> str:
    parts = [
        empty("UserRef", UserOID=user_oid(event.actor_id)),
        empty("LocationRef", LocationOID=location_oid(site_code)),
        element("DateTimeStamp", timestamp(event.at)),
    ]
    if event.reason:
        parts.append(text("ReasonForChange", event.reason))
    parts.append(text("SourceID", str(event.pk)))
    return element("AuditRecord", parts, EditPoint=edit_point(event, roles))


def _changes(
    event: AuditEvent, site_code: str, place: Placement, roles: dict[int, set[str]]
) -> tuple[tuple[str, int | None, str, int | None], list[str]] | None:
    """The event's container key (study event, its key, form, its key) and its ItemData."""
    form = md.FORM_BY_TYPE.get(event.object_type)
    payload = _payload(event)
    if form is None or payload is None:
        return None
    place.learn(event, payload)
    if form in md.PATIENT_FORMS:
        event_oid, event_key = md.PATIENT_EVENT, None
    else:
        visit = place.visit_of(event)
        if visit is None:
            return None
        event_oid = md.VISIT_EVENTS[place.kinds.get(visit, Visit.Kind.FOLLOW_UP)]
        event_key = visit
    transaction = TRANSACTION[event.action]
    record = audit_record(event, site_code, roles)
    fields = md.item_by_field(form)
    items = []
    for name, raw in payload.items():
        item = fields.get(name)
        if item is None:
            continue  # a key of the record (its patient, its visit), or a name (signer_name)
        if transaction == "Remove":
            items.append(element("ItemData", record, ItemOID=item.oid, TransactionType=transaction))
            continue
        value = _value(item, raw)
        extra = {"TransactionType": transaction}
        if value is None:
            items.append(element("ItemData", record, ItemOID=item.oid, **extra, IsNull="Yes"))
        else:
            items.append(element("ItemData", record, ItemOID=item.oid, **extra, Value=value))
    if not items:
        return None
    key = (event_oid, event_key, form.oid, event.object_id if form.repeating else None)
    return key, items


def _containers(runs: list[tuple[tuple[str, int | None, str, int | None], list[str]]]) -> str:
    out = []
    for (event_oid, event_key, form_oid, form_key), items in runs:
        form = md.FORM_BY_OID[form_oid]
        group = element("ItemGroupData", items, ItemGroupOID=form.group_oid, **CONTEXT)
        data = element("FormData", group, FormOID=form_oid, FormRepeatKey=form_key, **CONTEXT)
        out.append(
            element(
                "StudyEventData",
                data,
                StudyEventOID=event_oid,
                StudyEventRepeatKey=event_key,
                **CONTEXT,
            )
        )
    return "".join(out)


def subjects(patients: list[Patient], roles: dict[int, set[str]]) -> Iterator[str]:
    """The SubjectData of a chunk of patients (with their site), their events in order."""
    ids = [patient.pk for patient in patients]
    place = _placement(ids)
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in AuditEvent.objects.filter(patient_id__in=ids).order_by("patient_id", "at", "id"):
        events[event.patient_id].append(event)
    for patient in patients:
        code = patient.site.code
        runs: list[tuple[Any, list[str]]] = []
        for event in events.get(patient.pk, ()):
            change = _changes(event, code, place, roles)
            if change is None:
                continue
            key, items = change
            if runs and runs[-1][0] == key:
                runs[-1][1].extend(items)
            else:
                runs.append((key, items))
        yield (
            element(
                "SubjectData",
                [empty("SiteRef", LocationOID=location_oid(code)), _containers(runs)],
                SubjectKey=f"{code}/{patient.patient_id}",
                **CONTEXT,
            )
        )


def actor_ids(site_ids: Iterable[int] | None) -> Iterator[int]:
    """Everyone who entered or changed data of these sites (None: every site)."""
    events = AuditEvent.objects.exclude(actor_id=None).exclude(patient_id=None)
    if site_ids is not None:
        events = events.filter(site_id__in=list(site_ids))
    yield from events.values_list("actor_id", flat=True).distinct().order_by()


__all__ = ["actor_ids", "subjects"]
