"""Login throttling and lockout.

After LOGIN_FAILURE_LIMIT failed logins for one username (from any address) or from one address
(for any username) within LOGIN_LOCKOUT_SECONDS, further attempts are refused until the window
has passed, even with the right password — so guessing stays slow whatever the attacker varies.
Counters live in the cache (set CACHE_URL to a shared Redis in production, so every web process
sees the same counts).
"""

import hashlib

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver


def _client_ip(request) -> str:
    if request is None:
        return "unknown"
    return request.META.get("REMOTE_ADDR", "unknown")


def _keys(username: str | None, request) -> list[str]:
    # Hashed, so that neither usernames nor addresses end up in cache key listings.
    def key(kind: str, value: str) -> str:
        digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
        return f"login-failures:{kind}:{digest}"

    keys = [key("ip", _client_ip(request))]
    if username:
        keys.append(key("user", username))
    return keys


def is_locked_out(username: str | None, request) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    return any((cache.get(k) or 0) >= limit for k in _keys(username, request))


def record_failure(username: str | None, request) -> None:
    for k in _keys(username, request):
        if not cache.add(k, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(k)
            except ValueError:  # expired between add and incr
                cache.add(k, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(username: str | None, request) -> None:
    # Only the username's counter: a success must not clear an address's record of guessing
    # other accounts.
    if username:
        cache.delete(_keys(username, request)[-1])


class LockoutModelBackend(ModelBackend):
    """Django's model backend, refusing while the username or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if is_locked_out(username, request):
            # PermissionDenied stops Django from trying other backends and counts as a failure.
            raise PermissionDenied("Too many failed logins; try again later.")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    record_failure(credentials.get("username"), request)


@receiver(user_logged_in)
def _on_logged_in(sender, request, user, **kwargs):
    clear_failures(user.get_username(), request)
