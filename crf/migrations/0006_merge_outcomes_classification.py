from django.db import migrations


class Migration(migrations.Migration):
    # The outcome models (issue 14) beside the refractory attestations and the classification
    # assessment, added on other branches.
    dependencies = [
        ("crf", "0004_outcomes"),
        ("crf", "0005_classification_assessment"),
    ]

    operations = []
