"""The work lists' pages (/work/<list>/): what waits for this person, each row linking to the
patient or visit to act on (web.worklists decides what is listed, and for whom)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from web import worklists
from web.selectors import COUNT_CAP, CappedPaginator
from web.state import web_state

PAGE_SIZE = 100


@login_required
@require_GET
def worklist(request: HttpRequest, slug: str) -> HttpResponse:
    found = worklists.BY_SLUG.get(slug)
    if found is None:
        raise Http404("No such list.")
    state = web_state(request)
    if not state.grants.can_anywhere(found.who):
        # Nobody's secret which lists exist; this person's roles just do not give this one.
        return render(
            request, "web/forbidden.html", {"what": f"see “{found.title.lower()}”"}, status=403
        )
    site = state.current_site
    ids = worklists.scope(state.grants, found.who, site.pk if site else None)
    rows = worklists.LISTS[slug](ids) if ids is None or ids else None
    if rows is None:
        paginator: Paginator = Paginator([], PAGE_SIZE)
    elif slug == worklists.DUE:
        paginator = CappedPaginator(rows, PAGE_SIZE, cap=COUNT_CAP)
    else:
        paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    items = list(page.object_list)
    if slug == worklists.DUE:
        for patient in items:
            patient.due_since = worklists.due_since(patient.last_visit)
    return render(
        request,
        "web/worklist.html",
        {
            "worklist": found,
            "page": page,
            "items": items,
            "capped": getattr(paginator, "capped", False),
            # The person has the list elsewhere, not at the site chosen in the top bar.
            "not_here": rows is None,
            "nav": f"work-{slug}",
            "querystring": "",
        },
    )
