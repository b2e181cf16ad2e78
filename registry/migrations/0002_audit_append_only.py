"""The audit trail is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of its rows.

Only PostgreSQL (the production database) gets the trigger: the embedded SQLite database is for
a single user's local use. TRUNCATE is not blocked because the test runner empties tables with
it; in production the application's database role should not own the table (no TRUNCATE right).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION registry_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % of registry_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS registry_audit_append_only ON registry_auditevent;
CREATE TRIGGER registry_audit_append_only
    BEFORE UPDATE OR DELETE ON registry_auditevent
    FOR EACH ROW EXECUTE FUNCTION registry_audit_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS registry_audit_append_only ON registry_auditevent;
DROP FUNCTION IF EXISTS registry_audit_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_sites_patients_treatments_audit")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
