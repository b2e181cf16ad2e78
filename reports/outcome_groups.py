"""The rows of the survival and safety reports: treatment (drug or drug class) and stratum of a
treatment episode as SQL expressions, so that the database groups and counts; their labels and
order are the outcomes report's (reports.outcomes).

`prefix` is the lookup path from the queried model to the treatment episode: "" from
TreatmentEpisode, "episode__" from the derived rows of scoring (EpisodeSurvival,
EpisodeAdverseEvent).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, CharField, Count, F, QuerySet, Value, When

from registry.vocabularies import DRUG_CLASS
from reports import regimens
from reports.disclosure import MIN_PATIENTS, Tally
from reports.expressions import population
from reports.filters import GroupBy, ReportFilters, Stratify
from reports.outcomes import (
    _CLASS_ORDER,
    _DRUG_ORDER,
    _stratum_order,
    stratum_label,
    treatment_label,
)
from reports.selectors import refractory_at_start

TREATMENT = "report_treatment"
STRATUM = "report_stratum"
SITE = "report_site"


def treatment_expression(filters: ReportFilters, prefix: str = "") -> Any:
    """The row's treatment code: the drug, or its class (group_by=drug_class). (Grouped by
    regimen, the survival report reads the regimen per patient: reports.regimens.)"""
    if filters.group_by != GroupBy.DRUG_CLASS:
        return F(f"{prefix}drug")
    classes: dict[str, list[str]] = {}
    for drug, klass in DRUG_CLASS.items():
        classes.setdefault(str(klass), []).append(str(drug))
    return Case(
        *[When(**{f"{prefix}drug__in": drugs}, then=Value(k)) for k, drugs in classes.items()],
        output_field=CharField(),
    )


def stratum_expression(filters: ReportFilters, prefix: str = "") -> Any:
    """The row's stratum code (None without stratify): as reports.outcomes stratifies."""
    patient = f"{prefix}patient__"
    if filters.stratify is None:
        return Value(None, output_field=CharField())
    if filters.stratify == Stratify.SITE:
        return F(f"{patient}site__code")
    if filters.stratify == Stratify.DIAGNOSIS:
        return F(f"{patient}diagnosis")
    if filters.stratify == Stratify.SEROLOGY:
        return F(f"{patient}serology_group")
    if filters.stratify == Stratify.POPULATION:
        return population(patient)
    at_start = refractory_at_start(f"{prefix}id" if prefix else "pk")
    return Case(When(at_start, then=Value("yes")), default=Value("no"), output_field=CharField())


def grouped(queryset: QuerySet, filters: ReportFilters, prefix: str = "") -> QuerySet:
    """The queryset with its rows' treatment, stratum and site as TREATMENT, STRATUM, SITE."""
    return queryset.annotate(
        **{
            TREATMENT: treatment_expression(filters, prefix),
            STRATUM: stratum_expression(filters, prefix),
            SITE: F(f"{prefix}patient__site__code"),
        }
    )


def row_order(filters: ReportFilters, key: tuple[str | None, str]) -> Any:
    """Rows in vocabulary order: stratum first, then treatment."""
    stratum, treatment = key
    order = {GroupBy.DRUG_CLASS: _CLASS_ORDER, GroupBy.REGIMEN: regimens.ORDER}.get(
        filters.group_by, _DRUG_ORDER
    )
    return (_stratum_order(filters.stratify, stratum), order[treatment])


def labels(filters: ReportFilters, key: tuple[str | None, str]) -> dict[str, Any]:
    stratum, treatment = key
    return {
        "treatment": treatment,
        "treatment_label": (
            regimens.LABELS[treatment]
            if filters.group_by == GroupBy.REGIMEN
            else treatment_label(filters.group_by, treatment)
        ),
        "stratum": stratum,
        "stratum_label": stratum_label(filters.stratify, stratum) if stratum else None,
    }


def counted_tally(patients: int, sites: set[str]) -> Tally:
    """A Tally from a count of distinct patients and their sites, as the database gives them.
    The rule only asks whether there are fewer than MIN_PATIENTS patients, so stand-in ids
    (negative: never a real one) hold the count."""
    tally = Tally(sites=set(sites))
    tally.patients = set(range(-min(patients, MIN_PATIENTS), 0))
    return tally


def site_tallies(episodes: QuerySet, filters: ReportFilters) -> dict[tuple[str | None, str], Tally]:
    """Per row (stratum, treatment), the tally the disclosure rule asks about: its distinct
    patients and their sites, counted by the database per (row, site). A patient belongs to one
    site, so the counts per site add up."""
    counts: dict[tuple[str | None, str], tuple[int, set[str]]] = {}
    rows = (
        grouped(episodes, filters)
        .values(TREATMENT, STRATUM, SITE)
        .order_by()
        .annotate(patients=Count("patient", distinct=True))
    )
    for row in rows:
        key = (row[STRATUM], row[TREATMENT])
        patients, sites = counts.get(key, (0, set()))
        counts[key] = (patients + row["patients"], sites | {row[SITE]})
    return {key: counted_tally(n, sites) for key, (n, sites) in counts.items()}


def whole_tally(episodes: QuerySet) -> Tally:
    """The tally of a whole report (its totals): the distinct patients of all its episodes."""
    patients, sites = 0, set()
    for site, count in (
        episodes.order_by()
        .values("patient__site__code")
        .annotate(patients=Count("patient", distinct=True))
        .values_list("patient__site__code", "patients")
    ):
        patients += count
        sites.add(site)
    return counted_tally(patients, sites)
