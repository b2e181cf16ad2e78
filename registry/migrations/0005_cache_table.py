"""The table of the default cache (settings.CACHES: django.core.cache.backends.db.DatabaseCache),
which holds the counters every process shares, e.g. the API's failed-token throttling.

Created here rather than by `manage.py createcachetable`, so that `migrate` (and so `demo` and the
tests) is all a new database needs. It is created whatever CACHES says, so that a deployment can
drop CACHE_URL (Redis) later; the same columns as createcachetable's, so that command finds it
there and leaves it.
"""

from django.apps.registry import Apps
from django.db import migrations, models

TABLE = "registry_cache"  # settings.CACHES["default"]["LOCATION"] when CACHE_URL is unset


def _cache_entry_model() -> type[models.Model]:
    class CacheEntry(models.Model):
        cache_key = models.CharField(max_length=255, unique=True, primary_key=True)
        value = models.TextField()
        expires = models.DateTimeField(db_index=True)

        class Meta:
            app_label = "registry"
            db_table = TABLE
            apps = Apps()  # a registry of its own: not a model of the app

    return CacheEntry


def create_table(apps, schema_editor):
    if TABLE not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(_cache_entry_model())


def drop_table(apps, schema_editor):
    if TABLE in schema_editor.connection.introspection.table_names():
        schema_editor.delete_model(_cache_entry_model())


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_audit_order_index"),
    ]

    operations = [migrations.RunPython(create_table, drop_table)]
