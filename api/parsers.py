"""JSON parsers with a size limit that is enforced while reading (413), never after.

DRF's JSONParser reads the whole body through `request.body` first, which turns an oversized body
into Django's generic 400 and holds it all in memory before deciding. These read the stream in
chunks, refuse as soon as the documented limit (settings.API_MAX_BODY_BYTES) is passed — or at
once when Content-Length announces more — and answer malformed JSON with 400, never 500.
"""

import hashlib
import json
import re
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
        raw = read_limited(stream, parser_context)
        try:
            # NaN and Infinity parse (as non-finite numbers) so that the field holding them is
            # named in the error, rather than the whole body being refused.
            if self.parse_float is float:  # the C scanner's own float parsing: much faster
                document = json.loads(raw)
            else:
                document = json.loads(raw, parse_float=self.parse_float)
        except UnicodeDecodeError:
            raise ParseError("The body is not valid UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"Malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}."
            ) from None
        except ValueError:
            # An integer of more digits than Python converts from text
            # (sys.get_int_max_str_digits): valid JSON, but no field of ours holds such a number.
            raise ParseError("A number in the JSON has too many digits.") from None
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
        # Escapes JSON allows but text columns cannot hold (PostgreSQL refuses NUL; a lone
        # surrogate is not UTF-8 at all): only looked for when the body has such an escape.
        if SUSPICIOUS_ESCAPE.search(raw):
            try:
                bad = list(_bad_strings(document, ""))
            except RecursionError:
                raise ParseError("The JSON is nested too deeply.") from None
            if bad:
                raise InputError([(path, "Must be text without NUL characters or unpaired "
                                         "surrogates.") for path in bad])  # fmt: skip
        return document


class MergePatchParser(JSONDocumentParser):
    """application/merge-patch+json (RFC 7386), for PATCH of a visit."""

    media_type = "application/merge-patch+json"


class DecimalJSONParser(JSONDocumentParser):
    """For the calculator: every number exactly as typed (7.3 is 73/10), as SCORING.md requires."""

    parse_float = Decimal


SUSPICIOUS_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")


def _bad_string(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_strings(value: Any, path: str) -> Iterator[str]:
    """JSON paths of the strings (keys too) that a text column cannot store."""
    if isinstance(value, str):
        if _bad_string(value):
            yield path or "$"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if _bad_string(key):
                yield where
            else:
                yield from _bad_strings(item, where)


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
