"""Template context of every page: the per-request web state (lazy: pages that do not show the
site switcher, such as the admin's, run no query for it) and the current section of the nav."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from web.state import web_state


def _section(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "web":
        return ""
    if match.url_name == "queries":
        return "queries"
    if (match.url_name or "").startswith("audit"):
        return "audit"
    return "patients"


def web(request: HttpRequest) -> dict:
    return {"web": SimpleLazyObject(lambda: web_state(request)), "nav": _section(request)}
