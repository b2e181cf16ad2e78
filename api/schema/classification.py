"""OpenAPI components of the classification calculator (POST /api/v1/calculator/classification/):
cases of the 2017 EULAR/ACR criteria in, classifications out."""

from api.schema.fields import Schema, object_field, ref
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
