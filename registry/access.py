"""Who may see and do what at which site (docs/architecture.md "Roles"): the one place that says so.

Every path that shows or changes site data — API, web pages, reports, downloads, the review
services of crf, the admin — asks here, so that the rule "anyone without a membership of a site
cannot learn that a record of that site exists" is written once. Selectors return querysets
(composable, one SQL query each); the checks raise `NotVisible` (answered as 404: the record might
as well not exist) before `PermissionDenied` (answered as 403: the caller belongs to the site but
the role may not do this).

Two vocabularies, both tables below:
- `Action`: what a role may do with a site's records (read, write, sign, query) or registry-wide
  (report, audit). Each role grants a set of actions (ROLE_ACTIONS).
- `Step`: a step of a visit's review (verify, sign, unlock; raise, answer, close a data query),
  each allowed to a set of roles (STEP_ROLES). Most follow from the actions; answering a query
  and unlocking a visit do not.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import QuerySet

from registry.models import Membership, Patient, Role, Site


class Action(StrEnum):
    READ = "read"  # see the site's patients, visits, scores and audit trail
    WRITE = "write"  # create and edit patients and visits (web forms, API submissions)
    SIGN = "sign"  # sign and lock visits
    QUERY = "query"  # raise and close data queries, verify visits
    REPORT = "report"  # registry-wide aggregate reports
    AUDIT = "audit"  # the whole audit trail, registry-wide (API and CSV export)
    IMPORT = "import"  # migrate another system's records into any site (the REDCap import)


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.COORDINATOR: frozenset({Action.READ, Action.WRITE}),
    Role.INVESTIGATOR: frozenset({Action.READ, Action.SIGN, Action.REPORT}),
    Role.MONITOR: frozenset({Action.READ, Action.QUERY}),
    # The API service account of one site writes it and reads back what it wrote.
    Role.SUBMITTER: frozenset({Action.READ, Action.WRITE}),
    # Registry-wide: every site, but data managers correct data through queries, not by editing.
    Role.DATA_MANAGER: frozenset(
        {Action.READ, Action.QUERY, Action.REPORT, Action.AUDIT, Action.IMPORT}
    ),
}


def roles_allowing(action: Action | str) -> frozenset[str]:
    return frozenset(role for role, actions in ROLE_ACTIONS.items() if action in actions)


class Step(StrEnum):
    """A step of a visit's review (crf.services); the value completes "may ..." in messages."""

    VERIFY = "verify a visit"
    SIGN = "sign a visit"
    UNLOCK = "unlock a visit"
    RAISE_QUERY = "raise a data query"
    ANSWER_QUERY = "answer a data query"
    CLOSE_QUERY = "close a data query"
    # Not a visit's step, but signed like one (crf.attestations).
    ATTEST_REFRACTORY = "attest that mimics and malignancy were excluded"


STEP_ROLES: dict[Step, frozenset[str]] = {
    Step.VERIFY: roles_allowing(Action.QUERY),
    Step.SIGN: roles_allowing(Action.SIGN),
    # A clinical judgement signed with the password: whoever signs the site's visits.
    Step.ATTEST_REFRACTORY: roles_allowing(Action.SIGN),
    Step.RAISE_QUERY: roles_allowing(Action.QUERY),
    Step.CLOSE_QUERY: roles_allowing(Action.QUERY),
    # Whoever enters the site's data at the site answers for it (not the API account), or the
    # data manager.
    Step.ANSWER_QUERY: frozenset({Role.COORDINATOR, Role.DATA_MANAGER}),
    # Unlocking voids an investigator's signature: the registry-wide data manager only.
    Step.UNLOCK: frozenset({Role.DATA_MANAGER}),
}


def roles_for(what: Action | Step | str) -> frozenset[str]:
    """The roles that may do `what` (an action, or a step of the review)."""
    return STEP_ROLES[what] if isinstance(what, Step) else roles_allowing(what)


class NotVisible(ObjectDoesNotExist):
    """The record belongs to a site the caller has no membership of (answered as 404)."""


@dataclass(frozen=True)
class Grants:
    """A user's memberships, read once: answers every question about them without a query.

    The web pages keep one per request (web.state); the functions below read one per call.
    """

    memberships: tuple[tuple[int | None, str], ...] = ()

    def roles_at(self, site_id: int) -> frozenset[str]:
        """The roles held at a site; a data manager holds "data_manager" at every site."""
        return frozenset(role for held_at, role in self.memberships if held_at in (site_id, None))

    def can(self, what: Action | Step | str, site_id: int) -> bool:
        return bool(self.roles_at(site_id) & roles_for(what))

    def can_anywhere(self, what: Action | Step | str) -> bool:
        """Whether any of the roles allows `what` (at some site, or registry-wide)."""
        allowed = roles_for(what)
        return any(role in allowed for _, role in self.memberships)

    def site_ids(self, action: Action | Step | str) -> set[int] | None:
        """The ids of the sites where the user may do `action` (or take a step of the review);
        None means every site."""
        allowed = roles_for(action)
        ids: set[int] = set()
        for site_id, role in self.memberships:
            if role not in allowed:
                continue
            if site_id is None:  # a registry-wide (data manager) membership
                return None
            ids.add(site_id)
        return ids

    @property
    def sees_every_site(self) -> bool:
        return self.site_ids(Action.READ) is None


def grants_of(user: Any) -> Grants:
    """The user's memberships (one query); none for anonymous and inactive users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Grants()
    return Grants(tuple(Membership.objects.filter(user=user).values_list("site_id", "role")))


def _site_id(site: Site | int) -> int:
    return site if isinstance(site, int) else site.pk


def sites_for(user: Any, action: Action | str = Action.READ) -> QuerySet[Site]:
    """The sites where `user` may do `action`."""
    ids = grants_of(user).site_ids(action)
    return Site.objects.all() if ids is None else Site.objects.filter(pk__in=ids)


def restrict(
    queryset: QuerySet, user: Any, action: Action | str = Action.READ, *, site_field: str = "site"
) -> QuerySet:
    """`queryset` narrowed to the rows of sites where `user` may do `action`.

    `site_field` is the lookup path from the queryset's model to its site ("site",
    "patient__site", "visit__patient__site"): the building block of every selector that shows
    site data (patients here, visits in crf.selectors, reports and scores in theirs).
    """
    ids = grants_of(user).site_ids(action)
    return queryset if ids is None else queryset.filter(**{f"{site_field}_id__in": ids})


def patients_visible_to(user: Any, action: Action | str = Action.READ) -> QuerySet[Patient]:
    return restrict(Patient.objects.all(), user, action)


def roles_at(user: Any, site: Site | int) -> set[str]:
    """The user's roles at a site; a data manager holds "data_manager" at every site."""
    return set(grants_of(user).roles_at(_site_id(site)))


def can(user: Any, what: Action | Step | str, site: Site | int) -> bool:
    return grants_of(user).can(what, _site_id(site))


def can_anywhere(user: Any, what: Action | Step | str) -> bool:
    """Registry-wide permissions (reports, the audit trail): allowed by any of the user's roles."""
    return grants_of(user).can_anywhere(what)


def require(
    user: Any, what: Action | Step | str, site: Site | int, *, grants: Grants | None = None
) -> None:
    """Raise NotVisible if the user cannot see the site, PermissionDenied if the role may not.
    `grants`: the user's, when the caller has read them already (a page reads them once)."""
    grants = grants if grants is not None else grants_of(user)
    site_id = _site_id(site)
    if not grants.can(Action.READ, site_id):
        raise NotVisible("No such record.")
    if not grants.can(what, site_id):
        names = ", ".join(sorted(grants.roles_at(site_id)))
        raise PermissionDenied(f"Your role at this site ({names}) may not {what} its records.")


def require_step(user: Any, step: Step, site: Site | int) -> None:
    """PermissionDenied unless the user's role at the site may take this step of the review.

    For the services, whose callers found the record through `require` (404 first) already:
    here a stranger to the site is refused like any other role.
    """
    if not can(user, step, site):
        raise PermissionDenied(f"Only a {' or '.join(sorted(STEP_ROLES[step]))} may {step}.")


def may_use_admin(user: Any) -> bool:
    """The Django admin (the data managers' back office, registry.admin): active staff accounts.

    What each may change there is Django's model permissions; every change is audited.
    """
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))
