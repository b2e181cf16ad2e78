"""Date arithmetic and derived patient columns as SQL, the same on SQLite and PostgreSQL.

Django's own `F("start_date") - timedelta(days=30)` works on both databases, but on SQLite it
becomes a call into Python for every row and on PostgreSQL a timestamp; the reports run these
expressions on every treatment episode of the registry, inside correlated subqueries, so they are
written here as the plain SQL each database evaluates natively.
"""

from typing import Any

from django.db.models import (
    Case,
    CharField,
    DateField,
    Expression,
    F,
    Func,
    IntegerField,
    Value,
    When,
)
from django.db.models.functions import ExtractMonth, ExtractYear
from django.db.models.lookups import LessThan

from scoring.instruments import ADULT, JUVENILE
from scoring.instruments.population import JUVENILE_BEFORE_AGE


class AddDays(Func):
    """`date + days` as a date (days a whole number known when the query is built)."""

    output_field = DateField()

    def __init__(self, expression: Any, days: int, **extra: Any) -> None:
        if not isinstance(days, int):
            raise TypeError("AddDays takes a whole number of days")
        self.days = days
        super().__init__(expression, **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "sqlite":
            # date('2020-01-10', '-30 days') → '2019-12-11', the text SQLite stores dates as.
            return f"date({sql}, %s)", [*params, f"{self.days:+d} days"]
        # PostgreSQL: date + integer is a date.
        return f"({sql} + %s)", [*params, self.days]

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "days": self.days}


class DaysBetween(Func):
    """Whole days from `earlier` to `later` (negative when `later` comes first)."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, later: Any, earlier: Any, **extra: Any) -> None:
        super().__init__(later, earlier, **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        params = [*later_params, *earlier_params]
        if connection.vendor == "sqlite":
            # Julian day numbers of dates without a time differ by whole days exactly.
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)", params
        return f"({later} - {earlier})", params


def population(prefix: str = "") -> Expression:
    """Adult or juvenile by the age at symptom onset, as SQL (scoring.instruments.population_for).

    Registry rule (DESIGN.md): whole years from the first day of the birth month; juvenile when
    under 18. Born on day 1, a year's birthday has been reached once its month has begun, so the
    age is the difference of the years less one when the onset month comes before the birth
    month. `prefix` is the lookup path to the patient ("patient__" from an episode).
    """
    onset = f"{prefix}onset_date"
    age = (
        ExtractYear(onset)
        - F(f"{prefix}birth_year")
        - Case(
            When(**{f"{prefix}birth_month__gt": ExtractMonth(onset)}, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    return Case(
        When(LessThan(age, JUVENILE_BEFORE_AGE), then=Value(JUVENILE)),
        default=Value(ADULT),
        output_field=CharField(),
    )
