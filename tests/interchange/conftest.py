"""The interchange's tests read and write whole cohorts with their scores, and run the import
jobs' Celery task as a request would: in-process on commit, also when the suite runs with a real
broker (whose worker these tests do not start)."""

from collections.abc import Iterator

import pytest

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_tasks() -> Iterator[None]:
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
