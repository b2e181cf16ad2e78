"""Fixtures of the scoring pipeline tests: visit documents, saving through the crf services with
the after-commit scoring run, and eager Celery for every test that is not about a real worker."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from config.celery import app as celery_app
from crf.services import visit_save
from registry.audit import Actor
from tests.conftest import EXAMPLE_VISIT


@pytest.fixture(autouse=True)
def _eager_unless_real_worker(request: pytest.FixtureRequest) -> Any:
    """With CELERY_BROKER_URL set, the suite runs against a real broker; the tests of the
    pipeline's logic still run their tasks in-process, and only the `broker` tests (which start a
    worker) publish for real."""
    if request.node.get_closest_marker("broker"):
        yield
        return
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def visit_doc(visit_date: str, kind: str = "follow_up", **changes: Any) -> dict[str, Any]:
    """docs/data-dictionary.md's example visit on another date, with some values changed.

    `mmt` sets every bilateral grade but neck flexors' to that grade (neck flexors 8), `ck` the
    CK value (ULN 200 U/L); other keys replace the document's own.
    """
    doc = copy.deepcopy(EXAMPLE_VISIT)
    doc["visit_date"] = visit_date
    doc["kind"] = kind
    grade = changes.pop("mmt", None)
    if grade is not None:
        for name, value in doc["mmt8"].items():
            if isinstance(value, dict):
                doc["mmt8"][name] = {"right": grade, "left": grade}
    ck = changes.pop("ck", None)
    if ck is not None:
        doc["labs"]["ck"]["value"] = ck
    doc.update(changes)
    return doc


@pytest.fixture
def editor() -> Actor:
    """A command-line writer with a reason, which changes of submitted data require."""
    return Actor(user=None, source="command", reason="correction of a transcription error")


@pytest.fixture
def save_visit(editor: Actor, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Save a visit through crf.services and run what is queued on commit (the scoring)."""

    def save(patient: Any, doc: dict[str, Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            visit, _ = visit_save(actor=editor, patient=patient, data=doc, **kwargs)
        return visit

    return save


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """`with on_commit(): ...` runs the callbacks queued for after the commit, as in production."""

    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run
