"""Adult or juvenile by age at symptom onset (docs/scoring.md §3)."""

import datetime

import pytest

from scoring.instruments import InstrumentError, age_in_years, population_for


@pytest.mark.parametrize(
    ("onset", "population"),
    [
        (datetime.date(2018, 5, 31), "juvenile"),  # the day before the 18th "birthday"
        (datetime.date(2018, 6, 1), "adult"),  # 18 from the first day of the birth month
        (datetime.date(2018, 6, 30), "adult"),
        (datetime.date(2000, 6, 1), "juvenile"),
        (datetime.date(2017, 12, 31), "juvenile"),
        (datetime.date(2050, 1, 1), "adult"),
    ],
)
def test_population_at_the_18_year_boundary(onset, population):
    assert population_for(2000, 6, onset) == population


def test_age_is_counted_from_the_first_day_of_the_birth_month():
    assert age_in_years(1968, 4, datetime.date(2019, 3, 1)) == 50
    assert age_in_years(1968, 4, datetime.date(2019, 4, 1)) == 51
    assert age_in_years(2000, 1, datetime.date(2018, 1, 1)) == 18
    assert age_in_years(2000, 12, datetime.date(2018, 11, 30)) == 17


def test_a_datetime_onset_is_accepted():
    assert population_for(2000, 6, datetime.datetime(2018, 6, 1, 8, 30)) == "adult"


@pytest.mark.parametrize(
    ("year", "month", "onset", "field"),
    [
        (2000, 13, datetime.date(2020, 1, 1), "birth_month"),
        (2000, 0, datetime.date(2020, 1, 1), "birth_month"),
        ("2000", 6, datetime.date(2020, 1, 1), "birth_year"),
        (2000, 6, "2020-01-01", "onset"),
        (2000, 6, datetime.date(2000, 5, 31), "onset"),
    ],
)
def test_invalid_input_is_rejected_with_the_field_named(year, month, onset, field):
    with pytest.raises(InstrumentError) as caught:
        population_for(year, month, onset)
    assert caught.value.field == field
