"""Fast inserts for the bulk paths: many new rows, or many audit events, in one round trip.

Shared by the API's bulk submission (crf/api/ingest.py) and the scoring pipeline's audit trail
(scoring/services.py). On PostgreSQL the rows go in by COPY, with ids drawn from the table's
sequence in one query — every constraint and trigger still applies; elsewhere (SQLite) by
bulk_create.
"""

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from registry.models import AuditEvent


def _copy(model: type[models.Model], rows: list[list[Any]]) -> list[int]:
    """COPY rows (values of the concrete fields, in order, the primary key first and empty) into
    the model's table, with ids drawn from its sequence in one query; return the ids."""
    meta = model._meta
    fields = meta.concrete_fields
    assert fields[0] is meta.pk
    quote = connection.ops.quote_name
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(quote(f.column) for f in fields)
        # COPY goes to psycopg directly: translate its errors into Django's, as execute() does.
        with connection.wrap_database_errors:
            with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    row[0] = pk
                    for i in json_at:
                        row[i] = None if row[i] is None else Jsonb(row[i])
                    copy.write_row(row)
    return ids


def insert_rows(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert new instances and set their primary keys.

    On PostgreSQL: ids drawn from the table's sequence in one query, then one COPY — the
    fastest way into the database, with every constraint and trigger still applied. Elsewhere
    (SQLite): bulk_create. Either way the instances' own field values are written, so model
    defaults and auto_now timestamps are the ORM's.
    """
    if not instances:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances, batch_size=500)
        return
    fields = model._meta.concrete_fields
    stamped = [f for f in fields if getattr(f, "auto_now", False)
               or getattr(f, "auto_now_add", False)]  # fmt: skip
    for instance in instances:
        for stamp in stamped:
            stamp.pre_save(instance, add=True)
    values = attrgetter(*(f.attname for f in fields))
    ids = _copy(model, [list(values(instance)) for instance in instances])
    alias = connection.alias  # read once: the connection proxy's attributes are thread-locals
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = alias


def insert_events(events: list[dict[str, Any]]) -> None:
    """Insert audit events given as field values (no model instances: at ten events per visit,
    building them is a fifth of a bulk submission's time)."""
    if not events:
        return
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create([AuditEvent(**event) for event in events], batch_size=500)
        return
    now = timezone.now()  # auto_now_add, as the ORM would stamp it
    names = [f.attname for f in AuditEvent._meta.concrete_fields]
    _copy(AuditEvent, [[event.get(name, now if name == "at" else None) for name in names]
                       for event in events])  # fmt: skip
