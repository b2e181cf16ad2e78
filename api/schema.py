"""OpenAPI components of the documents the API reads and writes, field by field.

The submission document is validated by the strict readers of registry/documents.py and
crf/documents.py, not by DRF serializers (one reader for every write path); this module describes
the same document for the OpenAPI schema. Vocabularies and item lists come from the code that
validates them, so the schema cannot drift from them; tests/api/test_schema.py pins the keys.
"""

from typing import Any

from crf.documents import VISIT_KEYS
from crf.models import ALL_HAQ_ITEMS, HAQ_ITEMS, MMT_SIDED_GROUPS, LabResult, Visit
from registry.documents import ANTIBODY_KEYS, PATIENT_KEYS, TREATMENT_KEYS
from registry.vocabularies import (
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    Sex,
)
from scoring.instruments import EXAMPLE_CASE, HAQ_CATEGORIES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(choices: type, description: str = "", *, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "string", "enum": [value for value, _ in choices.choices]}
    if description:
        schema["description"] = description
    if nullable:
        schema["nullable"] = True
    return schema


def _date(description: str, *, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "string", "format": "date", "description": description}
    if nullable:
        schema["nullable"] = True
    return schema


def _text(max_length: int, description: str, *, nullable: bool = True) -> Schema:
    return {
        "type": "string",
        "maxLength": max_length,
        "nullable": nullable,
        "description": description,
    }


def _number(
    minimum: float,
    maximum: float,
    description: str,
    *,
    step: float | None = None,
    integer: bool = False,
) -> Schema:
    schema: Schema = {
        "type": "integer" if integer else "number",
        "minimum": minimum,
        "maximum": maximum,
        "nullable": True,
        "description": description,
    }
    if step is not None:
        schema["description"] += f" Resolution {step}."
    return schema


def _object(properties: dict[str, Schema], required: list[str], description: str) -> Schema:
    schema: Schema = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:  # OpenAPI 3.0 wants a non-empty list or none
        schema["required"] = required
    return schema


VAS = "10 cm visual analogue scale, 0–10 cm."
GRADE = {
    "type": "integer",
    "minimum": 0,
    "maximum": 10,
    "nullable": True,
    "description": "Kendall grade 0–10; null or absent when the group was not tested.",
}
CATEGORY_LIST = {
    "type": "array",
    "nullable": True,
    "items": {"type": "string", "enum": list(HAQ_CATEGORIES)},
    "description": "Categories in which the patient uses aids/devices (or help from another "
    "person); such a category scores at least 2 (SCORING.md §5).",
}

SUBMISSION_EXAMPLE: Schema = {
    "site": "MAN",
    "patients": [
        {
            "patient_id": "MAN-0001",
            "sex": "female",
            "birth_year_month": "1968-04",
            "diagnosis": "dermatomyositis",
            "onset_date": "2019-03-01",
            "diagnosis_date": "2019-05-20",
            "autoantibodies": [
                {
                    "antibody": "anti-MDA5",
                    "result": "positive",
                    "method": "line_blot",
                    "sample_date": "2019-05-02",
                }
            ],
            "treatments": [
                {
                    "drug": "ivig",
                    "dose": 2,
                    "dose_unit": "g/kg",
                    "route": "iv",
                    "frequency": "every 4 weeks",
                    "start_date": "2020-01-10",
                    "stop_date": None,
                    "stop_reason": None,
                }
            ],
            "visits": [
                {
                    "visit_date": "2020-01-08",
                    "kind": "baseline",
                    "physician_global": 6.0,
                    "patient_global": 5.0,
                    "extramuscular": 4.0,
                    "mmt8": {
                        "scale": "bilateral",
                        "neck_flexors": 8,
                        "deltoid": {"right": 7, "left": 8},
                        "biceps": {"right": 8, "left": 8},
                        "wrist_extensors": {"right": 9, "left": 9},
                        "gluteus_maximus": {"right": 6, "left": 6},
                        "gluteus_medius": {"right": 7, "left": 7},
                        "quadriceps": {"right": 8, "left": 8},
                        "ankle_dorsiflexors": {"right": 10, "left": 10},
                    },
                    "labs": {
                        "ck": {"value": 2000, "unit": "U/L", "uln": 200},
                        "aldolase": {"value": 15.2, "unit": "U/L", "uln": 7.6},
                    },
                    "haq": {
                        "items": {
                            "dress": 1,
                            "shampoo": 1,
                            "stand": 2,
                            "bed": 1,
                            "cut_meat": 0,
                            "lift_cup": 0,
                            "open_carton": 1,
                            "walk": 1,
                            "climb_steps": 2,
                            "wash_body": 1,
                            "bath": 2,
                            "toilet": 1,
                            "reach_object": 2,
                            "pick_up_clothing": 1,
                            "car_doors": 0,
                            "open_jars": 1,
                            "faucets": 0,
                            "errands": 2,
                            "car_in_out": 1,
                            "chores": 2,
                        },
                        "aids": ["arising", "walking"],
                        "help": [],
                    },
                    "glucocorticoid_mg_per_day": 60,
                }
            ],
        }
    ],
}


def _mmt8() -> Schema:
    neck = {**GRADE, "description": "Neck flexors, graded once (midline). " + GRADE["description"]}
    bilateral_group = {
        "type": "object",
        "nullable": True,
        "additionalProperties": False,
        "properties": {"right": GRADE, "left": GRADE},
        "description": "Grades of the right and left side.",
    }
    scale_b = {"type": "string", "enum": ["bilateral"]}
    scale_u = {"type": "string", "enum": ["unilateral"]}
    side = {
        "type": "string",
        "enum": ["right", "left"],
        "description": "The side tested; right unless it cannot be tested (SCORING.md §1).",
    }
    no_side = {
        "type": "string",
        "nullable": True,
        "enum": [None],
        "description": "Only on the unilateral scale.",
    }
    return {
        "description": "MMT-8 (Kendall 0–10 per group). Either the grades or, for legacy data, "
        "only the total — never both. Bilateral: neck flexors once plus seven groups per side "
        "(total 0–150); unilateral: one grade per group (total 0–80). A grade given in the "
        "wrong shape for the scale is an error.",
        "nullable": True,
        "oneOf": [
            _object(
                {
                    "scale": scale_b,
                    "side": no_side,
                    "neck_flexors": neck,
                    **{group: bilateral_group for group in MMT_SIDED_GROUPS},
                },
                ["scale"],
                "Bilateral MMT-8 grades.",
            ),
            _object(
                {
                    "scale": scale_u,
                    "side": side,
                    "neck_flexors": neck,
                    **{group: GRADE for group in MMT_SIDED_GROUPS},
                },
                ["scale"],
                "Unilateral MMT-8 grades.",
            ),
            _object(
                {
                    "scale": scale_b,
                    "side": no_side,
                    "total": {"type": "integer", "minimum": 0, "maximum": 150},
                },
                ["scale", "total"],
                "Bilateral legacy total (0–150) when the grades are unknown.",
            ),
            _object(
                {
                    "scale": scale_u,
                    "side": side,
                    "total": {"type": "integer", "minimum": 0, "maximum": 80},
                },
                ["scale", "total"],
                "Unilateral legacy total (0–80) when the grades are unknown.",
            ),
        ],
    }


def _haq(instrument: str) -> Schema:
    items = HAQ_ITEMS if instrument == "haq" else ALL_HAQ_ITEMS
    answer: Schema = {
        "type": "integer",
        "minimum": 0,
        "maximum": 3,
        "nullable": True,
        "description": "0 no difficulty, 1 some, 2 much, 3 unable.",
    }
    if instrument == "chaq":
        answer = {
            "nullable": True,
            "description": answer["description"] + ' "na": not '
            "applicable (excluded, not scored 0).",
            "oneOf": [{**answer, "nullable": False}, {"type": "string", "enum": ["na"]}],
        }
    name = "HAQ-DI (adults, 20 items)" if instrument == "haq" else "CHAQ (juveniles, 30 items)"
    return {
        "type": "object",
        "nullable": True,
        "additionalProperties": False,
        "description": f"{name}: the item answers with aids and help, or for legacy data only "
        "the disability index as `score` — never both.",
        "properties": {
            "items": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {item: answer for item in items},
            },
            "aids": CATEGORY_LIST,
            "help": {**CATEGORY_LIST, "description": "Categories with help from another person."},
            "score": {
                "type": "number",
                "minimum": 0,
                "maximum": 3,
                "nullable": True,
                "description": "Legacy disability index 0–3 when the items are unknown.",
            },
        },
    }


def _labs() -> Schema:
    lab = _object(
        {
            "value": {
                "type": "number",
                "exclusiveMinimum": True,
                "minimum": 0,
                "maximum": 999999999,
                "description": "Measured value (> 0), up to 3 decimals.",
            },
            "unit": {
                "type": "string",
                "enum": [u for u, _ in LabResult.Unit.choices],
                "description": "U/L (default) or ukat/L; 1 µkat/L = 60 U/L.",
            },
            "uln": {
                "type": "number",
                "exclusiveMinimum": True,
                "minimum": 0,
                "maximum": 999999999,
                "description": "The laboratory's upper limit of normal (> 0), in the same unit.",
            },
        },
        ["value", "uln"],
        "One enzyme result.",
    )
    lab["nullable"] = True
    return {
        "type": "object",
        "nullable": True,
        "additionalProperties": False,
        "description": "Muscle enzymes; the scoring follows the most abnormal at baseline.",
        "properties": {enzyme: lab for enzyme, _ in LabResult.Enzyme.choices},
    }


def _instrument_properties() -> dict[str, Schema]:
    return {
        "physician_global": _number(0, 10, "Physician global disease activity, " + VAS, step=0.1),
        "patient_global": _number(0, 10, "Patient (or parent) global activity, " + VAS, step=0.1),
        "extramuscular": _number(0, 10, "Extramuscular global activity (MDAAT), " + VAS, step=0.1),
        "physician_damage": _number(0, 10, "Physician global damage, " + VAS, step=0.1),
        "cmas": _number(0, 52, "Childhood Myositis Assessment Scale, 0–52.", integer=True),
        "fvc_percent": _number(0, 200, "FVC, % predicted.", step=0.1),
        "dlco_percent": _number(0, 200, "DLCO, % predicted.", step=0.1),
        "glucocorticoid_mg_per_day": _number(
            0, 2000, "Daily glucocorticoid dose, prednisone equivalent, mg/day.", step=0.01
        ),
        "mmt8": ref("Mmt8"),
        "labs": ref("Labs"),
        "haq": ref("Haq"),
        "chaq": ref("Chaq"),
    }


def _visit() -> Schema:
    properties = {
        "visit_date": _date(
            "The visit's date: its key within the patient. Not in the future, "
            "not before the month of birth."
        ),
        "kind": _enum(
            Visit.Kind, "baseline (at most one per patient), follow_up (default) or unscheduled."
        ),
        **_instrument_properties(),
        "reason": _text(2000, "Reason for change; required when a submitted visit is amended."),
    }
    return _object(
        properties,
        ["visit_date"],
        "A visit: the whole visit — an instrument left out is removed from the stored visit. "
        "Give `haq` or `chaq`, not both.",
    )


def _patient() -> Schema:
    return _object(
        {
            "patient_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "The site's own pseudonymous id: the patient's key.",
            },
            "sex": _enum(Sex),
            "birth_year_month": {
                "type": "string",
                "pattern": r"^\d{4}-(0[1-9]|1[0-2])$",
                "description": "Year and month of birth, YYYY-MM.",
            },
            "diagnosis": _enum(Diagnosis),
            "onset_date": _date("Date of symptom onset; decides adult vs juvenile."),
            "diagnosis_date": _date("Date of diagnosis, not before onset.", nullable=True),
            "reason": _text(
                2000,
                "Reason for change of the patient's own fields, autoantibodies and treatments "
                "(and of its visits that give none); required to correct stored data once the "
                "patient has a visit past draft. Adding data needs none.",
            ),
            "autoantibodies": {
                "type": "array",
                "nullable": True,
                "items": ref("SubmissionAutoantibody"),
                "description": "Results keyed by (antibody, sample_date); "
                "results stored earlier but absent here are kept.",
            },
            "treatments": {
                "type": "array",
                "nullable": True,
                "items": ref("SubmissionTreatment"),
                "description": "Episodes keyed by (drug, start_date); episodes stored "
                "earlier but absent here are kept.",
            },
            "visits": {
                "type": "array",
                "nullable": True,
                "items": ref("SubmissionVisit"),
                "description": "Visits keyed by date; one per date, at most one baseline. "
                "Visits stored earlier but absent here are kept.",
            },
        },
        ["patient_id", "sex", "birth_year_month", "diagnosis", "onset_date"],
        "A patient with everything nested in it: stored all or nothing.",
    )


def _autoantibody() -> Schema:
    return _object(
        {
            "antibody": _enum(Antibody),
            "result": _enum(AntibodyResult),
            "method": _enum(AntibodyMethod),
            "intensity": _text(40, "Optional intensity or titre as reported."),
            "sample_date": _date("Date of the sample."),
        },
        ["antibody", "result", "method", "sample_date"],
        "An autoantibody result.",
    )


def _treatment() -> Schema:
    return _object(
        {
            "drug": _enum(Drug),
            "drug_other": _text(100, "Names the drug when `drug` is other."),
            "dose": {
                "type": "number",
                "minimum": 0,
                "maximum": 9999999,
                "nullable": True,
                "description": "Dose, up to 3 decimals.",
            },
            "dose_unit": _text(20, "Unit of the dose, e.g. mg, g/kg."),
            "route": _enum(Route, nullable=True),
            "frequency": _text(60, "e.g. daily, weekly, every 4 weeks."),
            "start_date": _date("Start of the episode."),
            "stop_date": _date("Stop date, null while ongoing.", nullable=True),
            "stop_reason": _text(200, "Why it was stopped."),
        },
        ["drug", "start_date"],
        "A treatment episode.",
    )


ERROR_ITEM = _object(
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
    "description": "Shaped as the calculator's output (SCORING.md §6); null until computed.",
}
RESPONSE_RECORD = {
    "type": "object",
    "description": "The responses of a visit against one reference visit: the IMACS DOI and the "
    "ACR/EULAR TIS (shaped as the calculator's output, SCORING.md §6) and ProDERM worsening.",
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
SCORING = _object(
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
VISIT_RESULT = _object(
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
PATIENT_RESULT = _object(
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
    },
    ["index", "patient_id", "status", "id", "errors", "visits"],
    "What happened to one patient (all or nothing).",
)
COUNTS = _object(
    {name: {"type": "integer"} for name in STATUS["enum"]},
    list(STATUS["enum"]),
    "Counts by status.",
)
SUBMISSION_ANSWER = _object(
    {
        "site": {"type": "string"},
        "dry_run": {"type": "boolean", "description": "True: nothing was stored."},
        "summary": _object(
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
SUBMISSION = {
    **_object(
        {
            "site": {
                "type": "string",
                "minLength": 1,
                "maxLength": 16,
                "description": "Code of the site; the caller must be allowed to write it.",
            },
            "patients": {"type": "array", "items": ref("SubmissionPatient")},
        },
        ["site", "patients"],
        "The submission document (DESIGN.md). Keys of patients and visits are the site's own: "
        "`site` + `patient_id`, and the visit date within a patient, so re-sending a document "
        "changes nothing and creates no duplicates. Every value is checked as SCORING.md says; "
        "an invalid field is reported with its JSON path and its patient is not stored.",
    ),
    "example": SUBMISSION_EXAMPLE,
}


def _calculator() -> dict[str, Schema]:
    measure = _number(0, 10, VAS)
    visit = _object(
        {
            "physician_global": measure,
            "patient_global": measure,
            "extramuscular": measure,
            "haq": _number(0, 3, "HAQ-DI or CHAQ disability index, 0–3."),
            "mmt": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    "total": {"type": "integer", "minimum": 0, "maximum": 260, "nullable": True},
                    "max": {"type": "integer", "enum": [80, 150, 260], "nullable": True},
                },
            },
            "cmas": _number(0, 52, "CMAS, 0–52.", integer=True),
            "enzymes": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    e: {
                        "type": "object",
                        "nullable": True,
                        "additionalProperties": False,
                        "properties": {
                            "value": {"type": "number", "nullable": True},
                            "uln": {"type": "number", "nullable": True},
                            "unit": {
                                "type": "string",
                                "nullable": True,
                                "enum": ["U/L", "ukat/L", None],
                            },
                        },
                    }
                    for e in ("ck", "aldolase", "ldh", "ast", "alt")
                },
            },
        },
        [],
        "The core set measures of one visit; any may be absent or null.",
    )
    case = {
        **_object(
            {
                "population": {"type": "string", "enum": ["adult", "juvenile"]},
                "baseline": visit,
                "followup": visit,
            },
            ["population", "baseline", "followup"],
            "One case (SCORING.md §6).",
        ),
        "example": EXAMPLE_CASE,
    }
    result = {
        "type": "object",
        "properties": {
            "imacs_doi": {"type": "object", "description": "IMACS definition of improvement."},
            "acr_eular": {
                "type": "object",
                "description": "2016 ACR/EULAR total improvement score.",
            },
        },
        "required": ["imacs_doi", "acr_eular"],
        "description": "The scores of one case.",
    }
    return {
        "CalculatorCase": case,
        "CalculatorRequest": {
            "oneOf": [ref("CalculatorCase"), {"type": "array", "items": ref("CalculatorCase")}],
            "description": "One case, or a list of cases.",
        },
        "CalculatorResult": result,
        "CalculatorResponse": {
            "oneOf": [ref("CalculatorResult"), {"type": "array", "items": ref("CalculatorResult")}],
            "description": "The same shape as the request, in order.",
        },
    }


def _visit_patch() -> Schema:
    instruments = _object(
        _instrument_properties(),
        [],
        "A JSON merge patch (RFC 7386) of the visit's instruments: a key sets that value, null "
        "removes it, an object is merged into the stored one.",
    )
    instruments["nullable"] = False
    return _object(
        {
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "The `version` of the "
                "visit as read. If the visit changed since, nothing is stored (409).",
            },
            "reason": _text(2000, "Reason for change; required when a submitted visit is amended."),
            "visit_date": _date("Move the visit to another date."),
            "kind": _enum(Visit.Kind),
            "instruments": instruments,
        },
        ["version"],
        "A change of a visit, made against the version read.",
    )


def components() -> dict[str, Schema]:
    return {
        "SubmissionDocument": SUBMISSION,
        "SubmissionPatient": _patient(),
        "SubmissionAutoantibody": _autoantibody(),
        "SubmissionTreatment": _treatment(),
        "SubmissionVisit": _visit(),
        "Mmt8": _mmt8(),
        "Labs": _labs(),
        "Haq": _haq("haq"),
        "Chaq": _haq("chaq"),
        "VisitInstruments": {
            **_object(
                _instrument_properties(),
                [],
                "The visit's instruments, in the submission document's shape.",
            ),
        },
        "VisitPatch": _visit_patch(),
        "ResponseRecord": RESPONSE_RECORD,
        "VisitScoring": SCORING,
        "SubmissionVisitResult": VISIT_RESULT,
        "SubmissionPatientResult": PATIENT_RESULT,
        "SubmissionAnswer": SUBMISSION_ANSWER,
        "ErrorItem": ERROR_ITEM,
        "Error": ERROR,
        **_calculator(),
    }


def add_components(result: Schema, generator: Any, request: Any, public: bool) -> Schema:
    """drf-spectacular postprocessing hook: add the hand-written components above."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    mine = components()
    clash = set(schemas) & set(mine)
    if clash:  # a serializer's component of the same name would be silently replaced
        raise ValueError(f"OpenAPI component names used twice: {', '.join(sorted(clash))}")
    schemas.update(mine)
    return result


# Pinned by tests: the schema describes exactly the keys the readers accept.
DOCUMENT_KEYS = {
    "SubmissionPatient": set(PATIENT_KEYS),
    "SubmissionAutoantibody": set(ANTIBODY_KEYS),
    "SubmissionTreatment": set(TREATMENT_KEYS),
    "SubmissionVisit": set(VISIT_KEYS),
}


def canonical_endpoints(endpoints: list, **kwargs: Any) -> list:
    """drf-spectacular preprocessing hook: leave the slash-less aliases out of the schema."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
