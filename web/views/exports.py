"""The exports page (/exports/): CDISC ODM 1.3.2 files for data managers and investigators."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from interchange.odm.export import TYPES, export_site_ids, odm_export
from registry.access import NotVisible
from registry.errors import InputError
from registry.models import Site
from web.state import web_state


@login_required
@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    if not web_state(request).can_export:
        raise PermissionDenied("Exports are for data managers and investigators.")
    ids = export_site_ids(request.user)
    sites = Site.objects.order_by("code") if ids is None else Site.objects.filter(pk__in=ids)
    return render(
        request,
        "web/exports.html",
        {"sites": list(sites.order_by("code")), "all_sites": ids is None, "nav": "exports"},
    )


@login_required
@require_GET
def odm_download(request: HttpRequest) -> StreamingHttpResponse:
    """The ODM file, streamed as it is written (interchange.odm.export)."""
    try:
        export = odm_export(
            user=request.user,
            kind=request.GET.get("type", TYPES[0]),
            site_code=request.GET.get("site") or None,
            source="web",
        )
    except NotVisible:
        raise Http404("No such site.") from None
    except InputError as exc:
        return HttpResponse(
            "; ".join(f"{field}: {message}" for field, message in exc.errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in export.stream()),
        content_type="application/xml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
