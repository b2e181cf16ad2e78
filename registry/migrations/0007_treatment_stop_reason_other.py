from django.db import migrations, models


class Migration(migrations.Migration):
    """The other reason beside a coded stop reason. The free text stored in `stop_reason` is
    coded by 0006 before 0007 restricts the column to the codes."""

    dependencies = [
        ("registry", "0006_audit_source_patient"),
    ]

    operations = [
        migrations.AddField(
            model_name="treatmentepisode",
            name="stop_reason_other",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="other reason stopped"
            ),
        ),
    ]
