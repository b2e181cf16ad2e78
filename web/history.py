"""The audit trail as people read it: names for users, labels for fields and codes, times in the
site's own clock to the second.

The trail stores what a machine needs (registry.audit: attribute names such as answered_by_id,
codes, ids, ISO times in UTC); a history page shows "Answered by: Ana Ruiz" instead of
"answered_by_id 2". A page of events costs a fixed number of queries: the people named on the
page are read at once, and so are the enzymes of its lab results.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from crf.models import LabResult
from registry.models import AuditEvent
from web.labels import (
    CHAQ_ITEM_LABELS,
    HAQ_CATEGORY_LABELS,
    HAQ_ITEM_LABELS,
    MMT_GROUP_LABELS,
    VISIT_FIELD_LABELS,
    field_label,
)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def zone(name: str | None) -> ZoneInfo:
    """A site's time zone; an unknown name (the field is validated, but the trail outlives
    edits) falls back to the project's."""
    try:
        return ZoneInfo(name or timezone.get_default_timezone_name())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(timezone.get_default_timezone_name())


def local_time(value: datetime | None, time_zone: str | None) -> str:
    """YYYY-MM-DD HH:MM:SS and the zone's abbreviation (GMT, BST, CET…) of that instant."""
    if value is None:
        return ""
    return timezone.localtime(value, zone(time_zone)).strftime(TIME_FORMAT)


def person_name(user: Any) -> str:
    """Full name, else the username."""
    if user is None:
        return ""
    return user.get_full_name().strip() or user.get_username()


# --- labels of the stored attribute names ----------------------------------------------------


@cache
def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


@cache
def _field(object_type: str, name: str) -> models.Field | None:
    """The model field behind a stored attribute name (`answered_by_id` is answered_by)."""
    model = _model(object_type)
    if model is None or not name:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        pass
    for field in model._meta.concrete_fields:
        if field.attname == name:
            return field
    return None


def _document_path(object_type: str, name: str, enzyme: str | None) -> str | None:
    """The visit document path of an instrument's attribute, whose label the form shows."""
    if object_type == "crf.visit" and name in VISIT_FIELD_LABELS:
        return name
    if object_type == "crf.mmt8":
        if name in MMT_GROUP_LABELS:
            return f"mmt8.{name}"
        group, _, side = name.rpartition("_")
        if group in MMT_GROUP_LABELS and side in ("right", "left"):
            return f"mmt8.{group}.{side}"
        return {"scale": "mmt8.scale", "side": "mmt8.side", "legacy_total": "mmt8.total"}.get(name)
    if object_type == "crf.labresult" and enzyme and name in ("value", "unit", "uln"):
        return f"labs.{enzyme}.{name}"
    if object_type == "crf.haq":
        if name in HAQ_ITEM_LABELS or name in CHAQ_ITEM_LABELS:
            return f"haq.items.{name}"
        return {"aids": "haq.aids", "help": "haq.help", "legacy_score": "haq.score"}.get(name)
    return None


def attribute_label(object_type: str, name: str, enzyme: str | None = None) -> str:
    """The words for a stored attribute of an audited record: the visit form's label where the
    attribute is a field of the visit document, else the model field's verbose name."""
    path = _document_path(object_type, name, enzyme)
    if path is not None:
        return field_label(path)
    field = _field(object_type, name)
    if field is None:
        return name
    return capfirst(str(field.verbose_name))


# --- values -----------------------------------------------------------------------------------


def _is_user(field: models.Field | None) -> bool:
    return bool(field is not None and field.is_relation and field.related_model is _user_model())


def _user_model() -> type[models.Model]:
    return get_user_model()


def _as_id(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


@dataclass
class _Context:
    time_zone: str
    users: dict[int, str]


def _value(object_type: str, name: str, text: str | None, ctx: _Context) -> str | None:
    """A stored value as people read it: a person's name, a code's label, a time in the site's
    clock. None stays None (no value)."""
    if text is None:
        return None
    if object_type == "crf.dataquery" and name == "field":
        return field_label(text)
    field = _field(object_type, name)
    if field is None:
        return text
    if _is_user(field):
        number = _as_id(text)
        return ctx.users.get(number, f"user #{text}") if number is not None else text
    if field.is_relation and field.related_model is not None:
        return f"{capfirst(str(field.related_model._meta.verbose_name))} #{text}"
    if field.choices:
        return {str(key): str(label) for key, label in field.flatchoices}.get(text, text)
    if isinstance(field, models.BooleanField):
        return {"True": "Yes", "False": "No"}.get(text, text)
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(text)
        return local_time(moment, ctx.time_zone) if moment is not None else text
    if object_type == "crf.haq" and name in ("aids", "help", "not_applicable"):
        return _haq_list(text)
    return text


def _haq_list(text: str) -> str:
    try:
        codes = json.loads(text)
    except ValueError:
        return text
    if not isinstance(codes, list):
        return text
    labels = {**HAQ_CATEGORY_LABELS, **HAQ_ITEM_LABELS}
    return ", ".join(labels.get(str(code), str(code)) for code in codes) or "none"


def _record(text: str | None) -> dict[str, Any] | None:
    """A created or deleted record's JSON (registry.audit.event_values), or None."""
    if not text or not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# --- entries ----------------------------------------------------------------------------------


@dataclass
class Entry:
    """One audit event, in words."""

    event: AuditEvent
    when: str
    who: str
    field: str  # the changed field's label; empty for a whole record
    old: str | None
    new: str | None
    # A created or deleted record as (label, value) pairs; None for a change of one field.
    record: list[tuple[str, str]] | None


def _user_ids(events: list[AuditEvent], records: dict[int, dict[str, Any]]) -> set[int]:
    ids: set[int] = set()
    for event in events:
        if event.pk in records:
            names = [n for n in records[event.pk] if _is_user(_field(event.object_type, n))]
            values = [str(records[event.pk][n]) for n in names]
        elif _is_user(_field(event.object_type, event.field)):
            values = [v for v in (event.old_value, event.new_value) if v is not None]
        else:
            continue
        ids.update(number for number in map(_as_id, values) if number is not None)
    return ids


def _enzymes(events: list[AuditEvent], records: dict[int, dict[str, Any]]) -> dict[int, str]:
    """Which enzyme each lab result of the page measures: from its create or delete record when
    the page holds it, else from the row (one query for the page)."""
    enzymes = {
        e.object_id: str(records[e.pk].get("enzyme"))
        for e in events
        if e.object_type == "crf.labresult" and e.pk in records and records[e.pk].get("enzyme")
    }
    missing = {
        e.object_id
        for e in events
        if e.object_type == "crf.labresult" and e.object_id not in enzymes
    }
    if missing:
        enzymes.update(LabResult.objects.filter(pk__in=missing).values_list("id", "enzyme"))
    return enzymes


def history_entries(events: Any, time_zone: str | None) -> list[Entry]:
    """A page of audit events (newest first, actors selected) as entries to show."""
    events = list(events)
    records = {}
    for e in events:
        if e.action in (AuditEvent.Action.CREATE, AuditEvent.Action.DELETE):
            record = _record(e.new_value if e.action == AuditEvent.Action.CREATE else e.old_value)
            if record is not None:
                records[e.pk] = record
    ids = _user_ids(events, records)
    users = {}
    if ids:
        users = {user.pk: person_name(user) for user in _user_model().objects.filter(pk__in=ids)}
    enzymes = _enzymes(events, records)
    ctx = _Context(time_zone=zone(time_zone).key, users=users)
    entries = []
    for event in events:
        kind = event.object_type
        enzyme = enzymes.get(event.object_id) if kind == "crf.labresult" else None
        record = None
        if event.pk in records:
            record = [
                (attribute_label(kind, name, enzyme), _value(kind, name, _text(value), ctx))
                for name, value in records[event.pk].items()
                if value not in (None, "", "[]")
            ]
        entries.append(
            Entry(
                event=event,
                when=local_time(event.at, ctx.time_zone),
                who=person_name(event.actor),
                field=attribute_label(kind, event.field, enzyme) if event.field else "",
                old=_value(kind, event.field, event.old_value, ctx),
                new=_value(kind, event.field, event.new_value, ctx),
                record=record,
            )
        )
    return entries


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)
