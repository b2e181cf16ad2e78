"""Probes for load balancers and orchestrators: no authentication, no data, no redirect to login.

GET /healthz: the process is up and answering (200); touches nothing else, not even the database,
so that a database outage does not get every web process restarted.
GET /readyz: the process can serve: the database answers, every migration of this code is
applied, and the broker answers when CELERY_BROKER_URL is set. 200 when all hold, else 503; the
body names each check and whether it passed, never why it failed (the reason goes to the log).
"""

import logging
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
NOT_CHECKED = "not checked"  # a check that needs an earlier one that failed
NOT_CONFIGURED = "not configured"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


def _database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _migrations() -> None:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migrations not applied")


def _broker() -> None:
    # The Celery app's connection, with its transport options (and so its short timeouts).
    with current_app.connection_for_write(url=settings.CELERY_BROKER_URL) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=5)


def _run(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; its type goes to the log
        logger.warning("readyz: the %s check failed (%s)", name, type(exc).__name__)
        return FAILED
    return OK


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _run("database", _database)}
    checks["migrations"] = (
        _run("migrations", _migrations) if checks["database"] == OK else NOT_CHECKED
    )
    checks["broker"] = _run("broker", _broker) if settings.CELERY_BROKER_URL else NOT_CONFIGURED
    ready = FAILED not in checks.values() and NOT_CHECKED not in checks.values()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )
