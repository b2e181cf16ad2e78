"""OpenAPI components of what the API answers: errors, the submission answer, visit scores, a
patient's refractory status."""

from api.schema.fields import Schema, object_field, ref
from scoring.instruments import refractory

ERROR_ITEM = object_field(
    {
        "field": {
            "type": "string",
            "description": "JSON path of the offending field, e.g. "
            "patients[0].visits[1].mmt8.deltoid.right; empty for the whole document.",
        },
        "message": {"type": "string"},
    },
    ["field", "message"],
    "One invalid field.",
)
ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "Machine-readable error code."},
        "errors": {"type": "array", "items": ref("ErrorItem")},
        "current_version": {"type": "integer", "description": "On 409: the visit's version now."},
    },
    "required": ["detail"],
}

SCORES = {
    "type": "array",
    "description": "Response records of the visit: one per reference (the patient's baseline, "
    "and each treatment episode's baseline).",
    "items": ref("ResponseRecord"),
}
ALGORITHM_RESULT = {
    "type": "object",
    "nullable": True,
    "description": "Shaped as the calculator's output (docs/scoring.md §6); null until computed.",
}
RESPONSE_RECORD = {
    "type": "object",
    "description": "The responses of a visit against one reference visit: the IMACS DOI and the "
    "ACR/EULAR TIS (shaped as the calculator's output, docs/scoring.md §6) and ProDERM worsening.",
    "properties": {
        "reference_visit": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "date": {"type": "string", "format": "date"},
            },
        },
        "reference_kind": {
            "type": "string",
            "enum": ["baseline", "treatment"],
            "description": "The patient's baseline, or a treatment episode's baseline.",
        },
        "episodes": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "Ids of the treatment episodes this reference is the baseline of.",
        },
        "status": {"type": "string", "enum": ["pending", "done", "failed", "preview"]},
        "error": {"type": "string", "nullable": True},
        "imacs_doi": ALGORITHM_RESULT,
        "acr_eular": ALGORITHM_RESULT,
        "worsening": ALGORITHM_RESULT,
        "computed_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
SCORING = object_field(
    {
        "status": {
            "type": "string",
            "enum": ["scored", "pending", "failed", "preview", "not_stored"],
            "description": "scored: every response record of the visit is computed (in "
            "`scores`; none for a baseline visit); pending: stored, waiting for a scoring "
            "worker — read the visit later; failed: a record could not be computed (see its "
            "`error`); preview: a dry run's scores, computed and not stored; not_stored: the "
            "patient had errors.",
        },
        "scores": SCORES,
    },
    ["status", "scores"],
    "Scoring of the visit.",
)
STATUS = {"type": "string", "enum": ["created", "updated", "unchanged", "error"]}
VISIT_RESULT = object_field(
    {
        "index": {"type": "integer", "description": "Position in the patient's `visits`."},
        "visit_date": {"type": "string", "nullable": True},
        "status": STATUS,
        "id": {
            "type": "integer",
            "nullable": True,
            "description": "The visit's id (null when not stored).",
        },
        "errors": {"type": "array", "items": ref("ErrorItem")},
        "scoring": ref("VisitScoring"),
    },
    ["index", "visit_date", "status", "id", "errors", "scoring"],
    "What happened to one visit.",
)
RECORD_RESULT = object_field(
    {
        "status": {"type": "string", "enum": ["created", "updated", "unchanged"]},
        "id": {
            "type": "integer",
            "nullable": True,
            "description": "The record's id (null in a dry run when it would be created).",
        },
    },
    ["status", "id"],
    "What happened to one vital status, lung status, HRCT assessment or adverse event.",
)
HRCT_RESULT = {
    **RECORD_RESULT,
    "properties": {**RECORD_RESULT["properties"], "date": {"type": "string"}},
    "required": ["date", "status", "id"],
}
PATIENT_RESULT = object_field(
    {
        "index": {"type": "integer", "description": "Position in the document's `patients`."},
        "patient_id": {"type": "string", "nullable": True},
        "status": STATUS,
        "id": {
            "type": "integer",
            "nullable": True,
            "description": "The patient's id (null when not stored).",
        },
        "errors": {
            "type": "array",
            "items": ref("ErrorItem"),
            "description": "Every invalid field of this patient, by JSON path from the "
            "document's root.",
        },
        "visits": {"type": "array", "items": ref("SubmissionVisitResult")},
        "classification": ref("SubmissionClassificationResult"),
        "vital_status": {
            "allOf": [ref("SubmissionRecordResult")],
            "nullable": True,
            "description": "Null when the document has none (or the patient has errors).",
        },
        "lung": {
            "allOf": [ref("SubmissionRecordResult")],
            "nullable": True,
            "description": "Null when the document has none (or the patient has errors).",
        },
        "hrct": {
            "type": "array",
            "items": ref("SubmissionHrctResult"),
            "description": "One per scan of the document, in its order (empty on errors).",
        },
        "adverse_events": {
            "type": "array",
            "items": ref("SubmissionRecordResult"),
            "description": "One per adverse event of the document, in its order (empty on errors).",
        },
    },
    [
        "index",
        "patient_id",
        "status",
        "id",
        "errors",
        "visits",
        "vital_status",
        "lung",
        "hrct",
        "adverse_events",
    ],
    "What happened to one patient (all or nothing).",
)
COUNTS = object_field(
    {name: {"type": "integer"} for name in STATUS["enum"]},
    list(STATUS["enum"]),
    "Counts by status.",
)
SUBMISSION_ANSWER = object_field(
    {
        "site": {"type": "string"},
        "dry_run": {"type": "boolean", "description": "True: nothing was stored."},
        "summary": object_field(
            {"patients": COUNTS, "visits": COUNTS},
            ["patients", "visits"],
            "Counts of patients and visits by status.",
        ),
        "patients": {"type": "array", "items": ref("SubmissionPatientResult")},
        "errors": {
            "type": "array",
            "items": ref("ErrorItem"),
            "description": "Every invalid field of the document (all patients).",
        },
    },
    ["site", "dry_run", "summary", "patients", "errors"],
    "One result per patient and per visit, in the document's order.",
)

REFRACTORY = {
    **object_field(
        {
            "definition": {"type": "string", "enum": [refractory.DEFINITION]},
            "status": {
                "type": "string",
                "enum": list(refractory.STATUSES),
                "description": "`candidate`: a glucocorticoid course and an immunosuppressant "
                "course failed or were not tolerated; `confirmed`: in addition an investigator "
                "attested that mimics and malignancy were excluded; otherwise `no` "
                "(docs/outcomes.md, refractory_v1).",
            },
            "as_of": {
                "type": "string",
                "format": "date",
                "description": "The latest date of the patient's visits and treatment starts "
                "and stops: an ongoing treatment counts up to it.",
            },
            "episodes": {
                "type": "array",
                "description": "The qualifying treatment episodes (failed or not tolerated), "
                "whatever the status.",
                "items": object_field(
                    {
                        "id": {"type": "integer", "description": "The treatment episode's id."},
                        "drug": {"type": "string"},
                        "start_date": {"type": "string", "format": "date"},
                        "role": {
                            "type": "string",
                            "enum": list(refractory.ROLES),
                            "description": "gc: glucocorticoid; is: immunosuppressant.",
                        },
                        "reason": {
                            "type": "string",
                            "enum": list(refractory.REASONS),
                            "description": "failed: no response at the episode's end (or 12 "
                            "weeks after its start while ongoing), or stopped for inefficacy; "
                            "intolerant: stopped for an adverse event.",
                        },
                    },
                    ["id", "drug", "start_date", "role", "reason"],
                    "A qualifying episode.",
                ),
            },
            "attested_by": {
                "type": "string",
                "nullable": True,
                "description": "Username of the investigator whose attestation confirmed it.",
            },
            "attested_at": {"type": "string", "format": "date-time", "nullable": True},
        },
        ["definition", "status", "as_of", "episodes", "attested_by", "attested_at"],
        "The patient's refractory status, computed by the scoring pipeline.",
    ),
}


def components() -> dict[str, Schema]:
    return {
        "RefractoryStatus": REFRACTORY,
        "ResponseRecord": RESPONSE_RECORD,
        "VisitScoring": SCORING,
        "SubmissionVisitResult": VISIT_RESULT,
        "SubmissionPatientResult": PATIENT_RESULT,
        "SubmissionRecordResult": RECORD_RESULT,
        "SubmissionHrctResult": HRCT_RESULT,
        "SubmissionAnswer": SUBMISSION_ANSWER,
        "ErrorItem": ERROR_ITEM,
        "Error": ERROR,
    }
