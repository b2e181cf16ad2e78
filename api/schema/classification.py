"""OpenAPI components of the classification calculator (POST /api/v1/calculator/classification/):
cases of the 2017 EULAR/ACR criteria in, classifications out."""

from api.schema.fields import Schema, date_field, object_field, ref
from scoring.classifying import DERIVED_KEYS
from scoring.instruments.classification import (
    CATEGORIES,
    COLUMNS,
    EXAMPLE_CASE,
    ITEMS,
    MAX_AGE,
    NOT_TREATED,
    RULE,
    SUBGROUPS,
    TREATMENT_RESPONSES,
)


def _item(id_: str, definition: str, biopsy_only: bool) -> Schema:
    note = " Only with `muscle_biopsy` true." if biopsy_only else ""
    return {
        "type": "boolean",
        "nullable": True,
        "description": f"{id_}: {definition}. Null or absent: unanswered (scores 0, listed "
        f"in `missing`).{note}",
    }


def components() -> dict[str, Schema]:
    items = object_field(
        {item.key: _item(item.id, item.definition, item.no_biopsy is None) for item in ITEMS},
        [],
        "The items, true (present), false (absent) or null/absent (unanswered).",
    )
    case = {
        **object_field(
            {
                "age_at_onset": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_AGE,
                    "description": "Age at onset of the first symptom assumed related to the "
                    "disease, in whole years: under 18 scores 0, 18–39 is A1, 40 or more A2.",
                },
                "muscle_biopsy": {
                    "type": "boolean",
                    "description": "True if a muscle biopsy was done: then the biopsy column's "
                    "weights apply and the biopsy items may be given.",
                },
                "items": items,
                "finger_flexor_weakness": {
                    "type": "boolean",
                    "nullable": True,
                    "description": "No points; feeds the subgroup tree (IBM).",
                },
                "treatment_response": {
                    "type": "string",
                    "enum": [*TREATMENT_RESPONSES, None],
                    "nullable": True,
                    "default": NOT_TREATED,
                    "description": "No points; feeds the subgroup tree (IBM). Null or absent: "
                    "not treated.",
                },
            },
            ["age_at_onset", "muscle_biopsy", "items"],
            "One case of the 2017 EULAR/ACR classification criteria (Lundberg IE et al., "
            "Ann Rheum Dis 2017;76:1955–64).",
        ),
        "example": EXAMPLE_CASE,
    }
    result = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rule": {"type": "string", "enum": [RULE]},
            "column": {
                "type": "string",
                "enum": list(COLUMNS),
                "description": "The weights used: `biopsy` if and only if a biopsy was done.",
            },
            "score": {
                "type": "string",
                "pattern": r"^\d+\.\d$",
                "description": "The exact sum of the weights present, one decimal. A lower "
                "bound when items are missing.",
            },
            "complete": {"type": "boolean", "description": "True when `missing` is empty."},
            "missing": {
                "type": "array",
                "items": {"type": "string", "enum": [item.key for item in ITEMS]},
                "description": "The unanswered items of the column, in the paper's order.",
            },
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "probability": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Derived: 1 / (1 + exp(a − score)), a = 5.30 without and 6.50 "
                "with a biopsy; 4 decimals.",
            },
            "subgroup": {
                "type": "string",
                "enum": [*SUBGROUPS, None],
                "nullable": True,
                "description": "For probable and definite cases only; null below.",
            },
            "biopsy_recommended": {
                "type": "boolean",
                "description": "No skin sign (S1–S3) and no biopsy: a muscle biopsy is "
                "recommended to classify the case. Does not change the score.",
            },
        },
        "required": [
            "rule",
            "column",
            "score",
            "complete",
            "missing",
            "category",
            "probability",
            "subgroup",
            "biopsy_recommended",
        ],
        "description": "The classification of one case.",
    }
    return {
        "ClassificationItems": items,
        **patient_components(result),
        "ClassificationCase": case,
        "ClassificationRequest": {
            "oneOf": [
                ref("ClassificationCase"),
                {"type": "array", "items": ref("ClassificationCase")},
            ],
            "description": "One case, or a list of cases.",
        },
        "ClassificationResult": result,
        "ClassificationResponse": {
            "oneOf": [
                ref("ClassificationResult"),
                {"type": "array", "items": ref("ClassificationResult")},
            ],
            "description": "The same shape as the request, in order.",
        },
    }


# --- a patient's classification (submission document, patient API) ----------------------------


def _assessment_properties() -> dict[str, Schema]:
    return {
        "assessed_on": date_field("Date of the assessment. Not in the future."),
        "muscle_biopsy": {
            "type": "boolean",
            "description": "True if a muscle biopsy was done: then the biopsy column's weights "
            "apply and the biopsy items may be given.",
        },
        "items": ref("ClassificationItems"),
        "finger_flexor_weakness": {
            "type": "boolean",
            "nullable": True,
            "description": "No points; feeds the subgroup tree (IBM).",
        },
        "treatment_response": {
            "type": "string",
            "enum": [*TREATMENT_RESPONSES, None],
            "nullable": True,
            "default": NOT_TREATED,
            "description": "No points; feeds the subgroup tree (IBM). Null or absent: not treated.",
        },
    }


SCORING_STATES = ["scored", "pending", "failed", "preview", "not_stored"]


def patient_components(result: Schema) -> dict[str, Schema]:
    """The `classification` of a patient: as sent in the submission document, as read back with
    its computed classification, and the submission answer's part about it."""
    record_result = {
        **result,
        "properties": {
            **result["properties"],
            "points": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "The weight scored by each item present (and the age band), by "
                "the paper's id (A1, A2, W1, … B4), as decimal strings.",
            },
            "intercept": {
                "type": "string",
                "description": "`a` of the derived probability: 5.30 without, 6.50 with a biopsy.",
            },
            "age_band": {"type": "string", "enum": ["A1", "A2", None], "nullable": True},
            "derived": {
                "type": "array",
                "items": {"type": "string", "enum": list(DERIVED_KEYS)},
                "description": "Items left unanswered on the form and derived from the patient's "
                "data: anti_jo1 from a positive (or only negative) anti-Jo-1 result, "
                "enzymes_raised from the earliest visit's CK, LDH, AST or ALT against the ULN.",
            },
        },
        "required": [*result["required"], "points", "intercept", "age_band", "derived"],
        "description": "A patient's classification as the scoring pipeline computed it.",
    }
    scoring = object_field(
        {
            "status": {
                "type": "string",
                "enum": SCORING_STATES,
                "description": "scored: computed from the current data; pending: waiting for a "
                "scoring worker (`result` is the last one computed, or null); failed: see "
                "`error`; preview: a dry run's, computed and not stored; not_stored: the "
                "patient had errors.",
            },
            "result": {**ref("ClassificationRecordResult"), "nullable": True},
            "error": {"type": "string", "description": "Why it could not be computed."},
        },
        ["status", "result"],
        "The computed classification (2017 EULAR/ACR); a score with `missing` items is a lower "
        "bound.",
    )
    return {
        "ClassificationRecordResult": record_result,
        "ClassificationScoring": scoring,
        "SubmissionClassification": object_field(
            _assessment_properties(),
            ["assessed_on", "muscle_biopsy"],
            "The patient's baseline assessment for the 2017 EULAR/ACR classification criteria "
            "(one per patient). The age at onset is the patient's (birth and onset dates). "
            "Null or absent: a stored assessment is kept as it is.",
        ),
        "PatientClassification": {
            **object_field(
                {**_assessment_properties(), "scoring": ref("ClassificationScoring")},
                [
                    "assessed_on",
                    "muscle_biopsy",
                    "items",
                    "finger_flexor_weakness",
                    "treatment_response",
                    "scoring",
                ],
                "The assessment as stored (every item of its column, null where unanswered) "
                "and its computed classification.",
            ),  # fmt: skip
            "nullable": True,
        },
        "SubmissionClassificationResult": object_field(
            {
                "status": {"type": "string", "enum": ["created", "updated", "unchanged", "error"]},
                "id": {"type": "integer", "nullable": True, "description": "The assessment's id."},
                "errors": {"type": "array", "items": ref("ErrorItem")},
                "scoring": ref("ClassificationScoring"),
            },
            ["status", "id", "errors", "scoring"],
            "What happened to the patient's classification assessment.",
        ),
    }
