"""OpenAPI components of the calculator (POST /api/v1/calculate/): cases in, scores out."""

from api.schema.fields import VAS, Schema, number_field, object_field, ref
from scoring.instruments import EXAMPLE_CASE


def components() -> dict[str, Schema]:
    measure = number_field(0, 10, VAS)
    visit = object_field(
        {
            "physician_global": measure,
            "patient_global": measure,
            "extramuscular": measure,
            "haq": number_field(0, 3, "HAQ-DI or CHAQ disability index, 0–3."),
            "mmt": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    "total": {"type": "integer", "minimum": 0, "maximum": 260, "nullable": True},
                    "max": {"type": "integer", "enum": [80, 150, 260], "nullable": True},
                },
            },
            "cmas": number_field(0, 52, "CMAS, 0–52.", integer=True),
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
        **object_field(
            {
                "population": {"type": "string", "enum": ["adult", "juvenile"]},
                "baseline": visit,
                "followup": visit,
            },
            ["population", "baseline", "followup"],
            "One case (docs/scoring.md §6).",
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
