"""Who is looking, at which site: computed once per request and shared by views and templates.

The current site is kept in the session ("switch site"). It decides which site's patients the
list shows and where a new patient is registered; it never widens access — every page still asks
registry.access about the record it shows. The memberships are read once per request
(registry.access.Grants) and every question below is the access module's answer.
"""

from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest

from interchange.odm.export import may_export
from registry.access import Action, Grants, Step, grants_of
from registry.models import Role, Site

SESSION_KEY = "web_site_id"
ALL_SITES = "all"


@dataclass
class WebState:
    request: HttpRequest

    @cached_property
    def grants(self) -> Grants:
        return grants_of(self.request.user)

    @cached_property
    def sees_every_site(self) -> bool:
        """A registry-wide reader (data manager): every site, and "all sites" always offered."""
        return self.grants.sees_every_site

    @cached_property
    def sites(self) -> list[Site]:
        """The sites the user may read, by code."""
        ids = self.grants.site_ids(Action.READ)
        sites = Site.objects.all() if ids is None else Site.objects.filter(pk__in=ids)
        return list(sites.order_by("code"))

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

    def roles_at(self, site_id: int) -> frozenset[str]:
        return self.grants.roles_at(site_id)

    def can(self, what: Action | Step | str, site_id: int) -> bool:
        return self.grants.can(what, site_id)

    @cached_property
    def writable_sites(self) -> list[Site]:
        return [site for site in self.sites if self.can(Action.WRITE, site.pk)]

    @cached_property
    def can_query_somewhere(self) -> bool:
        return any(self.can(Action.QUERY, site.pk) for site in self.sites)

    @cached_property
    def can_report(self) -> bool:
        """Registry-wide reports (/reports/): investigators and data managers."""
        return self.grants.can_anywhere(Action.REPORT)

    @cached_property
    def can_audit(self) -> bool:
        """The audit export (/audit/): data managers."""
        return self.grants.can_anywhere(Action.AUDIT)

    @cached_property
    def can_export(self) -> bool:
        """The exports page (/exports/): data managers and investigators."""
        return may_export(self.grants)

    @property
    def role_labels(self) -> list[str]:
        """The user's roles at the current site (or anywhere, with all sites shown), for people."""
        labels = dict(Role.choices)
        if self.current_site is not None:
            roles = self.roles_at(self.current_site.pk)
        else:
            roles = frozenset(role for _, role in self.grants.memberships)
        return [labels[role] for role in sorted(roles)]


def web_state(request: HttpRequest) -> WebState:
    state = getattr(request, "_web_state", None)
    if state is None:
        state = WebState(request)
        request._web_state = state  # type: ignore[attr-defined]
    return state
