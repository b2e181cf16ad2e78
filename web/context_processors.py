"""Template context of every page: the per-request web state (lazy: pages that do not show the
site switcher, such as the admin's, run no query for it), the current section of the nav, and
the person's work lists with their counts for the top bar (lazy too: counted only when a page
draws the top bar, in one query — web.worklists.badges)."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from registry.access import may_use_admin
from web import worklists
from web.state import web_state


def _section(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "web":
        return ""
    if match.url_name == "queries":
        return "queries"
    if match.url_name == "worklist":
        return f"work-{match.kwargs.get('slug', '')}"
    if (match.url_name or "").startswith("audit"):
        return "audit"
    return "patients"


def _badges(request: HttpRequest) -> list[worklists.Badge]:
    if not request.user.is_authenticated:
        return []
    state = web_state(request)
    site = state.current_site
    return worklists.badges(state.grants, site.pk if site else None)


def web(request: HttpRequest) -> dict:
    return {
        "web": SimpleLazyObject(lambda: web_state(request)),
        "nav": _section(request),
        "worklists": SimpleLazyObject(lambda: _badges(request)),
        # The Django admin, the data managers' back office: a link only for who may open it.
        "may_use_admin": may_use_admin(getattr(request, "user", None)),
    }
