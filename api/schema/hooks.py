"""drf-spectacular hooks (config/settings.py SPECTACULAR_SETTINGS)."""

from typing import Any

from api.schema.answers import components as answer_components
from api.schema.calculator import components as calculator_components
from api.schema.classification import components as classification_components
from api.schema.documents import components as document_components
from api.schema.fields import Schema
from registry.docs import link_markdown


def components() -> dict[str, Schema]:
    """The hand-written components: the documents, the answers, the calculators."""
    return {
        **document_components(),
        **answer_components(),
        **calculator_components(),
        **classification_components(),
    }


def add_components(result: Schema, generator: Any, request: Any, public: bool) -> Schema:
    """drf-spectacular postprocessing hook: add the hand-written components."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    mine = components()
    clash = set(schemas) & set(mine)
    if clash:  # a serializer's component of the same name would be silently replaced
        raise ValueError(f"OpenAPI component names used twice: {', '.join(sorted(clash))}")
    schemas.update(mine)
    return _link_citations(result)


def _link_citations(node: Any) -> Any:
    """Citations of the documentation in descriptions (`docs/scoring.md §6`) become links to its
    pages (registry.docs); Swagger UI renders descriptions as Markdown."""
    if isinstance(node, dict):
        return {
            key: link_markdown(value)
            if key == "description" and isinstance(value, str)
            else _link_citations(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_link_citations(item) for item in node]
    return node


def canonical_endpoints(endpoints: list, **kwargs: Any) -> list:
    """drf-spectacular preprocessing hook: leave the slash-less aliases out of the schema."""
    return [endpoint for endpoint in endpoints if endpoint[0].endswith("/")]
