from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crf", "0004_outcomes"),
        ("crf", "0004_refractory_attestations"),
    ]

    operations = []
