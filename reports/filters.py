"""What an investigator asks a report for: filters, grouping and stratification.

The pages (GET form), the downloads and the API read the same query parameters here, so that a
link copied from the page and an API call with the same parameters give the same numbers. A bad
value raises registry.errors.InputError naming the parameter; nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from registry.errors import InputError
from registry.vocabularies import Diagnosis, Drug, DrugClass, SerologyGroup
from scoring.instruments import POPULATIONS
from scoring.instruments.classification import CATEGORIES, DEFINITE, PROBABLE, SUBGROUPS


class GroupBy:
    DRUG = "drug"
    DRUG_CLASS = "drug_class"
    # The groupings every report accepts (parse_filters).
    CHOICES = (DRUG, "Drug"), (DRUG_CLASS, "Drug class")
    # One row per patient by initial regimen, combined up-front or step-up (reports.regimens):
    # the survival report's only, which parses it itself (reports.survival.parse_survival_filters);
    # every other report refuses it as an unknown group_by.
    REGIMEN = "regimen"
    SURVIVAL_CHOICES = (*CHOICES, (REGIMEN, "Initial regimen"))


class Stratify:
    SITE = "site"
    DIAGNOSIS = "diagnosis"
    SEROLOGY = "serology"
    POPULATION = "population"
    REFRACTORY = "refractory"
    CLASSIFICATION = "classification"  # 2017 EULAR/ACR category
    CLASSIFICATION_SUBGROUP = "classification_subgroup"
    CHOICES = (
        (SITE, "Site"),
        (DIAGNOSIS, "Diagnosis"),
        (SEROLOGY, "Serological group"),
        (POPULATION, "Adult or juvenile"),
        (REFRACTORY, "Refractory at the episode's start"),
        (CLASSIFICATION, "EULAR/ACR classification"),
        (CLASSIFICATION_SUBGROUP, "EULAR/ACR subgroup"),
    )


# `refractory=yes|no`: whether the patient was refractory (refractory_v1 candidate or confirmed,
# from what was known that day) at the start of the episode; also the codes of its strata.
REFRACTORY_CHOICES = (("yes", "Refractory at start"), ("no", "Not refractory at start"))

# `lung=`: the patient's interstitial lung disease as their lung record says now (crf.LungStatus:
# ILD yes/no, rapidly progressive). The anti-MDA5 trial's population is rapidly progressive ILD
# (docs/outcomes.md "Survival analyses"); a patient without a lung record matches none.
LUNG_CHOICES = (
    ("ild", "Interstitial lung disease"),
    ("rp_ild", "Rapidly progressive ILD"),
    ("no_ild", "No interstitial lung disease"),
)


# The 2017 EULAR/ACR classification of the patient (scoring's classification record):
# `classification=probable_or_definite` keeps the recommended minimum for a case.
PROBABLE_OR_DEFINITE = "probable_or_definite"
CLASSIFICATION_CATEGORIES = {PROBABLE_OR_DEFINITE: (PROBABLE, DEFINITE)} | {
    category: (category,) for category in CATEGORIES
}
# The stratum of patients without a classification record.
UNCLASSIFIED = "unclassified"


# Query parameter → (attribute, allowed codes or None for free text such as site codes).
_LISTS: dict[str, tuple[str, frozenset[str] | None]] = {
    "site": ("sites", None),
    "diagnosis": ("diagnoses", frozenset(Diagnosis.values)),
    "serology": ("serology", frozenset(SerologyGroup.values)),
    "drug": ("drugs", frozenset(Drug.values)),
    "drug_class": ("drug_classes", frozenset(DrugClass.values)),
    "classification": ("classification", frozenset(CLASSIFICATION_CATEGORIES)),
    "classification_subgroup": ("classification_subgroups", frozenset(SUBGROUPS)),
}
PARAMETERS = (
    *_LISTS,
    "population",
    "refractory",
    "lung",
    "start_from",
    "start_to",
    "group_by",
    "stratify",
    "endpoint",
)


@dataclass(frozen=True)
class ReportFilters:
    """Which treatment episodes a report counts and how it groups them.

    `start_from`/`start_to` are the period: an episode belongs to it when its start date falls
    within it (both ends included). Empty lists mean "all".
    """

    sites: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    serology: tuple[str, ...] = ()
    drugs: tuple[str, ...] = ()
    drug_classes: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    classification_subgroups: tuple[str, ...] = ()
    population: str | None = None
    refractory: str | None = None  # "yes" or "no" (REFRACTORY_CHOICES)
    lung: str | None = None  # LUNG_CHOICES
    start_from: date | None = None
    start_to: date | None = None
    group_by: str = GroupBy.DRUG
    stratify: str | None = None
    # An endpoint of reports.endpoints, `NAME` or `NAME@VERSION`: the outcomes report adds its
    # responders (checked against the saved endpoints by reports.outcomes).
    endpoint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, keyed by query parameter: what the API echoes and export jobs store;
        parse_filters(filters.as_dict()) gives the same filters back."""
        data: dict[str, Any] = {
            parameter: list(getattr(self, attribute))
            for parameter, (attribute, _) in _LISTS.items()
        }
        data["population"] = self.population
        data["refractory"] = self.refractory
        data["lung"] = self.lung
        for name in ("start_from", "start_to"):
            value = getattr(self, name)
            data[name] = None if value is None else value.isoformat()
        data["group_by"] = self.group_by
        data["stratify"] = self.stratify
        data["endpoint"] = self.endpoint
        return data

    def query_pairs(self, **overrides: Any) -> list[tuple[str, str]]:
        """The query parameters that ask for these filters again, with some replaced (None
        removes one): for links, downloads and the export form's hidden fields."""
        pairs: list[tuple[str, str]] = []
        for parameter, (attribute, _) in _LISTS.items():
            pairs += [(parameter, value) for value in getattr(self, attribute)]
        if self.population:
            pairs.append(("population", self.population))
        if self.refractory:
            pairs.append(("refractory", self.refractory))
        if self.lung:
            pairs.append(("lung", self.lung))
        for name in ("start_from", "start_to"):
            value = getattr(self, name)
            if value is not None:
                pairs.append((name, value.isoformat()))
        pairs.append(("group_by", self.group_by))
        if self.stratify:
            pairs.append(("stratify", self.stratify))
        if self.endpoint:
            pairs.append(("endpoint", self.endpoint))
        for key, value in overrides.items():
            pairs = [pair for pair in pairs if pair[0] != key]
            if value is not None:
                pairs.append((key, str(value)))
        return pairs

    def query_string(self, **overrides: Any) -> str:
        return urlencode(self.query_pairs(**overrides))


# Exactly YYYY-MM-DD, in ASCII digits: date.fromisoformat alone also takes "20200110" and ISO
# week dates ("2020-W02-5").
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _raw(params: Any, name: str) -> list[Any]:
    """The values of a parameter as sent (an empty `start_to=` is one empty value)."""
    return params.getlist(name) if hasattr(params, "getlist") else _as_list(params.get(name))


def _values(params: Any, name: str) -> list[str]:
    """Every value of a parameter: repeated (`site=A&site=B`) or comma-separated (`site=A,B`)."""
    values: list[str] = []
    for item in _raw(params, name):
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in values:
                values.append(part)
    return values


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _blank(errors: list[tuple[str, str]], params: Any, name: str, expected: str) -> None:
    """A single-valued parameter that is present but empty (`start_to=`) is an error: it is not
    what the schema describes, and reading it as "no filter" would answer a question that was
    not asked. (A form's empty field is removed before parsing: parse_filters' `form`.)"""
    if any(item is not None for item in _raw(params, name)):
        errors.append((name, f"Empty: give {expected}, or leave the parameter out."))


def _date(errors: list[tuple[str, str]], params: Any, name: str) -> date | None:
    values = _values(params, name)
    if not values:
        _blank(errors, params, name, "a date as YYYY-MM-DD")
        return None
    if len(values) > 1:
        errors.append((name, "Give one date."))
        return None
    try:
        if not _DATE.fullmatch(values[0]):
            raise ValueError
        return date.fromisoformat(values[0])
    except ValueError:
        errors.append((name, f"Not a date (YYYY-MM-DD): {values[0]!r}."))
        return None


def _one_of(
    errors: list[tuple[str, str]], params: Any, name: str, allowed: tuple[str, ...]
) -> str | None:
    values = _values(params, name)
    if not values:
        _blank(errors, params, name, f"one of: {', '.join(allowed)}")
        return None
    if len(values) > 1 or values[0] not in allowed:
        errors.append((name, f"Must be one of: {', '.join(allowed)}."))
        return None
    return values[0]


# An endpoint's name (reports.endpoints.NAME), optionally with "@" and a version number.
_ENDPOINT = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}(@[1-9][0-9]{0,5})?")


def _endpoint(errors: list[tuple[str, str]], params: Any) -> str | None:
    values = _values(params, "endpoint")
    if not values:
        _blank(errors, params, "endpoint", "an endpoint's name")
        return None
    if len(values) > 1 or not _ENDPOINT.fullmatch(values[0]):
        errors.append(("endpoint", "Give one endpoint name (NAME or NAME@VERSION)."))
        return None
    return values[0]


def without_blanks(params: Any) -> dict[str, list[str]]:
    """A submitted form's parameters without its empty fields ("Both", no date), which a form
    sends as `population=&start_to=` and which mean "no filter" there."""
    items = params.lists() if hasattr(params, "lists") else params.items()
    found: dict[str, list[str]] = {}
    for name, values in items:
        kept = [value for value in _as_list(values) if value not in (None, "")]
        if kept:
            found[name] = kept
    return found


def parse_filters(params: Mapping[str, Any] | Any, *, form: bool = False) -> ReportFilters:
    """ReportFilters from query parameters (a QueryDict, or a plain dict as export jobs store).

    Raises InputError naming every bad parameter, including a single-valued one sent empty
    (`start_to=`), except with `form`: the filter form of the pages sends its empty fields.
    """
    if form:
        params = without_blanks(params)
    errors: list[tuple[str, str]] = []
    lists: dict[str, tuple[str, ...]] = {}
    for parameter, (attribute, allowed) in _LISTS.items():
        values = _values(params, parameter)
        if allowed is not None:
            unknown = [value for value in values if value not in allowed]
            if unknown:
                errors.append((parameter, f"Unknown code(s): {', '.join(unknown)}."))
        lists[attribute] = tuple(values)
    population = _one_of(errors, params, "population", POPULATIONS)
    refractory = _one_of(errors, params, "refractory", tuple(c for c, _ in REFRACTORY_CHOICES))
    lung = _one_of(errors, params, "lung", tuple(c for c, _ in LUNG_CHOICES))
    start_from = _date(errors, params, "start_from")
    start_to = _date(errors, params, "start_to")
    if start_from and start_to and start_to < start_from:
        errors.append(("start_to", "The end of the period cannot be before its start."))
    group_by = _one_of(errors, params, "group_by", tuple(code for code, _ in GroupBy.CHOICES)) or (
        GroupBy.DRUG
    )
    stratify = _one_of(errors, params, "stratify", tuple(code for code, _ in Stratify.CHOICES))
    endpoint = _endpoint(errors, params)
    if errors:
        raise InputError(errors)
    return ReportFilters(
        **lists,
        population=population,
        refractory=refractory,
        lung=lung,
        start_from=start_from,
        start_to=start_to,
        group_by=group_by,
        stratify=stratify,
        endpoint=endpoint,
    )
