"""Reads of the scoring app: the inputs of a patient's scores, which comparisons a patient's visits
call for, the stored response records as the API and pages show them, and the scoring state of
every visit (current, pending, stale, failed).

The reference rules (DESIGN.md "References for a response") are in `plan_comparisons`, a pure
function; everything that decides whether a record is current goes through `expected_rows`, so the
tasks, the sweep, `scoring_status` and the API agree on it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import QuerySet

from crf.models import HAQ, MMT8, LabResult, Visit
from registry.models import Patient, TreatmentEpisode
from scoring.instruments import InstrumentError, Measures, population_for
from scoring.models import ResponseEpisode, ResponseRecord

# Bump when this pipeline's own code changes what a record holds for the same data (a fix in how
# inputs are read, say): every fingerprint changes and the sweep re-scores the registry. A change
# of a clinical rule is a new algorithm identifier instead (spec/SCORING.md).
REVISION = 1

# DESIGN.md "References for a response": an episode's baseline is the latest visit from 30 days
# before its start up to the start; its scored visits run to 30 days after the stop date.
EPISODE_WINDOW = timedelta(days=30)

ALGORITHMS: tuple[str, ...] = tuple(ResponseRecord.Algorithm.values)
DOI = ResponseRecord.Algorithm.IMACS_DOI.value
TIS = ResponseRecord.Algorithm.ACR_EULAR.value
WORSENING = ResponseRecord.Algorithm.WORSENING.value

# SCORING.md §1: units U/L; 1 µkat/L = 60 U/L. Value and ULN are converted together, so the
# value/ULN ratio that is scored is the same in either unit.
UNIT_FACTORS: dict[str, int] = {LabResult.Unit.U_PER_L: 1, LabResult.Unit.UKAT_PER_L: 60}

# States of a visit (scoring_status): every record it should have is current; some are not
# computed yet (or never were); some were computed from data that has changed since; or a
# record failed on the current data.
SCORED, PENDING, STALE, FAILED = "scored", "pending", "stale", "failed"
STATES: tuple[str, ...] = (SCORED, PENDING, STALE, FAILED)


# ---------------------------------------------------------------------------------------------
# References (pure)


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
    """One visit scored against one reference visit, and why (DESIGN.md "References")."""

    visit: int
    reference: int
    # The visit before `visit` after the same reference, for confirmed deterioration (§4).
    previous: int | None
    kind: str  # ResponseRecord.ReferenceKind
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
    baseline = next((v for v in ordered if v.kind == Visit.Kind.BASELINE), ordered[0])
    found: dict[tuple[int, int], tuple[str, set[int]]] = {}
    for visit in ordered:
        if visit.date > baseline.date:
            found[(visit.id, baseline.id)] = (ResponseRecord.ReferenceKind.BASELINE, set())
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
                    found[key] = (ResponseRecord.ReferenceKind.TREATMENT, set())
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

    def add_visit(self, visit: VisitInputs) -> None:
        self.visits.append(visit)
        self.by_id[visit.id] = visit


def _visit_inputs(
    row: tuple[Any, ...],
    mmt: MMT8 | None,
    haq: HAQ | None,
    labs: list[tuple[Any, ...]],
    with_measures: bool,
) -> VisitInputs:
    visit_id, _, visit_date, kind, updated_at, physician, patient, extramuscular, cmas, status = row
    error = ""
    mmt_total: int | None = None
    mmt_max: int | None = None
    haq_score: Fraction | None = None
    try:
        if mmt is not None:
            mmt_max = mmt.maximum
            mmt_total = mmt.total
        if haq is not None:
            haq_score = haq.score
    except InstrumentError as exc:
        error = str(exc)
    enzymes: dict[str, dict[str, str | None]] = {}
    pairs: dict[str, tuple[Decimal, Decimal]] = {}
    for enzyme, value, unit, uln in labs:
        enzymes[enzyme] = {"value": exact_text(value), "uln": exact_text(uln), "unit": unit}
        factor = UNIT_FACTORS.get(unit)
        if factor is None:
            error = error or f"labs.{enzyme}.unit: unknown unit {unit!r}"
        else:
            pairs[enzyme] = (value * factor, uln * factor)
    snapshot = {
        "id": visit_id,
        "date": visit_date.isoformat(),
        "measures": {
            "physician_global": exact_text(physician),
            "patient_global": exact_text(patient),
            "extramuscular": exact_text(extramuscular),
            "haq": exact_text(haq_score),
            "mmt": None if mmt_max is None else {"total": mmt_total, "max": mmt_max},
            "cmas": cmas,
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
                physician_global=physician,
                patient_global=patient,
                extramuscular=extramuscular,
                haq=haq_score,
                mmt_total=mmt_total,
                mmt_max=mmt_max if mmt_total is not None else None,
                cmas=cmas,
                enzymes=pairs,
            )
        except InstrumentError as exc:
            error = str(exc)
    return VisitInputs(
        visit_id,
        visit_date,
        kind,
        updated_at,
        snapshot,
        measures,
        error,
        canonical,
        status == Visit.Status.LOCKED,
    )


_VISIT_COLUMNS = (
    "id", "patient_id", "visit_date", "kind", "updated_at",
    "physician_global", "patient_global", "extramuscular", "cmas", "status",
)  # fmt: skip


def load_inputs(
    patient_ids: Iterable[int], *, lock: bool = False, measures: bool = True
) -> dict[int, PatientInputs]:
    """Everything the scores of these patients depend on, in six queries.

    Without `measures` only what the fingerprints need is built (the sweep compares, it does not
    score): the visits' `measures` stay None, and an input that the instruments would reject is
    found when the visit is scored.

    With `lock`, the patient rows are locked (in id order, so that two tasks never wait on each
    other in a cycle) until the caller's transaction ends: a task that reads a patient's data and
    writes its records under this lock cannot overwrite the records of a newer task with results
    from older data. Ids of patients that do not exist (any more) are left out.
    """
    ids = sorted(set(patient_ids))
    patients = Patient.objects.filter(pk__in=ids).order_by("pk")
    if lock:
        patients = patients.select_for_update()
    found: dict[int, PatientInputs] = {}
    for pk, birth_year, birth_month, onset, site_id in patients.values_list(
        "pk", "birth_year", "birth_month", "onset_date", "site_id"
    ):
        population, population_error = None, ""
        try:
            # Adult or juvenile by age at symptom onset (SCORING.md §3), as Patient.population.
            population = population_for(birth_year, birth_month, onset)
        except InstrumentError as exc:
            population_error = str(exc)
        found[pk] = PatientInputs(pk, population, population_error, site_id)
    if not found:
        return found
    ids = list(found)
    mmts = {m.visit_id: m for m in MMT8.objects.filter(visit__patient_id__in=ids)}
    haqs = {h.visit_id: h for h in HAQ.objects.filter(visit__patient_id__in=ids)}
    labs: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for visit_id, *lab in LabResult.objects.filter(visit__patient_id__in=ids).values_list(
        "visit_id", "enzyme", "value", "unit", "uln"
    ):
        labs[visit_id].append(tuple(lab))
    visits = Visit.objects.filter(patient_id__in=ids).order_by("patient_id", "visit_date", "id")
    for row in visits.values_list(*_VISIT_COLUMNS):
        visit_id = row[0]
        found[row[1]].add_visit(
            _visit_inputs(
                row, mmts.get(visit_id), haqs.get(visit_id), labs.get(visit_id, []), measures
            )
        )
    episodes = TreatmentEpisode.objects.filter(patient_id__in=ids).order_by("start_date", "id")
    for pk, patient_id, start, stop in episodes.values_list(
        "pk", "patient_id", "start_date", "stop_date"
    ):
        found[patient_id].episodes.append(EpisodeKey(pk, start, stop))
    return found


# ---------------------------------------------------------------------------------------------
# Expected records and their fingerprints


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    """A record that the current data calls for, with the fingerprint it must carry to be
    current. The result itself is computed by scoring.services only when needed."""

    comparison: Comparison
    algorithm: str
    fingerprint: str

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.comparison.visit, self.comparison.reference, self.algorithm)


def row_inputs(patient: PatientInputs, comparison: Comparison, algorithm: str) -> dict[str, Any]:
    """The inputs stored on a record: exactly what `algorithm` is given (SCORING.md §2–§4)."""
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


# ---------------------------------------------------------------------------------------------
# Stored records


# What a record says, as the audit trail records it (scoring.services): the comparison it is of
# and its outcome. Its inputs are audited as the clinical data they are; its status is the state
# of the pipeline (pending while a task is queued), not a score.
OUTCOME_FIELDS: tuple[str, ...] = (
    "reference_kind", "previous_visit_id", "met", "score", "category", "complete", "worsened",
    "confirmed", "error",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredRow:
    id: int
    visit: int
    reference: int
    algorithm: str
    fingerprint: str
    status: str
    has_result: bool
    requested_at: datetime | None
    outcome: tuple[Any, ...]  # OUTCOME_FIELDS' values


def stored_of(records: QuerySet[ResponseRecord]) -> Iterator[tuple[int, StoredRow]]:
    """These records as (patient id, StoredRow): what the pipeline compares and audits."""
    query = records.values_list(
        "id", "patient_id", "visit_id", "reference_visit_id", "algorithm", "fingerprint",
        "status", "result__isnull", "requested_at", *OUTCOME_FIELDS,
    )  # fmt: skip
    for pk, patient, visit, reference, algorithm, fp, status, no_result, requested, *out in query:
        yield (
            patient,
            StoredRow(
                pk, visit, reference, algorithm, fp, status, not no_result, requested, tuple(out)
            ),
        )


def stored_rows(patient_ids: Iterable[int]) -> dict[int, dict[tuple[int, int, str], StoredRow]]:
    """The stored records of these patients, by patient and (visit, reference, algorithm)."""
    rows: dict[int, dict[tuple[int, int, str], StoredRow]] = defaultdict(dict)
    records = ResponseRecord.objects.filter(patient_id__in=list(patient_ids))
    for patient_id, row in stored_of(records):
        rows[patient_id][(row.visit, row.reference, row.algorithm)] = row
    return rows


def response_records(
    *,
    visit_ids: Iterable[int] | None = None,
    patient_ids: Iterable[int] | None = None,
    algorithm: str | None = None,
    reference_kind: str | None = None,
    episode_ids: Iterable[int] | None = None,
    status: str | None = None,
) -> QuerySet[ResponseRecord]:
    """Response records filtered as reports and pages need them, with the reference visit
    joined. Episodes are a many-to-many: add `.prefetch_related("episodes")` when showing them."""
    records = ResponseRecord.objects.select_related("reference_visit")
    if visit_ids is not None:
        records = records.filter(visit_id__in=list(visit_ids))
    if patient_ids is not None:
        records = records.filter(patient_id__in=list(patient_ids))
    if algorithm is not None:
        records = records.filter(algorithm=algorithm)
    if reference_kind is not None:
        records = records.filter(reference_kind=reference_kind)
    if episode_ids is not None:
        records = records.filter(episodes__in=list(episode_ids)).distinct()
    if status is not None:
        records = records.filter(status=status)
    return records


_KEY_BY_ALGORITHM = {DOI: "imacs_doi", TIS: "acr_eular", WORSENING: "worsening"}
_STATUS_RANK = {
    ResponseRecord.Status.FAILED: 3,
    ResponseRecord.Status.PENDING: 2,
    ResponseRecord.Status.DONE: 1,
}


def empty_entry(
    reference_id: int, reference_date: date, kind: str, episodes: Iterable[int], status: str
) -> dict[str, Any]:
    """A response record as the API shows it (spec/CONTRACTS.md, visits' `scores`), before its
    results are filled in: one entry per (visit, reference visit) with all three algorithms."""
    return {
        "reference_visit": {"id": reference_id, "date": reference_date.isoformat()},
        "reference_kind": kind,
        "episodes": sorted(episodes),
        "status": status,
        "error": None,
        "imacs_doi": None,
        "acr_eular": None,
        "worsening": None,
        "computed_at": None,
    }


def scores_for_visits(visit_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The crf `scores` hook: the response records of these visits as the API shows them.

    Records are grouped per reference visit; `status` is the worst of the three algorithms'.
    A comparison that the current data calls for but that has no record yet is listed as
    pending, so that a visit saved a moment ago does not look like one with nothing to score.
    Four queries, whatever the number of visits.
    """
    ids = sorted(set(visit_ids))
    if not ids:
        return {}
    answer: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    records = (
        ResponseRecord.objects.filter(visit_id__in=ids)
        .order_by("visit_id", "reference_visit__visit_date", "algorithm")
        .values_list(
            "id", "visit_id", "reference_visit_id", "reference_visit__visit_date",
            "reference_kind", "algorithm", "status", "error", "result", "computed_at",
        )
    )  # fmt: skip
    rows = list(records)
    links: dict[int, list[int]] = defaultdict(list)
    for record_id, episode_id in ResponseEpisode.objects.filter(
        record__visit_id__in=ids
    ).values_list("record_id", "episode_id"):
        links[record_id].append(episode_id)
    for pk, visit, ref, ref_date, kind, algorithm, status, error, result, computed_at in rows:
        entry = answer[visit].get(ref)
        if entry is None:
            entry = answer[visit][ref] = empty_entry(ref, ref_date, kind, links[pk], status)
        if _STATUS_RANK[status] > _STATUS_RANK[entry["status"]]:
            entry["status"] = status
        if error:
            entry["error"] = f"{entry['error']}; {error}" if entry["error"] else error
        entry[_KEY_BY_ALGORITHM[algorithm]] = result
        if computed_at is not None and (
            entry["computed_at"] is None or computed_at.isoformat() > entry["computed_at"]
        ):
            entry["computed_at"] = computed_at.isoformat()

    # Comparisons not stored yet: from the visits' dates and kinds and the episodes' dates only.
    patients = Visit.objects.filter(pk__in=ids).values("patient_id")
    keys: dict[int, list[VisitKey]] = defaultdict(list)
    for pk, patient_id, visit_date, kind in Visit.objects.filter(
        patient_id__in=patients
    ).values_list("pk", "patient_id", "visit_date", "kind"):
        keys[patient_id].append(VisitKey(pk, visit_date, kind))
    episodes: dict[int, list[EpisodeKey]] = defaultdict(list)
    for pk, patient_id, start, stop in TreatmentEpisode.objects.filter(
        patient_id__in=list(keys)
    ).values_list("pk", "patient_id", "start_date", "stop_date"):
        episodes[patient_id].append(EpisodeKey(pk, start, stop))
    wanted = set(ids)
    for patient_id, visit_keys in keys.items():
        dates = {v.id: v.date for v in visit_keys}
        for comparison in plan_comparisons(visit_keys, episodes[patient_id]):
            visit = comparison.visit
            if visit in wanted and comparison.reference not in answer[visit]:
                answer[visit][comparison.reference] = empty_entry(
                    comparison.reference,
                    dates[comparison.reference],
                    comparison.kind,
                    comparison.episodes,
                    ResponseRecord.Status.PENDING,
                )
    return {
        visit: sorted(entries.values(), key=lambda e: e["reference_visit"]["date"])
        for visit, entries in answer.items()
        if visit in wanted
    }


# ---------------------------------------------------------------------------------------------
# Scoring state of visits (scoring_status, the sweep)


@dataclass(frozen=True, slots=True)
class VisitState:
    visit_id: int
    patient_id: int
    state: str  # one of STATES
    # Pending: since when it has waited (the last request for scoring, or when the visit was
    # saved if it was never scored); the sweep leaves recent ones to the task already queued.
    waiting_since: datetime | None = None


def classify(
    patient: PatientInputs, stored: dict[tuple[int, int, str], StoredRow]
) -> list[VisitState]:
    """The state of each of one patient's visits: its expected records against the stored ones."""
    expected: dict[int, list[ExpectedRow]] = defaultdict(list)
    for row in expected_rows(patient):
        expected[row.comparison.visit].append(row)
    extra: set[int] = set()
    expected_keys = {row.key for rows in expected.values() for row in rows}
    for key in stored:
        if key not in expected_keys:
            extra.add(key[0])
    states = []
    for visit in patient.visits:
        state, since = SCORED, None
        flags: set[str] = set()
        for row in expected.get(visit.id, ()):
            have = stored.get(row.key)
            if have is None:
                flags.add(PENDING)
                since = _earliest(since, visit.updated_at)
            elif have.status == ResponseRecord.Status.FAILED:
                # A failure on the current data stands until the data changes; after a change the
                # record is merely stale and the sweep tries again.
                fresh = have.fingerprint == row.fingerprint or visit.locked
                flags.add(FAILED if fresh else STALE)
            elif have.status == ResponseRecord.Status.PENDING:
                flags.add(PENDING)
                since = _earliest(since, have.requested_at or visit.updated_at)
            elif have.fingerprint != row.fingerprint and not visit.locked:
                # A locked visit's records are frozen as signed (scoring.services): not stale.
                flags.add(STALE)
        if visit.id in extra and not visit.locked:
            flags.add(STALE)
        for candidate in (FAILED, PENDING, STALE):
            if candidate in flags:
                state = candidate
                break
        states.append(VisitState(visit.id, patient.id, state, since if state == PENDING else None))
    return states


def _earliest(current: datetime | None, other: datetime) -> datetime:
    return other if current is None or other < current else current


def patient_id_chunks(size: int, patient_ids: Iterable[int] | None = None) -> Iterator[list[int]]:
    """Patient ids in ascending chunks: of the given ids, or of every patient with a visit."""
    if patient_ids is not None:
        ids = sorted(set(patient_ids))
        for start in range(0, len(ids), size):
            yield ids[start : start + size]
        return
    last = 0
    while True:
        chunk = list(
            Visit.objects.filter(patient_id__gt=last)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
            .distinct()[:size]
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def visit_states(
    patient_ids: Iterable[int] | None = None,
    *,
    chunk_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> Iterator[VisitState]:
    """The scoring state of every visit (of these patients), read in chunks of patients;
    `progress` is called with the number of patients of each chunk done."""
    for chunk in patient_id_chunks(chunk_size, patient_ids):
        inputs = load_inputs(chunk, measures=False)
        stored = stored_rows(chunk)
        for patient_id in chunk:
            patient = inputs.get(patient_id)
            if patient is not None:
                yield from classify(patient, stored.get(patient_id, {}))
        if progress is not None:
            progress(len(chunk))


def scoring_counts(
    patient_ids: Iterable[int] | None = None, *, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """`scoring_status --json`: exactly visits, scored, pending, stale, failed."""
    counts = dict.fromkeys(STATES, 0)
    for state in visit_states(patient_ids, progress=progress):
        counts[state.state] += 1
    return {"visits": sum(counts.values()), **counts}


def patients_needing_scoring(
    *, grace: timedelta = timedelta(0), now: datetime | None = None, chunk_size: int = 500
) -> Iterator[tuple[int, list[int]]]:
    """What the reconciliation sweep re-scores, chunk by chunk of patients scanned: (how many
    patients were scanned, the ids of those among them with a visit never scored, pending for
    longer than `grace`, or stale). Failures on unchanged data are left alone (scoring them again
    would fail again); `rescore --patient` retries them on demand."""
    from django.utils import timezone

    cutoff = (now or timezone.now()) - grace
    for chunk in patient_id_chunks(chunk_size):
        needing: list[int] = []
        inputs = load_inputs(chunk, measures=False)
        stored = stored_rows(chunk)
        for patient_id in chunk:
            patient = inputs.get(patient_id)
            if patient is None:
                continue
            for state in classify(patient, stored.get(patient_id, {})):
                if state.state == STALE or (
                    state.state == PENDING
                    and state.waiting_since is not None
                    and state.waiting_since <= cutoff
                ):
                    needing.append(patient_id)
                    break
        yield len(chunk), needing


def patients_with_visits() -> int:
    return Visit.objects.values("patient_id").distinct().count()
