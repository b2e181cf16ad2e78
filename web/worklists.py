"""The work lists of the top bar: what is waiting for this person, by role (issue 18).

- coordinators (whoever writes a site's records): patients whose next visit is due, draft visits
  to finish, data queries to answer, patients' questionnaire invitations still pending;
- monitors (whoever verifies): visits submitted and awaiting verification;
- investigators (whoever signs): visits verified and awaiting a signature.

Who has which list, and at which sites, is registry.access's answer (Action, Step, Grants), never
a role name written here: a person with several roles sees each of their lists, and a data
manager's registry-wide roles give their lists at every site. The current site of the top bar
narrows every list to it, as it narrows the patient list.

The top bar shows every list's count on every page: `badges` counts all of the person's lists in
one query (none when the person has no list).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from crf.models import DataQuery, ProInvitation, Visit, VitalStatus
from crf.pro_models import pending_invitations as pending
from registry.access import Action, Grants, Step
from registry.models import Patient
from web.selectors import COUNT_CAP, OVERDUE_AFTER_DAYS, overdue_cutoff


@dataclass(frozen=True)
class Worklist:
    slug: str
    title: str  # the page's heading
    label: str  # the top bar's link
    who: Action | Step  # what a person must be allowed at a site to have the list there
    about: str  # one sentence under the heading: what is listed, and what to do


DUE, DRAFTS, QUERIES, INVITATIONS, VERIFY, SIGN = (
    "due", "drafts", "queries", "invitations", "verify", "sign",
)  # fmt: skip

WORKLISTS: tuple[Worklist, ...] = (
    Worklist(
        DUE,
        "Visits due",
        "Visits due",
        Action.WRITE,
        f"Patients with no visit in the last {OVERDUE_AFTER_DAYS} days, or none yet (the "
        "patient list's “overdue” rule), longest waiting first. Patients recorded as dead "
        "are not listed.",
    ),
    Worklist(
        DRAFTS,
        "Drafts to finish",
        "Drafts",
        Action.WRITE,
        "Visits saved as drafts: complete and submit them for verification.",
    ),
    Worklist(
        QUERIES,
        "Data queries to answer",
        "Queries to answer",
        Step.ANSWER_QUERY,
        "Open data queries on the site's visits, oldest first: answer them or correct the data.",
    ),
    Worklist(
        INVITATIONS,
        "Questionnaire invitations pending",
        "Invitations pending",
        Action.WRITE,
        "Invitations to answer questionnaires that the patient has not answered yet and that "
        "have not expired, those expiring first at the top.",
    ),
    Worklist(
        VERIFY,
        "Visits to verify",
        "To verify",
        Step.VERIFY,
        "Submitted visits awaiting verification against the source documents. A visit with "
        "open data queries can be verified once they are closed.",
    ),
    Worklist(
        SIGN,
        "Visits awaiting my signature",
        "To sign",
        Step.SIGN,
        "Verified visits of the sites where you sign, awaiting your signature.",
    ),
)
BY_SLUG = {worklist.slug: worklist for worklist in WORKLISTS}


def scope(grants: Grants, what: Action | Step, current_site_id: int | None) -> set[int] | None:
    """The ids of the sites where the person has this list; None means every site.

    With a current site, that site alone (or none, when the person's roles there do not give
    the list): the switch narrows, it never widens.
    """
    if current_site_id is not None:
        return {current_site_id} if grants.can(what, current_site_id) else set()
    return grants.site_ids(what)


def _at(ids: set[int] | None, site_field: str) -> Q:
    return Q() if ids is None else Q(**{f"{site_field}_id__in": sorted(ids)})


# --- the lists ----------------------------------------------------------------------------


def due_patients(ids: set[int] | None, today: date | None = None) -> QuerySet[Patient]:
    """Patients whose next visit is due: the patient list's overdue rule (no visit since
    `overdue_cutoff`, or none at all), less the patients recorded as dead. Never seen first,
    then by the date of the last visit."""
    recent = Visit.objects.filter(patient_id=OuterRef("pk"), visit_date__gte=overdue_cutoff(today))
    dead = VitalStatus.objects.filter(patient_id=OuterRef("pk"), status=VitalStatus.Status.DEAD)
    last = Visit.objects.filter(patient_id=OuterRef("pk")).order_by("-visit_date")
    return (
        Patient.objects.filter(_at(ids, "site"))
        .filter(~Exists(recent), ~Exists(dead))
        .annotate(last_visit=Subquery(last.values("visit_date")[:1]))
        .select_related("site")
        .order_by(F("last_visit").asc(nulls_first=True), "site_id", "patient_id")
    )


def due_since(last_visit: date | None) -> date | None:
    """When the next visit became due: the rule's interval after the last one."""
    return None if last_visit is None else last_visit + timedelta(days=OVERDUE_AFTER_DAYS)


def _visits(status: str, ids: set[int] | None) -> QuerySet[Visit]:
    return Visit.objects.filter(_at(ids, "patient__site"), status=status).select_related(
        "patient__site"
    )


def draft_visits(ids: set[int] | None) -> QuerySet[Visit]:
    return _visits(Visit.Status.DRAFT, ids).order_by("visit_date", "id")


def visits_to_verify(ids: set[int] | None) -> QuerySet[Visit]:
    """Submitted visits, with their open data queries counted (verifying needs them closed)."""
    open_queries = (
        DataQuery.objects.filter(visit_id=OuterRef("pk"))
        .exclude(status=DataQuery.Status.CLOSED)
        .order_by()
        .values("visit_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        _visits(Visit.Status.SUBMITTED, ids)
        .annotate(open_queries=Coalesce(Subquery(open_queries), 0))
        .order_by("visit_date", "id")
    )


def visits_to_sign(ids: set[int] | None) -> QuerySet[Visit]:
    return (
        _visits(Visit.Status.VERIFIED, ids)
        .select_related("verified_by")
        .order_by("verified_at", "visit_date", "id")
    )


def queries_to_answer(ids: set[int] | None) -> QuerySet[DataQuery]:
    """Open queries (an answered one waits for its monitor, not for the coordinator)."""
    return (
        DataQuery.objects.filter(_at(ids, "visit__patient__site"), status=DataQuery.Status.OPEN)
        .select_related("visit__patient__site", "raised_by")
        .order_by("raised_at", "id")
    )


def pending_invitations(ids: set[int] | None) -> QuerySet[ProInvitation]:
    """Neither answered nor revoked nor expired (ProInvitation.is_pending, in the database)."""
    return (
        ProInvitation.objects.filter(_at(ids, "patient__site"), pending())
        .select_related("patient__site", "visit")
        .order_by("expires_at", "id")
    )


LISTS = {
    DUE: due_patients,
    DRAFTS: draft_visits,
    QUERIES: queries_to_answer,
    INVITATIONS: pending_invitations,
    VERIFY: visits_to_verify,
    SIGN: visits_to_sign,
}


# --- the top bar's counts -----------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    worklist: Worklist
    count: int
    capped: bool  # more than `count`: the count stopped at COUNT_CAP


def lists_of(grants: Grants) -> list[Worklist]:
    """The lists a person has at some site, in the top bar's order."""
    return [worklist for worklist in WORKLISTS if grants.can_anywhere(worklist.who)]


def badges(grants: Grants, current_site_id: int | None) -> list[Badge]:
    """Each of the person's lists with its count, in one query whatever the data and lists."""
    worklists = lists_of(grants)
    counted: dict[str, QuerySet] = {}
    for worklist in worklists:
        ids = scope(grants, worklist.who, current_site_id)
        if ids is not None and not ids:
            continue  # no site in scope: nothing to count, nothing to ask the database
        rows = LISTS[worklist.slug](ids).order_by().values("pk")
        if worklist.slug == DUE:
            # An anti-join over every patient of the sites: counted up to the cap, like the
            # patient list's filtered counts (web.selectors.CappedPaginator).
            rows = rows[: COUNT_CAP + 1]
        counted[worklist.slug] = rows
    found = _counts(counted)
    answer = []
    for worklist in worklists:
        count = found.get(worklist.slug, 0)
        answer.append(Badge(worklist, min(count, COUNT_CAP), count > COUNT_CAP))
    return answer


def _counts(querysets: dict[str, QuerySet]) -> dict[str, int]:
    """The number of rows of each queryset, as one SELECT of scalar subqueries (each uses its
    own indexes: the visits' status, the queries' status, the patients' visits by date).

    The top bar is drawn on every page: one round trip rather than one per list.
    """
    if not querysets:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    for index, queryset in enumerate(querysets.values()):
        sql, values = queryset.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS worklist_{index})")
        params.extend(values)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, (int(n) for n in row), strict=True))
