"""Outcomes by treatment: the episodes of `reports.selectors` counted per treatment and stratum.

The rows of the episodes are streamed once from one query and folded into one accumulator per
group (constant memory per group, plus the values whose medians and Kaplan–Meier estimate are
wanted). Which episodes count for what (docs/scoring.md §7, issue 7):

- episodes: every treatment episode that matches the filters (the period: its start date);
- with baseline: a visit from 30 days before the start up to the start;
- evaluable: a baseline and at least one follow-up visit in the episode's window; every outcome
  is a proportion of the evaluable episodes. An evaluable episode whose records are not computed
  (pending, or failed on invalid data) counts as not meeting the outcome — non-responder
  imputation, as the trials count missing outcomes — and the pending and failed records are
  shown beside the counts;
- with an endpoint (reports.endpoints, `endpoint=NAME`): its responders, as a proportion of the
  episodes evaluable for the endpoint (a scored visit within the endpoint's window around its
  horizon), which are not the same as the evaluable episodes above;
- each episode is evaluated on its own: a patient on two overlapping treatments contributes a
  response to each of them, as the registry cannot tell which drug caused it;
- a row (and the report's totals) computed from fewer than 5 patients, one of them at a site the
  viewer is not a member of, is suppressed for that viewer (reports.disclosure): it keeps its
  labels and no figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import timezone

from registry.vocabularies import DRUG_CLASS, Diagnosis, Drug, DrugClass, SerologyGroup
from reports.disclosure import Disclosure, Tally
from reports.endpoints import endpoint_lookup, evaluate
from reports.filters import REFRACTORY_CHOICES, UNCLASSIFIED, GroupBy, ReportFilters, Stratify
from reports.models import EndpointDefinition
from reports.selectors import (
    CATEGORIES,
    WEEKS,
    EpisodeOutcome,
    episodes_matching,
    outcome_rows,
    validate_sites,
)
from reports.statistics import (
    KaplanMeier,
    Proportion,
    Summary,
    kaplan_meier,
    proportion,
    summarise,
)
from scoring.instruments import ADULT, JUVENILE
from scoring.instruments.classification import (
    ADM,
    DEFINITE,
    DM,
    IBM,
    JDM,
    JUVENILE_OTHER,
    NOT_IIM,
    PM,
    POSSIBLE,
    PROBABLE,
)

NOT_COMPUTED = "not_computed"
POPULATION_LABELS = {ADULT: "Adult", JUVENILE: "Juvenile"}
_DRUG_ORDER = {code: index for index, code in enumerate(Drug.values)}
_CLASS_ORDER = {code: index for index, code in enumerate(DrugClass.values)}


def treatment_label(group_by: str, code: str) -> str:
    if group_by == GroupBy.DRUG_CLASS:
        return str(DrugClass(code).label)
    return str(Drug(code).label)


# Labels of the classification strata, in their order (unclassified patients last).
CLASSIFICATION_LABELS: dict[str, dict[str, str]] = {
    Stratify.CLASSIFICATION: {
        NOT_IIM: "Not IIM", POSSIBLE: "Possible IIM", PROBABLE: "Probable IIM",
        DEFINITE: "Definite IIM",
    },
    Stratify.CLASSIFICATION_SUBGROUP: {
        JDM: "Juvenile dermatomyositis", JUVENILE_OTHER: "Juvenile myositis other than JDM",
        DM: "Dermatomyositis", ADM: "Amyopathic dermatomyositis",
        IBM: "Inclusion body myositis", PM: "Polymyositis",
    },
}  # fmt: skip


def stratum_label(stratify: str | None, code: str | None) -> str:
    if stratify is None or code is None:
        return ""
    if stratify == Stratify.DIAGNOSIS:
        return str(Diagnosis(code).label)
    if stratify == Stratify.SEROLOGY:
        return str(SerologyGroup(code).label)
    if stratify == Stratify.POPULATION:
        return POPULATION_LABELS[code]
    if stratify == Stratify.REFRACTORY:
        return dict(REFRACTORY_CHOICES)[code]
    if stratify in CLASSIFICATION_LABELS:
        return CLASSIFICATION_LABELS[stratify].get(code, "Not classified")
    return code  # site codes are their own label


@dataclass(frozen=True)
class WeekOutcome:
    tis: Summary
    categories: dict[str, int]


@dataclass(frozen=True)
class OutcomeRow:
    """The outcomes of one treatment (in one stratum)."""

    treatment: str
    treatment_label: str
    stratum: str | None
    stratum_label: str
    episodes: int
    with_baseline: Proportion
    evaluable: Proportion
    doi_responders: Proportion
    confirmed_responders: Proportion
    confirmed_deteriorations: Proportion
    best_category: dict[str, Proportion]
    tis: Summary
    weeks: dict[int, WeekOutcome]
    time_to_doi: KaplanMeier
    glucocorticoid_change: Summary
    pending_records: int
    failed_records: int
    # Withheld from the viewer (reports.disclosure): every figure above is empty.
    suppressed: bool = False
    # The chosen endpoint's responders of the episodes evaluable for it (None: no endpoint).
    endpoint_responders: Proportion | None = None


@dataclass
class _Accumulator:
    episodes: int = 0
    with_baseline: int = 0
    evaluable: int = 0
    doi: int = 0
    confirmed: int = 0
    deteriorated: int = 0
    pending: int = 0
    failed: int = 0
    categories: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    best_scores: list[float] = field(default_factory=list)
    week_scores: dict[int, list[float]] = field(default_factory=lambda: {w: [] for w in WEEKS})
    week_categories: dict[int, dict[str, int]] = field(
        default_factory=lambda: {w: dict.fromkeys(CATEGORIES, 0) for w in WEEKS}
    )
    times: list[tuple[int, bool]] = field(default_factory=list)
    gc_changes: list[float] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    endpoint_evaluable: int = 0
    endpoint_responders: int = 0

    def add(self, episode: EpisodeOutcome, verdict: bool | None = None) -> None:
        """Count one episode; `verdict` is its endpoint answer (reports.endpoints.respond)."""
        self.tally.add(episode.patient_id, episode.site)
        if verdict is not None:
            self.endpoint_evaluable += 1
            self.endpoint_responders += verdict
        self.episodes += 1
        self.pending += episode.pending
        self.failed += episode.failed
        if episode.has_baseline:
            self.with_baseline += 1
        if not episode.evaluable:
            return
        self.evaluable += 1
        self.doi += episode.doi_met
        self.confirmed += episode.confirmed_response
        self.deteriorated += episode.confirmed_deterioration
        if episode.best_category is not None:
            self.categories[episode.best_category] += 1
        if episode.best_score is not None:
            self.best_scores.append(episode.best_score)
        for week, (score, category) in episode.weeks.items():
            if score is not None:
                self.week_scores[week].append(score)
            if category is not None:
                self.week_categories[week][category] += 1
        observed = episode.days_to_doi
        if observed is not None:
            self.times.append(observed)
        change = episode.glucocorticoid_change
        if change is not None:
            self.gc_changes.append(change)

    def row(
        self, filters: ReportFilters, treatment: str, stratum: str | None, disclosure: Disclosure
    ) -> OutcomeRow:
        if disclosure.suppresses(self.tally):
            # Built from nothing, so that no figure of it can be shown by mistake.
            row = _Accumulator().row(filters, treatment, stratum, disclosure)
            return replace(row, suppressed=True)
        evaluable = self.evaluable
        categorised = sum(self.categories.values())
        best = {name: proportion(count, evaluable) for name, count in self.categories.items()}
        best[NOT_COMPUTED] = proportion(evaluable - categorised, evaluable)
        return OutcomeRow(
            treatment=treatment,
            treatment_label=treatment_label(filters.group_by, treatment),
            stratum=stratum,
            stratum_label=stratum_label(filters.stratify, stratum),
            episodes=self.episodes,
            with_baseline=proportion(self.with_baseline, self.episodes),
            evaluable=proportion(evaluable, self.episodes),
            doi_responders=proportion(self.doi, evaluable),
            confirmed_responders=proportion(self.confirmed, evaluable),
            confirmed_deteriorations=proportion(self.deteriorated, evaluable),
            best_category=best,
            tis=summarise(self.best_scores),
            weeks={
                week: WeekOutcome(summarise(self.week_scores[week]), self.week_categories[week])
                for week in WEEKS
            },
            time_to_doi=kaplan_meier(self.times),
            glucocorticoid_change=summarise(self.gc_changes),
            pending_records=self.pending,
            failed_records=self.failed,
            endpoint_responders=(
                proportion(self.endpoint_responders, self.endpoint_evaluable)
                if filters.endpoint
                else None
            ),
        )


@dataclass(frozen=True)
class OutcomesReport:
    filters: ReportFilters
    rows: list[OutcomeRow]
    # Totals over every row, suppressed ones included (counts of episodes and records, no
    # outcome); None when the report as a whole is withheld from the viewer.
    episodes: int | None
    pending_records: int | None
    failed_records: int | None
    generated_at: datetime
    # The endpoint whose responders the rows hold (filters.endpoint), or None.
    endpoint: EndpointDefinition | None = None

    @property
    def suppressed(self) -> bool:
        return self.episodes is None


def _stratum_of(stratify: str | None, episode: EpisodeOutcome) -> str | None:
    if stratify is None:
        return None
    return {
        Stratify.SITE: episode.site,
        Stratify.DIAGNOSIS: episode.diagnosis,
        Stratify.SEROLOGY: episode.serology,
        Stratify.POPULATION: episode.population,
        Stratify.REFRACTORY: "yes" if episode.refractory else "no",
        Stratify.CLASSIFICATION: episode.classification or UNCLASSIFIED,
        Stratify.CLASSIFICATION_SUBGROUP: episode.classification_subgroup or UNCLASSIFIED,
    }[stratify]


def _stratum_order(stratify: str | None, code: str | None) -> Any:
    if stratify == Stratify.DIAGNOSIS:
        return Diagnosis.values.index(code)
    if stratify == Stratify.SEROLOGY:
        return SerologyGroup.values.index(code)
    if stratify == Stratify.POPULATION:
        return (ADULT, JUVENILE).index(code)
    if stratify == Stratify.REFRACTORY:
        return ("no", "yes").index(code)
    if stratify in CLASSIFICATION_LABELS:
        order = list(CLASSIFICATION_LABELS[stratify])
        return order.index(code) if code in order else len(order)
    return code or ""


def aggregate(
    filters: ReportFilters,
    episodes: Iterable[EpisodeOutcome],
    disclosure: Disclosure,
    *,
    endpoint: EndpointDefinition | None = None,
    verdicts: Mapping[int, bool | None] | None = None,
) -> OutcomesReport:
    """Fold episode outcomes into one row per (stratum, treatment), in vocabulary order, as
    `disclosure`'s user may read them; with `endpoint`, each episode's answer in `verdicts`
    (reports.endpoints.evaluate; a missing episode is not evaluable for it)."""
    verdicts = verdicts or {}
    groups: dict[tuple[str | None, str], _Accumulator] = {}
    by_class = filters.group_by == GroupBy.DRUG_CLASS
    for episode in episodes:
        treatment = str(DRUG_CLASS[episode.drug]) if by_class else episode.drug
        key = (_stratum_of(filters.stratify, episode), treatment)
        accumulator = groups.get(key)
        if accumulator is None:
            accumulator = groups[key] = _Accumulator()
        accumulator.add(episode, verdicts.get(episode.id))
    order = _CLASS_ORDER if by_class else _DRUG_ORDER
    keys = sorted(groups, key=lambda k: (_stratum_order(filters.stratify, k[0]), order[k[1]]))
    rows = [groups[key].row(filters, key[1], key[0], disclosure) for key in keys]
    everything = Tally()
    for accumulator in groups.values():
        everything.update(accumulator.tally)
    withheld = disclosure.suppresses(everything)
    return OutcomesReport(
        filters=filters,
        rows=rows,
        episodes=None if withheld else sum(a.episodes for a in groups.values()),
        pending_records=None if withheld else sum(a.pending for a in groups.values()),
        failed_records=None if withheld else sum(a.failed for a in groups.values()),
        generated_at=timezone.now(),
        endpoint=endpoint,
    )


def outcomes_by_treatment(filters: ReportFilters, *, disclosure: Disclosure) -> OutcomesReport:
    """The registry-wide outcomes report (aggregates only: callers need Action.REPORT), as the
    user of `disclosure` may read it."""
    validate_sites(filters)
    episodes = episodes_matching(filters)
    if not filters.endpoint:
        return aggregate(filters, outcome_rows(episodes), disclosure)
    endpoint = endpoint_lookup(filters.endpoint)
    return aggregate(
        filters,
        outcome_rows(episodes),
        disclosure,
        endpoint=endpoint,
        verdicts=evaluate(endpoint, episodes),
    )
