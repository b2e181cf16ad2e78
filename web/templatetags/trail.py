"""Template helpers of the audit trail and the data queries: people's names, times in a site's
clock to the second, the labels of visit document paths (web.history, web.labels)."""

from datetime import datetime
from typing import Any

from django import template

from web import history
from web.labels import field_label as _field_label
from web.labels import form_anchor as _form_anchor

register = template.Library()


@register.filter
def person(user: Any) -> str:
    """A user's full name, else their username."""
    return history.person_name(user)


@register.filter
def site_time(value: datetime | None, time_zone: str | None) -> str:
    """YYYY-MM-DD HH:MM:SS TZ in the site's time zone."""
    return history.local_time(value, time_zone)


@register.filter
def field_label(path: str) -> str:
    return _field_label(path or "")


@register.filter
def form_anchor(path: str) -> str:
    return _form_anchor(path or "")


@register.simple_tag
def history_entries(events: Any, time_zone: str | None) -> list[history.Entry]:
    """{% history_entries events site.time_zone as entries %}: a page of events in words."""
    return history.history_entries(events, time_zone)
