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


def _while_a_worker_scores(patient, action) -> tuple[list, object]:
    """Run `action` in a thread while this thread acts as a scoring task: it holds the patient,
    then writes records that reference the patient's visits. Returns what the action gave (or
    raised) and the task's summary."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(action())
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            outcome.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        thread = threading.Thread(target=run)
        thread.start()
        wait_until(waiting_on_a_lock)
        summary = score_patients(patient_ids=[patient.pk], computed_by="worker")
    thread.join(timeout=30)
    return outcome, summary


@pytest.fixture
def verified(save_visit):
    from crf.services import visit_verify
    from tests.factories import SiteFactory
    from tests.factories import actor_with_role as person

    site = SiteFactory(code="DLK")
    patient = PatientFactory(site=site, birth_year=1968)
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save_visit(patient, visit_doc("2020-04-08", physician_global=3.0))
    visit_verify(actor=person(site, "monitor"), visit=follow_up)
    ResponseRecord.objects.all().delete()  # the task below inserts them
    return site, patient, follow_up


def test_signing_while_a_task_scores_the_patient_waits_for_it_without_deadlock(verified):
    """Signing scores the patient inside its transaction, so it takes the patient's lock as a
    task does, and first: a task holding the patient and writing records that reference the
    visit must not find the visit locked by a signature that waits on that same patient."""
    from crf.services import visit_sign
    from tests.factories import actor_with_role as person

    site, patient, follow_up = verified
    investigator = person(site, "investigator")
    outcome, summary = _while_a_worker_scores(
        patient,
        lambda: visit_sign(actor=investigator, visit=follow_up, password="pw", meaning="review"),
    )
    assert [type(o).__name__ for o in outcome] == ["Signature"]
    assert summary.written == 3
    follow_up.refresh_from_db()
    assert follow_up.status == Visit.Status.LOCKED


def test_deleting_a_visit_while_a_task_scores_the_patient_waits_for_it(verified):
    from dataclasses import replace

    from crf.services import visit_delete
    from tests.factories import actor_with_role as person

    site, patient, follow_up = verified
    coordinator = replace(person(site, "coordinator"), reason="entered twice")
    outcome, _ = _while_a_worker_scores(
        patient, lambda: visit_delete(actor=coordinator, visit=follow_up)
    )
    assert outcome == [None]
    assert not Visit.objects.filter(pk=follow_up.pk).exists()
    assert not ResponseRecord.objects.filter(visit=follow_up.pk).exists()
