"""Login throttling and lockout, password rules, production settings (issue 8)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def lockout_window_passes():
    """Every failure recorded so far becomes older than LOGIN_LOCKOUT_SECONDS."""
    for failure in AccessAttempt.objects.all():
        failure.attempt_time -= timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)
        failure.save(update_fields=["attempt_time"])


def attempt(username, password, ip="10.0.0.1"):
    request = RequestFactory().post("/login/", REMOTE_ADDR=ip)
    return authenticate(request, username=username, password=password)


@pytest.mark.django_db
def test_five_failures_lock_the_account_even_for_the_right_password(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    user = UserFactory(username="coord-man")
    assert attempt("coord-man", "pw") == user
    for _ in range(5):
        assert attempt("coord-man", "wrong") is None
    assert attempt("coord-man", "pw", ip="10.9.9.9") is None
    lockout_window_passes()
    assert attempt("coord-man", "pw") == user


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked_out(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    victim = UserFactory(username="inv-man")
    for n in range(5):
        attempt(f"nobody{n}", "guess", ip="10.6.6.6")
    assert attempt("inv-man", "pw", ip="10.6.6.6") is None
    assert attempt("inv-man", "pw", ip="10.1.1.1") == victim


# Run by separate Python processes sharing one database, as gunicorn's workers do.
GUESSER = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from registry.audit import Actor
from registry.tokens import api_token_issue

user = get_user_model().objects.create_user("coord-man", password="Right-password-1")
_, raw = api_token_issue(actor=Actor(user=None, source="command"), user=user)
browser = Client(REMOTE_ADDR="10.0.0.1")
for _ in range(6):
    browser.post("/accounts/login/", {"username": "coord-man", "password": "guess"})
script = Client(REMOTE_ADDR="10.0.0.9")
for _ in range(3):
    assert script.get("/api/v1/sites/", HTTP_AUTHORIZATION="Token guess").status_code == 401
print(raw)
"""
OWNER = """
import sys
import django
django.setup()
from django.test import Client

browser = Client(REMOTE_ADDR="10.0.0.2")
browser.post("/accounts/login/", {"username": "coord-man", "password": "Right-password-1"})
print("logged in" if "_auth_user_id" in browser.session else "refused")
script = Client(REMOTE_ADDR="10.0.0.9")
print(script.get("/api/v1/sites/", HTTP_AUTHORIZATION="Token " + sys.argv[1]).status_code)
"""


@pytest.mark.slow
def test_lockout_and_token_throttling_hold_across_processes(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        REGISTRY_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
        API_AUTH_FAILURE_LIMIT="3",
    )

    def run(*args):
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.split()

    run("manage.py", "migrate", "--verbosity", "0")  # nothing else: the cache table comes too
    token = run("-c", GUESSER)[-1]
    login, api_status = run("-c", OWNER, token)
    assert login == "refused"
    assert api_status == "429"


@pytest.mark.django_db
def test_admin_login_page_refuses_a_locked_out_user(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="dm", is_staff=True, is_superuser=True)
    for _ in range(3):
        client.post("/admin/login/", {"username": "dm", "password": "bad"})
    client.post("/admin/login/", {"username": "dm", "password": "pw"})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_weak_passwords_are_refused():
    for weak in ("password123", "short", "1234567890"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("Kendall-MMT8-scale")


def test_deploy_check_is_clean_with_production_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="x7!" * 20 + "production-like-secret-key-for-check",
        ALLOWED_HOSTS="registry.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
