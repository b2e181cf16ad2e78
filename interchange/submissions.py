"""The bulk submission of docs/data-dictionary.md "Submission document": one service, used by the
API view and by the importers (interchange.odm), which turn their formats into the same documents.

Each patient with everything nested in it is one unit, read once and stored all or nothing by
the patient-document writer (crf.submission): new patients together, unchanged ones answered
without a write, the rest upserted one by one. A patient with errors is reported and skipped,
the others are stored. A dry run does the same inside a transaction that is rolled
back after the scores that would be computed have been previewed, so it stores nothing and
reports exactly what a real run would.
"""

from collections import Counter
from typing import Any

from django.db import transaction

from crf.outcome_documents import OUTCOME_KEYS
from crf.submission import read_patients, store_patients
from registry.access import Action, NotVisible, require
from registry.audit import Actor
from registry.documents import Errors, expect_object, join, patient_list
from registry.models import Site
from scoring import classification_reads
from scoring import selectors as scoring_selectors
from scoring.scores import VisitScore

DOCUMENT_KEYS = ("site", "patients")
STATUSES = ("created", "updated", "unchanged", "error")


class _DryRunRollback(Exception):
    """Raised to leave the dry run's transaction, rolling everything back."""


def read_envelope(document: Any) -> tuple[str, list]:
    """The site code and the patients of a document; InputError if the envelope is wrong."""
    errors = Errors()
    obj = expect_object(errors, "", document, DOCUMENT_KEYS)
    if obj is None:
        errors.raise_if_any()
    assert obj is not None
    code = obj.get("site")
    if not isinstance(code, str) or not code.strip():
        errors.add("site", 'This field is required: the code of the site, e.g. "MAN".')
    if "patients" not in obj or obj["patients"] is None:
        errors.add("patients", "This field is required: a list of patients.")
    patients = patient_list(errors, "patients", obj.get("patients"))
    errors.raise_if_any()
    assert isinstance(code, str) and patients is not None
    return code.strip(), patients


def submission_site(*, user: Any, code: str, trusted: bool = False) -> Site:
    """The site a document is for, if the user may write it (NotVisible: 404; 403).

    `trusted`: a management command run by whoever runs the server, with no user to check.
    """
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise NotVisible("No such site.")
    if not trusted:
        require(user, Action.WRITE, site)
    return site


def _belongs(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def _error_items(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"field": path, "message": message} for path, message in pairs]


NOT_STORED = (
    "Not stored: this patient has errors elsewhere, and a patient is stored all or nothing."
)


def _failed_patient(index: int, data: Any, errors: list[tuple[str, str]]) -> dict[str, Any]:
    path = f"patients[{index}]"
    visits = data.get("visits") if isinstance(data, dict) else None
    results = []
    for position, visit in enumerate(visits if isinstance(visits, list) else []):
        vpath = join(join(path, "visits"), position)
        own = [pair for pair in errors if _belongs(pair[0], vpath)]
        if not own:
            own = [(path, NOT_STORED)]
        date = visit.get("visit_date") if isinstance(visit, dict) else None
        results.append(
            {
                "index": position,
                "visit_date": date if isinstance(date, str) else None,
                "status": "error",
                "id": None,
                "errors": _error_items(own),
                "scoring": {"status": "not_stored", "scores": []},
            }
        )
    patient_id = data.get("patient_id") if isinstance(data, dict) else None
    answer = {
        "index": index,
        "patient_id": patient_id if isinstance(patient_id, str) else None,
        "status": "error",
        "id": None,
        "errors": _error_items(errors),
        "visits": results,
        "vital_status": None,
        "lung": None,
        "hrct": [],
        "adverse_events": [],
    }
    if isinstance(data, dict) and data.get("classification") is not None:
        cpath = join(path, "classification")
        own = [pair for pair in errors if _belongs(pair[0], cpath)] or [(path, NOT_STORED)]
        answer["classification"] = {
            "status": "error",
            "id": None,
            "errors": _error_items(own),
            "scoring": {"status": "not_stored", "result": None},
        }
    return answer


def visit_scoring_state(scores: list[VisitScore]) -> str:
    """The scoring state of a stored visit from its scores (scoring.selectors.scores_for_visits)."""
    if any(score.failed for score in scores):
        return "failed"
    if any(score.pending for score in scores):
        # With a broker the worker has not got to it yet; read the visit again later.
        return "pending"
    return "scored"  # every record computed — or none is called for (a baseline visit)


def _attach_scores(results: list[dict[str, Any]], *, dry_run: bool) -> None:
    stored = [r for r in results if r["status"] != "error"]
    if dry_run:
        scores = scoring_selectors.preview_scores([r["id"] for r in stored])
    else:
        # Eagerly (no broker) scoring ran on commit, before this answer; with a broker the
        # changed patients' visits are pending until a worker scores them.
        scores = scoring_selectors.scores_for_visits([v["id"] for r in stored for v in r["visits"]])
    for patient in stored:
        for visit in patient["visits"]:
            found = scores.get(visit["id"], [])
            state = "preview" if dry_run else visit_scoring_state(found)
            visit["scoring"] = {"status": state, "scores": [score.as_json() for score in found]}
    _attach_classifications([r for r in stored if "classification" in r], dry_run=dry_run)


def _attach_classifications(results: list[dict[str, Any]], *, dry_run: bool) -> None:
    """The classification of the patients whose document holds one: a dry run's preview, else
    the stored record (scored eagerly on commit, or pending until a worker scores it)."""
    if not results:
        return
    ids = [r["id"] for r in results]
    if dry_run:
        previews = classification_reads.preview_classifications(ids)
        for patient in results:
            patient["classification"]["scoring"] = previews[patient["id"]]
        return
    records = classification_reads.classification_records(ids)
    for patient in results:
        patient["classification"]["scoring"] = classification_reads.record_json(
            records.get(patient["id"])
        )


def submission_summary(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    patients = Counter(r["status"] for r in results)
    visits = Counter(v["status"] for r in results for v in r["visits"])
    return {
        "patients": {status: patients.get(status, 0) for status in STATUSES},
        "visits": {status: visits.get(status, 0) for status in STATUSES},
    }


def _stored_patient(index: int, stored: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "index": index,
        "patient_id": stored["patient_id"],
        "status": stored["status"],
        "id": stored["id"],
        "errors": [],
        "visits": [
            {"index": position, "visit_date": visit["visit_date"], "status": visit["status"],
             "id": visit["id"], "errors": []}
            for position, visit in enumerate(stored["visits"])
        ],
        **{key: stored[key] for key in OUTCOME_KEYS},
    }  # fmt: skip
    if "classification" in stored:
        answer["classification"] = {**stored["classification"], "errors": []}
    return answer


def _outcome_records(patient: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-record results of a patient's outcome records (crf.submission.outcomes)."""
    records = [patient.get("vital_status"), patient.get("lung")]
    records += patient.get("hrct", []) + patient.get("adverse_events", [])
    return [record for record in records if record is not None]


def _store(actor: Actor, site: Site, patients: list) -> list[dict[str, Any]]:
    """Every patient's result, in the document's order (crf.submission: read once, stored)."""
    results = []
    for outcome in store_patients(actor=actor, site=site, reads=read_patients(patients)):
        if outcome.status == "error":
            results.append(_failed_patient(outcome.index, patients[outcome.index], outcome.errors))
        else:
            assert outcome.result is not None
            results.append(_stored_patient(outcome.index, outcome.result))
    return results


def submission_process(
    *,
    user: Any,
    document: Any,
    dry_run: bool = False,
    source: str = "api",
    trusted: bool = False,
) -> tuple[int, dict]:
    """Store (or, with `dry_run`, validate and preview) a submission document.

    `source` is the audit source of the writes: "api" for a JSON document, "import" for one
    converted from another format; `trusted` skips the access check (submission_site).

    Returns the HTTP status and the answer: 200 when every patient was stored, or some were;
    400 when the document has errors and nothing was stored. Raises InputError for an invalid
    envelope, NotVisible / PermissionDenied when the caller may not write the site.
    """
    code, patients = read_envelope(document)
    site = submission_site(user=user, code=code, trusted=trusted)
    actor = Actor(user=user, source=source)
    if dry_run:
        try:
            with transaction.atomic():
                results = _store(actor, site, patients)
                _attach_scores(results, dry_run=True)
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        # Nothing was created: the ids the rolled-back rows had must not be handed out.
        for patient in results:
            if patient["status"] == "created":
                patient["id"] = None
            for visit in patient["visits"] + _outcome_records(patient):
                if visit["status"] == "created":
                    visit["id"] = None
            classification = patient.get("classification")
            if classification is not None and classification["status"] == "created":
                classification["id"] = None
    else:
        results = _store(actor, site, patients)
        _attach_scores(results, dry_run=False)
    answer = {
        "site": site.code,
        "dry_run": dry_run,
        "summary": submission_summary(results),
        "patients": results,
        "errors": [error for r in results for error in r["errors"]],
    }
    failed = answer["summary"]["patients"]["error"]
    status = 400 if failed and failed == len(results) else 200
    return status, answer
