"""Building blocks of the hand-written OpenAPI components (api.schema)."""

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def enum_field(choices: type, description: str = "", *, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "string", "enum": [value for value, _ in choices.choices]}
    if description:
        schema["description"] = description
    if nullable:
        schema["nullable"] = True
    return schema


def date_field(description: str, *, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "string", "format": "date", "description": description}
    if nullable:
        schema["nullable"] = True
    return schema


def text_field(max_length: int, description: str, *, nullable: bool = True) -> Schema:
    return {
        "type": "string",
        "maxLength": max_length,
        "nullable": nullable,
        "description": description,
    }


def number_field(
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


def object_field(properties: dict[str, Schema], required: list[str], description: str) -> Schema:
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
