"""Who is looking, at which site: computed once per request and shared by views and templates.

The current site is kept in the session ("switch site"). It decides which site's patients the
list shows and where a new patient is registered; it never widens access — every page still asks
registry.access about the record it shows.
"""

from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest

from registry.access import ROLE_ACTIONS, Action
from registry.models import Membership, Site

SESSION_KEY = "web_site_id"
ALL_SITES = "all"


@dataclass
class WebState:
    request: HttpRequest

    @cached_property
    def memberships(self) -> list[tuple[int | None, str]]:
        user = self.request.user
        if not user.is_authenticated:
            return []
        return list(Membership.objects.filter(user=user).values_list("site_id", "role"))

    @cached_property
    def is_data_manager(self) -> bool:
        return any(role == Membership.Role.DATA_MANAGER for _, role in self.memberships)

    @cached_property
    def sites(self) -> list[Site]:
        """The sites the user may read, by code."""
        if self.is_data_manager:
            return list(Site.objects.order_by("code"))
        ids = {site_id for site_id, role in self.memberships if Action.READ in ROLE_ACTIONS[role]}
        return list(Site.objects.filter(pk__in=ids).order_by("code"))

    @cached_property
    def current_site(self) -> Site | None:
        """The site chosen in the session; None means "all my sites" (offered with several)."""
        chosen = self.request.session.get(SESSION_KEY)
        for site in self.sites:
            if site.pk == chosen:
                return site
        if len(self.sites) == 1:
            return self.sites[0]
        return None

    def roles_at(self, site_id: int) -> set[str]:
        return {role for held_at, role in self.memberships if held_at in (site_id, None)}

    def can(self, action: Action | str, site_id: int) -> bool:
        return any(action in ROLE_ACTIONS[role] for role in self.roles_at(site_id))

    @cached_property
    def writable_sites(self) -> list[Site]:
        return [site for site in self.sites if self.can(Action.WRITE, site.pk)]

    @cached_property
    def can_query_somewhere(self) -> bool:
        return any(self.can(Action.QUERY, site.pk) for site in self.sites)

    @cached_property
    def can_report(self) -> bool:
        """Registry-wide reports (/reports/): investigators and data managers."""
        return any(Action.REPORT in ROLE_ACTIONS[role] for _, role in self.memberships)

    @property
    def role_labels(self) -> list[str]:
        """The user's roles at the current site (or anywhere, with all sites shown), for people."""
        labels = dict(Membership.Role.choices)
        if self.current_site is not None:
            roles = self.roles_at(self.current_site.pk)
        else:
            roles = {role for _, role in self.memberships}
        return [labels[role] for role in sorted(roles)]


def web_state(request: HttpRequest) -> WebState:
    state = getattr(request, "_web_state", None)
    if state is None:
        state = WebState(request)
        request._web_state = state  # type: ignore[attr-defined]
    return state
