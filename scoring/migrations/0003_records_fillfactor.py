"""Leave half of each page of response records free on PostgreSQL.

A record is rewritten in place whenever its patient is re-scored. None of its indexed columns
changes then, so with room on the page PostgreSQL makes the new version a heap-only tuple: no
index entry is written, which is most of the cost of a re-score's writes (benchmarks/rescore.py).
A record is about 2 kB, so a page holds three or four; a re-score rewrites all the records of a
patient, which sit together, in one transaction, so the room must be half the page.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE scoring_responserecord SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE scoring_responserecord RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_drop_algorithm_kind_index")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
