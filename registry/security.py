"""Password guessing: lockout of logins and of signature re-authentication (django-axes).

After LOGIN_FAILURE_LIMIT failed passwords for one username (from any address) or from one address
(for any username), further attempts are refused, even with the right password, until
LOGIN_LOCKOUT_SECONDS have passed since the last failure — so guessing stays slow whatever the
attacker varies. Both logins and the password re-entered to sign a visit count, and a lockout
stops both. django-axes keeps the counts in the database (its AccessAttempt table, which data
managers see and can clear in the admin), so every web process sees the same counts without any
configuration. Axes runs as the first authentication backend and listens to Django's login
signals; settings.py configures it with the callables below.
"""

import time
from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    """AXES_FAILURE_LIMIT: the setting LOGIN_FAILURE_LIMIT, read when asked."""
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: the setting LOGIN_LOCKOUT_SECONDS, read when asked."""
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def lockout_minutes() -> int:
    return max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)


def is_locked_out(username: str | None, request: HttpRequest) -> bool:
    """Whether this username, or the request's address, is locked out now."""
    return AxesProxyHandler.is_locked(request, get_credentials(username))


def reauthenticate(request: HttpRequest, user: Any, password: str) -> bool:
    """Whether `password` is the signed-in user's, asked as a login asks it: through the
    authentication backends, so that a wrong one counts towards the lockout and a locked-out
    user is refused, right password or not."""
    if not password:
        return False  # nothing typed: not a guess, nothing to count
    found = authenticate(request, username=user.get_username(), password=password)
    return found is not None and found.pk == user.pk


@receiver(user_logged_in)
def _forget_account_failures(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # A successful login clears the account's failures (axes' own reset would also clear the
    # address's, which keeps the record of guessing other accounts from there).
    AxesProxyHandler.reset_attempts(username=user.get_username())


# --- failed guesses of a secret (API tokens, invitation links), per client address -------------
# A fixed window from the first failure, counted in the cache every process shares
# (settings.CACHES: a database table by default, Redis with CACHE_URL), so the limit holds however
# many web processes serve the guesses. The limits are the API's (API_AUTH_FAILURE_*).


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it,
    # and a limit keyed on a header the attacker chooses limits nothing.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _guess_limits() -> tuple[int, int]:
    return (
        getattr(settings, "API_AUTH_FAILURE_LIMIT", 20),
        getattr(settings, "API_AUTH_FAILURE_WINDOW_SECONDS", 300),
    )


def guesses_blocked_for(namespace: str, request: HttpRequest) -> int | None:
    """Seconds until this address may try again, or None while it is under the limit."""
    limit, window = _guess_limits()
    record = cache.get(f"{namespace}:{client_address(request)}")
    if record and record[0] >= limit:
        return max(1, int(record[1] + window - time.time()))
    return None


def guess_failed(namespace: str, request: HttpRequest) -> None:
    """Count one failed guess from this address."""
    _, window = _guess_limits()
    key = f"{namespace}:{client_address(request)}"
    count, started = cache.get(key) or (0, time.time())
    cache.set(key, (count + 1, started), timeout=max(1, int(started + window - time.time())))
