"""Adult or juvenile population — docs/scoring.md §3 "Population", docs/scoring.md §7.

Juvenile when the age at symptom onset is under 18 years (the JDM response criteria, Rider LG
et al., Arthritis Rheumatol 2017;69:911–23, apply to onset before 18). The registry is
pseudonymous and stores only the year and month of birth, so **[registry rule]** age is counted
in whole years from the first day of the birth month.
"""

from __future__ import annotations

import datetime

from .errors import InstrumentError

ADULT = "adult"
JUVENILE = "juvenile"
POPULATIONS: tuple[str, ...] = (ADULT, JUVENILE)
JUVENILE_BEFORE_AGE = 18


def check_population(population: object) -> None:
    """Raise ``InstrumentError`` unless ``population`` is ``"adult"`` or ``"juvenile"``."""
    if population not in POPULATIONS:
        raise InstrumentError("population", "must be 'adult' or 'juvenile'")


def age_in_years(birth_year: int, birth_month: int, on: datetime.date) -> int:
    """Whole years from the first day of the birth month to ``on``."""
    if type(birth_year) is not int:
        raise InstrumentError("birth_year", "must be a whole number")
    if type(birth_month) is not int or not 1 <= birth_month <= 12:
        raise InstrumentError("birth_month", "must be a whole number from 1 to 12")
    if not isinstance(on, datetime.date):
        raise InstrumentError("onset", "must be a date")
    # Born on day 1: the birthday of a year has been reached once its month has begun.
    age = on.year - birth_year - (1 if on.month < birth_month else 0)
    if age < 0:
        raise InstrumentError("onset", "is before the month of birth")
    return age


def population_for(birth_year: int, birth_month: int, onset: datetime.date) -> str:
    """``"juvenile"`` when the age at symptom onset is < 18 whole years, else ``"adult"``."""
    if age_in_years(birth_year, birth_month, onset) < JUVENILE_BEFORE_AGE:
        return JUVENILE
    return ADULT
