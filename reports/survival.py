"""Survival by treatment (docs/outcomes.md "Survival analyses"): Kaplan–Meier estimates of
overall or progression-free survival of the treatment episodes that match the report's filters.

The times are those the scoring pipeline stored per episode and time zero (scoring.EpisodeSurvival:
whole days, death or progression as the event). One query streams (row, patient, site, days,
event) for the matching episodes; the rows' arrays of times and events go to lifelines'
Kaplan–Meier fitter (reports.statistics). Survival is read at 26, 52 and 104 weeks (183, 364 and
728 days), with the numbers still at risk then; with `compare=A,B` the log-rank test and the Cox
hazard ratio of A relative to B. A row of fewer than 5 patients, one of them at a site the viewer
is not a member of, is suppressed for that viewer (reports.disclosure).

`group_by=regimen` (this report's only grouping beyond drug and drug class) has one row per
patient instead: their initial regimen, combined up-front or step-up, with the survival of an
episode of their first treatment day (reports.regimens, where the definition is; Tsuji H et al.,
Arthritis Rheumatol 2020;72:488–498), so that `serology=mda5&group_by=regimen&compare=combined,
step_up` compares the two strategies in anti-MDA5 disease.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import timezone

from registry.errors import InputError
from registry.models import TreatmentEpisode
from registry.vocabularies import Drug, DrugClass
from reports import regimens
from reports.disclosure import MIN_PATIENTS, Disclosure, Tally
from reports.filters import GroupBy, ReportFilters, _one_of, _values, parse_filters
from reports.outcome_groups import SITE, STRATUM, TREATMENT, grouped, labels, row_order
from reports.selectors import episodes_matching, validate_sites
from reports.statistics import Comparison, KaplanMeier, SurvivalAt, compare, kaplan_meier
from scoring.instruments import outcomes as rules
from scoring.models import EpisodeSurvival

OS, PFS = "os", "pfs"
OUTCOME_CHOICES = ((OS, "Overall survival"), (PFS, "Progression-free survival (ILD)"))
TIME_ZERO_CHOICES = (
    (rules.EPISODE_START, "Start of the treatment"),
    (rules.ILD_ONSET, "ILD onset"),
    (rules.DIAGNOSIS, "Diagnosis"),
)
DEFINITION_CHOICES = tuple(EpisodeSurvival._meta.get_field("definition").choices or ())
# Weeks at which survival is read, and the day of the Kaplan–Meier step function read for each.
READ_AT: dict[int, int] = {26: 183, 52: 364, 104: 728}
PARAMETERS = ("outcome", "time_zero", "definition", "compare")


@dataclass(frozen=True)
class SurvivalQuery:
    """What is estimated: overall or progression-free survival, from which time zero, lung
    progression under which definition (PFS), and which two treatments are compared."""

    outcome: str = OS
    time_zero: str = rules.EPISODE_START
    definition: str = rules.DEFAULT_LUNG_DEFINITION
    compare: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "time_zero": self.time_zero,
            "definition": self.definition,
            "compare": None if self.compare is None else ",".join(self.compare),
        }

    def query_pairs(self) -> list[tuple[str, str]]:
        pairs = [("outcome", self.outcome), ("time_zero", self.time_zero)]
        pairs.append(("definition", self.definition))
        if self.compare:
            pairs.append(("compare", ",".join(self.compare)))
        return pairs


def parse_survival_filters(params: Mapping[str, Any] | Any, *, form: bool = False) -> ReportFilters:
    """The report's filters (reports.filters.parse_filters), `group_by=regimen` allowed: the
    other parameters are parsed without it, so that their errors are named as anywhere else."""
    if _values(params, "group_by") != [GroupBy.REGIMEN]:
        return parse_filters(params, form=form)
    items = params.lists() if hasattr(params, "lists") else params.items()
    others = {name: value for name, value in items if name != "group_by"}
    return replace(parse_filters(others, form=form), group_by=GroupBy.REGIMEN)


def parse_survival(params: Mapping[str, Any] | Any, filters: ReportFilters) -> SurvivalQuery:
    """SurvivalQuery from query parameters; InputError naming every bad one."""
    errors: list[tuple[str, str]] = []
    outcome = _one_of(errors, params, "outcome", tuple(c for c, _ in OUTCOME_CHOICES)) or OS
    time_zero = _one_of(errors, params, "time_zero", tuple(c for c, _ in TIME_ZERO_CHOICES))
    definition = _one_of(errors, params, "definition", rules.LUNG_DEFINITIONS)
    pair = _values(params, "compare")
    treatments = {
        GroupBy.DRUG_CLASS: DrugClass.values,
        GroupBy.REGIMEN: list(regimens.LABELS),
    }.get(filters.group_by, Drug.values)
    compared: tuple[str, str] | None = None
    if pair:
        if len(pair) != 2 or pair[0] == pair[1]:
            errors.append(("compare", "Give two different treatments: compare=A,B."))
        elif unknown := [code for code in pair if code not in treatments]:
            by_regimen = filters.group_by == GroupBy.REGIMEN
            hint = " Grouped by regimen: combined,step_up." if by_regimen else ""
            errors.append(("compare", f"Unknown treatment code(s): {', '.join(unknown)}.{hint}"))
        else:
            compared = (pair[0], pair[1])
    if errors:
        raise InputError(errors)
    return SurvivalQuery(
        outcome,
        time_zero or rules.EPISODE_START,
        definition or rules.DEFAULT_LUNG_DEFINITION,
        compared,
    )


@dataclass(frozen=True)
class SurvivalRow:
    treatment: str
    treatment_label: str
    stratum: str | None
    stratum_label: str | None
    # None when suppressed: every figure is withheld.
    patients: int | None
    estimate: KaplanMeier | None
    suppressed: bool = False

    @property
    def episodes(self) -> int | None:
        return None if self.estimate is None else self.estimate.n

    @property
    def events(self) -> int | None:
        return None if self.estimate is None else self.estimate.events

    @property
    def censored(self) -> int | None:
        return None if self.estimate is None else self.estimate.censored

    @property
    def median_weeks(self) -> float | None:
        median = None if self.estimate is None else self.estimate.median
        return None if median is None else round(median / 7, 1)

    def at_weeks(self, weeks: int) -> SurvivalAt | None:
        return None if self.estimate is None else self.estimate.at(READ_AT[weeks])


@dataclass(frozen=True)
class SurvivalComparison:
    """Treatment A against B (the reference) over all strata; the statistics are None when a
    group has fewer than MIN_PATIENTS patients (`reason` says so)."""

    a: str
    b: str
    a_label: str
    b_label: str
    n_a: int  # episodes (the units of the estimate)
    n_b: int
    patients_a: int
    patients_b: int
    result: Comparison | None
    reason: str = ""


@dataclass(frozen=True)
class SurvivalReport:
    filters: ReportFilters
    query: SurvivalQuery
    rows: list[SurvivalRow]
    comparison: SurvivalComparison | None
    generated_at: datetime
    # Over every row; None when the report as a whole is withheld from the viewer.
    episodes: int | None = None


@dataclass
class _Group:
    observations: list[tuple[int, bool]] = field(default_factory=list)
    patients: set[int] = field(default_factory=set)
    tally: Tally = field(default_factory=Tally)


def survival_rows(filters: ReportFilters, query: SurvivalQuery) -> Any:
    """(treatment, stratum, patient, site, days, event) of the matching episodes; grouped by
    regimen, one per patient (reports.regimens)."""
    days, event = ("os_days", "os_event") if query.outcome == OS else ("pfs_days", "pfs_event")
    rows = EpisodeSurvival.objects.filter(
        episode__in=episodes_matching(filters),
        time_zero=query.time_zero,
        definition=query.definition,
    )
    if query.outcome == PFS:
        rows = rows.filter(pfs_days__isnull=False)
    if filters.group_by == GroupBy.REGIMEN:
        initial = regimens.initial_regimens(
            TreatmentEpisode.objects.filter(patient__in=rows.values("patient"))
        )
        ordered = (
            grouped(rows, filters, "episode__")
            # Same-day episodes have the same times: the lowest id makes the choice repeatable.
            .order_by("patient_id", "episode__start_date", "episode_id")
            .values_list("patient_id", "episode__start_date", STRATUM, SITE, days, event)
        )
        return regimens.per_patient(initial, ordered.iterator(chunk_size=5000))
    return (
        grouped(rows, filters, "episode__")
        .order_by()
        .values_list(TREATMENT, STRATUM, "patient_id", SITE, days, event)
        .iterator(chunk_size=5000)
    )


def survival_report(
    filters: ReportFilters, query: SurvivalQuery, *, disclosure: Disclosure
) -> SurvivalReport:
    """The survival report as `disclosure`'s user may read it (callers need Action.REPORT)."""
    validate_sites(filters)
    groups: dict[tuple[str | None, str], _Group] = {}
    compared: dict[str, _Group] = {}
    wanted = set(query.compare or ())
    everything = Tally()
    for treatment, stratum, patient, site, days, event in survival_rows(filters, query):
        group = groups.get((stratum, treatment))
        if group is None:
            group = groups[stratum, treatment] = _Group()
        group.observations.append((days, event))
        group.patients.add(patient)
        group.tally.add(patient, site)
        everything.add(patient, site)
        if treatment in wanted:
            side = compared.setdefault(treatment, _Group())
            side.observations.append((days, event))
            side.patients.add(patient)
    rows = []
    for key in sorted(groups, key=lambda k: row_order(filters, k)):
        group = groups[key]
        if disclosure.suppresses(group.tally):
            rows.append(SurvivalRow(**labels(filters, key), patients=None, estimate=None,
                                    suppressed=True))  # fmt: skip
            continue
        rows.append(
            SurvivalRow(
                **labels(filters, key),
                patients=len(group.patients),
                estimate=kaplan_meier(group.observations),
            )
        )
    withheld = disclosure.suppresses(everything)
    return SurvivalReport(
        filters=filters,
        query=query,
        rows=rows,
        comparison=_comparison(filters, query, compared),
        generated_at=timezone.now(),
        episodes=None if withheld else sum(len(g.observations) for g in groups.values()),
    )


def _comparison(
    filters: ReportFilters, query: SurvivalQuery, groups: dict[str, _Group]
) -> SurvivalComparison | None:
    if query.compare is None:
        return None
    a, b = query.compare
    side_a, side_b = groups.get(a, _Group()), groups.get(b, _Group())
    label_a = labels(filters, (None, a))["treatment_label"]
    label_b = labels(filters, (None, b))["treatment_label"]
    small = min(len(side_a.patients), len(side_b.patients)) < MIN_PATIENTS
    result = None if small else compare(side_a.observations, side_b.observations, minimum=1)
    return SurvivalComparison(
        a,
        b,
        label_a,
        label_b,
        len(side_a.observations),
        len(side_b.observations),
        len(side_a.patients),
        len(side_b.patients),
        result,
        f"Not compared: a group has fewer than {MIN_PATIENTS} patients." if small else "",
    )
