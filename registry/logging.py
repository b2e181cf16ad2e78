"""Keep patient data out of the logs: a filter on every log handler (config/settings.py LOGGING).

The registry's own log calls carry ids and counts only (a patient's or a visit's id, a job id, an
algorithm). What reaches a log without anyone writing it is what libraries put on a record:

- Exception messages, printed under a traceback by `logger.exception`, Django's "Internal Server
  Error" and Celery's "Task … raised unexpected". A database error carries the row
  (PostgreSQL: `DETAIL: Key (site_id, patient_id)=(3, MAN-0001) already exists`, `Failing row
  contains (…)`), a ValueError or a ValidationError the value it refused (`“98765x” value must
  be a decimal number`).
- The request that django.request attaches to a record: a handler such as Django's
  AdminEmailHandler writes out its POST body (a submission, a query's text).
- The development server's request lines, with the query string of a patient search.
- SQL with its parameters, which django.db.backends logs at DEBUG while settings.DEBUG is on.

The filter rewrites the record in place, before any formatter sees it, and keeps what an operator
needs: the message, the logger, ids, the exception's type and the traceback's frames (file, line,
function, source line — code, never data). An exception's message is kept only for the types
whose messages are known to describe code or infrastructure (a connection refused, a missing
attribute); a database error keeps its first line with quoted values withheld, so that the
constraint, table and column it names stay readable. The full message is where the data already
is, under access control: a failed response record's `error`, a failed export job's `error`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import traceback
from collections.abc import Mapping
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import Error as DjangoDatabaseError
from django.db.models import Model
from kombu.exceptions import OperationalError as BrokerOperationalError

WITHHELD = "[withheld]"

try:  # psycopg is needed on PostgreSQL only
    import psycopg
except ImportError:  # pragma: no cover - the embedded SQLite registry runs without it
    _DATABASE_ERRORS: tuple[type[BaseException], ...] = (DjangoDatabaseError, sqlite3.Error)
else:
    _DATABASE_ERRORS = (DjangoDatabaseError, sqlite3.Error, psycopg.Error)

# Exceptions whose messages are about code or infrastructure, never about a record: an operator
# needs "Connection refused" or "'NoneType' object has no attribute 'pk'" to act. Not ValueError,
# TypeError, KeyError, ValidationError: Python and Django put the offending value in those
# ("Field 'ck' expected a number but got '98765x'.", KeyError('MAN-0001')).
_SAFE_MESSAGES: tuple[type[BaseException], ...] = (
    AttributeError,
    ImportError,
    NameError,
    NotImplementedError,
    RecursionError,
    MemoryError,
    OSError,  # ConnectionError, TimeoutError, a file not found: addresses and paths
    BrokerOperationalError,
    SoftTimeLimitExceeded,
    TimeLimitExceeded,
    WorkerLostError,
    ImproperlyConfigured,
    SuspiciousOperation,  # DisallowedHost, a body too large: the request's shape, for security
)

# A quoted literal in a database error's first line, with the word before it. PostgreSQL quotes
# the names of constraints, tables and columns and the values it refused alike
# ('invalid input syntax for type integer: "98765x"', 'value "12345678901" is out of range');
# the word before a name says what it names.
_QUOTED = re.compile(r"""(?P<word>\b\w+\s+)?(?P<literal>"(?:[^"]|"")*"|'(?:[^']|'')*')""")
_NAMING_WORDS = frozenset(
    {
        "constraint",
        "relation",
        "table",
        "column",
        "index",
        "sequence",
        "schema",
        "database",
        "role",
        "user",
        "function",
        "type",
        "extension",
        "at",  # 'connection to server at "127.0.0.1", port 5432 failed'
    }
)
# The query string of a request line: '"GET /patients/?q=MAN-0001 HTTP/1.1" 200 5120'.
_QUERY = re.compile(r"\?(?P<query>[^\s\"']*)")
# A patient's invitation link, /p/<token>/ (crf/invitations.py): the token is a credential.
_TOKEN_PATH = re.compile(r"/p/[^/\s\"'?#]+")

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_TRACEBACK_WITHHELD = f"Traceback {WITHHELD}: formatted before the patient-data filter saw it."


def _database_message(text: str) -> str:
    # The first line names the constraint or the type; PostgreSQL's DETAIL, HINT, CONTEXT and
    # LINE lines that follow carry the row, the key's values and the statement.
    first = text.strip().split("\n", 1)[0].strip()

    def withhold(match: re.Match[str]) -> str:
        word = match.group("word") or ""
        if word.strip().lower() in _NAMING_WORDS and match.group("literal").startswith('"'):
            return match.group(0)
        return word + WITHHELD

    return _QUOTED.sub(withhold, first)


def exception_message(exc: BaseException) -> str:
    """The exception's message as it may be logged: kept, cut down, or withheld."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        return WITHHELD
    if not text:
        return ""
    if isinstance(exc, _DATABASE_ERRORS):
        return _database_message(text)
    if isinstance(exc, _SAFE_MESSAGES):
        return text
    return WITHHELD


def _type_name(exc: BaseException) -> str:
    # As Python's own traceback prints it.
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def describe(exc: BaseException) -> str:
    """`module.Type: message` with the message as exception_message gives it."""
    message = exception_message(exc)
    return f"{_type_name(exc)}: {message}" if message else _type_name(exc)


def format_exception(exc: BaseException) -> str:
    """The traceback Python would print, chained exceptions included, each message replaced by
    exception_message's. Frames are formatted by the traceback module: code, no local values."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    joint = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, joint))
        if current.__cause__ is not None:
            current, joint = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, joint = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    # Innermost first, as Python prints it; each joint goes after the exception it explains.
    for item, after in reversed(chain):
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(describe(item) + "\n")
        parts.append(after)
    return "".join(parts).rstrip("\n")


def _scrub_arg(value: Any) -> Any:
    if isinstance(value, BaseException):
        return describe(value)
    if isinstance(value, Model):
        # A model's str() may be its patient code; its id is what an operator looks up.
        return f"{type(value).__name__} {value.pk}"
    return value


def _withhold_token(value: Any) -> Any:
    if isinstance(value, str) and "/p/" in value:
        return _TOKEN_PATH.sub(f"/p/{WITHHELD}", value)
    return value


def _withhold_query(text: str) -> str:
    def withhold(match: re.Match[str]) -> str:
        names = [part.split("=", 1)[0] for part in match.group("query").split("&") if part]
        return "?" + "&".join(f"{name}={WITHHELD}" for name in names)

    return _QUERY.sub(withhold, text)


def _celery_exception(value: Any, exc: BaseException | None) -> str:
    # Celery's context carries the exception as its repr ("ValueError('CK 98765')"), or for a
    # retry as "Retry in 2s: OperationalError('…')".
    if exc is not None:
        return describe(exc)
    text = str(value)
    match = re.match(r"(?P<head>Retry [^:]*: )?(?P<type>[\w.]+)\(", text)
    if match:
        return f"{match.group('head') or ''}{match.group('type')}({WITHHELD})"
    return WITHHELD


class PatientDataFilter(logging.Filter):
    """Installed on every handler, so that it sees records of every logger (a filter on a logger
    would miss the records its children propagate). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "patient_data_scrubbed", False):
            return True  # a second handler of the same record
        record.patient_data_scrubbed = True
        exc = record.exc_info[1] if record.exc_info else None

        if record.name == "django.db.backends" and hasattr(record, "sql"):
            # The statement is logged with its parameters filled in: withheld whole.
            record.msg = "(%.3f) query on %s; SQL withheld: it carries the query's values"
            record.args = (getattr(record, "duration", 0.0) or 0.0, getattr(record, "alias", ""))
            record.sql = record.params = None
        elif isinstance(record.args, Mapping) and "exc" in record.args:
            # Celery's trace: "Task %(name)s[%(id)s] raised unexpected: %(exc)s". Task name, id
            # and arguments (ids) stay.
            context = dict(record.args)
            context["exc"] = _celery_exception(context["exc"], exc)
            if "traceback" in context:
                context["traceback"] = format_exception(exc) if exc is not None else WITHHELD
            if getattr(record, "data", None) is record.args:
                record.data = context
            record.args = context
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(arg) for arg in record.args)
        if isinstance(record.msg, BaseException | Model):
            record.msg = _scrub_arg(record.msg)

        if record.name == "django.server":
            record.msg = _withhold_query(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(
                    _withhold_query(arg) if isinstance(arg, str) else arg for arg in record.args
                )

        # Django's "Not Found: /p/…" and "Gone: /p/…", the server's request lines: the path of
        # an invitation link carries its token.
        record.msg = _withhold_token(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_withhold_token(arg) for arg in record.args)

        if hasattr(record, "request"):
            # Django's request: its POST body, cookies and headers are for no log. The path is in
            # the message already.
            record.request = None

        if exc is not None:
            record.exc_text = format_exception(exc)
        elif record.exc_text:
            # Formatted by a handler that ran first, from an exception no longer at hand.
            record.exc_text = _TRACEBACK_WITHHELD
        # Handlers that read the exception itself (an email or error-tracker handler) would
        # format it again, with the message and, some, the frames' local variables.
        record.exc_info = None
        return True
