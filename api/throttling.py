"""Throttling of failed authentication, per client address, in the cache.

The cache is the one every process shares (settings.CACHES: a database table by default, Redis when
CACHE_URL is set), so the limit holds however many web processes serve the API.

A token is 256 random bits, so guessing one is hopeless; the limit is there to keep a
misconfigured or hostile client from turning the API into a load test of the token table, and to
make credential stuffing against session logins through the API pointless. Successful requests
are never counted.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.request import Request


def _limits() -> tuple[int, int]:
    return (
        getattr(settings, "API_AUTH_FAILURE_LIMIT", 20),
        getattr(settings, "API_AUTH_FAILURE_WINDOW_SECONDS", 300),
    )


def client_address(request: Request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it,
    # and a limit keyed on a header the attacker chooses limits nothing.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(address: str) -> str:
    return f"api:auth-failures:{address}"


def check_not_blocked(request: Request) -> None:
    """Raise Throttled (429) while this address has too many recent failures."""
    limit, window = _limits()
    record = cache.get(_key(client_address(request)))
    if record and record[0] >= limit:
        wait = max(1, int(record[1] + window - time.time()))
        raise Throttled(wait=wait, detail="Too many failed authentication attempts.")


def record_failure(request: Request) -> None:
    limit, window = _limits()
    key = _key(client_address(request))
    count, started = cache.get(key) or (0, time.time())
    # A fixed window starting at the first failure: simple, and enough for this purpose.
    cache.set(key, (count + 1, started), timeout=max(1, int(started + window - time.time())))
