"""Safety by treatment (docs/outcomes.md "Safety"), shaped like the ProDERM safety table
(Aggarwal R et al., Arthritis Res Ther 2024;26:27): per drug (or class, and stratum) the patients
exposed and their exposure in patient-years, the patients with at least one treatment-emergent
adverse event — any, serious, related (possible, probable, definite), leading to withdrawal,
fatal — with 95 % Wilson intervals, the events per 100 patient-years with an exact Poisson
interval, the same per adverse-event category, and the deaths by cause.

Treatment-emergence is the scoring pipeline's (scoring.EpisodeAdverseEvent); exposure runs from
the episode's start to its stop, or to the patient's last follow-up while ongoing
(scoring.FollowUp); a death counts for an episode when it falls on or after its start and no
later than 30 days after its stop (ongoing: any time), as its adverse events do. Leading to
withdrawal: the treatment withdrawn for an event, or the episode stopped for an adverse event.
Every count is a SQL aggregate grouped by row (three queries, and one for the small-cells
rule); a row of fewer than 5 patients, one of them at a site the viewer is not a member of, is
suppressed for that viewer (reports.disclosure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from crf.models import AdverseEvent, VitalStatus
from registry.vocabularies import StopReason
from reports.disclosure import Disclosure
from reports.expressions import AddDays, DaysBetween
from reports.filters import ReportFilters
from reports.outcome_groups import (
    STRATUM,
    TREATMENT,
    grouped,
    labels,
    row_order,
    site_tallies,
    whole_tally,
)
from reports.selectors import episodes_matching, validate_sites
from reports.statistics import Proportion, Rate, proportion, rate
from scoring.instruments.outcomes import EMERGENT_DAYS
from scoring.models import EpisodeAdverseEvent

DAYS_PER_YEAR = 365.25
CATEGORIES: tuple[str, ...] = tuple(AdverseEvent.Category.values)
CAUSES: tuple[str, ...] = tuple(VitalStatus.Cause.values)
# The patient counts of a row and of each category, in the table's order.
COUNTS = (
    ("patients_with_ae", "≥ 1 treatment-emergent adverse event"),
    ("patients_with_serious_ae", "≥ 1 serious adverse event"),
    ("patients_with_related_ae", "≥ 1 related adverse event"),
    ("patients_withdrawn_for_ae", "Leading to withdrawal"),
    ("patients_with_fatal_ae", "≥ 1 fatal adverse event"),
)


@dataclass(frozen=True)
class SafetyCounts:
    """Patients with at least one event of a kind, of `exposed`, and the events."""

    exposed: int
    patient_years: float
    patients_with_ae: int = 0
    patients_with_serious_ae: int = 0
    patients_with_related_ae: int = 0
    patients_withdrawn_for_ae: int = 0
    patients_with_fatal_ae: int = 0
    events: int = 0

    def share(self, name: str) -> Proportion:
        return proportion(getattr(self, name), self.exposed)

    @property
    def rate(self) -> Rate:
        """Events per 100 patient-years, exact Poisson interval."""
        return rate(self.events, self.patient_years)


@dataclass(frozen=True)
class SafetyRow:
    treatment: str
    treatment_label: str
    stratum: str | None
    stratum_label: str | None
    # None when suppressed: every figure is withheld.
    episodes: int | None
    counts: SafetyCounts | None
    deaths: int | None
    by_category: dict[str, SafetyCounts] = field(default_factory=dict)
    deaths_by_cause: dict[str, int] = field(default_factory=dict)
    suppressed: bool = False

    @property
    def patients_exposed(self) -> int | None:
        return None if self.counts is None else self.counts.exposed

    @property
    def patient_years(self) -> float | None:
        return None if self.counts is None else self.counts.patient_years


@dataclass(frozen=True)
class SafetyReport:
    filters: ReportFilters
    rows: list[SafetyRow]
    generated_at: datetime
    # Over every row; None when the report as a whole is withheld from the viewer.
    episodes: int | None = None


def _emergent(**conditions: Any) -> Exists:
    return Exists(EpisodeAdverseEvent.objects.filter(episode_id=OuterRef("pk"), **conditions))


def _death_in_window() -> Q:
    death = "patient__follow_up__death_date"
    return Q(**{f"{death}__gte": F("start_date")}) & (
        Q(stop_date__isnull=True) | Q(**{f"{death}__lte": AddDays(F("stop_date"), EMERGENT_DAYS)})
    )


def _distinct_patients(condition: Q | None = None) -> Count:
    return Count("patient", distinct=True, filter=condition)


def exposure_rows(episodes: QuerySet, filters: ReportFilters) -> QuerySet:
    """Per row: episodes, patients exposed, exposure days, the patients with events, deaths."""
    exposure = Greatest(
        DaysBetween(Coalesce("stop_date", "patient__follow_up__last_follow_up"), "start_date"),
        0,
    )
    return (
        grouped(episodes, filters)
        .alias(
            has_ae=_emergent(),
            has_serious=_emergent(adverse_event__serious=True),
            has_related=_emergent(related=True),
            has_withdrawn=_emergent(withdrawn=True),
            has_fatal=_emergent(adverse_event__outcome=AdverseEvent.Outcome.FATAL),
        )
        .values(TREATMENT, STRATUM)
        .order_by()
        .annotate(
            episodes=Count("pk"),
            exposed=_distinct_patients(),
            exposure_days=Sum(exposure),
            patients_with_ae=_distinct_patients(Q(has_ae=True)),
            patients_with_serious_ae=_distinct_patients(Q(has_serious=True)),
            patients_with_related_ae=_distinct_patients(Q(has_related=True)),
            patients_withdrawn_for_ae=_distinct_patients(
                Q(has_withdrawn=True) | Q(stop_reason=StopReason.ADVERSE_EVENT)
            ),
            patients_with_fatal_ae=_distinct_patients(Q(has_fatal=True)),
            deaths=_distinct_patients(_death_in_window()),
        )
    )


def category_rows(filters: ReportFilters) -> QuerySet:
    """Per row and adverse-event category: events and the patients with events."""
    emergent = EpisodeAdverseEvent.objects.filter(episode__in=episodes_matching(filters))
    return (
        grouped(emergent, filters, "episode__")
        .values(TREATMENT, STRATUM, "adverse_event__category")
        .order_by()
        .annotate(
            events=Count("pk"),
            patients_with_ae=_distinct_patients(),
            patients_with_serious_ae=_distinct_patients(Q(adverse_event__serious=True)),
            patients_with_related_ae=_distinct_patients(Q(related=True)),
            patients_withdrawn_for_ae=_distinct_patients(Q(withdrawn=True)),
            patients_with_fatal_ae=_distinct_patients(
                Q(adverse_event__outcome=AdverseEvent.Outcome.FATAL)
            ),
        )
    )


def death_rows(episodes: QuerySet, filters: ReportFilters) -> QuerySet:
    """Per row and cause of death: the patients who died within an episode's window."""
    return (
        grouped(episodes.filter(_death_in_window()), filters)
        .values(TREATMENT, STRATUM, "patient__vital_status__cause_category")
        .order_by()
        .annotate(deaths=_distinct_patients())
    )


_PATIENT_COUNTS = tuple(name for name, _ in COUNTS)


def safety_report(filters: ReportFilters, *, disclosure: Disclosure) -> SafetyReport:
    """The safety report as `disclosure`'s user may read it (callers need Action.REPORT)."""
    validate_sites(filters)
    episodes = episodes_matching(filters)
    exposure = {(r[STRATUM], r[TREATMENT]): r for r in exposure_rows(episodes, filters)}
    categories: dict[tuple[str | None, str], dict[str, dict[str, Any]]] = {}
    for r in category_rows(filters):
        categories.setdefault((r[STRATUM], r[TREATMENT]), {})[r["adverse_event__category"]] = r
    causes: dict[tuple[str | None, str], dict[str, int]] = {}
    for r in death_rows(episodes, filters):
        cause = r["patient__vital_status__cause_category"] or VitalStatus.Cause.UNKNOWN
        by_cause = causes.setdefault((r[STRATUM], r[TREATMENT]), {})
        by_cause[cause] = by_cause.get(cause, 0) + r["deaths"]
    tallies = site_tallies(episodes, filters)
    rows = []
    for key in sorted(exposure, key=lambda k: row_order(filters, k)):
        if disclosure.suppresses(tallies[key]):
            rows.append(
                SafetyRow(
                    **labels(filters, key), episodes=None, counts=None, deaths=None, suppressed=True
                )  # fmt: skip
            )
            continue
        found = exposure[key]
        years = (found["exposure_days"] or 0) / DAYS_PER_YEAR
        per_category = categories.get(key, {})
        by_category = {
            category: SafetyCounts(
                found["exposed"],
                years,
                **{name: per_category.get(category, {}).get(name, 0) for name in _PATIENT_COUNTS},
                events=per_category.get(category, {}).get("events", 0),
            )
            for category in CATEGORIES
        }
        counts = SafetyCounts(
            found["exposed"],
            years,
            **{name: found[name] for name in _PATIENT_COUNTS},
            events=sum(c.events for c in by_category.values()),
        )
        rows.append(
            SafetyRow(
                **labels(filters, key),
                episodes=found["episodes"],
                counts=counts,
                deaths=found["deaths"],
                by_category=by_category,
                deaths_by_cause={
                    cause: causes.get(key, {}).get(cause, 0)
                    for cause in CAUSES
                    if causes.get(key, {}).get(cause)
                },
            )
        )
    withheld = disclosure.suppresses(whole_tally(episodes))
    return SafetyReport(
        filters=filters,
        rows=rows,
        generated_at=timezone.now(),
        episodes=None if withheld else sum(r["episodes"] for r in exposure.values()),
    )
