"""Planning of a patient's scores, pure: which comparisons the visits call for, what each record is
computed from, and the fingerprint it must carry to be current.

Plain data in (the values scoring.selectors reads), plain data out; no database and no Django, so
every rule here is tested without either. The reference rules (docs/scoring.md §7) are in
`plan_comparisons`; everything that decides whether a record is current goes through
`expected_rows`, so the tasks, the sweep, `scoring_status` and the API agree on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from scoring.instruments import (
    DOI_ALGORITHM,
    TIS_ALGORITHM,
    WORSENING_ALGORITHM,
    InstrumentError,
    Measures,
    age_in_years,
    population_for,
)

# Bump when this pipeline's own code changes what a record holds for the same data (a fix in how
# inputs are read, say): every fingerprint changes and the sweep re-scores the registry. A change
# of a clinical rule is a new algorithm identifier instead (docs/scoring.md).
REVISION = 1

# docs/scoring.md §7: an episode's baseline is the latest visit from 30 days
# before its start up to the start; its scored visits run to 30 days after the stop date.
EPISODE_WINDOW = timedelta(days=30)

# The algorithms of a comparison, in the order their records are written (the values of
# ResponseRecord.Algorithm).
DOI: str = DOI_ALGORITHM
TIS: str = TIS_ALGORITHM
WORSENING: str = WORSENING_ALGORITHM
ALGORITHMS: tuple[str, ...] = (DOI, TIS, WORSENING)

# Why a visit is the reference (the values of ResponseRecord.ReferenceKind): the patient's
# baseline, or only the baseline of treatment episodes.
BASELINE_REFERENCE = "baseline"
TREATMENT_REFERENCE = "treatment"

# The visit kind that makes a visit the patient's baseline (crf's Visit.Kind.BASELINE).
BASELINE_VISIT = "baseline"

# docs/scoring.md §1: units U/L; 1 µkat/L = 60 U/L (crf's LabResult.Unit). Value and ULN are
# converted together, so the value/ULN ratio that is scored is the same in either unit.
UNIT_FACTORS: dict[str, int] = {"U/L": 1, "ukat/L": 60}


# ---------------------------------------------------------------------------------------------
# References


@dataclass(frozen=True, slots=True)
class VisitKey:
    id: int
    date: date
    kind: str


@dataclass(frozen=True, slots=True)
class EpisodeKey:
    id: int
    start: date
    stop: date | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One visit scored against one reference visit, and why (docs/scoring.md §7)."""

    visit: int
    reference: int
    # The visit before `visit` after the same reference, for confirmed deterioration (§4).
    previous: int | None
    kind: str  # BASELINE_REFERENCE or TREATMENT_REFERENCE
    episodes: tuple[int, ...]  # episodes whose baseline is `reference` and window holds `visit`


def plan_comparisons(
    visits: Sequence[VisitKey], episodes: Sequence[EpisodeKey]
) -> list[Comparison]:
    """Every (visit, reference visit) comparison that one patient's visits call for.

    - The patient's baseline is the visit of kind baseline, else the earliest visit; every later
      visit is scored against it.
    - A treatment episode's baseline is the latest visit from 30 days before its start up to the
      start; the visits after the start and no later than 30 days after the stop (all later
      visits while it is ongoing) are scored against it. Without such a visit the episode is not
      evaluable and adds nothing.
    A comparison that serves the patient baseline and episodes at once is one comparison (the
    records are unique per visit, reference and algorithm) listing those episodes.
    """
    ordered = sorted(visits, key=lambda v: (v.date, v.id))
    if not ordered:
        return []
    baseline = next((v for v in ordered if v.kind == BASELINE_VISIT), ordered[0])
    found: dict[tuple[int, int], tuple[str, set[int]]] = {}
    for visit in ordered:
        if visit.date > baseline.date:
            found[(visit.id, baseline.id)] = (BASELINE_REFERENCE, set())
    for episode in episodes:
        earliest = episode.start - EPISODE_WINDOW
        candidates = [v for v in ordered if earliest <= v.date <= episode.start]
        if not candidates:
            continue
        reference = candidates[-1]
        last = None if episode.stop is None else episode.stop + EPISODE_WINDOW
        for visit in ordered:
            if visit.date > episode.start and (last is None or visit.date <= last):
                key = (visit.id, reference.id)
                if key not in found:
                    found[key] = (TREATMENT_REFERENCE, set())
                found[key][1].add(episode.id)

    position = {v.id: index for index, v in enumerate(ordered)}
    comparisons = []
    for (visit_id, reference_id), (kind, episode_ids) in found.items():
        # Visits are unique per date, so "after the reference and before this visit" is a run of
        # positions; the previous visit is its last one, if any.
        before = position[visit_id] - 1
        previous = ordered[before].id if before > position[reference_id] else None
        comparisons.append(
            Comparison(visit_id, reference_id, previous, kind, tuple(sorted(episode_ids)))
        )
    comparisons.sort(key=lambda c: (position[c.visit], position[c.reference]))
    return comparisons


# ---------------------------------------------------------------------------------------------
# Inputs


def exact_text(value: Decimal | Fraction | None) -> str | None:
    """A number as exact text: decimals as written, a non-terminating fraction as "n/d"."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        # Database decimals come at the column's scale ("6.0", "15.200"); trailing zeros go.
        # (String work rather than Decimal.normalize(): this runs ten times per visit read.)
        text = str(value)
        if "E" in text or "e" in text:
            return format(value.normalize(), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


@dataclass(slots=True)
class StoredVisit:
    """One visit's stored values, as scoring.selectors reads them: its own columns, its
    instruments' totals (`reading_error` when they could not be computed) and its labs as
    (enzyme, value, unit, ULN)."""

    id: int
    date: date
    kind: str
    updated_at: datetime
    physician_global: Decimal | None
    patient_global: Decimal | None
    extramuscular: Decimal | None
    cmas: int | None
    locked: bool
    mmt_total: int | None = None
    mmt_max: int | None = None
    haq: Fraction | None = None
    reading_error: str = ""
    labs: Sequence[tuple[str, Decimal, str, Decimal]] = ()


@dataclass(slots=True)
class VisitInputs:
    """The core set measures of one visit: as stored in a record's inputs (`snapshot`) and as
    the instruments take them (`measures`, None when they could not be read: `error`)."""

    id: int
    date: date
    kind: str
    updated_at: datetime
    snapshot: dict[str, Any]
    measures: Measures | None
    error: str
    canonical: str = ""  # `snapshot` as canonical JSON, the unit of the fingerprints
    # Signed and locked: its records are frozen as they were at signing (issue 8, "scores of a
    # locked visit do not change"), whatever happens to its reference or the episodes since.
    locked: bool = False

    @property
    def key(self) -> VisitKey:
        return VisitKey(self.id, self.date, self.kind)


@dataclass(slots=True)
class PatientInputs:
    id: int
    population: str | None
    population_error: str
    site_id: int | None = None
    visits: list[VisitInputs] = field(default_factory=list)
    episodes: list[EpisodeKey] = field(default_factory=list)
    by_id: dict[int, VisitInputs] = field(default_factory=dict)
    # The classification's inputs (scoring.classifying): the age at symptom onset in whole years
    # (None when population_error says why not), the stored assessment (None: none) and the
    # results of the patient's anti-Jo-1 tests.
    age_at_onset: int | None = None
    assessment: dict[str, Any] | None = None
    anti_jo1_results: tuple[str, ...] = ()

    def add_visit(self, visit: VisitInputs) -> None:
        self.visits.append(visit)
        self.by_id[visit.id] = visit


def patient_inputs(
    patient_id: int, birth_year: int, birth_month: int, onset: date, site_id: int | None = None
) -> PatientInputs:
    """A patient's inputs before its visits are added: the population, or why it is unknown."""
    population, population_error, age = None, "", None
    try:
        # Adult or juvenile by age at symptom onset (docs/scoring.md §3), as Patient.population.
        population = population_for(birth_year, birth_month, onset)
        age = age_in_years(birth_year, birth_month, onset)
    except InstrumentError as exc:
        population_error = str(exc)
    return PatientInputs(patient_id, population, population_error, site_id, age_at_onset=age)


def visit_inputs(visit: StoredVisit, *, with_measures: bool = True) -> VisitInputs:
    """A visit's snapshot and canonical JSON, and (`with_measures`) the instruments' Measures.

    Without `with_measures` only what the fingerprints need is built (the sweep compares, it
    does not score): an input that the instruments would reject is found when the visit is
    scored.
    """
    error = visit.reading_error
    enzymes: dict[str, dict[str, str | None]] = {}
    pairs: dict[str, tuple[Decimal, Decimal]] = {}
    for enzyme, value, unit, uln in visit.labs:
        enzymes[enzyme] = {"value": exact_text(value), "uln": exact_text(uln), "unit": unit}
        factor = UNIT_FACTORS.get(unit)
        if factor is None:
            error = error or f"labs.{enzyme}.unit: unknown unit {unit!r}"
        else:
            pairs[enzyme] = (value * factor, uln * factor)
    mmt_max = visit.mmt_max
    snapshot: dict[str, Any] = {
        "id": visit.id,
        "date": visit.date.isoformat(),
        "measures": {
            "physician_global": exact_text(visit.physician_global),
            "patient_global": exact_text(visit.patient_global),
            "extramuscular": exact_text(visit.extramuscular),
            "haq": exact_text(visit.haq),
            "mmt": None if mmt_max is None else {"total": visit.mmt_total, "max": mmt_max},
            "cmas": visit.cmas,
            "enzymes": enzymes,
        },
    }
    if error:
        # What could not be read is part of the inputs (and of their fingerprint): the record
        # failed on exactly this.
        snapshot["error"] = error
    # The snapshot is complete here, whether the instruments' measures are built or not, so that
    # the sweep (which does not build them) computes the same fingerprints as the tasks.
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"))
    measures = None
    if not error and with_measures:
        try:
            measures = Measures(
                physician_global=visit.physician_global,
                patient_global=visit.patient_global,
                extramuscular=visit.extramuscular,
                haq=visit.haq,
                mmt_total=visit.mmt_total,
                mmt_max=mmt_max if visit.mmt_total is not None else None,
                cmas=visit.cmas,
                enzymes=pairs,
            )
        except InstrumentError as exc:
            error = str(exc)
    return VisitInputs(
        visit.id,
        visit.date,
        visit.kind,
        visit.updated_at,
        snapshot,
        measures,
        error,
        canonical,
        visit.locked,
    )


# ---------------------------------------------------------------------------------------------
# Expected records and their fingerprints


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    """A record that the current data calls for, with the fingerprint it must carry to be
    current. The result itself is computed (scoring.compute) only when needed."""

    comparison: Comparison
    algorithm: str
    fingerprint: str

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.comparison.visit, self.comparison.reference, self.algorithm)


def row_inputs(patient: PatientInputs, comparison: Comparison, algorithm: str) -> dict[str, Any]:
    """The inputs stored on a record: exactly what `algorithm` is given (docs/scoring.md §2–§4)."""
    by_id = patient.by_id
    inputs: dict[str, Any] = {}
    if algorithm == TIS:
        # Population decides the category thresholds of the TIS only.
        inputs["population"] = patient.population
        if patient.population_error:
            inputs["population_error"] = patient.population_error
    inputs["reference"] = by_id[comparison.reference].snapshot
    inputs["visit"] = by_id[comparison.visit].snapshot
    if algorithm == WORSENING:
        previous = comparison.previous
        inputs["previous"] = None if previous is None else by_id[previous].snapshot
    return inputs


def row_inputs_json(patient: PatientInputs, comparison: Comparison, algorithm: str) -> str:
    """`row_inputs` as JSON text, put together from the visits' canonical JSON (the same
    document: a test holds them equal) rather than serialised again for every record."""
    by_id = patient.by_id
    parts = []
    if algorithm == TIS:
        parts.append(f'"population":{json.dumps(patient.population)}')
        if patient.population_error:
            parts.append(f'"population_error":{json.dumps(patient.population_error)}')
    parts.append(f'"reference":{by_id[comparison.reference].canonical}')
    parts.append(f'"visit":{by_id[comparison.visit].canonical}')
    if algorithm == WORSENING:
        previous = comparison.previous
        parts.append(f'"previous":{"null" if previous is None else by_id[previous].canonical}')
    return "{" + ",".join(parts) + "}"


def _fingerprint(
    patient: PatientInputs, by_id: dict[int, VisitInputs], comparison: Comparison, algorithm: str
) -> str:
    parts = [
        str(REVISION),
        algorithm,
        comparison.kind,
        ",".join(map(str, comparison.episodes)),
        by_id[comparison.reference].canonical,
        by_id[comparison.visit].canonical,
    ]
    if algorithm == TIS:
        parts.append(f"{patient.population}|{patient.population_error}")
    elif algorithm == WORSENING:
        previous = comparison.previous
        parts.append("null" if previous is None else by_id[previous].canonical)
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def expected_rows(patient: PatientInputs) -> list[ExpectedRow]:
    """The records one patient's current data calls for, three algorithms per comparison."""
    by_id = patient.by_id
    comparisons = plan_comparisons([v.key for v in patient.visits], patient.episodes)
    return [
        ExpectedRow(comparison, algorithm, _fingerprint(patient, by_id, comparison, algorithm))
        for comparison in comparisons
        for algorithm in ALGORITHMS
    ]
