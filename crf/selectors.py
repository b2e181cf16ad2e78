"""Reads of crf's records, narrowed by the access rule (registry.access)."""

from typing import Any

from django.db.models import QuerySet

from crf.models import Visit
from registry.access import Action, restrict


def visits_visible_to(user: Any, action: Action | str = Action.READ) -> QuerySet[Visit]:
    """The visits of the sites where `user` may do `action` (one query)."""
    return restrict(Visit.objects.all(), user, action, site_field="patient__site")
