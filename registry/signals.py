"""The one-way hook of docs/architecture.md "The one-way rule": lower apps announce changes, higher
apps listen.

`scoring_inputs_changed` is sent after commit with the ids of the patients whose scores may have
changed (any visit or instrument, which visit is the baseline, a treatment episode's dates, the
onset date). The scoring app connects to it in its AppConfig.ready(); registry and crf never
import scoring's models or tasks.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

scoring_inputs_changed = Signal()  # kwargs: patient_ids: frozenset[int]


def request_scoring(patient_ids: Iterable[int]) -> None:
    """Ask for re-scoring of these patients once the current transaction commits."""
    ids = frozenset(patient_ids)
    if not ids:
        return
    transaction.on_commit(
        lambda: scoring_inputs_changed.send(sender=None, patient_ids=ids), robust=True
    )


# Sent inside the transaction, just before a visit is deleted, so that rows of higher apps that
# reference it (response records) can be removed first. kwargs: visit_id.
visit_deleting = Signal()

# Sent inside the signing transaction, just before a visit is locked, so that its scores are
# brought up to date and then frozen as signed (issue 8: "scores of a locked visit do not
# change"). kwargs: visit_id, patient_id.
visit_locking = Signal()

# Sent inside the transaction of a refractory attestation, once it is stored, so that the
# patient's refractory status is computed with it at once. Receivers return the status they
# computed ("no", "candidate", "confirmed"); the attestation is refused unless it confirms one.
# kwargs: patient_id.
refractory_attesting = Signal()

# Asked inside a write that corrects or deletes a patient's clinical data: does the patient have
# data past draft (a visit submitted, verified or signed)? Then the correction needs a reason
# (registry.services.reason_required). An app holding such data connects a receiver that returns
# True when it holds some for the patient. kwargs: patient_id.
data_past_draft = Signal()
