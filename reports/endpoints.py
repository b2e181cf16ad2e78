"""Trial-style endpoints: named, versioned definitions and who responds to them.

docs: OUTCOMES "Trial-style endpoints". An endpoint (reports.models.EndpointDefinition) says:

- the measure: the IMACS DOI met (`doi`), the ACR/EULAR total improvement score at least a
  threshold (`tis`), or the ACR/EULAR category at least minimal, moderate or major (`category`);
- the horizon in weeks from the episode's start, and a window of ± weeks around it: the
  episode's visit nearest to the horizon within the window is the one evaluated (of two equally
  near, the earlier, as the week columns of the outcomes report);
- `consecutive`: the measure must also hold at the episode's visit just before that one (its
  previous scored follow-up visit, wherever it falls): two consecutive visits;
- `deterioration`: a confirmed deterioration (ProDERM worsening at two consecutive visits,
  docs/scoring.md §4) at a visit up to the horizon (or up to the evaluated visit when it comes after
  the horizon) makes a non-responder.

Per episode the answer is True (responder), False (non-responder) or None (not evaluable: no
scored visit of the episode within the window). An episode is evaluated on the response records
that measure it now (reports.selectors.measuring_links), the measure's record at each visit: a
record that is pending, failed or not computable counts as the measure not holding —
non-responder imputation, as the outcomes report counts evaluable episodes.

A name's versions are never changed: saving other parameters under a name adds a version
(reports.services.endpoint_define), and `endpoint=NAME@N` asks for an older one, whose results
are the same as when it was saved (on the same data). `proderm` (version 1) is built in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet

from registry.errors import InputError
from registry.models import TreatmentEpisode
from reports.models import EndpointDefinition
from reports.selectors import DOI, DONE, RANK, TIS, WORSENING, measuring_links

PRODERM = "proderm"
Measure = EndpointDefinition.Measure
# The categories an endpoint may ask for at least (ranks of reports.selectors.RANK).
LEAST_CATEGORIES = ("minimal", "moderate", "major")
MAX_HORIZON_WEEKS = 520
MAX_WINDOW_WEEKS = 52
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
# `endpoint=NAME` (its latest version) or `endpoint=NAME@N` (version N).
_REFERENCE = re.compile(r"(?P<name>[a-z0-9][a-z0-9_-]{0,59})(?:@(?P<version>[1-9][0-9]{0,5}))?")


@dataclass(frozen=True, slots=True)
class Parameters:
    """What an endpoint version decides with (its stored parameters)."""

    measure: str
    threshold: Decimal | None
    category: str
    horizon_weeks: int
    window_weeks: int
    consecutive: bool
    deterioration: bool

    @classmethod
    def of(cls, definition: EndpointDefinition) -> Parameters:
        threshold = definition.threshold
        return cls(
            measure=definition.measure,
            threshold=None if threshold is None else Decimal(threshold).quantize(Decimal("0.1")),
            category=definition.category,
            horizon_weeks=definition.horizon_weeks,
            window_weeks=definition.window_weeks,
            consecutive=definition.consecutive,
            deterioration=definition.deterioration,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "threshold": None if self.threshold is None else float(self.threshold),
            "category": self.category or None,
            "horizon_weeks": self.horizon_weeks,
            "window_weeks": self.window_weeks,
            "consecutive": self.consecutive,
            "deterioration": self.deterioration,
        }

    def describe(self) -> str:
        if self.measure == Measure.DOI:
            what = "IMACS DOI met"
        elif self.measure == Measure.TIS:
            what = f"TIS ≥ {self.threshold:g}"
        else:
            what = f"ACR/EULAR improvement at least {self.category}"
        text = f"{what} at week {self.horizon_weeks} (± {self.window_weeks} weeks, nearest visit)"
        if self.consecutive:
            text += ", also at the visit before"
        if self.deterioration:
            text += f"; no confirmed deterioration up to week {self.horizon_weeks}"
        return text


# ---------------------------------------------------------------------------------------------
# Input


def _integer(errors: list, data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        errors.append((name, "Required."))
        return None
    if isinstance(value, bool):
        errors.append((name, "Give a whole number."))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.append((name, "Give a whole number."))
        return None
    if not low <= number <= high:
        errors.append((name, f"Must be from {low} to {high}."))
        return None
    return number


def _flag(errors: list, data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    errors.append((name, "Give true or false."))
    return False


def parse_definition(data: Mapping[str, Any]) -> tuple[str, Parameters, str]:
    """(name, parameters, description) from an API body or form; InputError names every bad
    field."""
    errors: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise InputError([("", "Expected an object.")])
    name = data.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        errors.append(
            ("name", "Required: 1 to 60 lower-case letters, digits, - or _, starting a-z or 0-9.")
        )
    measure = data.get("measure")
    if measure not in Measure.values:
        errors.append(("measure", f"Must be one of: {', '.join(Measure.values)}."))
    threshold: Decimal | None = None
    category = ""
    raw_threshold, raw_category = data.get("threshold"), data.get("category")
    if measure == Measure.TIS:
        try:
            if raw_threshold is None or raw_threshold == "" or isinstance(raw_threshold, bool):
                raise InvalidOperation
            threshold = Decimal(str(raw_threshold).strip())
            if not threshold.is_finite() or not Decimal(0) <= threshold <= Decimal(100):
                raise InvalidOperation
            if threshold != threshold.quantize(Decimal("0.1")):
                errors.append(("threshold", "At most one decimal place."))
            threshold = threshold.quantize(Decimal("0.1"))
        except InvalidOperation:
            errors.append(("threshold", "Required for measure tis: a number from 0 to 100."))
            threshold = None
    elif raw_threshold not in (None, ""):
        errors.append(("threshold", "Only for measure tis."))
    if measure == Measure.CATEGORY:
        if raw_category not in LEAST_CATEGORIES:
            errors.append(
                ("category", f"Required for measure category: {', '.join(LEAST_CATEGORIES)}.")
            )
        else:
            category = raw_category
    elif raw_category not in (None, ""):
        errors.append(("category", "Only for measure category."))
    horizon = _integer(errors, data, "horizon_weeks", 1, MAX_HORIZON_WEEKS)
    window = _integer(errors, data, "window_weeks", 0, MAX_WINDOW_WEEKS)
    if horizon is not None and window is not None and window > horizon:
        errors.append(("window_weeks", "Cannot be wider than the horizon."))
    consecutive = _flag(errors, data, "consecutive")
    deterioration = _flag(errors, data, "deterioration")
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > 300:
        errors.append(("description", "Text of at most 300 characters."))
    if errors:
        raise InputError(errors)
    parameters = Parameters(
        measure=str(measure),
        threshold=threshold,
        category=category,
        horizon_weeks=int(horizon or 0),
        window_weeks=int(window or 0),
        consecutive=consecutive,
        deterioration=deterioration,
    )
    return str(name), parameters, str(description)


# ---------------------------------------------------------------------------------------------
# Reads


def endpoint_list() -> QuerySet[EndpointDefinition]:
    """Every version of every endpoint, by name then newest version first."""
    return EndpointDefinition.objects.select_related("created_by").order_by("name", "-version")


def endpoint_choices() -> list[tuple[str, str]]:
    """(reference, label) of every endpoint for a form: each name's latest version as `NAME`,
    its older versions as `NAME@VERSION`. One query."""
    choices: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, version in endpoint_list().values_list("name", "version"):
        latest = name not in seen
        seen.add(name)
        reference = name if latest else f"{name}@{version}"
        choices.append((reference, f"{name} (version {version}{', latest' if latest else ''})"))
    return choices


def endpoint_lookup(reference: str, *, field: str = "endpoint") -> EndpointDefinition:
    """The endpoint `NAME` (latest version) or `NAME@N`; InputError naming `field` if none."""
    match = _REFERENCE.fullmatch(reference or "")
    versions = EndpointDefinition.objects.none()
    if match:
        versions = EndpointDefinition.objects.filter(name=match["name"]).order_by("-version")
        if match["version"]:
            versions = versions.filter(version=int(match["version"]))
    definition = versions.first()
    if definition is None:
        raise InputError([(field, f"Unknown endpoint: {reference!r}.")])
    return definition


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True, slots=True)
class Record:
    """One response record of an episode, as the evaluation reads it."""

    algorithm: str
    done: bool
    visit_date: date
    met: bool | None
    score: Decimal | None
    category: str
    confirmed: bool | None


def _holds(parameters: Parameters, record: Record) -> bool:
    if not record.done:
        return False
    if parameters.measure == Measure.DOI:
        return record.met is True
    if parameters.measure == Measure.TIS:
        return record.score is not None and Decimal(record.score) >= parameters.threshold
    return RANK.get(record.category, -1) >= RANK[parameters.category]


def respond(parameters: Parameters, start: date, records: Iterable[Record]) -> bool | None:
    """Whether one episode (started on `start`, with these records) responds: True, False, or
    None when it has no visit of the measure within the window. Pure: no database."""
    algorithm = DOI if parameters.measure == Measure.DOI else TIS
    measured = sorted((r for r in records if r.algorithm == algorithm), key=lambda r: r.visit_date)
    target = start + timedelta(weeks=parameters.horizon_weeks)
    tolerance = timedelta(weeks=parameters.window_weeks)
    near = [r for r in measured if abs(r.visit_date - target) <= tolerance]
    if not near:
        return None
    # Nearest to the horizon; of two equally near, the earlier.
    chosen = min(near, key=lambda r: (abs(r.visit_date - target), r.visit_date > target))
    responds = _holds(parameters, chosen)
    if parameters.consecutive:
        index = measured.index(chosen)
        responds = responds and index > 0 and _holds(parameters, measured[index - 1])
    if responds and parameters.deterioration:
        until = max(target, chosen.visit_date)
        deteriorated = any(
            r.algorithm == WORSENING and r.done and r.confirmed is True and r.visit_date <= until
            for r in records
        )
        responds = not deteriorated
    return responds


_RECORD_COLUMNS = (
    "episode_id", "episode__start_date", "record__algorithm", "record__status",
    "record__visit__visit_date", "record__met", "record__score", "record__category",
    "record__confirmed",
)  # fmt: skip


def evaluate(
    definition: EndpointDefinition | Parameters, episodes: QuerySet[TreatmentEpisode]
) -> dict[int, bool | None]:
    """Per episode of `episodes` that has records measuring it, `respond`'s answer (an episode
    missing from the result is not evaluable). One query reads every record of the episodes,
    ordered by episode; the rest is `respond` per episode."""
    parameters = definition if isinstance(definition, Parameters) else Parameters.of(definition)
    links = (
        measuring_links()
        .filter(episode__in=episodes.values("pk"))
        .order_by("episode_id", "record__visit__visit_date", "record_id")
        .values_list(*_RECORD_COLUMNS)
    )
    results: dict[int, bool | None] = {}
    current: int | None = None
    start: date | None = None
    records: list[Record] = []

    def flush() -> None:
        if current is not None and start is not None:
            results[current] = respond(parameters, start, records)

    for (
        episode_id,
        start_date,
        algorithm,
        status,
        visit_date,
        met,
        score,
        category,
        confirmed,
    ) in links.iterator(chunk_size=5000):
        if episode_id != current:
            flush()
            current, start, records = episode_id, start_date, []
        records.append(
            Record(algorithm, status == DONE, visit_date, met, score, category or "", confirmed)
        )
    flush()
    return results
