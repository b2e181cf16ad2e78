"""/favicon.ico: browsers ask for it at the root whatever the pages link to, and a 404 there fills
the logs. Served from the app's static file (web/static/web/favicon.ico), not redirected: the
answer is the icon itself wherever the static files are served from."""

from functools import cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = "web/favicon.ico"


@cache
def _icon() -> bytes | None:
    path = finders.find(ICON)
    if not path:
        return None
    with open(path, "rb") as icon:
        return icon.read()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    icon = _icon()
    if icon is None:  # static files left out of a deployment: say so as a 404, not a 500
        raise Http404("No icon.")
    return HttpResponse(icon, content_type="image/x-icon")
