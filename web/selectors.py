"""Reads of the web pages. Each returns a queryset or a fixed number of queries' worth of rows,
whatever the number of patients or visits (tests count them)."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

from crf.models import DataQuery, LabResult, Visit
from registry.access import Action, patients_visible_to, restrict
from registry.models import AuditEvent, Patient
from scoring.models import ResponseRecord

# Registry rule for the patient list's "overdue" filter: IMACS-style longitudinal follow-up sees
# patients at least every six months, so a patient is overdue when the latest visit is more than
# 183 days ago — or when there is no visit at all (the baseline visit is due).
OVERDUE_AFTER_DAYS = 183

PAGE_SIZE = 50
# Filtered lists count at most this many patients (CappedPaginator).
COUNT_CAP = 1000

# The patient list's "status" filter: a patient matches when any of their visits is in that
# state (the coordinator's and monitor's work queues), or has a data query still open.
STATUS_FILTERS = {
    "draft": ("Has a draft visit", Q(status=Visit.Status.DRAFT)),
    "submitted": ("Has a visit awaiting verification", Q(status=Visit.Status.SUBMITTED)),
    "verified": ("Has a visit awaiting signature", Q(status=Visit.Status.VERIFIED)),
    "locked": ("Has a signed (locked) visit", Q(status=Visit.Status.LOCKED)),
}
OPEN_QUERIES = "open_queries"


def overdue_cutoff(today: date | None = None) -> date:
    return (today or date.today()) - timedelta(days=OVERDUE_AFTER_DAYS)


# --- the patient list's columns and their order -----------------------------------------------


def _visits_of_row() -> QuerySet[Visit]:
    return Visit.objects.filter(patient_id=OuterRef("pk")).order_by()


def _n_visits() -> Coalesce:
    return Coalesce(
        Subquery(_visits_of_row().values("patient_id").annotate(n=Count("id")).values("n")), 0
    )


def _last_visit() -> Subquery:
    return Subquery(_visits_of_row().order_by("-visit_date").values("visit_date")[:1])


def _n_open_queries() -> Coalesce:
    open_queries = (
        DataQuery.objects.filter(visit__patient_id=OuterRef("pk"), status=DataQuery.Status.OPEN)
        .order_by()
        .values("visit__patient_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(open_queries), 0)


def _latest_tis(column: str) -> Subquery:
    """A column of the patient's latest stored ACR/EULAR total improvement score against the
    patient's baseline visit (what the patient page's TIS column and chart show), by the date of
    the visit scored. Records not done (pending, failed) and scores not computed are skipped:
    the latest score there is, not a blank for a visit still being scored."""
    records = ResponseRecord.objects.filter(
        patient_id=OuterRef("pk"),
        algorithm=ResponseRecord.Algorithm.ACR_EULAR,
        reference_kind=ResponseRecord.ReferenceKind.BASELINE,
        status=ResponseRecord.Status.DONE,
        score__isnull=False,
    ).order_by("-visit__visit_date", "-visit_id")
    return Subquery(records.values(column)[:1])


# The sortable columns of the patient list (`?sort=key`, `?sort=-key` for descending): what each
# sorts by, and the direction of a first click (dates and counts: the largest first). Rows that
# tie keep the default order (site, site patient id).
SORT_COLUMNS: dict[str, tuple[Any, bool]] = {
    "patient": (None, False),  # the default: the unique index (site, patient id)
    "site": (F("site__code"), False),
    "diagnosis": (F("diagnosis"), False),
    "serology": (F("serology_group"), False),
    "visits": (_n_visits, True),
    "last_visit": (_last_visit, True),
    "tis": (lambda: _latest_tis("score"), True),
    "open_queries": (_n_open_queries, True),
}
DEFAULT_SORT = "patient"


def parse_sort(value: str) -> tuple[str, bool] | None:
    """("key", descending) of a `sort` parameter; None when it names no sortable column."""
    descending = value.startswith("-")
    key = value[1:] if descending else value
    if key not in SORT_COLUMNS:
        return None
    return key, descending


def _ordering(key: str, descending: bool) -> tuple[dict[str, Any], list[Any]]:
    """The annotation and ORDER BY of a sort. A patient without a visit counts as seen longest
    ago (first when sorting by the oldest last visit); a patient without a score comes last
    either way (no score is not a low score). A key that names no column sorts by default."""
    if key == DEFAULT_SORT or key not in SORT_COLUMNS:
        if descending:
            return {}, ["-site_id", "-patient_id"]
        return {}, ["site_id", "patient_id"]
    expression, _ = SORT_COLUMNS[key]
    value = expression() if callable(expression) else expression
    if key == "last_visit":
        order: OrderBy = (
            F("sort_value").desc(nulls_last=True)
            if descending
            else F("sort_value").asc(nulls_first=True)
        )
    elif descending:
        order = F("sort_value").desc(nulls_last=True)
    else:
        order = F("sort_value").asc(nulls_last=True)
    return {"sort_value": value}, [order, "site_id", "patient_id"]


def patient_list(
    *,
    user: Any,
    site_id: int | None,
    search: str = "",
    diagnosis: str = "",
    serology: str = "",
    status: str = "",
    overdue: bool = False,
    sort: str = DEFAULT_SORT,
    descending: bool = False,
) -> QuerySet[Patient]:
    """The patients the user may read, of one site (or all theirs), filtered and sorted.

    By default ordered by (site, site patient id), the unique index registry_patient_site_id.
    Page through `.values_list("site_id", "patient_id")` and fetch the page's rows with
    `patient_rows`: the keys of a page come from that index alone (an index-only scan, even deep
    in a site of 20,000 patients), where paging the rows themselves makes PostgreSQL sort the
    whole site. Another sort (SORT_COLUMNS) is one correlated subquery per patient of the
    filtered list, each an index lookup, in the same single query.
    """
    patients = patients_visible_to(user, Action.READ)
    if site_id is not None:
        patients = patients.filter(site_id=site_id)
    if search:
        patients = patients.filter(patient_id__icontains=search)
    if diagnosis:
        patients = patients.filter(diagnosis=diagnosis)
    if serology:
        patients = patients.filter(serology_group=serology)
    if status in STATUS_FILTERS:
        condition = STATUS_FILTERS[status][1]
        patients = patients.filter(
            Exists(Visit.objects.filter(condition, patient_id=OuterRef("pk")))
        )
    elif status == OPEN_QUERIES:
        patients = patients.filter(
            Exists(
                DataQuery.objects.filter(
                    visit__patient_id=OuterRef("pk"), status=DataQuery.Status.OPEN
                )
            )
        )
    if overdue:
        # An anti-join on crf_visit_patient_date (patient_id, visit_date): no recent visit.
        recent = Visit.objects.filter(patient_id=OuterRef("pk"), visit_date__gte=overdue_cutoff())
        patients = patients.filter(~Exists(recent))
    annotation, order = _ordering(sort, descending)
    return patients.annotate(**annotation).order_by(*order)


class CappedPaginator(Paginator):
    """A paginator that counts at most `cap` rows.

    An exact count of a filter over the visits (status, overdue) reads every visit of the site;
    nobody pages through thousands of filtered patients — they narrow the filter — so past the cap
    the page says "1000+" and pages stop there.
    """

    def __init__(self, object_list: Any, per_page: int, *, cap: int | None) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.cap is None:
            return super().count
        # Any cap + 1 matching rows count the same as the first ones: without the order the
        # planner is free to stop at whichever it finds first.
        found = self.object_list.order_by()[: self.cap + 1].count()
        if found > self.cap:
            self.capped = True
            return self.cap
        return found


@dataclass(frozen=True)
class LatestTis:
    """The latest ACR/EULAR total improvement score against the baseline visit."""

    score: Decimal
    category: str
    complete: bool | None  # False: a lower bound, core set measures were missing
    visit_date: date  # of the visit scored


@dataclass
class PatientRow:
    patient: Patient
    visits: int
    last_visit: date | None
    open_queries: int
    tis: LatestTis | None = None

    @property
    def overdue(self) -> bool:
        return self.last_visit is None or self.last_visit < overdue_cutoff()


def patient_rows(keys: list[tuple[int, str]]) -> list[PatientRow]:
    """The list page's rows for one page of (site id, site patient id) keys, in their order.

    One query: the page's patients with their number of visits, latest visit date, open queries
    and latest total improvement score as correlated subqueries (each an index lookup:
    crf_visit_patient_date, the query's visit foreign key, the record's patient foreign key), so
    the page costs the same whatever the size of the registry.
    """
    if not keys:
        return []
    by_site: dict[int, list[str]] = {}
    for site_id, patient_id in keys:
        by_site.setdefault(site_id, []).append(patient_id)
    condition = Q()
    for site_id, patient_ids in by_site.items():
        condition |= Q(site_id=site_id, patient_id__in=patient_ids)
    patients = (
        Patient.objects.filter(condition)
        .select_related("site")
        .annotate(
            n_visits=_n_visits(),
            last_visit=_last_visit(),
            n_open_queries=_n_open_queries(),
            tis_score=_latest_tis("score"),
            tis_category=_latest_tis("category"),
            tis_complete=_latest_tis("complete"),
            tis_date=_latest_tis("visit__visit_date"),
        )
    )
    found = {(p.site_id, p.patient_id): p for p in patients}
    return [
        PatientRow(
            p,
            p.n_visits,
            p.last_visit,
            p.n_open_queries,
            LatestTis(p.tis_score, p.tis_category, p.tis_complete, p.tis_date)
            if p.tis_score is not None
            else None,
        )
        for p in (found.get(key) for key in keys)
        if p is not None
    ]


def visits_with_instruments(patient: Patient) -> list[Visit]:
    """A patient's visits in date order with every instrument: three queries."""
    return list(
        Visit.objects.filter(patient=patient)
        .select_related("mmt8", "haq")
        .prefetch_related(Prefetch("labs", queryset=LabResult.objects.order_by("enzyme")))
        .order_by("visit_date", "id")
    )


def visit_with_instruments(pk: int) -> Visit | None:
    return (
        Visit.objects.select_related("mmt8", "haq", "patient__site", "verified_by")
        .prefetch_related(Prefetch("labs", queryset=LabResult.objects.order_by("enzyme")))
        .filter(pk=pk)
        .first()
    )


def open_query_counts(visit_ids: list[int]) -> dict[int, int]:
    # "Open" as the visit page says it: still waiting for an answer (an answered query waits for
    # the monitor, and is counted apart there).
    return dict(
        DataQuery.objects.filter(visit_id__in=visit_ids, status=DataQuery.Status.OPEN)
        .order_by()
        .values("visit_id")
        .annotate(n=Count("id"))
        .values_list("visit_id", "n")
    )


def open_queries(*, user: Any, site_id: int | None) -> QuerySet[DataQuery]:
    """Queries not yet closed on visits the user may read, oldest first (the work queue)."""
    queries = restrict(
        DataQuery.objects.exclude(status=DataQuery.Status.CLOSED),
        user,
        Action.READ,
        site_field="visit__patient__site",
    )
    if site_id is not None:
        queries = queries.filter(visit__patient__site_id=site_id)
    return queries.select_related("visit__patient__site", "raised_by", "answered_by").order_by(
        "raised_at", "id"
    )


# --- audit trail ------------------------------------------------------------------------------

# What a visit's history lists besides the visit: its instruments, queries and signatures, and
# the response records that score it (written by the scoring app, audited with source
# "scoring"; a record's create and delete events hold its visit_id like the others).
VISIT_PARTS = (
    "crf.mmt8",
    "crf.haq",
    "crf.labresult",
    "crf.dataquery",
    "crf.signature",
    ResponseRecord._meta.label_lower,
)


def patient_history(patient: Patient) -> QuerySet[AuditEvent]:
    """Every audit event of a patient and what belongs to them, newest first
    (index registry_audit_patient)."""
    return (
        AuditEvent.objects.filter(patient_id=patient.pk)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def visit_history(visit: Visit) -> list[AuditEvent]:
    """The audit events of a visit and of its instruments, queries and signatures, newest first.

    Instrument rows have their own ids and may have been deleted since; which ones belonged to
    this visit is read from their create and delete events (which hold the whole row, including
    visit_id), so the history stays complete after an instrument was removed.
    """
    parts: set[tuple[str, int]] = set()
    for object_type, object_id, old, new in AuditEvent.objects.filter(
        patient_id=visit.patient_id,
        object_type__in=VISIT_PARTS,
        action__in=[AuditEvent.Action.CREATE, AuditEvent.Action.DELETE],
    ).values_list("object_type", "object_id", "old_value", "new_value"):
        row = _json(new) or _json(old) or {}
        if row.get("visit_id") == str(visit.pk) or row.get("visit_id") == visit.pk:
            parts.add((object_type, object_id))
    condition = Q(object_type="crf.visit", object_id=visit.pk)
    for object_type, object_id in parts:
        condition |= Q(object_type=object_type, object_id=object_id)
    return list(
        AuditEvent.objects.filter(condition, patient_id=visit.patient_id)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def _json(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
