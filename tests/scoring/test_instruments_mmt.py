"""MMT-8 totals (docs/scoring.md §1)."""

import pytest

from scoring.instruments import (
    BILATERAL_GROUPS,
    MMT8_GROUPS,
    MMT_MAX,
    InstrumentError,
    mmt8_total,
)


def unilateral(grade=10, **overrides):
    return {**dict.fromkeys(MMT8_GROUPS, grade), **overrides}


def bilateral(grade=10, **overrides):
    grades = {"neck_flexors": grade}
    grades.update({group: {"right": grade, "left": grade} for group in BILATERAL_GROUPS})
    grades.update(overrides)
    return grades


def test_groups_and_maxima():
    assert MMT8_GROUPS == (
        "neck_flexors",
        "deltoid",
        "biceps",
        "wrist_extensors",
        "gluteus_maximus",
        "gluteus_medius",
        "quadriceps",
        "ankle_dorsiflexors",
    )
    assert BILATERAL_GROUPS == MMT8_GROUPS[1:]
    assert MMT_MAX == {"unilateral": 80, "bilateral": 150}


def test_unilateral_total():
    assert mmt8_total("unilateral", unilateral()) == 80
    assert mmt8_total("unilateral", unilateral(grade=0)) == 0
    assert mmt8_total("unilateral", unilateral(deltoid=7, biceps=8)) == 75


def test_bilateral_total_counts_neck_flexors_once():
    assert mmt8_total("bilateral", bilateral()) == 150
    assert mmt8_total("bilateral", bilateral(grade=0)) == 0


def test_bilateral_total_of_the_design_example():
    grades = {
        "neck_flexors": 8,
        "deltoid": {"right": 7, "left": 8},
        "biceps": {"right": 8, "left": 8},
        "wrist_extensors": {"right": 9, "left": 9},
        "gluteus_maximus": {"right": 6, "left": 6},
        "gluteus_medius": {"right": 7, "left": 7},
        "quadriceps": {"right": 8, "left": 8},
        "ankle_dorsiflexors": {"right": 10, "left": 10},
    }
    assert mmt8_total("bilateral", grades) == 119


def test_an_ungraded_group_leaves_no_total():
    assert mmt8_total("unilateral", unilateral(quadriceps=None)) is None
    grades = unilateral()
    del grades["neck_flexors"]
    assert mmt8_total("unilateral", grades) is None


def test_an_ungraded_side_leaves_no_total():
    assert mmt8_total("bilateral", bilateral(deltoid={"right": 7, "left": None})) is None
    assert mmt8_total("bilateral", bilateral(deltoid={"right": 7})) is None
    assert mmt8_total("bilateral", bilateral(deltoid=None)) is None
    assert mmt8_total("bilateral", bilateral(neck_flexors=None)) is None


def test_an_invalid_grade_is_reported_even_when_the_total_is_incomplete():
    with pytest.raises(InstrumentError) as caught:
        mmt8_total("unilateral", unilateral(deltoid=None, biceps=11))
    assert caught.value.field == "biceps"


@pytest.mark.parametrize(
    ("scale", "grades", "field"),
    [
        ("unilateral", unilateral(deltoid=11), "deltoid"),
        ("unilateral", unilateral(deltoid=-1), "deltoid"),
        ("unilateral", unilateral(deltoid=7.5), "deltoid"),
        ("unilateral", unilateral(deltoid="7"), "deltoid"),
        ("unilateral", unilateral(deltoid=True), "deltoid"),
        ("unilateral", unilateral(deltoid={"right": 7, "left": 7}), "deltoid"),
        ("unilateral", unilateral(triceps=5), "triceps"),
        ("bilateral", bilateral(deltoid=7), "deltoid"),
        ("bilateral", bilateral(neck_flexors={"right": 7, "left": 7}), "neck_flexors"),
        ("bilateral", bilateral(biceps={"right": 7, "left": 12}), "biceps.left"),
        ("bilateral", bilateral(biceps={"right": 7, "left": 7, "middle": 7}), "biceps.middle"),
        ("sideways", unilateral(), "scale"),
        ("unilateral", [10] * 8, "grades"),
    ],
)
def test_invalid_grades_are_rejected_with_the_field_named(scale, grades, field):
    with pytest.raises(InstrumentError) as caught:
        mmt8_total(scale, grades)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
