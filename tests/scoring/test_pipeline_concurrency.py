"""Concurrent scoring runs of one patient (PostgreSQL: SQLite has no row locks, and serialises
every writer anyway). Each run takes the patient's row lock before it reads anything, so two runs
never interleave: no duplicate records, and no run writes results from data older than another
run's."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from crf.models import Visit
from registry.models import Patient
from scoring.models import ResponseRecord
from scoring.services import score_patients
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: run with DATABASE_URL=postgres://…")


def in_thread(results: list, **kwargs) -> threading.Thread:
    def run() -> None:
        try:
            results.append(score_patients(**kwargs))
        finally:
            connections.close_all()  # this thread's connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def wait_until(condition, seconds: float = 30) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_run_waits_for_the_patient_and_scores_the_data_committed_before_it(save_visit):
    patient = PatientFactory(birth_year=1968)
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save_visit(patient, visit_doc("2020-04-08", physician_global=3.0))
    results: list = []
    with transaction.atomic():
        # A writer holds the patient (as registry.services.patient_upsert does) and changes a
        # visit; a scoring run that starts meanwhile must not read the data before this commit.
        Patient.objects.select_for_update().get(pk=patient.pk)
        Visit.objects.filter(pk=follow_up.pk).update(physician_global=Decimal("1.5"))
        thread = in_thread(results, patient_ids=[patient.pk], computed_by="thread")
        wait_until(waiting_on_a_lock)
        assert thread.is_alive()
    thread.join(timeout=30)
    assert results[0].written == 3
    record = ResponseRecord.objects.get(visit=follow_up, algorithm="imacs-doi-2004")
    assert record.inputs["visit"]["measures"]["physician_global"] == "1.5"


def test_simultaneous_runs_write_once(save_visit):
    patient = PatientFactory(birth_year=1968)
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", physician_global=3.0))
    ResponseRecord.objects.all().delete()
    results: list = []
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        threads = [in_thread(results, patient_ids=[patient.pk]) for _ in range(2)]
        wait_until(lambda: len([t for t in threads if t.is_alive()]) == 2 and waiting_on_a_lock())
    # Both were queued behind the lock; released together, one writes and the other finds the
    # records current.
    for thread in threads:
        thread.join(timeout=30)
    assert sorted((r.written, r.unchanged) for r in results) == [(0, 3), (3, 0)]
    assert ResponseRecord.objects.count() == 3
