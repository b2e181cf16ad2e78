"""Reads of the registry's own tables shared by several paths (web pages, API, downloads).

The audit trail is read here once for every consumer, so that the CSV export and the API answer
the same filter with the same events.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from registry.models import AuditEvent


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`: the trail's dates are whole UTC days."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_trail(
    *,
    site_id: int | None = None,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    source: str | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events matching every filter given, oldest first (at, then id).

    `since` and `until` are both inclusive. A date is the whole UTC day: `since` from its
    midnight, `until` up to the next midnight. A date-time is that instant (aware: the caller
    converts naive ones). Bounds are ranges on `at` itself so that the (site_id, at) and
    (patient_id, at) indexes serve the filtered reads.
    """
    events = AuditEvent.objects.all()
    if site_id is not None:
        events = events.filter(site_id=site_id)
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    if object_type is not None:
        events = events.filter(object_type=object_type)
    if object_id is not None:
        events = events.filter(object_id=object_id)
    if source is not None:
        events = events.filter(source=source)
    if action is not None:
        events = events.filter(action=action)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if since is not None:
        # datetime is a subclass of date: test for it first.
        start = since if isinstance(since, datetime) else day_start(since)
        events = events.filter(at__gte=start)
    if until is not None:
        if isinstance(until, datetime):
            events = events.filter(at__lte=until)
        elif until < date.max:  # the last representable day has no next midnight: no bound
            events = events.filter(at__lt=day_start(until + timedelta(days=1)))
    return events.order_by("at", "id")
