"""The OpenAPI schema's hand-written parts (drf-spectacular builds the rest from the views).

- fields.py: building blocks (`ref` to a component, typed fields);
- documents.py: the submission document and the visit patch, field by field;
- examples.py: the example submission document;
- answers.py: errors, the submission answer, the scores of a visit;
- calculator.py: the calculator's cases and results;
- classification.py: the classification calculator's cases and results;
- hooks.py: the drf-spectacular hooks (config/settings.py names them).
"""

from api.schema.documents import DOCUMENT_KEYS
from api.schema.examples import SUBMISSION_EXAMPLE
from api.schema.fields import Schema, ref

__all__ = [
    "DOCUMENT_KEYS",
    "SUBMISSION_EXAMPLE",
    "Schema",
    "ref",
]
