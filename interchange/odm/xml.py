"""Writing ODM XML as escaped text chunks, parsing it safely, and validating it against the XSD.

Elements are written as strings (no tree is ever built for an export, so memory does not grow
with the registry). Reading goes through defusedxml: a document type declaration, an entity or an
external reference is refused before anything is expanded. Validation uses the ODM 1.3.2 schema
shipped in the `odmlib` package, with every import of the schema (xmldsig, xml.xsd) resolved from
the package's own files: no network access.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape, quoteattr

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Characters XML 1.0 cannot hold at all, even escaped.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _INVALID.sub("\ufffd", text)


# What an attribute value may not hold as it is: markup, quotes, control characters.
_UNSAFE_ATTRIBUTE = re.compile('[&<>"\x00-\x1f\ufffe\uffff]')


def attr_value(value: str) -> str:
    """An attribute value in double quotes, escaped (most values need nothing: fast path)."""
    if _UNSAFE_ATTRIBUTE.search(value) is None:
        return f'"{value}"'
    return quoteattr(clean(value))


def attrs(values: dict[str, Any]) -> str:
    """name="value" pairs, in the given order; None values are left out."""
    return "".join(
        f" {name}={attr_value(str(value))}" for name, value in values.items() if value is not None
    )


def empty(tag: str, **values: Any) -> str:
    return f"<{tag}{attrs(values)}/>"


def element(tag: str, content: str | Iterable[str] = "", **values: Any) -> str:
    body = content if isinstance(content, str) else "".join(content)
    return f"<{tag}{attrs(values)}>{body}</{tag}>"


def text(tag: str, value: str, **values: Any) -> str:
    return f"<{tag}{attrs(values)}>{escape(clean(value))}</{tag}>"


def translated(tag: str, value: str) -> str:
    """An ODM TranslatedText holder (Description, Question, Decode, ErrorMessage, ...)."""
    return element(tag, text("TranslatedText", value, **{"xml:lang": "en"}))


def timestamp(moment: datetime | date) -> str:
    return moment.isoformat()


# --- validation ---------------------------------------------------------------------------------


def schema_path() -> Path:
    import odmlib

    return Path(odmlib.__file__).parent / "schemas" / "odm" / "1.3.2" / "ODM1-3-2.xsd"


@functools.cache
def _schema() -> Any:
    from lxml import etree

    # The schema's own imports are relative paths next to it; the network is never asked.
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(schema_path()), parser))


class SchemaError(ValueError):
    """The file does not validate against the ODM 1.3.2 XSD; the message lists the first errors."""


def validate(source: str | Path | IO[bytes]) -> None:
    """Validate an ODM file (a path or a binary stream); SchemaError when it is invalid."""
    from lxml import etree

    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True
    )
    document = etree.parse(str(source) if isinstance(source, Path) else source, parser)
    schema = _schema()
    if not schema.validate(document):
        errors = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:10]]
        raise SchemaError("; ".join(errors))


# --- safe parsing -------------------------------------------------------------------------------


class UnsafeXML(ValueError):
    """A DTD, an entity declaration or an external reference: refused, never expanded."""


class MalformedXML(ValueError):
    """Not well-formed XML; the message says where."""


def iterparse(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """defusedxml's iterparse (start and end events), refusing any DTD outright."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse as safe_iterparse

    try:
        yield from safe_iterparse(stream, events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsafeXML(
            "The XML declares a document type, entities or external references "
            f"({type(exc).__name__}): refused, never expanded."
        ) from None
    except ParseError as exc:
        raise MalformedXML(f"Malformed XML: {exc}.") from None


def local(tag: str) -> str:
    """A tag without its namespace: {http://www.cdisc.org/ns/odm/v1.3}ItemData -> ItemData."""
    return tag.rpartition("}")[2]
