"""Predictors of response (docs: OUTCOMES "Trial-style endpoints"): for a chosen drug and
endpoint, the response by baseline factor, as the rituximab trial analysed it.

Episodes: those the filters match (the drug or drugs of `drug=` are required), evaluable for the
endpoint (reports.endpoints: a scored visit within its window); a responder is an episode the
endpoint answers True for. Factors, each level a row:

- serological group, diagnosis, adult or juvenile (the patient's, as the outcomes report);
- physician global damage (VAS cm) at the episode's baseline visit, in tertiles of the episodes
  that have it (cut at the 1/3 and 2/3 quantiles, definition 7; a value equal to a cut point
  goes to the lower tertile); episodes without it are left out of this factor only;
- disease duration at the episode's start, from symptom onset: < 2 years (fewer than 731 days)
  or ≥ 2 years;
- refractory at the episode's start (reports.selectors.refractory_at_start);
- the patient's 2017 EULAR/ACR classification subgroup ("unclassified" without a record).

Each level is compared with the factor's reference level, the level with the most episodes (of
two as large, the first in the vocabulary's order): the odds ratio of responding with its 95 %
Woolf (logit) interval, with Haldane's 0.5 added to every cell of the 2×2 table when one is zero
(reports.statistics.odds_ratio). The reference row has no odds ratio.

Every row goes through the small-cell rule (reports.disclosure): a level's row is suppressed when
its own patients are few and some foreign; its odds ratio also when the reference level's are
(the ratio is computed from both). A multivariable logistic regression over every factor with at
least two levels (reference coding, as above) is fitted only when every such level has at least
MIN_LEVEL_EPISODES episodes (and the whole set is not withheld); otherwise the report says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Subquery
from django.utils import timezone

from registry.errors import InputError
from reports.builders import endpoint_definition_json
from reports.disclosure import Disclosure, Tally
from reports.endpoints import endpoint_lookup, evaluate
from reports.expressions import DaysBetween, baseline_visits, population
from reports.filters import UNCLASSIFIED, ReportFilters, Stratify
from reports.models import EndpointDefinition
from reports.outcomes import _stratum_order, stratum_label
from reports.selectors import (
    CLASSIFICATION_SUBGROUP,
    episodes_matching,
    refractory_at_start,
    validate_sites,
)
from reports.statistics import logistic_regression, odds_ratio, quantile

MIN_LEVEL_EPISODES = 10
SHORT_DURATION_DAYS = 731  # fewer: < 2 years from symptom onset

DAMAGE = "damage_tertile"
DURATION = "disease_duration"
FACTORS: tuple[tuple[str, str], ...] = (
    (Stratify.SEROLOGY, "Serological group"),
    (Stratify.DIAGNOSIS, "Diagnosis"),
    (Stratify.POPULATION, "Adult or juvenile"),
    (DAMAGE, "Physician global damage at baseline (tertile)"),
    (DURATION, "Disease duration at start"),
    (Stratify.REFRACTORY, "Refractory at start"),
    (Stratify.CLASSIFICATION_SUBGROUP, "EULAR/ACR subgroup"),
)
FACTOR_LABELS = dict(FACTORS)
DURATION_LEVELS = {"under_2_years": "< 2 years", "2_years_or_more": "≥ 2 years"}
TERTILES = ("t1", "t2", "t3")


@dataclass(frozen=True)
class PredictorRow:
    factor: str
    factor_label: str
    level: str
    level_label: str
    reference: bool
    episodes: int | None
    responders: int | None
    percent: float | None
    odds_ratio: float | None
    or_ci_low: float | None
    or_ci_high: float | None
    corrected: bool | None  # Haldane's correction applied
    suppressed: bool


@dataclass(frozen=True)
class Multivariable:
    fitted: bool
    reason: str = ""
    episodes: int = 0
    coefficients: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PredictorsReport:
    filters: ReportFilters
    endpoint: EndpointDefinition
    episodes: int | None  # evaluable for the endpoint; None when withheld
    responders: int | None
    rows: list[PredictorRow]
    multivariable: Multivariable
    damage_cuts: tuple[float, float] | None
    generated_at: datetime


@dataclass
class _Level:
    episodes: int = 0
    responders: int = 0
    tally: Tally = field(default_factory=Tally)


def _tertile(value: float, cuts: tuple[float, float]) -> str:
    return TERTILES[0] if value <= cuts[0] else TERTILES[1] if value <= cuts[1] else TERTILES[2]


def _level_label(factor: str, level: str, cuts: tuple[float, float] | None) -> str:
    if factor == DURATION:
        return DURATION_LEVELS[level]
    if factor == DAMAGE:
        assert cuts is not None
        return {
            "t1": f"Lowest third (≤ {cuts[0]:g} cm)",
            "t2": f"Middle third ({cuts[0]:g}–{cuts[1]:g} cm)",
            "t3": f"Highest third (> {cuts[1]:g} cm)",
        }[level]
    return stratum_label(factor, level)


def _level_order(factor: str, level: str) -> Any:
    if factor == DURATION:
        return list(DURATION_LEVELS).index(level)
    if factor == DAMAGE:
        return TERTILES.index(level)
    return _stratum_order(factor, level)


def _episodes(filters: ReportFilters) -> Iterable[Any]:
    baseline = baseline_visits()
    return (
        episodes_matching(filters)
        .annotate(
            population=population("patient__"),
            refractory=refractory_at_start(),
            damage=Subquery(baseline.values("physician_damage")[:1]),
            duration=DaysBetween(F("start_date"), F("patient__onset_date")),
        )
        .order_by("pk")
        .values_list(
            "pk", "patient_id", "patient__site__code", "patient__serology_group",
            "patient__diagnosis", "population", "refractory", "damage", "duration",
            CLASSIFICATION_SUBGROUP, named=True,
        )
    )  # fmt: skip


def _levels_of(row: Any, cuts: tuple[float, float] | None) -> dict[str, str | None]:
    damage = None
    if row.damage is not None and cuts is not None:
        damage = _tertile(float(row.damage), cuts)
    return {
        Stratify.SEROLOGY: row.patient__serology_group,
        Stratify.DIAGNOSIS: row.patient__diagnosis,
        Stratify.POPULATION: row.population,
        DAMAGE: damage,
        DURATION: "under_2_years" if row.duration < SHORT_DURATION_DAYS else "2_years_or_more",
        Stratify.REFRACTORY: "yes" if row.refractory else "no",
        Stratify.CLASSIFICATION_SUBGROUP: getattr(row, CLASSIFICATION_SUBGROUP) or UNCLASSIFIED,
    }


def predictors(filters: ReportFilters, *, disclosure: Disclosure) -> PredictorsReport:
    """The predictors report (aggregates only: callers need Action.REPORT)."""
    errors = []
    if not filters.drugs:
        errors.append(("drug", "Required: the drug whose response is analysed."))
    if not filters.endpoint:
        errors.append(("endpoint", "Required: an endpoint's name (GET /api/v1/endpoints/)."))
    if errors:
        raise InputError(errors)
    validate_sites(filters)
    assert filters.endpoint is not None
    endpoint = endpoint_lookup(filters.endpoint)
    verdicts = evaluate(endpoint, episodes_matching(filters))
    evaluable = [row for row in _episodes(filters) if verdicts.get(row.pk) is not None]
    damages = sorted(float(row.damage) for row in evaluable if row.damage is not None)
    cuts = None
    if damages:
        low, high = quantile(damages, 1 / 3), quantile(damages, 2 / 3)
        assert low is not None and high is not None
        cuts = (round(low, 2), round(high, 2))

    groups: dict[str, dict[str, _Level]] = {factor: {} for factor, _ in FACTORS}
    everything = Tally()
    responders = 0
    design: list[tuple[int, dict[str, str | None]]] = []
    for row in evaluable:
        responded = bool(verdicts[row.pk])
        responders += responded
        everything.add(row.patient_id, row.patient__site__code)
        levels = _levels_of(row, cuts)
        design.append((int(responded), levels))
        for factor, level in levels.items():
            if level is None:
                continue
            found = groups[factor].setdefault(level, _Level())
            found.episodes += 1
            found.responders += responded
            found.tally.add(row.patient_id, row.patient__site__code)

    rows: list[PredictorRow] = []
    references: dict[str, str] = {}
    for factor, label in FACTORS:
        levels = groups[factor]
        ordered = sorted(levels, key=lambda level, f=factor: _level_order(f, level))
        if not ordered:
            continue
        reference = max(ordered, key=lambda level: levels[level].episodes)
        references[factor] = reference
        ref = levels[reference]
        ref_hidden = disclosure.suppresses(ref.tally)
        for level in ordered:
            counts = levels[level]
            hidden = disclosure.suppresses(counts.tally)
            ratio = None
            if level != reference and not hidden and not ref_hidden:
                ratio = odds_ratio(
                    counts.responders,
                    counts.episodes - counts.responders,
                    ref.responders,
                    ref.episodes - ref.responders,
                )
            rows.append(
                PredictorRow(
                    factor=factor,
                    factor_label=label,
                    level=level,
                    level_label=_level_label(factor, level, cuts),
                    reference=level == reference,
                    episodes=None if hidden else counts.episodes,
                    responders=None if hidden else counts.responders,
                    percent=None if hidden else 100 * counts.responders / counts.episodes,
                    odds_ratio=None if ratio is None else ratio.estimate,
                    or_ci_low=None if ratio is None else ratio.low,
                    or_ci_high=None if ratio is None else ratio.high,
                    corrected=None if ratio is None else ratio.corrected,
                    suppressed=hidden,
                )
            )
    withheld = disclosure.suppresses(everything)
    return PredictorsReport(
        filters=filters,
        endpoint=endpoint,
        episodes=None if withheld else len(evaluable),
        responders=None if withheld else responders,
        rows=rows,
        multivariable=_multivariable(groups, references, design, withheld),
        damage_cuts=cuts,
        generated_at=timezone.now(),
    )


def _multivariable(
    groups: dict[str, dict[str, _Level]],
    references: dict[str, str],
    design: list[tuple[int, dict[str, str | None]]],
    withheld: bool,
) -> Multivariable:
    if withheld:
        return Multivariable(False, "Withheld: too few patients, some at sites you are not in.")
    factors = [factor for factor, _ in FACTORS if len(groups[factor]) >= 2]
    if not factors:
        return Multivariable(False, "No factor has two levels or more among these episodes.")
    small = [
        (factor, level, counts.episodes)
        for factor in factors
        for level, counts in groups[factor].items()
        if counts.episodes < MIN_LEVEL_EPISODES
    ]
    if small:
        factor, level, count = min(small, key=lambda item: item[2])
        return Multivariable(
            False,
            f"Too few episodes: every factor level needs at least {MIN_LEVEL_EPISODES}; "
            f"{len(small)} level(s) have fewer (e.g. {FACTOR_LABELS[factor]} {level}: {count}).",
        )
    # Complete cases: an episode without a baseline damage value leaves the model.
    complete = [(y, levels) for y, levels in design if all(levels[f] for f in factors)]
    columns = [
        (factor, level)
        for factor in factors
        for level in sorted(groups[factor])
        if level != references[factor]
    ]
    matrix = [[float(levels[f] == lv) for f, lv in columns] for _, levels in complete]
    try:
        found = logistic_regression(
            [y for y, _ in complete], [f"{f}={lv}" for f, lv in columns], matrix
        )
    except ValueError as exc:
        return Multivariable(False, f"The model could not be fitted: {exc}.")
    return Multivariable(
        True,
        episodes=len(complete),
        coefficients=[
            {"factor": f, "level": lv, "reference": references[f], "odds_ratio": c.odds_ratio,
             "ci_low": c.low, "ci_high": c.high, "p_value": c.p_value}
            for (f, lv), c in zip(columns, found, strict=True)
        ],
    )  # fmt: skip


def _round(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places)


def predictors_json(report: PredictorsReport) -> dict[str, Any]:
    """The report as the API gives it (a suppressed row: labels kept, figures null)."""
    return {
        "filters": report.filters.as_dict(),
        "endpoint": endpoint_definition_json(report.endpoint),
        "generated_at": report.generated_at.isoformat(),
        "episodes": report.episodes,
        "responders": report.responders,
        "damage_tertile_cuts": None if report.damage_cuts is None else list(report.damage_cuts),
        "rows": [
            {
                "factor": row.factor, "factor_label": row.factor_label, "level": row.level,
                "level_label": row.level_label, "reference": row.reference,
                "episodes": row.episodes, "responders": row.responders,
                "percent": _round(row.percent, 1), "odds_ratio": _round(row.odds_ratio),
                "or_ci_low": _round(row.or_ci_low), "or_ci_high": _round(row.or_ci_high),
                "haldane_corrected": row.corrected, "suppressed": row.suppressed,
            }
            for row in report.rows
        ],
        "multivariable": {
            "fitted": report.multivariable.fitted,
            "reason": report.multivariable.reason or None,
            "episodes": report.multivariable.episodes if report.multivariable.fitted else None,
            "coefficients": [
                {key: _round(value) if isinstance(value, float) else value
                 for key, value in coefficient.items()}
                for coefficient in report.multivariable.coefficients
            ],
        },
    }  # fmt: skip
