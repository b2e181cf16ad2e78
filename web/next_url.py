"""Where a page returns to after a save: a `next` address carried by the link that led there.

Only an address on this site is followed (an open redirect would let a crafted link send a
signed-in user anywhere after the save); anything else falls back to the page's usual target.
"""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest) -> str | None:
    """The request's `next` (form field, else query string) when it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
