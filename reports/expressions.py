"""Date arithmetic, derived patient columns and the episode reference rule as SQL, the same on
SQLite and PostgreSQL.

Django's own `F("start_date") - timedelta(days=30)` works on both databases, but on SQLite it
becomes a call into Python for every row and on PostgreSQL a timestamp; the reports run these
expressions on every treatment episode of the registry, inside correlated subqueries, so they are
written here as the plain SQL each database evaluates natively.
"""

from datetime import date
from typing import Any

from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.db.models.lookups import LessThan

from crf.models import Visit
from scoring.instruments import ADULT, JUVENILE
from scoring.instruments.population import JUVENILE_BEFORE_AGE
from scoring.planning import EPISODE_WINDOW

# docs/scoring.md §7: an episode's baseline is the latest visit from 30 days
# before its start up to the start; its scored visits run to 30 days after the stop date.
EPISODE_WINDOW_DAYS = EPISODE_WINDOW.days


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

    Registry rule (docs/scoring.md §3): whole years from the first day of the birth month; juvenile
    when under 18. Born on day 1, a year's birthday has been reached once its month has begun, so
    the age is the difference of the years less one when the onset month comes before the birth
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


# ---------------------------------------------------------------------------------------------
# An episode's references as they are now (scoring.selectors.plan_comparisons, in SQL)
#
# `episode` is the lookup path from the model of the query these subqueries sit in to the
# treatment episode: "" when that query is over episodes, "episode__" over ResponseEpisode links.


def baseline_visits(episode: str = "") -> QuerySet[Visit]:
    """The visits that may be the episode's baseline, the one the planner chooses first: from
    30 days before its start up to the start, the latest (by date, then id, as the planner
    orders them; a patient's visits have distinct dates anyway)."""
    return Visit.objects.filter(
        patient_id=OuterRef(f"{episode}patient_id"),
        visit_date__gte=AddDays(OuterRef(f"{episode}start_date"), -EPISODE_WINDOW_DAYS),
        visit_date__lte=OuterRef(f"{episode}start_date"),
    ).order_by("-visit_date", "-id")


def window_visits(episode: str = "") -> QuerySet[Visit]:
    """The visits scored for the episode, latest first: after its start, to 30 days after its
    stop. An ongoing episode's window has no end: far enough in the future stands in for it."""
    return Visit.objects.filter(
        patient_id=OuterRef(f"{episode}patient_id"),
        visit_date__gt=OuterRef(f"{episode}start_date"),
        visit_date__lte=Coalesce(
            AddDays(OuterRef(f"{episode}stop_date"), EPISODE_WINDOW_DAYS),
            Value(date(9999, 12, 31)),
        ),
    ).order_by("-visit_date", "-id")


def measures_episode(record: str, episode: str) -> Q:
    """Whether the response record at lookup path `record` measures the response of the
    episode at `episode` (both joined in the same query) as the episode is now: scored against
    the episode's current baseline, at a visit inside its current window.

    The scoring pipeline links a record to the episodes it measured when it was computed. A
    signed (locked) visit's records are frozen with those links (issue 8), so after the
    episode's start, stop or baseline visit changes, a frozen link can point at a comparison
    the episode no longer has: the reports count a link only when this holds.

    The baseline as the planner chooses it (`baseline_visits`), written so that the database
    checks it row by row without a subquery per link: the reference lies from 30 days before
    the start up to the start, and no visit of the patient comes after it up to the start (a
    patient's visits have distinct dates). Never NULL, so `exclude()` is its complement.
    """
    start = F(f"{episode}start_date")
    reference_date = f"{record}reference_visit__visit_date"
    later_baseline = Visit.objects.filter(
        patient_id=OuterRef(f"{episode}patient_id"),
        visit_date__gt=OuterRef(reference_date),
        visit_date__lte=OuterRef(f"{episode}start_date"),
    )
    return Q(
        **{
            f"{reference_date}__gte": AddDays(start, -EPISODE_WINDOW_DAYS),
            f"{reference_date}__lte": start,
            f"{record}visit__visit_date__gt": start,
            f"{record}visit__visit_date__lte": Coalesce(
                AddDays(F(f"{episode}stop_date"), EPISODE_WINDOW_DAYS), Value(date(9999, 12, 31))
            ),
        }
    ) & ~Exists(later_baseline)
