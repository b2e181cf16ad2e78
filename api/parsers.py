"""JSON parsers with a size limit that is enforced while reading (413), never after.

DRF's JSONParser reads the whole body through `request.body` first, which turns an oversized body
into Django's generic 400 and holds it all in memory before deciding. These read the stream in
chunks, refuse as soon as the documented limit (settings.API_MAX_BODY_BYTES) is passed — or at
once when Content-Length announces more — and answer malformed JSON with 400, never 500.
"""

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

from registry.errors import InputError

CHUNK = 64 * 1024


class RequestTooLarge(APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def max_body_bytes() -> int:
    return settings.API_MAX_BODY_BYTES


def _too_large() -> RequestTooLarge:
    limit = max_body_bytes()
    return RequestTooLarge(
        f"The request body is larger than the limit of {limit} bytes ({limit / 2**20:g} MiB); "
        "split the document into several submissions."
    )


def read_limited(stream: Any, parser_context: dict | None) -> bytes:
    limit = max_body_bytes()
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        announced = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > limit:
        raise _too_large()
    chunks, size, digest = [], 0, hashlib.sha256()
    while True:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large()
        digest.update(chunk)
        chunks.append(chunk)
    if request is not None:
        # For the Idempotency-Key check: the same key must come with the same body.
        request.body_sha256 = digest.hexdigest()
    return b"".join(chunks)


class JSONDocumentParser(BaseParser):
    """application/json; JSON numbers with a fraction become floats (what the readers take)."""

    media_type = "application/json"
    renderer_class = JSONRenderer
    parse_float: Any = float

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        charset = _charset(media_type)
        if charset not in ("utf-8", "utf8"):
            raise ParseError(f"The body must be UTF-8 JSON, not {charset}.")
        return json_document(read_limited(stream, parser_context), parse_float=self.parse_float)


class MergePatchParser(JSONDocumentParser):
    """application/merge-patch+json (RFC 7386), for PATCH of a visit."""

    media_type = "application/merge-patch+json"


class DecimalJSONParser(JSONDocumentParser):
    """For the calculator: every number exactly as typed (7.3 is 73/10), as docs/scoring.md
    requires."""

    parse_float = Decimal


SUSPICIOUS_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")


class _Refused:
    """Stands in the parsed document for a value no reader may see (NaN, Infinity, an integer
    too long for int()), so that the error names where it was."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _RepeatedKeys(dict):
    """An object in which a key was given more than once (json keeps the last one silently)."""

    repeated: list[str]


NON_FINITE = "Must be a finite number: NaN and Infinity are not JSON."


def json_document(raw: bytes, *, parse_float: Any = float) -> Any:
    """A request body as JSON, refusing what json.loads would take silently: a body that is
    not UTF-8 (json.loads guesses UTF-16 and UTF-32 too), NaN and Infinity, an object with a
    key given twice, and — rather than failing with a server error — an integer longer than
    int() converts. Each refusal is an InputError naming the JSON path."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("The body is not valid UTF-8.") from None
    refusals: list[object] = []

    def constant(name: str) -> _Refused:
        refusals.append(name)
        return _Refused(NON_FINITE)

    def pairs(items: list[tuple[str, Any]]) -> dict:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        refusals.append(obj)
        repeated = _RepeatedKeys(obj)
        counts = Counter(key for key, _ in items)
        repeated.repeated = [key for key, count in counts.items() if count > 1]
        return repeated

    def integer(digits: str) -> int | _Refused:
        limit = sys.get_int_max_str_digits()
        if limit and len(digits.lstrip("-")) > limit:
            refusals.append(digits)
            return _Refused(f"Must be a number of at most {limit} digits.")
        return int(digits)

    hooks = {"parse_constant": constant, "object_pairs_hook": pairs}
    if parse_float is not float:  # float is the C scanner's own, much faster, parsing
        hooks["parse_float"] = parse_float
    try:
        try:
            document = json.loads(text, **hooks)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # int() refused a literal longer than sys.get_int_max_str_digits(): read again,
            # guarding every integer (slower, hence only now), to name where it is.
            document = json.loads(text, parse_int=integer, **hooks)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"Malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}."
        ) from None
    except RecursionError:
        raise ParseError("The JSON is nested too deeply.") from None
    # Escapes JSON allows but text columns cannot hold (PostgreSQL refuses NUL; a lone
    # surrogate is not UTF-8 at all): only looked for when the body has such an escape.
    if refusals or SUSPICIOUS_ESCAPE.search(raw):
        errors = list(_refusals(document))
        if errors:
            raise InputError(errors)
    return document


def _bad_string(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


BAD_STRING = "Must be text without NUL characters or unpaired surrogates."
REPEATED_KEY = "Given more than once in this object: give each key once."


def _refusals(document: Any) -> Iterator[tuple[str, str]]:
    """(JSON path, message) of every refused value: strings (keys too) that a text column
    cannot store, the stand-ins of json_document, and keys given twice. Walked with a stack of
    its own, as deep as the parser went."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _bad_string(value):
                yield path or "$", BAD_STRING
        elif isinstance(value, _Refused):
            yield path or "$", value.message
        elif isinstance(value, list):
            # Reversed onto the stack, so that errors come in the document's order.
            stack.extend(
                (f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
        elif isinstance(value, dict):
            for key in getattr(value, "repeated", ()):
                yield (f"{path}.{key}" if path else key), REPEATED_KEY
            children = []
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if _bad_string(key):
                    yield where, BAD_STRING
                else:
                    children.append((where, item))
            stack.extend(reversed(children))


def _charset(media_type: str | None) -> str:
    for param in (media_type or "").split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


class XMLBody(bytes):
    """The raw body of an XML request (an ODM file), read within the size limit; the view hands
    it to interchange.odm, which parses it safely."""


class XMLDocumentParser(BaseParser):
    """application/xml: an ODM 1.3.2 Snapshot posted to the submissions endpoint."""

    media_type = "application/xml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return XMLBody(read_limited(stream, parser_context))
