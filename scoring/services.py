"""Write services of the scoring app: compute and store response records (DESIGN.md "Data flow" 2).

`score_patients` is the one writer of response records. It is idempotent and safe to run twice
or concurrently: it locks the patients' rows, reads their current data under that lock, leaves
alone every record whose stored fingerprint matches the current inputs, upserts the others under
the unique constraint (visit, reference visit, algorithm) and deletes the records whose
comparison no longer applies — all in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.models import Patient
from scoring.instruments import confirmed_deterioration, score_doi, score_pair, to_json
from scoring.models import ResponseEpisode, ResponseRecord
from scoring.selectors import (
    DOI,
    TIS,
    WORSENING,
    Comparison,
    ExpectedRow,
    PatientInputs,
    empty_entry,
    expected_rows,
    load_inputs,
    row_inputs,
    stored_rows,
)

log = logging.getLogger(__name__)

_UPDATED_FIELDS = [
    "patient", "previous_visit", "reference_kind", "status", "error", "inputs", "fingerprint",
    "result", "met", "score", "category", "complete", "worsened", "confirmed", "computed_at",
    "computed_by",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one algorithm on one comparison, or why it could not be computed."""

    result: dict[str, Any] | None
    columns: dict[str, Any]
    error: str = ""


@dataclass(frozen=True, slots=True)
class ScoringSummary:
    patients: int
    written: int
    unchanged: int
    deleted: int
    failed: int


def _failure(exc: BaseException | str) -> Outcome:
    message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Outcome(None, {}, message or "unknown error")


def _input_error(patient: PatientInputs, comparison: Comparison, algorithm: str) -> str:
    names = [("reference visit", comparison.reference), ("visit", comparison.visit)]
    if algorithm == WORSENING and comparison.previous is not None:
        names.append(("previous visit", comparison.previous))
    for label, visit_id in names:
        error = patient.by_id[visit_id].error
        if error:
            return f"{label} {visit_id}: {error}"
    if algorithm == TIS and patient.population is None:
        return f"population: {patient.population_error}"
    return ""


class _Scorer:
    """Scores one patient's comparisons, each pair of visits once (the DOI and the TIS share a
    pairing; a visit's worsening is reused as the next visit's "previous")."""

    def __init__(self, patient: PatientInputs) -> None:
        self.patient = patient
        self.pairs: dict[tuple[int, int], Any] = {}

    def outcome(self, comparison: Comparison, algorithm: str) -> Outcome:
        error = _input_error(self.patient, comparison, algorithm)
        if error:
            return _failure(error)
        try:
            if algorithm == WORSENING:
                return self._worsening(comparison)
            return self._response(comparison, algorithm)
        except Exception as exc:  # noqa: BLE001 - recorded on the record, never retried blindly
            # Ids only: the log must not carry clinical values.
            log.warning(
                "scoring %s of visit %s against %s failed: %s",
                algorithm,
                comparison.visit,
                comparison.reference,
                type(exc).__name__,
            )
            return _failure(exc)

    def _response(self, comparison: Comparison, algorithm: str) -> Outcome:
        by_id = self.patient.by_id
        reference = by_id[comparison.reference].measures
        visit = by_id[comparison.visit].measures
        assert reference is not None and visit is not None
        if algorithm == DOI:
            if self.patient.population is None:
                doi = score_doi(reference, visit)
            else:
                doi = self._pair(comparison).doi
            return Outcome(to_json(doi), {"met": doi.met})
        tis = self._pair(comparison).tis
        score = None
        if tis.score is not None:
            score = Decimal(tis.score.numerator) / Decimal(tis.score.denominator)
        return Outcome(
            to_json(tis),
            {"score": score, "category": tis.category or "", "complete": tis.complete},
        )

    def _pair(self, comparison: Comparison) -> Any:
        key = (comparison.visit, comparison.reference)
        pair = self.pairs.get(key)
        if pair is None:
            by_id = self.patient.by_id
            assert self.patient.population is not None
            pair = score_pair(
                self.patient.population,
                by_id[comparison.reference].measures,  # type: ignore[arg-type]
                by_id[comparison.visit].measures,  # type: ignore[arg-type]
            )
            self.pairs = {key: pair}  # the DOI and TIS rows of a comparison are adjacent
        return pair

    def _worsening(self, comparison: Comparison) -> Outcome:
        by_id = self.patient.by_id
        reference = by_id[comparison.reference].measures
        visit = by_id[comparison.visit].measures
        assert reference is not None and visit is not None
        previous = None if comparison.previous is None else by_id[comparison.previous].measures
        result = confirmed_deterioration(reference, previous, visit)
        return Outcome(
            to_json(result),
            {"worsened": result.current.worsened, "confirmed": result.confirmed},
        )


def _record(
    patient: PatientInputs, row: ExpectedRow, outcome: Outcome, now: Any, computed_by: str
) -> ResponseRecord:
    comparison = row.comparison
    failed = bool(outcome.error)
    return ResponseRecord(
        patient_id=patient.id,
        visit_id=comparison.visit,
        reference_visit_id=comparison.reference,
        previous_visit_id=comparison.previous if row.algorithm == WORSENING else None,
        algorithm=row.algorithm,
        reference_kind=comparison.kind,
        status=ResponseRecord.Status.FAILED if failed else ResponseRecord.Status.DONE,
        error=outcome.error,
        inputs=row_inputs(patient, comparison, row.algorithm),
        fingerprint=row.fingerprint,
        result=outcome.result,
        met=outcome.columns.get("met"),
        score=outcome.columns.get("score"),
        category=outcome.columns.get("category", ""),
        complete=outcome.columns.get("complete"),
        worsened=outcome.columns.get("worsened"),
        confirmed=outcome.columns.get("confirmed"),
        computed_at=now,
        computed_by=computed_by,
    )


@transaction.atomic
def score_patients(
    *, patient_ids: Iterable[int], force: bool = False, computed_by: str = ""
) -> ScoringSummary:
    """(Re)compute the response records of these patients' visits, against every reference.

    Records whose inputs are unchanged are left as they are (unless `force`), which makes a
    repeated or duplicated task cheap and harmless. Patients that no longer exist are skipped.
    """
    inputs = load_inputs(patient_ids, lock=True)
    stored = stored_rows(inputs)
    now = timezone.now()
    records: list[ResponseRecord] = []
    episodes_of: dict[tuple[int, int, str], tuple[int, ...]] = {}
    confirm: list[int] = []
    obsolete: list[int] = []
    unchanged = failed = 0
    for patient in inputs.values():
        have = stored.get(patient.id, {})
        scorer = _Scorer(patient)
        wanted = set()
        for row in expected_rows(patient):
            wanted.add(row.key)
            old = have.get(row.key)
            if not force and old is not None and old.fingerprint == row.fingerprint:
                if old.status == ResponseRecord.Status.DONE:
                    unchanged += 1
                    continue
                if old.status == ResponseRecord.Status.PENDING and old.has_result:
                    # Marked pending by a request, but its inputs did not change: the stored
                    # result stands.
                    confirm.append(old.id)
                    unchanged += 1
                    continue
            outcome = scorer.outcome(row.comparison, row.algorithm)
            failed += bool(outcome.error)
            records.append(_record(patient, row, outcome, now, computed_by))
            episodes_of[row.key] = row.comparison.episodes
        obsolete += [old.id for key, old in have.items() if key not in wanted]

    deleted = 0
    if obsolete:
        deleted = len(obsolete)
        ResponseEpisode.objects.filter(record_id__in=obsolete).delete()
        ResponseRecord.objects.filter(pk__in=obsolete).delete()
    if confirm:
        ResponseRecord.objects.filter(pk__in=confirm).update(status=ResponseRecord.Status.DONE)
    if records:
        ResponseRecord.objects.bulk_create(
            records,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["visit", "reference_visit", "algorithm"],
            update_fields=_UPDATED_FIELDS,
        )
        _write_episode_links(records, episodes_of)
    return ScoringSummary(len(inputs), len(records), unchanged, deleted, failed)


def _write_episode_links(
    records: list[ResponseRecord], episodes_of: dict[tuple[int, int, str], tuple[int, ...]]
) -> None:
    wanted = {
        (record.pk, episode)
        for record in records
        for episode in episodes_of[(record.visit_id, record.reference_visit_id, record.algorithm)]
    }
    ids = [record.pk for record in records]
    existing = {
        (record_id, episode_id): pk
        for pk, record_id, episode_id in ResponseEpisode.objects.filter(
            record_id__in=ids
        ).values_list("pk", "record_id", "episode_id")
    }
    gone = [pk for key, pk in existing.items() if key not in wanted]
    if gone:
        ResponseEpisode.objects.filter(pk__in=gone).delete()
    new = [ResponseEpisode(record_id=r, episode_id=e) for r, e in wanted if (r, e) not in existing]
    if new:
        ResponseEpisode.objects.bulk_create(new, batch_size=1000)


def mark_pending(*, patient_ids: Iterable[int]) -> int:
    """Mark the stored records of these patients pending: scoring has been asked for.

    Called after the commit of a change, before the task is queued, so that pages and the API do
    not present records computed from the old data as current. A patient whose records a task
    is writing right now is skipped (its lock is held): that task, or the one queued next, gives
    the records their state, and waiting here would hold up the request that saved the change.
    """
    ids = sorted(set(patient_ids))
    with transaction.atomic():
        free = list(
            Patient.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return ResponseRecord.objects.filter(patient_id__in=free).update(
            status=ResponseRecord.Status.PENDING, requested_at=timezone.now()
        )


def records_delete_for_visit(*, visit_id: int) -> int:
    """Delete the response records that involve a visit about to be deleted (crf's
    visit_deleting signal, inside the deleting transaction). The patient is re-scored after the
    commit, which creates the records the remaining visits call for."""
    doomed = ResponseRecord.objects.filter(
        Q(visit_id=visit_id) | Q(reference_visit_id=visit_id) | Q(previous_visit_id=visit_id)
    )
    ids = list(doomed.values_list("pk", flat=True))
    ResponseEpisode.objects.filter(record_id__in=ids).delete()
    count, _ = ResponseRecord.objects.filter(pk__in=ids).delete()
    return count


def preview_scores(patient_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The crf `preview` hook: the records these patients' current data calls for, computed now
    from what this transaction sees (a dry run's uncommitted writes included), storing nothing.
    Entries have the shape of scores_for_visits' with status "preview"."""
    now = timezone.now().isoformat()
    answer: dict[int, list[dict[str, Any]]] = {}
    for patient in load_inputs(patient_ids).values():
        scorer = _Scorer(patient)
        entries: dict[tuple[int, int], dict[str, Any]] = {}
        for visit in patient.visits:
            answer[visit.id] = []
        for row in expected_rows(patient):
            comparison = row.comparison
            key = (comparison.visit, comparison.reference)
            entry = entries.get(key)
            if entry is None:
                reference = patient.by_id[comparison.reference]
                entry = entries[key] = empty_entry(
                    reference.id, reference.date, comparison.kind, comparison.episodes, "preview"
                )
                entry["computed_at"] = now
                answer[comparison.visit].append(entry)
            outcome = scorer.outcome(comparison, row.algorithm)
            name = {DOI: "imacs_doi", TIS: "acr_eular", WORSENING: "worsening"}[row.algorithm]
            entry[name] = outcome.result
            if outcome.error:
                entry["status"] = ResponseRecord.Status.FAILED
                entry["error"] = (
                    f"{entry['error']}; {outcome.error}" if entry["error"] else outcome.error
                )
    return answer
