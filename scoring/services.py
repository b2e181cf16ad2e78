"""Write services of the scoring app: store response records (docs/architecture.md "Data flow" 2),
mark them pending, delete them with what they were computed from.

The stages of a scoring run: scoring.selectors reads a patient's inputs and stored records,
scoring.planning says which records the inputs call for and with which fingerprint,
scoring.compute computes those that are not current, and `score_patients` here writes them.

`score_patients` is the one writer of response records. It is idempotent and safe to run twice
or concurrently: it locks the patients' rows, reads their current data under that lock, leaves
alone every record whose stored fingerprint matches the current inputs, upserts the others under
the unique constraint (visit, reference visit, algorithm) and deletes the records whose
comparison no longer applies — all in one transaction.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from crf.models import Visit
from registry.audit import Actor, event_values, value_text
from registry.errors import LockedError
from registry.fastwrite import insert_events
from registry.models import AuditEvent, Patient
from scoring.classification_records import score_classifications
from scoring.compute import Outcome, Scorer
from scoring.models import ClassificationRecord, ResponseEpisode, ResponseRecord
from scoring.outcomes import outcomes_write
from scoring.planning import WORSENING, ExpectedRow, PatientInputs, expected_rows, row_inputs_json
from scoring.refractory import refractory_write
from scoring.selectors import OUTCOME_FIELDS, StoredRow, load_inputs, stored_of, stored_rows


def process_name(label: str) -> str:
    """Who computed a record (`computed_by`): a label or the worker's name, host and process."""
    host = label if "@" in label else f"{label}@{socket.gethostname()}"
    return f"{host} pid {os.getpid()}"


@dataclass(frozen=True, slots=True)
class ScoringSummary:
    patients: int
    written: int
    unchanged: int
    deleted: int
    failed: int
    frozen: int  # records of locked visits, left as they were signed


# The columns a scoring run writes, in the order of the PostgreSQL COPY below. `requested_at` is
# left alone: it records when scoring was last asked for, not when it was done.
_COLUMNS = (
    "patient_id", "visit_id", "reference_visit_id", "previous_visit_id", "algorithm",
    "reference_kind", "status", "error", "inputs", "fingerprint", "result", "met", "score",
    "category", "complete", "worsened", "confirmed", "computed_at", "computed_by",
)  # fmt: skip
_JSON_COLUMNS = frozenset({"result"})  # to serialise; "inputs" arrive serialised
_KEY_COLUMNS = ("visit_id", "reference_visit_id", "algorithm")


def _row(
    patient: PatientInputs, row: ExpectedRow, outcome: Outcome, now: Any, computed_by: str
) -> dict[str, Any]:
    comparison = row.comparison
    columns = outcome.columns
    return {
        "patient_id": patient.id,
        "visit_id": comparison.visit,
        "reference_visit_id": comparison.reference,
        "previous_visit_id": comparison.previous if row.algorithm == WORSENING else None,
        "algorithm": row.algorithm,
        "reference_kind": comparison.kind,
        "status": ResponseRecord.Status.FAILED if outcome.error else ResponseRecord.Status.DONE,
        "error": outcome.error,
        "inputs": row_inputs_json(patient, comparison, row.algorithm),
        "fingerprint": row.fingerprint,
        "result": outcome.result,
        "met": columns.get("met"),
        "score": columns.get("score"),
        "category": columns.get("category", ""),
        "complete": columns.get("complete"),
        "worsened": columns.get("worsened"),
        "confirmed": columns.get("confirmed"),
        "computed_at": now,
        "computed_by": computed_by,
    }


def score_patients(
    *, patient_ids: Iterable[int], force: bool = False, computed_by: str = ""
) -> ScoringSummary:
    """(Re)compute the response records of these patients' visits, against every reference.

    Records whose inputs are unchanged are left as they are (unless `force`), which makes a
    repeated or duplicated task cheap and harmless. The stored records of a locked (signed)
    visit are never rewritten or deleted: its scores stay as they were at signing (issue 8).
    Every record created,
    changed or deleted writes audit events (source "scoring") in the same transaction.
    Patients that no longer exist are skipped.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # Records are derived data: should the server crash before this commit reaches the
            # disk, the sweep finds the records stale and scores them again. So the commit need
            # not wait for the WAL flush, which on a busy server is a good part of a task's
            # time. Only when this is the whole transaction: inside a caller's (the signing of a
            # visit) the commit carries other data, which must be durable.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        return _score(patient_ids, force, computed_by)


def _score(patient_ids: Iterable[int], force: bool, computed_by: str) -> ScoringSummary:
    inputs = load_inputs(patient_ids, lock=True)
    stored = stored_rows(inputs)
    now = timezone.now()
    rows: list[dict[str, Any]] = []
    changes: list[tuple[PatientInputs, StoredRow | None, dict[str, Any]]] = []
    episodes_of: dict[tuple[int, int, str], tuple[int, ...]] = {}
    confirm: list[int] = []
    obsolete: list[tuple[PatientInputs, StoredRow]] = []
    unchanged = failed = frozen = 0
    for patient in inputs.values():
        have = stored.get(patient.id, {})
        locked = {visit.id for visit in patient.visits if visit.locked}
        scorer = Scorer(patient)
        wanted = set()
        for row in expected_rows(patient):
            wanted.add(row.key)
            old = have.get(row.key)
            if old is not None and row.comparison.visit in locked:
                continue  # frozen: see below
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
            values = _row(patient, row, outcome, now, computed_by)
            rows.append(values)
            changes.append((patient, old, values))
            # The episodes are part of the fingerprint: an unchanged one means unchanged links.
            if old is None or old.fingerprint != row.fingerprint:
                episodes_of[row.key] = row.comparison.episodes
        for key, old in have.items():
            if key[0] in locked:
                # Frozen: a locked visit's records are kept as they were when it was signed,
                # even where the data of its reference has changed or the comparison no longer
                # applies; unlocking scores the visit again. Only a "pending" mark, which says
                # nothing about the result, is taken off. (A comparison the visit never had a
                # record of, say of a treatment entered later or of a visit locked before it was
                # ever scored, is computed above: nothing signed changes by it.)
                frozen += 1
                if old.status == ResponseRecord.Status.PENDING and old.has_result:
                    confirm.append(old.id)
            elif key not in wanted:
                obsolete.append((patient, old))

    if obsolete:
        doomed = [old.id for _, old in obsolete]
        ResponseEpisode.objects.filter(record_id__in=doomed).delete()
        ResponseRecord.objects.filter(pk__in=doomed).delete()
    if confirm:
        ResponseRecord.objects.filter(pk__in=confirm).update(status=ResponseRecord.Status.DONE)
    written: Written = {}
    if rows:
        upsert = _upsert_postgresql if connection.vendor == "postgresql" else _upsert_orm
        written = upsert(rows)
        _write_episode_links(list(inputs), written, episodes_of)
    insert_events(
        [
            *_record_events(changes, written),
            *(
                _deleted_event(patient.site_id, patient.id, old, "comparison no longer applies")
                for patient, old in obsolete
            ),
        ]
    )
    classified = score_classifications(
        inputs.values(), force=force, now=now, computed_by=computed_by
    )
    # After the response records: the refractory status reads the ones just written.
    refractory_write(patient_ids=list(inputs), computed_by=computed_by, force=force)
    # Survival, lung progression and treatment-emergent adverse events (scoring/outcomes.py).
    outcomes_write(patient_ids=list(inputs), computed_by=computed_by, force=force)
    # The counts cover both kinds of record: response and classification records.
    return ScoringSummary(
        len(inputs),
        len(rows) + classified.written,
        unchanged + classified.unchanged,
        len(obsolete) + classified.deleted,
        failed + classified.failed,
        frozen,
    )


# The audit trail of response records (issue 8: every create, update and delete, from every path
# including scoring). What is audited is the comparison and its outcome (OUTCOME_FIELDS); the
# inputs are the clinical data, audited where they were entered, and the fingerprint says which.
_RECORD_TYPE = ResponseRecord._meta.label_lower


def _outcome(visit: int, reference: int, algorithm: str, values: Iterable[Any]) -> dict[str, Any]:
    """A record as its audit events show it: its key and its outcome, as text."""
    outcome = dict(zip(OUTCOME_FIELDS, map(value_text, values), strict=True))
    return {"visit_id": visit, "reference_visit_id": reference, "algorithm": algorithm, **outcome}


def _record_events(
    changes: list[tuple[PatientInputs, StoredRow | None, dict[str, Any]]], written: Written
) -> Iterator[dict[str, Any]]:
    """A "create" event holding the new record's outcome, or one "update" event per outcome
    field that moved — a record recomputed to the same result writes none."""
    for patient, old, values in changes:
        key = (values["visit_id"], values["reference_visit_id"], values["algorithm"])
        new = _outcome(*key, (values[name] for name in OUTCOME_FIELDS))
        if old is None:
            reason = "scored"
        elif old.fingerprint != values["fingerprint"]:
            reason = "inputs changed"
        else:
            reason = "recomputed on request"
        before = None if old is None else _outcome(*key, old.outcome)
        yield from event_values(
            Actor(None, AuditEvent.Source.SCORING, reason),
            _RECORD_TYPE,
            written[key],
            before,
            new,
            site_id=patient.site_id,
            patient_id=patient.id,
        )


def _deleted_event(
    site_id: int | None, patient_id: int, old: StoredRow, reason: str
) -> dict[str, Any]:
    (event,) = event_values(
        Actor(None, AuditEvent.Source.SCORING, reason),
        _RECORD_TYPE,
        old.id,
        _outcome(old.visit, old.reference, old.algorithm, old.outcome),
        None,
        site_id=site_id,
        patient_id=patient_id,
    )
    return event


Written = dict[tuple[int, int, str], int]  # (visit, reference, algorithm) -> record id


def _upsert_orm(rows: list[dict[str, Any]]) -> Written:
    records = ResponseRecord.objects.bulk_create(
        [ResponseRecord(**{**row, "inputs": json.loads(row["inputs"])}) for row in rows],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["visit", "reference_visit", "algorithm"],
        update_fields=[name.removesuffix("_id") for name in _COLUMNS if name not in _KEY_COLUMNS],
    )
    return {(r.visit_id, r.reference_visit_id, r.algorithm): r.pk for r in records}


def _upsert_postgresql(rows: list[dict[str, Any]]) -> Written:
    """The same upsert as _upsert_orm, through COPY into a session-local staging table.

    Django's bulk_create sends this many JSON documents as literal arrays that the driver has to
    escape one character class at a time; COPY streams them as they are. It is the difference
    between the workers keeping up with the database's own write rate and falling far behind
    (benchmarks/rescore.py).
    """
    columns = ", ".join(_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c not in _KEY_COLUMNS)
    table = ResponseRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS scoring_upsert ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY scoring_upsert ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c], separators=(",", ":"))
                        if c in _JSON_COLUMNS and row[c] is not None
                        else row[c]
                        for c in _COLUMNS
                    ]
                )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM scoring_upsert "
            f"ON CONFLICT ({', '.join(_KEY_COLUMNS)}) DO UPDATE SET {updates} "
            f"RETURNING id, {', '.join(_KEY_COLUMNS)}"
        )
        written = {(visit, reference, algorithm): pk for pk, visit, reference, algorithm in cursor}
        # Emptied now rather than at commit: a second upsert in the same transaction (a caller
        # scoring two batches in one atomic block) must not insert these rows again.
        cursor.execute("TRUNCATE scoring_upsert")
    return written


def _write_episode_links(
    patient_ids: list[int],
    written: Written,
    episodes_of: dict[tuple[int, int, str], tuple[int, ...]],
) -> None:
    """Link the written records to their episodes; only `episodes_of`'s records (new ones, and
    those whose fingerprint, which covers the episodes, changed) can need a change."""
    if not episodes_of:
        return
    ids = {written[key] for key in episodes_of}
    wanted = {
        (written[key], episode) for key, episodes in episodes_of.items() for episode in episodes
    }
    # By patient: a handful of links each, where the records can be thousands.
    existing = {
        (record_id, episode_id): pk
        for pk, record_id, episode_id in ResponseEpisode.objects.filter(
            record__patient_id__in=patient_ids
        ).values_list("pk", "record_id", "episode_id")
        if record_id in ids
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
        now = timezone.now()
        ClassificationRecord.objects.filter(patient_id__in=free).update(
            status=ClassificationRecord.Status.PENDING, requested_at=now
        )
        # A locked visit's stored records are not going to be computed again: not pending.
        return (
            ResponseRecord.objects.filter(patient_id__in=free)
            .exclude(visit__status=Visit.Status.LOCKED)
            .update(status=ResponseRecord.Status.PENDING, requested_at=now)
        )


def _refuse_if_signed(records: QuerySet[ResponseRecord], depend: str) -> None:
    """LockedError naming the locked visits among these records' visits: their scores are
    frozen as signed, so what they were computed from cannot be deleted (issue 8)."""
    signed = sorted(
        set(
            records.filter(visit__status=Visit.Status.LOCKED).values_list(
                "visit__visit_date", "visit_id"
            )
        )
    )
    if signed:
        names = ", ".join(f"{day} (visit {pk})" for day, pk in signed)
        raise LockedError(
            f"The scores of the locked visit(s) {names} {depend}; a data manager must unlock "
            "them before it can be deleted."
        )


def episode_deleting(*, episode_id: int) -> None:
    """Refuse to delete a treatment episode whose response a locked visit's scores measure
    (every path: the scoring app connects this to TreatmentEpisode's pre_delete). The links of
    records to an episode go with it, and a frozen record must keep what it was signed with."""
    _refuse_if_signed(
        ResponseRecord.objects.filter(episodes=episode_id),
        "measure the response to this treatment",
    )


def records_delete_for_visit(*, visit_id: int) -> int:
    """Delete the response records that involve a visit about to be deleted (crf's
    visit_deleting signal, inside the deleting transaction), audited. The patient is re-scored
    after the commit, which creates the records the remaining visits call for.

    Refused (LockedError, which rolls the deletion back) when the visit is the reference or the
    previous visit of a locked visit's scores: those are frozen as signed, and cannot be kept
    without the visit they were computed against.
    """
    doomed = ResponseRecord.objects.filter(
        Q(visit_id=visit_id) | Q(reference_visit_id=visit_id) | Q(previous_visit_id=visit_id)
    )
    _refuse_if_signed(doomed, "were computed against this visit")
    site_id = Visit.objects.filter(pk=visit_id).values_list("patient__site_id", flat=True).first()
    olds = list(stored_of(doomed))
    ids = [old.id for _, old in olds]
    ResponseEpisode.objects.filter(record_id__in=ids).delete()
    count, _ = ResponseRecord.objects.filter(pk__in=ids).delete()
    insert_events(
        [_deleted_event(site_id, patient_id, old, "visit deleted") for patient_id, old in olds]
    )
    return count
