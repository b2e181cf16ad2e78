"""Token authentication: hashed, revocable, with last use; the api_token command; throttling."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from registry import security
from registry.audit import Actor
from registry.models import AuditEvent
from registry.tokens import ApiToken, api_token_issue, api_token_revoke
from tests.factories import MembershipFactory, UserFactory

SITES = "/api/v1/sites/"


@pytest.fixture
def user(db):
    return MembershipFactory(role="submitter").user


def with_token(raw: str, address: str = "10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def issue(user, **kwargs) -> str:
    return api_token_issue(actor=Actor(None, "command"), user=user, **kwargs)[1]


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_only_a_hash_of_the_token_is_stored(user):
    raw = issue(user)
    token = ApiToken.objects.get(user=user)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:8]
    stored = " ".join(str(value) for value in ApiToken.objects.values_list().get())
    assert raw not in stored
    assert not AuditEvent.objects.filter(new_value__contains=raw).exists()
    assert len(raw) >= 40  # 256 random bits


def test_a_valid_token_authenticates_and_records_its_last_use(user):
    raw = issue(user)
    assert with_token(raw).get(SITES).status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is not None
    first = token.last_used_at
    with_token(raw).get(SITES)
    token.refresh_from_db()
    assert token.last_used_at == first  # not rewritten on every request
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    with_token(raw).get(SITES)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=5)


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token wrong", "Token ñ"])
def test_bad_credentials_are_401(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(SITES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_token_is_401(user):
    raw = issue(user)
    api_token_revoke(actor=Actor(None, "command"), token=ApiToken.objects.get(user=user))
    assert with_token(raw).get(SITES).status_code == 401
    revocation = AuditEvent.objects.get(object_type="registry.apitoken", field="revoked_at")
    assert revocation.source == "command"


def test_an_inactive_users_token_is_401(user):
    raw = issue(user)
    user.is_active = False
    user.save()
    assert with_token(raw).get(SITES).status_code == 401


def test_the_command_prints_a_working_token_and_retires_the_previous(user):
    first, _ = command(user.username)
    assert with_token(first).get(SITES).status_code == 200
    second, message = command(user.username)
    assert second != first
    assert "Revoked 1 earlier token" in message
    assert with_token(first).get(SITES).status_code == 401
    assert with_token(second).get(SITES).status_code == 200
    third, _ = command(user.username, "--keep")
    assert with_token(second).get(SITES).status_code == 200
    assert with_token(third).get(SITES).status_code == 200
    listing, _ = command(user.username, "--list")
    assert listing.count("active") == 2 and listing.count("revoked") == 1
    assert first not in listing and third not in listing
    command(user.username, "--revoke")
    assert with_token(third).get(SITES).status_code == 401


def test_the_command_refuses_unknown_and_inactive_users(db):
    with pytest.raises(CommandError, match="No user"):
        command("nobody")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        command("gone")


def test_failed_authentication_is_throttled_per_address(user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    raw = issue(user)
    for _ in range(3):
        assert with_token("guess", "10.0.0.9").get(SITES).status_code == 401
    blocked = with_token("guess", "10.0.0.9").get(SITES)
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    # While blocked, even a valid token from that address waits; other addresses do not.
    assert with_token(raw, "10.0.0.9").get(SITES).status_code == 429
    assert with_token(raw, "10.0.0.10").get(SITES).status_code == 200
    assert with_token("guess", "10.0.0.10").get(SITES).status_code == 401


def test_failures_are_counted_in_the_cache_every_process_shares(user, settings, monkeypatch):
    settings.API_AUTH_FAILURE_LIMIT = 2
    for _ in range(2):
        assert with_token("guess", "10.0.0.7").get(SITES).status_code == 401
    # The cache is Redis when CACHE_URL is set, else a table of the database: either way one
    # that every web process reads.
    if settings.CACHE_URL:
        assert isinstance(caches["default"], RedisCache)
    else:
        assert isinstance(caches["default"], DatabaseCache)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {settings.CACHES['default']['LOCATION']}")
            assert cursor.fetchone()[0] >= 1
    # A process that has seen none of the failures itself (its own cache object) still refuses.
    monkeypatch.setattr(security, "cache", caches.create_connection("default"))
    assert with_token(issue(user), "10.0.0.7").get(SITES).status_code == 429


def test_successes_are_not_counted(user, settings):
    settings.API_AUTH_FAILURE_LIMIT = 2
    raw = issue(user)
    for _ in range(5):
        assert with_token(raw).get(SITES).status_code == 200
    assert with_token("guess").get(SITES).status_code == 401


def test_a_browser_session_works_and_needs_csrf_for_writes(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(SITES).status_code == 200
    response = client.post("/api/v1/submissions/", {"site": "X", "patients": []}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_no_credentials_is_401(db):
    response = APIClient().get(SITES)
    assert response.status_code == 401
    assert timezone.now()  # nothing else to check: no user, no token, no throttle record
