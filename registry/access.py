"""Who may see and do what at which site (DESIGN.md "Roles").

Every path that shows or changes site data — API, web pages, reports, downloads — asks here, so
that the rule "anyone without a membership of a site cannot learn that a record of that site
exists" is written once. Selectors return querysets (composable, one SQL query each); the checks
raise `NotVisible` (answered as 404: the record might as well not exist) before
`PermissionDenied` (answered as 403: the caller belongs to the site but the role may not do this).
"""

from enum import StrEnum
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet

from registry.models import Membership, Patient, Site

Role = Membership.Role


class Action(StrEnum):
    READ = "read"  # see the site's patients, visits, scores and audit trail
    WRITE = "write"  # create and edit patients and visits (web forms, API submissions)
    SIGN = "sign"  # sign and lock visits
    QUERY = "query"  # raise and close data queries, verify visits
    REPORT = "report"  # registry-wide aggregate reports


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.COORDINATOR: frozenset({Action.READ, Action.WRITE}),
    Role.INVESTIGATOR: frozenset({Action.READ, Action.SIGN, Action.REPORT}),
    Role.MONITOR: frozenset({Action.READ, Action.QUERY}),
    # The API service account of one site writes it and reads back what it wrote.
    Role.SUBMITTER: frozenset({Action.READ, Action.WRITE}),
    # Registry-wide: every site, but data managers correct data through queries, not by editing.
    Role.DATA_MANAGER: frozenset({Action.READ, Action.QUERY, Action.REPORT}),
}


class NotVisible(ObjectDoesNotExist):
    """The record belongs to a site the caller has no membership of (answered as 404)."""


def roles_allowing(action: Action | str) -> list[str]:
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def _memberships(user: Any) -> list[tuple[int | None, str]]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return list(Membership.objects.filter(user=user).values_list("site_id", "role"))


def _site_ids(user: Any, action: Action | str) -> set[int] | None:
    """The ids of the sites where the user may do `action`; None means every site."""
    allowed = set(roles_allowing(action))
    ids: set[int] = set()
    for site_id, role in _memberships(user):
        if role not in allowed:
            continue
        if site_id is None:  # a registry-wide (data manager) membership
            return None
        ids.add(site_id)
    return ids


def sites_for(user: Any, action: Action | str = Action.READ) -> QuerySet[Site]:
    """The sites where `user` may do `action`."""
    ids = _site_ids(user, action)
    return Site.objects.all() if ids is None else Site.objects.filter(pk__in=ids)


def restrict(
    queryset: QuerySet, user: Any, action: Action | str = Action.READ, *, site_field: str = "site"
) -> QuerySet:
    """`queryset` narrowed to the rows of sites where `user` may do `action`.

    `site_field` is the lookup path from the queryset's model to its site ("site",
    "patient__site", "visit__patient__site"): the building block of every selector below and
    of the higher apps' own (reports, scores).
    """
    ids = _site_ids(user, action)
    return queryset if ids is None else queryset.filter(**{f"{site_field}_id__in": ids})


def patients_visible_to(user: Any, action: Action | str = Action.READ) -> QuerySet[Patient]:
    return restrict(Patient.objects.all(), user, action)


def visits_visible_to(user: Any, action: Action | str = Action.READ) -> QuerySet:
    # By name, not by import: registry sits below crf (DESIGN.md "Layout").
    visit_model = apps.get_model("crf", "Visit")
    return restrict(visit_model.objects.all(), user, action, site_field="patient__site")


def roles_at(user: Any, site: Site | int) -> set[str]:
    """The user's roles at a site; a data manager holds "data_manager" at every site."""
    site_id = site if isinstance(site, int) else site.pk
    return {role for held_at, role in _memberships(user) if held_at in (site_id, None)}


def can(user: Any, action: Action | str, site: Site | int) -> bool:
    return any(action in ROLE_ACTIONS[role] for role in roles_at(user, site))


def require(user: Any, action: Action | str, site: Site | int) -> None:
    """Raise NotVisible if the user cannot see the site, PermissionDenied if the role may not."""
    roles = roles_at(user, site)
    if not any(Action.READ in ROLE_ACTIONS[role] for role in roles):
        raise NotVisible("No such record.")
    if not any(action in ROLE_ACTIONS[role] for role in roles):
        names = ", ".join(sorted(roles))
        raise PermissionDenied(f"Your role at this site ({names}) may not {action} its records.")
