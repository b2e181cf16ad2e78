"""Importing an ODM 1.3.2 Snapshot: the same submission service as a JSON document.

The file is read subject by subject (interchange.odm.reader) into submission documents, one per
site and batch of subjects, and each goes through interchange.submissions.submission_process —
the same readers, the one patient-document writer, the same dry run and per-record answer — with
the audit source `import`. Every error is named by its XML path. A subject the reader refuses (an
unknown OID, another site) stores nothing; the others are stored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from interchange.odm.reader import Subject, read_odm
from interchange.submissions import submission_process, submission_site, submission_summary
from registry.errors import InputError

BATCH = 200  # subjects per submission document
SOURCE = "import"


def _xml_errors(subject: Subject, errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Errors with JSON paths of a batch ("patients[3].visits[1].cmas") named by XML path."""
    out = []
    for error in errors:
        path = error["field"]
        _, _, rest = path.partition("]")
        out.append({"field": subject.xml_path_of(rest.lstrip(".")), "message": error["message"]})
    return out


def _refused(subject: Subject) -> dict[str, Any]:
    errors = [{"field": path, "message": message} for path, message in subject.errors]
    return {
        "index": subject.index,
        "subject_key": subject.key,
        "patient_id": subject.patient.get("patient_id") or None,
        "status": "error",
        "id": None,
        "errors": errors,
        "visits": [],
    }


def _relabel(subject: Subject, result: dict[str, Any]) -> dict[str, Any]:
    result = {"index": subject.index, "subject_key": subject.key, **result}
    result["index"] = subject.index
    result["errors"] = _xml_errors(subject, result["errors"])
    for visit in result["visits"]:
        visit["errors"] = _xml_errors(subject, visit["errors"])
    return result


def odm_import(
    *,
    user: Any,
    stream: IO[bytes],
    dry_run: bool = False,
    site: str | None = None,
    trusted: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Import (or with `dry_run` validate and preview) an ODM Snapshot file.

    Returns the HTTP status and the answer of the submission service, each patient with its
    `subject_key` and the XML path of its errors. Raises UnsafeXML / MalformedXML for a file
    that cannot be read safely, InputError for one that is not an ODM Snapshot, NotVisible /
    PermissionDenied when the user may not write one of its sites (nothing is stored then).
    """
    subjects = list(read_odm(stream, site=site))
    if not subjects:
        raise InputError([("/ODM/ClinicalData", "The file has no SubjectData to import.")])
    by_site: dict[str, list[Subject]] = defaultdict(list)
    for subject in subjects:
        if not subject.errors and subject.site:
            by_site[subject.site].append(subject)
    for code in sorted(by_site):
        submission_site(user=user, code=code, trusted=trusted)  # 404 / 403 before any write
    results: dict[int, dict[str, Any]] = {s.index: _refused(s) for s in subjects if s.errors}
    for code in sorted(by_site):
        batch_subjects = by_site[code]
        for start in range(0, len(batch_subjects), BATCH):
            batch = batch_subjects[start : start + BATCH]
            document = {"site": code, "patients": [subject.patient for subject in batch]}
            _, answer = submission_process(
                user=user, document=document, dry_run=dry_run, source=SOURCE, trusted=trusted
            )
            for subject, result in zip(batch, answer["patients"], strict=True):
                results[subject.index] = _relabel(subject, result)
    patients = [results[index] for index in sorted(results)]
    summary = submission_summary(patients)
    failed = summary["patients"]["error"]
    sites = sorted({s.site for s in subjects if s.site})
    answer = {
        "site": sites[0] if len(sites) == 1 else None,
        "sites": sites,
        "dry_run": dry_run,
        "summary": summary,
        "patients": patients,
        "errors": [error for patient in patients for error in patient["errors"]],
    }
    return (400 if failed == len(patients) else 200), answer
