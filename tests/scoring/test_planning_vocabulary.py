"""scoring.planning holds the visit kinds, lab units and record vocabulary it plans with as plain
strings (it imports no Django): they are the values of the models' choices."""

from crf.models import LabResult, Visit
from scoring import planning, scores
from scoring.models import ResponseRecord


def test_planning_speaks_the_models_vocabulary():
    assert planning.BASELINE_VISIT == Visit.Kind.BASELINE
    assert set(planning.UNIT_FACTORS) == set(LabResult.Unit.values)
    assert planning.ALGORITHMS == tuple(ResponseRecord.Algorithm.values)
    assert {planning.BASELINE_REFERENCE, planning.TREATMENT_REFERENCE} == set(
        ResponseRecord.ReferenceKind.values
    )
    assert {scores.PENDING, scores.DONE, scores.FAILED} == set(ResponseRecord.Status.values)
