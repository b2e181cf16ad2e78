"""The patient list (/patients/): filters, sortable columns, and a page of rows at a fixed
number of queries (web.selectors.patient_list and patient_rows)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry.vocabularies import Diagnosis, SerologyGroup
from web import selectors
from web.state import web_state

# The patient list's columns, in order: (sort key or "", heading, numeric). A column without a
# key is not sortable (the site's, shown with several sites, sorts by site code).
LIST_COLUMNS = (
    ("patient", "Patient", False),
    ("site", "Site", False),
    ("diagnosis", "Diagnosis", False),
    ("serology", "Serology", False),
    ("", "Sex, born", False),
    ("visits", "Visits", True),
    ("last_visit", "Last visit", False),
    ("tis", "Latest TIS", True),
    ("", "Category", False),
    ("open_queries", "Open queries", True),
)


def _sort_links(query: Any, key: str, descending: bool, all_sites: bool) -> list[dict[str, Any]]:
    """The column headings, each sortable one a link that keeps the filters (and returns to the
    first page): a click sorts by it, a second click reverses it."""
    columns = []
    for column, label, numeric in LIST_COLUMNS:
        if column == "site" and not all_sites:
            continue
        heading: dict[str, Any] = {"label": label, "numeric": numeric, "key": column}
        if column:
            current = column == key
            first_descending = selectors.SORT_COLUMNS[column][1]
            want_descending = not descending if current else first_descending
            link = query.copy()
            link.pop("page", None)
            link["sort"] = f"-{column}" if want_descending else column
            heading["url"] = "?" + link.urlencode()
            heading["sorted"] = ("descending" if descending else "ascending") if current else ""
        columns.append(heading)
    return columns


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    state = web_state(request)
    site = state.current_site
    filters = {
        "search": request.GET.get("q", "").strip()[:64],
        "diagnosis": request.GET.get("diagnosis", ""),
        "serology": request.GET.get("serology", ""),
        "status": request.GET.get("status", ""),
        "overdue": request.GET.get("overdue") == "1",
    }
    query = request.GET.copy()
    query.pop("page", None)
    # An unknown sort (a hand-edited or stale link) is not an error worth a 400 on a page people
    # bookmark: the list keeps its default order, and says so, and the links drop the bad value.
    requested = request.GET.get("sort", "")
    parsed = selectors.parse_sort(requested) if requested else None
    unknown_sort = requested[:40] if requested and parsed is None else ""
    if unknown_sort:
        query.pop("sort", None)
    key, descending = parsed or (selectors.DEFAULT_SORT, False)
    patients = selectors.patient_list(
        user=request.user,
        site_id=site.pk if site else None,
        sort=key,
        descending=descending,
        **filters,
    )
    filtered = any(filters.values())
    paginator = selectors.CappedPaginator(
        patients.values_list("site_id", "patient_id"),
        selectors.PAGE_SIZE,
        cap=selectors.COUNT_CAP if filtered else None,
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "web/patient_list.html",
        {
            "page": page,
            "rows": selectors.patient_rows(list(page.object_list)),
            "filters": filters,
            "filtered": filtered,
            "capped": paginator.capped,
            "querystring": query.urlencode(),
            "columns": _sort_links(query, key, descending, all_sites=site is None),
            "sort": "" if key == selectors.DEFAULT_SORT and not descending else query.get("sort"),
            "unknown_sort": unknown_sort,
            "diagnoses": Diagnosis.choices,
            "serologies": SerologyGroup.choices,
            "statuses": [(k, label) for k, (label, _) in selectors.STATUS_FILTERS.items()]
            + [(selectors.OPEN_QUERIES, "Has open data queries")],
            "overdue_days": selectors.OVERDUE_AFTER_DAYS,
            "can_create": bool(state.writable_sites),
        },
    )
