"""Real components: a `celery -A config worker` process on the broker of CELERY_BROKER_URL and the
test database, and the faults the pipeline must survive (issue 4).

These tests commit their data (`transaction=True`) so that the worker, another process, sees it;
they need CELERY_BROKER_URL (CI: Redis) and a database both processes can open (PostgreSQL).
Every worker is started with a bounded wait for readiness and is always killed at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from config.celery import app as celery_app
from crf.services import visit_save
from registry.audit import Actor
from registry.models import Patient
from scoring import selectors, tasks
from scoring.models import ResponseRecord
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_BROKER_URL", "")
START_TIMEOUT = 60  # seconds for a worker to report ready
CONVERGE_TIMEOUT = 90  # seconds for the workers to finish what was queued

pytestmark = [
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not BROKER, reason="needs CELERY_BROKER_URL: these tests start a real Celery worker"
    ),
]

ACTOR = Actor(user=None, source="command", reason="test")


@pytest.fixture(autouse=True)
def _shared_database() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the worker process must open the test database: run with DATABASE_URL=postgres://…"
        )


def database_url() -> str:
    """The URL of the test database pytest-django created, for the worker processes."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


class Worker:
    """One `celery -A config worker` subprocess (solo pool: the task runs in this very process,
    so its pid is the one recorded in `computed_by`)."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = f"scoringtest-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": BROKER,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
            "--loglevel=INFO", "-n", f"{self.name}@%h", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(
            lambda: "ready." in self.log() or self.process.poll() is not None,  # type: ignore[union-attr]
            START_TIMEOUT,
            f"worker {self.name} to start",
            self,
        )
        if self.process.poll() is not None:
            pytest.fail(f"worker {self.name} exited:\n{self.log()}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def succeeded(self) -> list[dict[str, int]]:
        """Return values of the score_patients tasks this worker finished, in order."""
        found = re.findall(
            r"score_patients\[[^\]]+\] succeeded in [\d.e-]+s: (\{[^}]*\})", self.log()
        )
        return [json.loads(text.replace("'", '"')) for text in found]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no rollback from the worker's side."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ask for a cold shutdown: the test is over, nothing it waits for is still running."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)

    def wait_stopped(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, *workers: Worker) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    logs = "\n".join(f"--- {w.name}\n{w.log()[-4000:]}" for w in workers)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs}")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers with `workers()`; every one is killed when the test ends, pass or fail."""
    started: list[Worker] = []
    # Messages left by earlier tests (saves whose tasks no worker took) are not this test's.
    celery_app.control.purge()

    def start(env: dict[str, str] | None = None) -> Worker:
        worker = Worker(tmp_path, env)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
    for worker in started:
        worker.wait_stopped()


def save(patient: Patient, doc: dict[str, Any]) -> Any:
    visit, _ = visit_save(actor=ACTOR, patient=patient, data=doc)
    return visit


def done_records(**filters: Any) -> int:
    return ResponseRecord.objects.filter(status="done", **filters).count()


def test_scores_come_from_a_real_worker_process(workers):
    assert not celery_app.conf.task_always_eager
    worker = workers()
    patient = PatientFactory(birth_year=1968)
    save(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save(patient, visit_doc("2020-04-08", physician_global=3.0, mmt=9))
    # The save returned at once: the scoring happens in the worker, after the commit.
    wait_for(lambda: done_records(visit=follow_up) == 3, CONVERGE_TIMEOUT, "scores", worker)
    computed_by = set(ResponseRecord.objects.values_list("computed_by", flat=True))
    assert computed_by == {f"{worker.name}@{socket.gethostname()} pid {worker.pid}"}
    assert worker.pid != os.getpid()


class HungBroker:
    """A TCP server that accepts connections and never answers (a hung broker)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            while True:
                self.accepted.append(self.server.accept()[0])
        except OSError:
            return

    def close(self) -> None:
        self.server.close()
        for conn in self.accepted:
            conn.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


SAVE_SCRIPT = """
import json, sys, time
import django
django.setup()
from crf.services import visit_save
from registry.audit import Actor
from registry.models import Patient
patient = Patient.objects.get(pk=int(sys.argv[1]))
started = time.perf_counter()
visit, outcome = visit_save(actor=Actor(user=None, source="command"), patient=patient,
                            data=json.loads(sys.argv[2]))
print(json.dumps({"visit": visit.pk, "outcome": outcome, "seconds": time.perf_counter() - started}))
"""


@pytest.mark.parametrize("broker", ["closed port", "hung"])
def test_save_succeeds_with_the_broker_unreachable_and_the_sweep_scores_it(workers, broker):
    patient = PatientFactory(birth_year=1968)
    save(patient, visit_doc("2020-01-08", "baseline"))
    hung = HungBroker() if broker == "hung" else None
    port = hung.port if hung else closed_port()
    try:
        # Another process, configured with the unreachable broker, saves a follow-up.
        saved = subprocess.run(
            [sys.executable, "-c", SAVE_SCRIPT, str(patient.pk),
             json.dumps(visit_doc("2020-04-08", physician_global=3.0))],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "DATABASE_URL": database_url(),
                 "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"},
        )  # fmt: skip
    finally:
        if hung:
            hung.close()
    assert saved.returncode == 0, saved.stderr
    answer = json.loads(saved.stdout)
    assert answer["outcome"] == "created"
    # Fails fast: a broker that refuses within a second, a hung one within its socket timeout
    # (5 s) — not the minutes of default connection retries. Bounded generously here.
    assert answer["seconds"] < 20
    assert "broker unreachable" in saved.stderr
    assert patient.patient_id not in saved.stderr
    visit_id = answer["visit"]
    assert not ResponseRecord.objects.filter(visit_id=visit_id).exists()
    assert selectors.scoring_counts()["pending"] == 1

    worker = workers()
    tasks.sweep_stale.apply_async(kwargs={"grace_seconds": 0})
    wait_for(lambda: done_records(visit_id=visit_id) == 3, CONVERGE_TIMEOUT, "the sweep", worker)
    assert selectors.scoring_counts() == {"visits": 2, "scored": 2, "pending": 0, "stale": 0,
                                          "failed": 0}  # fmt: skip


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Statistics views are read once per transaction unless the snapshot is dropped, and the
        # caller polls from inside its transaction.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_worker_killed_mid_batch_converges_after_restart_without_duplicates(workers):
    patients = PatientFactory.create_batch(6, birth_year=1968)
    for patient in patients:
        save(patient, visit_doc("2020-01-08", "baseline"))
        save(patient, visit_doc("2020-03-08", physician_global=4.0))
        save(patient, visit_doc("2020-05-08", physician_global=2.0, mmt=9))
    celery_app.control.purge()  # what the saves queued: this test queues its own batches
    ResponseRecord.objects.all().delete()
    ids = sorted(p.pk for p in patients)

    with transaction.atomic():
        # Hold the third patient's row: the worker's second batch (patients 3 and 4) blocks in
        # the middle of its work, with its transaction open, until it is killed.
        Patient.objects.select_for_update().get(pk=ids[2])
        tasks.enqueue(ids, batch_size=2)  # three tasks: [1, 2], [3, 4], [5, 6]
        first = workers()
        wait_for(waiting_on_a_lock, CONVERGE_TIMEOUT, "the second batch to block", first)
        assert done_records(patient_id__in=ids[:2]) == 12  # the first batch committed
        first.kill()
    assert done_records(patient_id__in=ids[2:]) == 0  # nothing of the killed batch committed

    # The killed task's message was never acknowledged: a restarted worker gets it again once
    # it has been unacknowledged for the visibility timeout (1 s here, an hour by default).
    time.sleep(1.5)
    second = workers({"CELERY_VISIBILITY_TIMEOUT": "1"})
    wait_for(
        lambda: done_records() == 36, CONVERGE_TIMEOUT, "every batch to be scored", first, second
    )
    keys = ResponseRecord.objects.values_list("visit", "reference_visit", "algorithm")
    assert len(set(keys)) == len(keys) == 36
    by = dict(ResponseRecord.objects.values_list("patient_id", "computed_by").distinct())
    assert {by[pk].endswith(f"pid {first.pid}") for pk in ids[:2]} == {True}
    assert {by[pk].endswith(f"pid {second.pid}") for pk in ids[2:]} == {True}
    assert selectors.scoring_counts()["scored"] == 18


def test_same_task_delivered_twice_scores_once(workers):
    patient = PatientFactory(birth_year=1968)
    save(patient, visit_doc("2020-01-08", "baseline"))
    save(patient, visit_doc("2020-04-08", physician_global=3.0))
    celery_app.control.purge()
    ResponseRecord.objects.all().delete()
    # Two workers, so that the two deliveries may well run at the same moment: the patient lock
    # makes the second wait and then find everything current.
    one, two = workers(), workers()
    task_id = str(uuid.uuid4())
    for _ in range(2):
        tasks.score_patients.apply_async(args=[[patient.pk]], task_id=task_id)
    wait_for(
        lambda: len(one.succeeded() + two.succeeded()) == 2,
        CONVERGE_TIMEOUT,
        "both runs",
        one,
        two,
    )
    runs = sorted(one.succeeded() + two.succeeded(), key=lambda r: r["written"])
    assert [(r["written"], r["unchanged"]) for r in runs] == [(0, 3), (3, 0)]
    assert ResponseRecord.objects.count() == 3
    assert done_records() == 3
