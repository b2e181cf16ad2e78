"""/healthz and /readyz, the load balancers' probes (issue 13): no login, no data."""

import pytest
from django.db import OperationalError, connections
from django.db.migrations.executor import MigrationExecutor


def test_healthz_answers_without_login_and_without_the_database(client):
    # No database fixture: pytest-django fails any query, so this also proves it makes none.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_200_when_database_and_migrations_are_ready(client, settings):
    settings.CELERY_BROKER_URL = None
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "broker": "not configured"},
    }


@pytest.mark.django_db
def test_readyz_is_503_naming_an_unapplied_migration(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = None
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)]
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "failed",
        "broker": "not configured",
    }


@pytest.mark.django_db
def test_readyz_is_503_naming_an_unreachable_database(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = None

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failed"
    assert response.json()["checks"]["migrations"] == "not checked"


@pytest.mark.django_db
def test_readyz_checks_the_broker_when_one_is_set(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert client.get("/readyz").json()["checks"]["broker"] == "ok"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "failed"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_and_carry_no_session(client, path, settings):
    settings.CELERY_BROKER_URL = None
    response = client.get(path)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert client.post(path).status_code == 405
