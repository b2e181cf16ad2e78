"""Glucocorticoid dose over treatment: the median daily prednisone-equivalent dose at the start
of each treatment episode and at weeks 12, 24 and 52, per treatment — drawn as small panels on
the same axes as the TIS chart (reports.charts.small_multiples), so the two read side by side:
does the score improve while the glucocorticoid is tapered?

Which dose counts at a time point:
- week 0: the dose recorded at the episode's baseline visit (docs/scoring.md §7: the latest visit
  from 30 days before the start up to the start), as the report's glucocorticoid change uses it;
- week 12, 24, 52: the dose at the visit of the episode's window nearest to that week within
  ±4 weeks (of two equally near, the earlier), the TIS weeks' rule (reports.selectors.WEEKS),
  among the visits where a dose was recorded: "not recorded" is not 0 mg.

Every episode that matches the filters counts where it has a dose (n per point). One row per
treatment over every stratum: a stratified report still draws one panel per drug. A treatment
computed from few patients, one at a site the viewer is not a member of, is withheld as the
report's rows are (reports.disclosure). One query, the doses read in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, Min, OuterRef, Subquery, Value, When
from django.db.models.functions import Abs, Cast, Round
from django.db.models.lookups import GreaterThan

from registry.vocabularies import DRUG_CLASS, Drug, DrugClass
from reports.charts import (
    MAX_PANELS,
    WIDTH,
    Chart,
    Panel,
    PanelPoint,
    nice_top,
    small_multiples,
)
from reports.disclosure import Disclosure, Tally
from reports.expressions import AddDays, DaysBetween, baseline_visits, window_visits
from reports.filters import GroupBy, ReportFilters
from reports.outcomes import treatment_label
from reports.selectors import WEEK_TOLERANCE_DAYS, WEEKS, episodes_matching
from reports.statistics import Summary, summarise

GC_WEEKS: tuple[int, ...] = (0, *WEEKS)
DOSE_BANDS = ((7.5, "low dose up to"), (30.0, "medium dose up to"))
_DRUG_ORDER = {code: index for index, code in enumerate(Drug.values)}
_CLASS_ORDER = {code: index for index, code in enumerate(DrugClass.values)}


# Packing of `_dose_at`: (distance in days × 2, +1 after the target) × _DOSE_UNIT + the dose in
# hundredths of a mg (the visit's dose is at most 2000 mg/day: crf.models.Visit's constraint).
_DOSE_UNIT = 1_000_000


def _dose_at(week: int) -> Subquery:
    """The outer episode's dose (mg/day) at `week` of treatment (module docstring): for weeks
    after the start, a packed number (`unpack_dose`).

    The nearest visit is taken as the minimum of one number that holds the distance in its high
    digits and the dose in its low ones, as reports.selectors._week_key does for the TIS: SQLite
    cannot order a correlated subquery by an expression of the outer row, and an aggregate can
    only return a value of the row it picks when that value is part of what it compares.
    """
    if week == 0:
        return Subquery(baseline_visits().values("glucocorticoid_mg_per_day")[:1])
    target = week * 7
    day = DaysBetween(F("visit_date"), OuterRef("start_date"))
    after = Case(When(GreaterThan(day, target), then=Value(1)), default=Value(0))
    distance = Abs(day - Value(target)) * Value(2) + after
    hundredths = Cast(Round(F("glucocorticoid_mg_per_day") * Value(100)), IntegerField())
    near = (
        window_visits()
        .filter(
            glucocorticoid_mg_per_day__isnull=False,
            visit_date__gte=AddDays(OuterRef("start_date"), target - WEEK_TOLERANCE_DAYS),
            visit_date__lte=AddDays(OuterRef("start_date"), target + WEEK_TOLERANCE_DAYS),
        )
        .order_by()
        .values("patient_id")
        .annotate(key=Min(distance * Value(_DOSE_UNIT) + hundredths, output_field=IntegerField()))
        .values("key")
    )
    return Subquery(near[:1], output_field=IntegerField())


def unpack_dose(week: int, value: Any) -> float | None:
    """The dose in mg/day of `_dose_at(week)`'s column."""
    if value is None:
        return None
    if week == 0:
        return float(value)
    return (int(value) % _DOSE_UNIT) / 100


@dataclass(frozen=True)
class DoseRow:
    """The doses of one treatment's episodes at GC_WEEKS."""

    treatment: str
    treatment_label: str
    episodes: int
    weeks: dict[int, Summary]
    suppressed: bool = False


def dose_over_time(filters: ReportFilters, *, disclosure: Disclosure) -> list[DoseRow]:
    """One row per treatment (drug or drug class, as the report groups), in vocabulary order."""
    episodes = episodes_matching(filters).annotate(
        **{f"gc_week_{week}": _dose_at(week) for week in GC_WEEKS}
    )
    columns = ("patient_id", "patient__site__code", "drug", *(f"gc_week_{w}" for w in GC_WEEKS))
    by_class = filters.group_by == GroupBy.DRUG_CLASS
    doses: dict[str, dict[int, list[float]]] = {}
    counts: dict[str, int] = {}
    tallies: dict[str, Tally] = {}
    for patient_id, site, drug, *values in episodes.order_by().values_list(*columns):
        treatment = str(DRUG_CLASS[drug]) if by_class else drug
        if treatment not in doses:
            doses[treatment] = {week: [] for week in GC_WEEKS}
            counts[treatment] = 0
            tallies[treatment] = Tally()
        counts[treatment] += 1
        tallies[treatment].add(patient_id, site)
        for week, value in zip(GC_WEEKS, values, strict=True):
            dose = unpack_dose(week, value)
            if dose is not None:
                doses[treatment][week].append(dose)
    order = _CLASS_ORDER if by_class else _DRUG_ORDER
    rows = []
    for treatment in sorted(doses, key=lambda code: order.get(code, len(order))):
        label = treatment_label(filters.group_by, treatment)
        if disclosure.suppresses(tallies[treatment]):
            rows.append(DoseRow(treatment, label, 0, {}, suppressed=True))
            continue
        weeks = {week: summarise(doses[treatment][week]) for week in GC_WEEKS}
        rows.append(DoseRow(treatment, label, counts[treatment], weeks))
    return rows


def glucocorticoid_chart(rows: list[DoseRow]) -> Chart:
    """Median prednisone-equivalent dose (with IQR) at the start and weeks 12, 24 and 52: a
    small panel per treatment with doses, the largest MAX_PANELS, on one shared dose axis."""
    shown_rows = [r for r in rows if not r.suppressed and any(s.n for s in r.weeks.values())]
    largest = sorted(shown_rows, key=lambda r: -r.episodes)[:MAX_PANELS]
    shown = [row for row in shown_rows if row in largest]
    chart = Chart(
        "chart-glucocorticoid",
        "Glucocorticoid dose over time (prednisone equivalent, mg/day, median and IQR)",
        WIDTH,
        0,
    )
    panels = []
    for row in shown:
        points, missing = [], []
        for week in GC_WEEKS:
            found = row.weeks[week]
            if found.median is None or found.q1 is None or found.q3 is None:
                missing.append(week)
                continue
            points.append(PanelPoint(week, found.median, found.q1, found.q3, found.n))
        panels.append(Panel(f"{row.treatment_label} (n={row.episodes})", tuple(points),
                            tuple(missing)))  # fmt: skip
    highest = max((p.q3 for panel in panels for p in panel.points), default=0.0)
    y_max, y_ticks = nice_top(max(highest, 10.0))
    last = max((p.week for panel in panels for p in panel.points), default=WEEKS[-1])
    small_multiples(
        chart,
        panels,
        x_ticks=[week for week in GC_WEEKS if week <= max(last, WEEKS[0])],
        y_max=y_max,
        y_ticks=y_ticks,
        # Dose bands of the EULAR nomenclature (Buttgereit et al., Ann Rheum Dis 2002;61:718):
        # low ≤ 7.5 mg/day, medium ≤ 30, high above.
        guides=[(v, n) for v, n in DOSE_BANDS if v <= y_max],
        unit=" mg/day",
        empty="No glucocorticoid doses recorded at these times.",
    )
    if len(shown_rows) > len(shown):
        chart.note = f"The {len(shown)} largest of {len(shown_rows)} groups are shown."
    return chart
