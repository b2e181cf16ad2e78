"""Throttling of failed authentication, per client address, in the cache.

The counter is registry.security's, in the cache every process shares, so the limit holds however
many web processes serve the API.

A token is 256 random bits, so guessing one is hopeless; the limit is there to keep a
misconfigured or hostile client from turning the API into a load test of the token table, and to
make credential stuffing against session logins through the API pointless. Successful requests
are never counted.
"""

from rest_framework.exceptions import Throttled
from rest_framework.request import Request

from registry.security import guess_failed, guesses_blocked_for

NAMESPACE = "api:auth-failures"


def check_not_blocked(request: Request) -> None:
    """Raise Throttled (429) while this address has too many recent failures."""
    wait = guesses_blocked_for(NAMESPACE, request)
    if wait is not None:
        raise Throttled(wait=wait, detail="Too many failed authentication attempts.")


def record_failure(request: Request) -> None:
    guess_failed(NAMESPACE, request)
