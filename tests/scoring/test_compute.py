"""One algorithm on one comparison of a patient's inputs (scoring.compute), and the typed scores
the interface shows (scoring.scores). Pure: no database."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from scoring.compute import Scorer
from scoring.instruments import EXAMPLE_CASE, calculate_case
from scoring.planning import (
    DOI,
    TIS,
    WORSENING,
    PatientInputs,
    StoredVisit,
    expected_rows,
    visit_inputs,
)
from scoring.scores import DONE, FAILED, PENDING, PREVIEW, ScoreDraft, VisitScore

SAVED = datetime(2020, 6, 1, tzinfo=UTC)


def example_visit(visit_id, day, case_visit, unit="U/L"):
    """A visit of docs/scoring.md §6's example case as scoring.selectors reads it."""
    labs = [
        (name, Decimal(str(lab["value"])), unit, Decimal(str(lab["uln"])))
        for name, lab in case_visit["enzymes"].items()
    ]
    return StoredVisit(
        visit_id, date.fromisoformat(day), "follow_up", SAVED,
        Decimal(str(case_visit["physician_global"])), Decimal(str(case_visit["patient_global"])),
        Decimal(str(case_visit["extramuscular"])), None, False,
        mmt_total=case_visit["mmt"]["total"], mmt_max=case_visit["mmt"]["max"],
        haq=Fraction(str(case_visit["haq"])), labs=labs,
    )  # fmt: skip


def example_patient(population="adult", unit="U/L"):
    inputs = PatientInputs(1, population, "" if population else "onset: is before birth")
    inputs.add_visit(visit_inputs(example_visit(1, "2020-01-08", EXAMPLE_CASE["baseline"])))
    follow_up = example_visit(2, "2020-04-08", EXAMPLE_CASE["followup"], unit)
    inputs.add_visit(visit_inputs(follow_up))
    return inputs


def outcomes(inputs):
    scorer = Scorer(inputs)
    return {
        row.algorithm: scorer.outcome(row.comparison, row.algorithm)
        for row in expected_rows(inputs)
    }


def test_the_example_case_scores_as_the_calculator_and_fills_the_query_columns():
    found = outcomes(example_patient())
    expected = calculate_case(EXAMPLE_CASE)
    assert found[DOI].result == expected["imacs_doi"]
    assert found[TIS].result == expected["acr_eular"]
    assert found[DOI].columns == {"met": expected["imacs_doi"]["met"]}
    assert found[TIS].columns["score"] == Decimal(str(expected["acr_eular"]["score"]))
    assert found[TIS].columns["category"] == expected["acr_eular"]["category"]
    # The first follow-up has no previous visit: worsening is never confirmed there.
    assert found[WORSENING].columns["confirmed"] is False
    assert found[WORSENING].result["previous"] is None
    assert not any(outcome.error for outcome in found.values())


def test_inputs_that_could_not_be_read_fail_naming_the_visit():
    found = outcomes(example_patient(unit="mg/dL"))
    assert {outcome.error for outcome in found.values()} == {
        "visit 2: labs.ck.unit: unknown unit 'mg/dL'"
    }
    assert all(outcome.result is None for outcome in found.values())


def test_without_population_only_the_tis_fails():
    found = outcomes(example_patient(population=None))
    assert found[TIS].error == "population: onset: is before birth"
    assert found[DOI].error == found[WORSENING].error == ""


def test_a_score_is_the_worst_of_its_records_with_every_error_and_the_latest_time():
    early, late = datetime(2020, 5, 1, tzinfo=UTC), datetime(2020, 5, 2, tzinfo=UTC)
    draft = ScoreDraft(1, date(2020, 1, 8), "baseline", (3, 5), DONE)
    draft.add(DOI, DONE, "", {"met": True}, late)
    draft.add(TIS, FAILED, "population: unknown", None, early)
    draft.add(WORSENING, PENDING, "timeout", {"confirmed": False}, None)
    score = draft.score()
    assert score == VisitScore(
        1, date(2020, 1, 8), "baseline", (3, 5), FAILED, "population: unknown; timeout", late,
        imacs_doi={"met": True}, acr_eular=None, worsening={"confirmed": False},
    )  # fmt: skip
    assert score.failed and not score.pending


def test_a_dry_run_score_is_a_preview_unless_an_algorithm_failed():
    draft = ScoreDraft(1, date(2020, 1, 8), "treatment", (), PREVIEW)
    draft.add(DOI, PREVIEW, "", {"met": False}, SAVED)
    assert draft.score().status == PREVIEW
    draft.add(TIS, FAILED, "no strength", None, SAVED)
    assert (draft.score().status, draft.score().error) == (FAILED, "no strength")


def test_the_api_shape_of_a_score():
    score = VisitScore(4, date(2020, 1, 8), "baseline", (2,), PENDING)
    assert list(score.as_json().items()) == [
        ("reference_visit", {"id": 4, "date": "2020-01-08"}),
        ("reference_kind", "baseline"),
        ("episodes", [2]),
        ("status", "pending"),
        ("error", None),
        ("imacs_doi", None),
        ("acr_eular", None),
        ("worsening", None),
        ("computed_at", None),
    ]
    done = VisitScore(4, date(2020, 1, 8), "baseline", (), DONE, "x", SAVED, {"met": True})
    assert done.as_json()["computed_at"] == "2020-06-01T00:00:00+00:00"
    assert (done.as_json()["error"], done.as_json()["imacs_doi"]) == ("x", {"met": True})
