"""Code the free-text stop reasons stored before codes existed, through the one mapping that the
document reader uses too (registry.vocabularies.stop_reason_code), audited as a command's change.

Safe to re-run: a stored code maps to itself, so a second run finds nothing to change.
"""

from django.db import migrations

from registry.vocabularies import StopReason, stop_reason_code

REASON = "stop_reason coded (migration registry 0006)"


def code_stop_reasons(apps, schema_editor):
    TreatmentEpisode = apps.get_model("registry", "TreatmentEpisode")
    AuditEvent = apps.get_model("registry", "AuditEvent")
    episodes = (
        TreatmentEpisode.objects.exclude(stop_reason="")
        .exclude(stop_reason__in=StopReason.values)
        .select_related("patient")
        .order_by("pk")
    )
    events = []
    for episode in episodes.iterator(chunk_size=2000):
        code, other = stop_reason_code(episode.stop_reason)
        before = {"stop_reason": episode.stop_reason, "stop_reason_other": episode.stop_reason_other}
        after = {"stop_reason": code, "stop_reason_other": other}
        TreatmentEpisode.objects.filter(pk=episode.pk).update(**after)
        for field, new in after.items():
            if before[field] != new:
                events.append(
                    AuditEvent(
                        source="command",
                        action="update",
                        site_id=episode.patient.site_id,
                        patient_id=episode.patient_id,
                        object_type="registry.treatmentepisode",
                        object_id=episode.pk,
                        field=field,
                        old_value=before[field],
                        new_value=new,
                        reason=REASON,
                    )
                )
        if len(events) >= 2000:
            AuditEvent.objects.bulk_create(events)
            events = []
    AuditEvent.objects.bulk_create(events)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_treatment_stop_reason_other"),
    ]

    operations = [
        # Backwards: the codes are valid free text of the old column; nothing to undo.
        migrations.RunPython(code_stop_reasons, migrations.RunPython.noop),
    ]
