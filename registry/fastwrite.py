"""Fast inserts for the bulk paths: many new rows, or many audit events, in one round trip.

Shared by the patient-document writer (crf/submission: the API's bulk submission and the seed)
and the scoring pipeline's audit trail (scoring/services.py). Primary keys are drawn first, so
that children and audit events can refer to them; then the rows go in with COPY on PostgreSQL
and executemany on SQLite, from the values as they are (converted by their fields where the
database needs it). Not QuerySet.bulk_create: on PostgreSQL Django 5.2 sends a bulk insert as
UNNEST of one array per column, and quoting millions of values into arrays cost more than
everything else together (seeding ran 2.5 times slower); on SQLite it is a third slower than
executemany. Every constraint and trigger of the database still applies.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection, connections, models, transaction
from django.utils import timezone

from registry.models import AuditEvent

# Fields whose Python value the database driver takes as it is; every other field is converted
# by its own get_db_prep_save. psycopg adapts dates, datetimes and decimals itself; SQLite
# needs Django's text forms of them. JSON always goes through its field.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)
_PLAIN_ON_POSTGRESQL = (*_PLAIN_FIELDS, models.DateField, models.DecimalField)  # and DateTimeField


def _ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys no other writer will use. Call inside the writing transaction."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        name, pk = connection.ops.quote_name(table), connection.ops.quote_name(column)
        # A write statement (here one that changes nothing) takes SQLite's write lock, held to
        # the end of the transaction: no other connection can insert until then, so the ids
        # after the highest are free. AUTOINCREMENT never reuses an id: start above its counter.
        cursor.execute(f"UPDATE {name} SET {pk} = {pk} WHERE 0")
        cursor.execute(f"SELECT MAX({pk}) FROM {name}")
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        first = max(highest, row[0] if row else 0) + 1
        return list(range(first, first + count))


def _write(model: type[models.Model], rows: list[list[Any]]) -> None:
    """Insert rows: the Python values of the model's concrete fields, in order."""
    fields = list(model._meta.concrete_fields)
    db = connections[connection.alias]  # the connection itself, not the thread-local proxy
    postgresql = db.vendor == "postgresql"
    plain = _PLAIN_ON_POSTGRESQL if postgresql else _PLAIN_FIELDS
    convert = [(i, f) for i, f in enumerate(fields) if not isinstance(f, plain)]
    for row in rows:
        for i, model_field in convert:
            row[i] = model_field.get_db_prep_save(row[i], db)
    quote = db.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with db.cursor() as cursor:
        if postgresql:
            # COPY goes to psycopg directly: translate its errors into Django's, as execute()
            # does.
            with db.wrap_database_errors:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def insert_rows(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert new instances of one model and set their primary keys.

    The instances' own field values are written, so model defaults and auto_now timestamps are
    the ORM's; `clean()` is the caller's to run.
    """
    if not instances:
        return
    fields = list(model._meta.concrete_fields)
    for model_field in fields:
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            for instance in instances:
                model_field.pre_save(instance, add=True)
    names = [f.attname for f in fields]
    alias = connection.alias  # read once: the connection proxy's attributes are thread-locals
    with transaction.atomic():  # the ids are free only within the transaction that draws them
        for instance, pk in zip(instances, _ids(model, len(instances)), strict=True):
            instance.pk = pk
            instance._state.adding, instance._state.db = False, alias
        _write(model, [[instance.__dict__[name] for name in names] for instance in instances])


def insert_events(events: list[dict[str, Any]]) -> None:
    """Insert audit events given as field values (no model instances: at ten events per visit,
    building them is a fifth of a bulk submission's time)."""
    if not events:
        return
    now = timezone.now()  # auto_now_add, as the ORM would stamp it
    names = [f.attname for f in AuditEvent._meta.concrete_fields]
    assert names[0] == "id"
    with transaction.atomic():
        rows = [
            [pk, *(event.get(name, now if name == "at" else None) for name in names[1:])]
            for pk, event in zip(_ids(AuditEvent, len(events)), events, strict=True)
        ]
        _write(AuditEvent, rows)
