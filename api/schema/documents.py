"""OpenAPI components of the submission document, field by field.

The submission document is validated by the strict readers of registry/documents.py and
crf/documents.py, not by DRF serializers (one reader for every write path); this module describes
the same document for the OpenAPI schema. Vocabularies and item lists come from the code that
validates them, so the schema cannot drift from them; tests/api/test_schema.py pins the keys.
"""

from api.schema.examples import SUBMISSION_EXAMPLE
from api.schema.fields import (
    VAS,
    Schema,
    date_field,
    enum_field,
    number_field,
    object_field,
    ref,
    text_field,
)
from api.schema.outcomes import (
    adverse_event_schema,
    hrct_schema,
    lung_schema,
    vital_status_schema,
)
from crf.classification import CLASSIFICATION_KEYS
from crf.documents import VISIT_KEYS
from crf.models import (
    ALL_HAQ_ITEMS,
    HAQ_ITEMS,
    MMT_SIDED_GROUPS,
    LabResult,
    Visit,
)
from crf.outcome_documents import (
    ADVERSE_EVENT_KEYS,
    HRCT_KEYS,
    LUNG_KEYS,
    RELATED_TO_KEYS,
    VITAL_STATUS_KEYS,
)
from registry.documents import ANTIBODY_KEYS, PATIENT_KEYS, TREATMENT_KEYS
from registry.vocabularies import (
    Antibody,
    AntibodyMethod,
    AntibodyResult,
    Diagnosis,
    Drug,
    Route,
    Sex,
    StopReason,
)
from scoring.instruments import HAQ_CATEGORIES

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
    "person); such a category scores at least 2 (docs/scoring.md §5).",
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
        "description": "The side tested; right unless it cannot be tested (docs/scoring.md §1).",
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
            object_field(
                {
                    "scale": scale_b,
                    "side": no_side,
                    "neck_flexors": neck,
                    **{group: bilateral_group for group in MMT_SIDED_GROUPS},
                },
                ["scale"],
                "Bilateral MMT-8 grades.",
            ),
            object_field(
                {
                    "scale": scale_u,
                    "side": side,
                    "neck_flexors": neck,
                    **{group: GRADE for group in MMT_SIDED_GROUPS},
                },
                ["scale"],
                "Unilateral MMT-8 grades.",
            ),
            object_field(
                {
                    "scale": scale_b,
                    "side": no_side,
                    "total": {"type": "integer", "minimum": 0, "maximum": 150},
                },
                ["scale", "total"],
                "Bilateral legacy total (0–150) when the grades are unknown.",
            ),
            object_field(
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
    lab = object_field(
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
        "physician_global": number_field(
            0, 10, "Physician global disease activity, " + VAS, step=0.1
        ),
        "patient_global": number_field(
            0, 10, "Patient (or parent) global activity, " + VAS, step=0.1
        ),
        "extramuscular": number_field(
            0, 10, "Extramuscular global activity (MDAAT), " + VAS, step=0.1
        ),
        "physician_damage": number_field(0, 10, "Physician global damage, " + VAS, step=0.1),
        "patient_global_damage": number_field(
            0, 10, "Patient (or parent) global damage, " + VAS, step=0.1
        ),
        "cmas": number_field(0, 52, "Childhood Myositis Assessment Scale, 0–52.", integer=True),
        "fvc_percent": number_field(0, 200, "FVC, % predicted.", step=0.1),
        "dlco_percent": number_field(0, 200, "DLCO, % predicted.", step=0.1),
        "glucocorticoid_mg_per_day": number_field(
            0, 2000, "Daily glucocorticoid dose, prednisone equivalent, mg/day.", step=0.01
        ),
        "mmt8": ref("Mmt8"),
        "labs": ref("Labs"),
        "haq": ref("Haq"),
        "chaq": ref("Chaq"),
    }


def _visit() -> Schema:
    properties = {
        "visit_date": date_field(
            "The visit's date: its key within the patient. Not in the future, "
            "not before the month of birth."
        ),
        "kind": enum_field(
            Visit.Kind, "baseline (at most one per patient), follow_up (default) or unscheduled."
        ),
        **_instrument_properties(),
        "reason": text_field(
            2000, "Reason for change; required when a submitted visit is amended."
        ),
    }
    return object_field(
        properties,
        ["visit_date"],
        "A visit: the whole visit — an instrument left out is removed from the stored visit. "
        "Give `haq` or `chaq`, not both.",
    )


def _patient() -> Schema:
    return object_field(
        {
            "patient_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "The site's own pseudonymous id: the patient's key.",
            },
            "sex": enum_field(Sex),
            "birth_year_month": {
                "type": "string",
                "pattern": r"^\d{4}-(0[1-9]|1[0-2])$",
                "description": "Year and month of birth, YYYY-MM.",
            },
            "diagnosis": enum_field(Diagnosis),
            "onset_date": date_field("Date of symptom onset; decides adult vs juvenile."),
            "diagnosis_date": date_field("Date of diagnosis, not before onset.", nullable=True),
            "reason": text_field(
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
            "classification": {**ref("SubmissionClassification"), "nullable": True},
            "vital_status": {
                "allOf": [ref("SubmissionVitalStatus")],
                "nullable": True,
                "description": "The patient's vital status: the whole record, replacing the "
                "stored one; absent or null keeps it.",
            },
            "lung": {
                "allOf": [ref("SubmissionLung")],
                "nullable": True,
                "description": "Interstitial lung disease: the whole record, replacing the "
                "stored one; absent or null keeps it.",
            },
            "hrct": {
                "type": "array",
                "nullable": True,
                "items": ref("SubmissionHrct"),
                "description": "HRCT assessments keyed by date; those stored earlier but absent "
                "here are kept.",
            },
            "adverse_events": {
                "type": "array",
                "nullable": True,
                "items": ref("SubmissionAdverseEvent"),
                "description": "Adverse events keyed by (category, term, onset_date); each is "
                "the whole event, its `related_to` included. Events stored earlier but absent "
                "here are kept.",
            },
        },
        ["patient_id", "sex", "birth_year_month", "diagnosis", "onset_date"],
        "A patient with everything nested in it: stored all or nothing.",
    )


def _autoantibody() -> Schema:
    return object_field(
        {
            "antibody": enum_field(Antibody),
            "result": enum_field(AntibodyResult),
            "method": enum_field(AntibodyMethod),
            "intensity": text_field(40, "Optional intensity or titre as reported."),
            "sample_date": date_field("Date of the sample."),
        },
        ["antibody", "result", "method", "sample_date"],
        "An autoantibody result.",
    )


def _treatment() -> Schema:
    return object_field(
        {
            "drug": enum_field(Drug),
            "drug_other": text_field(100, "Names the drug when `drug` is other."),
            "dose": {
                "type": "number",
                "minimum": 0,
                "maximum": 9999999,
                "nullable": True,
                "description": "Dose, up to 3 decimals.",
            },
            "dose_unit": text_field(20, "Unit of the dose, e.g. mg, g/kg."),
            "route": enum_field(Route, nullable=True),
            "frequency": text_field(60, "e.g. daily, weekly, every 4 weeks."),
            "start_date": date_field("Start of the episode."),
            "stop_date": date_field("Stop date, null while ongoing.", nullable=True),
            "stop_reason": text_field(
                200,
                "Why it was stopped, as a code: "
                + ", ".join(StopReason.values)
                + ". Free text (as sites sent before codes existed) is read as the code it "
                'plainly means ("adverse event: rash" is adverse_event), else as `other` with '
                "the text kept as `stop_reason_other`; re-sending it changes nothing.",
            ),
            "stop_reason_other": text_field(
                200, "What the reason was, only with `stop_reason` other."
            ),
        },
        ["drug", "start_date"],
        "A treatment episode.",
    )


def _visit_patch() -> Schema:
    instruments = object_field(
        _instrument_properties(),
        [],
        "A JSON merge patch (RFC 7386) of the visit's instruments: a key sets that value, null "
        "removes it, an object is merged into the stored one.",
    )
    instruments["nullable"] = False
    return object_field(
        {
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "The `version` of the "
                "visit as read. If the visit changed since, nothing is stored (409).",
            },
            "reason": text_field(
                2000, "Reason for change; required when a submitted visit is amended."
            ),
            "visit_date": date_field("Move the visit to another date."),
            "kind": enum_field(Visit.Kind),
            "instruments": instruments,
        },
        ["version"],
        "A change of a visit, made against the version read.",
    )


SUBMISSION = {
    **object_field(
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
        "The submission document (docs/data-dictionary.md). Keys of patients and visits are the "
        "site's own: `site` + `patient_id`, and the visit date within a patient, so re-sending a "
        "document changes nothing and creates no duplicates. Every value is checked as "
        "docs/scoring.md says; an invalid field is reported with its JSON path and its patient is "
        "not stored.",
    ),
    "example": SUBMISSION_EXAMPLE,
}


def components() -> dict[str, Schema]:
    return {
        "SubmissionDocument": SUBMISSION,
        "SubmissionPatient": _patient(),
        "SubmissionAutoantibody": _autoantibody(),
        "SubmissionTreatment": _treatment(),
        "SubmissionVisit": _visit(),
        "SubmissionVitalStatus": vital_status_schema(),
        "SubmissionLung": lung_schema(),
        "SubmissionHrct": hrct_schema(),
        "SubmissionAdverseEvent": adverse_event_schema(),
        "Mmt8": _mmt8(),
        "Labs": _labs(),
        "Haq": _haq("haq"),
        "Chaq": _haq("chaq"),
        "VisitInstruments": {
            **object_field(
                _instrument_properties(),
                [],
                "The visit's instruments, in the submission document's shape.",
            ),
        },
        "VisitPatch": _visit_patch(),
    }


# Pinned by tests: the schema describes exactly the keys the readers accept.
DOCUMENT_KEYS = {
    "SubmissionPatient": set(PATIENT_KEYS),
    "SubmissionAutoantibody": set(ANTIBODY_KEYS),
    "SubmissionTreatment": set(TREATMENT_KEYS),
    "SubmissionVisit": set(VISIT_KEYS),
    "SubmissionClassification": set(CLASSIFICATION_KEYS),
    "SubmissionVitalStatus": set(VITAL_STATUS_KEYS),
    "SubmissionLung": set(LUNG_KEYS),
    "SubmissionHrct": set(HRCT_KEYS),
    "SubmissionAdverseEvent": set(ADVERSE_EVENT_KEYS),
}
RELATED_TO = set(RELATED_TO_KEYS)
