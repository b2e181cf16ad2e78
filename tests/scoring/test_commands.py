"""`rescore` and `scoring_status` (docs/operations.md "Management commands")."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from crf.models import Visit
from scoring.models import ResponseRecord
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def cohort(save_visit):
    """Three patients with a baseline and two follow-ups each, scored."""
    patients = []
    for _ in range(3):
        patient = PatientFactory(birth_year=1968)
        save_visit(patient, visit_doc("2020-01-08", "baseline"))
        save_visit(patient, visit_doc("2020-03-08", physician_global=4.0))
        save_visit(patient, visit_doc("2020-05-08", physician_global=2.0, mmt=9))
        patients.append(patient)
    return patients


def test_status_json_has_exactly_the_contract_keys(cohort):
    out, _ = run("scoring_status", "--json")
    assert json.loads(out) == {"visits": 9, "scored": 9, "pending": 0, "stale": 0, "failed": 0}


def test_status_counts_visits_saved_around_the_pipeline(cohort):
    # Saved without the after-commit scoring (a bulk load, say): a follow-up never scored.
    Visit.objects.create(patient=cohort[0], visit_date="2020-07-08")
    Visit.objects.filter(patient=cohort[1], visit_date="2020-05-08").update(physician_global=9)
    ResponseRecord.objects.filter(patient=cohort[2]).update(status="pending")
    out, _ = run("scoring_status", "--json")
    assert json.loads(out) == {"visits": 10, "scored": 6, "pending": 3, "stale": 1, "failed": 0}
    text, _ = run("scoring_status")
    assert "pending" in text and "rescore --stale" in text


def test_rescore_stale_scores_only_what_needs_it(cohort):
    Visit.objects.create(patient=cohort[0], visit_date="2020-07-08", physician_global=1)
    untouched = set(
        ResponseRecord.objects.filter(patient=cohort[2]).values_list("pk", "computed_at")
    )
    out, err = run("rescore", "--stale")
    assert "Scored 1 patients" in out
    assert "sweep" in err and "3/3 patients" in err  # the progress bar, ending at 100 %
    assert json.loads(run("scoring_status", "--json")[0])["scored"] == 10
    after = set(ResponseRecord.objects.filter(patient=cohort[2]).values_list("pk", "computed_at"))
    assert after == untouched


def test_rescore_all_recomputes_every_record(cohort):
    before = dict(ResponseRecord.objects.values_list("pk", "computed_at"))
    out, err = run("rescore", "--all", "--batch-size", "2")
    assert "Scored 3 patients: 18 records written" in out
    assert "3/3 patients" in err
    after = dict(ResponseRecord.objects.values_list("pk", "computed_at"))
    assert after.keys() == before.keys()
    assert all(after[pk] > before[pk] for pk in before)


def test_rescore_one_patient_by_site_and_patient_id(cohort):
    patient = cohort[1]
    out, _ = run("rescore", "--patient", f"{patient.site.code}/{patient.patient_id}")
    assert "Scored 1 patients: 6 records written" in out
    out, _ = run("rescore", "--patient", str(cohort[0].pk), "--patient", str(cohort[2].pk))
    assert "Scored 2 patients: 12 records written" in out


@pytest.mark.parametrize("value", ["999999", "NOPE/1", "nonsense"])
def test_rescore_refuses_unknown_patients(cohort, value):
    with pytest.raises(CommandError, match="--patient"):
        run("rescore", "--patient", value)


def test_rescore_needs_exactly_one_choice(cohort):
    with pytest.raises(CommandError):
        run("rescore")
    with pytest.raises(CommandError):
        run("rescore", "--all", "--stale")


@pytest.mark.slow
def test_rescore_all_of_a_few_hundred_patients_runs_in_process():
    """What `demo` does after seeding: every patient scored eagerly on SQLite (or PostgreSQL)."""
    from datetime import date, timedelta

    patients = PatientFactory.create_batch(300, birth_year=1968)
    visits = [
        Visit(
            patient=patient,
            visit_date=date(2020, 1, 8) + timedelta(days=90 * n),
            kind="baseline" if n == 0 else "follow_up",
            physician_global=6 - n,
            patient_global=5,
        )
        for patient in patients
        for n in range(4)
    ]
    Visit.objects.bulk_create(visits)
    out, _ = run("rescore", "--all")
    assert "Scored 300 patients: 2700 records written" in out
    assert json.loads(run("scoring_status", "--json")[0]) == {
        "visits": 1200, "scored": 1200, "pending": 0, "stale": 0, "failed": 0}  # fmt: skip
