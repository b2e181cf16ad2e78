"""Reads of the scoring app: the inputs of a patient's scores as the planning takes them
(scoring.planning), the stored response records, the scores of visits as the interface shows
them, and the scoring state of every visit (current, pending, stale, failed).

Nothing here writes: scoring.services stores what these read. What is expected of the records
(comparisons, inputs, fingerprints) is decided by scoring.planning alone, so the tasks, the sweep,
`scoring_status` and the API agree on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone

from crf.classification import VALUE_FIELDS as CLASSIFICATION_VALUE_FIELDS
from crf.models import HAQ, MMT8, ClassificationAssessment, LabResult, RefractoryAttestation, Visit
from registry.models import AutoantibodyResult, Patient, TreatmentEpisode
from registry.vocabularies import Antibody
from scoring import planning, scores
from scoring.compute import Scorer
from scoring.instruments import InstrumentError, refractory
from scoring.instruments.classification import ITEM_KEYS as CLASSIFICATION_ITEM_KEYS
from scoring.models import RefractoryRecord, ResponseEpisode, ResponseRecord
from scoring.planning import (
    EpisodeKey,
    ExpectedRow,
    PatientInputs,
    StoredVisit,
    VisitKey,
    expected_rows,
    patient_inputs,
    plan_comparisons,
    visit_inputs,
)
from scoring.scores import ScoreDraft, VisitScore

# States of a visit (scoring_status): every record it should have is current; some are not
# computed yet (or never were); some were computed from data that has changed since; or a
# record failed on the current data.
SCORED, PENDING, STALE, FAILED = "scored", "pending", "stale", "failed"
STATES: tuple[str, ...] = (SCORED, PENDING, STALE, FAILED)


# ---------------------------------------------------------------------------------------------
# Inputs


def _instrument_totals(
    mmt: MMT8 | None, haq: HAQ | None
) -> tuple[int | None, int | None, Fraction | None, str]:
    """The MMT-8 total and maximum and the HAQ score of a visit, as its models compute them, and
    the error that stopped them (corrupt data written around the services)."""
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
        return mmt_total, mmt_max, haq_score, str(exc)
    return mmt_total, mmt_max, haq_score, ""


_VISIT_COLUMNS = (
    "id", "patient_id", "visit_date", "kind", "updated_at",
    "physician_global", "patient_global", "extramuscular", "cmas", "status",
)  # fmt: skip


def load_inputs(
    patient_ids: Iterable[int], *, lock: bool = False, measures: bool = True
) -> dict[int, PatientInputs]:
    """Everything the scores of these patients depend on, in eight queries.

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
        found[pk] = patient_inputs(pk, birth_year, birth_month, onset, site_id)
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
    locked = Visit.Status.LOCKED
    visits = Visit.objects.filter(patient_id__in=ids).order_by("patient_id", "visit_date", "id")
    for row in visits.values_list(*_VISIT_COLUMNS):
        visit_id, patient_id, day, kind, updated_at, physician, patient, extra, cmas, status = row
        stored = StoredVisit(
            visit_id, day, kind, updated_at, physician, patient, extra, cmas, status == locked,
            *_instrument_totals(mmts.get(visit_id), haqs.get(visit_id)), labs.get(visit_id, ()),
        )  # fmt: skip
        found[patient_id].add_visit(visit_inputs(stored, with_measures=measures))
    episodes = TreatmentEpisode.objects.filter(patient_id__in=ids).order_by("start_date", "id")
    for pk, patient_id, start, stop in episodes.values_list(
        "pk", "patient_id", "start_date", "stop_date"
    ):
        found[patient_id].episodes.append(EpisodeKey(pk, start, stop))
    _load_classification_inputs(found)
    return found


_ASSESSMENT_COLUMNS = ("patient_id", *CLASSIFICATION_VALUE_FIELDS)


def _load_classification_inputs(found: dict[int, PatientInputs]) -> None:
    """The classification's own inputs (scoring.classifying): the patients' assessments and
    anti-Jo-1 results, in two queries."""
    ids = list(found)
    assessments = ClassificationAssessment.objects.filter(patient_id__in=ids)
    for patient_id, assessed_on, muscle_biopsy, *rest in assessments.values_list(
        *_ASSESSMENT_COLUMNS
    ):
        *items, finger_flexor_weakness, treatment_response = rest
        found[patient_id].assessment = {
            "assessed_on": assessed_on.isoformat(),
            "muscle_biopsy": muscle_biopsy,
            "items": dict(zip(CLASSIFICATION_ITEM_KEYS, items, strict=True)),
            "finger_flexor_weakness": finger_flexor_weakness,
            "treatment_response": treatment_response,
        }
    results: dict[int, set[str]] = defaultdict(set)
    for patient_id, result in AutoantibodyResult.objects.filter(
        patient_id__in=ids, antibody=Antibody.JO1
    ).values_list("patient_id", "result"):
        results[patient_id].add(result)
    for patient_id, seen in results.items():
        found[patient_id].anti_jo1_results = tuple(sorted(seen))


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


def scores_for_visits(visit_ids: Iterable[int]) -> dict[int, list[VisitScore]]:
    """The scores of these visits, one per reference visit, ordered by its date.

    Records are grouped per reference visit; `status` is the worst of the three algorithms'.
    A comparison that the current data calls for but that has no record yet is listed as
    pending, so that a visit saved a moment ago does not look like one with nothing to score.
    Four queries, whatever the number of visits.
    """
    ids = sorted(set(visit_ids))
    if not ids:
        return {}
    drafts: dict[int, dict[int, ScoreDraft]] = defaultdict(dict)
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
        draft = drafts[visit].get(ref)
        if draft is None:
            episodes = tuple(sorted(links[pk]))
            draft = drafts[visit][ref] = ScoreDraft(ref, ref_date, kind, episodes, status)
        draft.add(algorithm, status, error, result, computed_at)

    # Comparisons not stored yet: from the visits' dates and kinds and the episodes' dates only.
    patients = Visit.objects.filter(pk__in=ids).values("patient_id")
    keys: dict[int, list[VisitKey]] = defaultdict(list)
    for pk, patient_id, visit_date, kind in Visit.objects.filter(
        patient_id__in=patients
    ).values_list("pk", "patient_id", "visit_date", "kind"):
        keys[patient_id].append(VisitKey(pk, visit_date, kind))
    episodes_of: dict[int, list[EpisodeKey]] = defaultdict(list)
    for pk, patient_id, start, stop in TreatmentEpisode.objects.filter(
        patient_id__in=list(keys)
    ).values_list("pk", "patient_id", "start_date", "stop_date"):
        episodes_of[patient_id].append(EpisodeKey(pk, start, stop))
    wanted = set(ids)
    for patient_id, visit_keys in keys.items():
        dates = {v.id: v.date for v in visit_keys}
        for comparison in plan_comparisons(visit_keys, episodes_of[patient_id]):
            visit, reference = comparison.visit, comparison.reference
            if visit in wanted and reference not in drafts[visit]:
                drafts[visit][reference] = ScoreDraft(
                    reference,
                    dates[reference],
                    comparison.kind,
                    comparison.episodes,
                    scores.PENDING,
                )
    return {
        visit: sorted((draft.score() for draft in found.values()), key=_by_reference_date)
        for visit, found in drafts.items()
        if visit in wanted
    }


def _by_reference_date(score: VisitScore) -> Any:
    return score.reference_date


def preview_scores(patient_ids: Iterable[int]) -> dict[int, list[VisitScore]]:
    """The scores these patients' current data calls for, computed now from what this
    transaction sees (a dry run's uncommitted writes included), storing nothing: every visit of
    theirs, with its scores of status "preview" (or "failed", with the error)."""
    now = timezone.now()
    answer: dict[int, list[VisitScore]] = {}
    for patient in load_inputs(patient_ids).values():
        scorer = Scorer(patient)
        drafts: dict[tuple[int, int], ScoreDraft] = {}
        by_visit: dict[int, list[ScoreDraft]] = {visit.id: [] for visit in patient.visits}
        for row in expected_rows(patient):
            comparison = row.comparison
            key = (comparison.visit, comparison.reference)
            draft = drafts.get(key)
            if draft is None:
                reference = patient.by_id[comparison.reference]
                draft = drafts[key] = ScoreDraft(
                    reference.id, reference.date, comparison.kind, comparison.episodes,
                    scores.PREVIEW,
                )  # fmt: skip
                by_visit[comparison.visit].append(draft)
            outcome = scorer.outcome(comparison, row.algorithm)
            status = scores.FAILED if outcome.error else scores.PREVIEW
            draft.add(row.algorithm, status, outcome.error, outcome.result, now)
        for visit_id, found in by_visit.items():
            answer[visit_id] = [draft.score() for draft in found]
    return answer


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


# ---------------------------------------------------------------------------------------------
# Refractory status (scoring.instruments.refractory)


@dataclass(slots=True)
class RefractoryInputs:
    """What one patient's refractory statuses are computed from."""

    patient_id: int
    site_id: int
    as_of: date  # the latest date of the patient's data: visits, treatment starts and stops
    episodes: list[refractory.Episode]
    responses: list[refractory.Response]
    attestations: list[tuple[int, date]]  # (id, day attested), earliest first


def refractory_inputs(patient_ids: Iterable[int]) -> dict[int, RefractoryInputs]:
    """The refractory inputs of these patients, in five queries. The responses are the done
    DOI and TIS records linked to each episode (scored against the episode's baseline), merged
    per visit; read them after the patients' records are written to get the current ones."""
    ids = sorted(set(patient_ids))
    found: dict[int, RefractoryInputs] = {}
    for pk, site_id, onset in Patient.objects.filter(pk__in=ids).values_list(
        "pk", "site_id", "onset_date"
    ):
        found[pk] = RefractoryInputs(pk, site_id, onset, [], [], [])
    if not found:
        return found
    ids = list(found)
    for patient_id, last in (
        Visit.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("visit_date"))
        .values_list("patient_id", "last")
    ):
        found[patient_id].as_of = max(found[patient_id].as_of, last)
    episodes = TreatmentEpisode.objects.filter(patient_id__in=ids).order_by("start_date", "id")
    for pk, patient_id, drug, start, stop, reason in episodes.values_list(
        "pk", "patient_id", "drug", "start_date", "stop_date", "stop_reason"
    ):
        inputs = found[patient_id]
        inputs.episodes.append(refractory.Episode(pk, drug, start, stop, reason))
        inputs.as_of = max(inputs.as_of, stop or start)
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    links = ResponseEpisode.objects.filter(
        episode__patient_id__in=ids,
        record__status=ResponseRecord.Status.DONE,
        record__algorithm__in=[planning.DOI, planning.TIS],
    ).values_list(
        "episode__patient_id", "episode_id", "record__visit_id", "record__visit__visit_date",
        "record__algorithm", "record__met", "record__score",
    )  # fmt: skip
    for patient_id, episode_id, visit_id, day, algorithm, met, score in links:
        entry = merged.setdefault(
            (episode_id, visit_id),
            {"patient": patient_id, "date": day, "doi_met": None, "tis": None},
        )
        if algorithm == planning.DOI:
            entry["doi_met"] = met
        else:
            entry["tis"] = score
    for (episode_id, visit_id), entry in sorted(merged.items()):
        found[entry["patient"]].responses.append(
            refractory.Response(episode_id, visit_id, entry["date"], entry["doi_met"], entry["tis"])
        )
    for patient_id, pk, attested_at in (
        RefractoryAttestation.objects.filter(patient_id__in=ids, definition=refractory.DEFINITION)
        .order_by("attested_at", "id")
        .values_list("patient_id", "pk", "attested_at")
    ):
        found[patient_id].attestations.append((pk, timezone.localdate(attested_at)))
    return found


def refractory_record(patient_id: int) -> RefractoryRecord | None:
    """The patient's stored `refractory_v1` status, if computed."""
    return (
        RefractoryRecord.objects.filter(patient_id=patient_id, definition=refractory.DEFINITION)
        .select_related("attestation__attested_by")
        .first()
    )
