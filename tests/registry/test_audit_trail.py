"""The audit trail is append-only on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from registry.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_update_and_delete_of_audit_events():
    event = AuditEvent.objects.create(
        source="command", action="create", object_type="x", object_id=1
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_a_serology_group_derived_again_is_audited_on_the_patient():
    from datetime import date

    from registry.audit import Actor
    from registry.services import autoantibody_delete, autoantibody_upsert
    from tests.factories import PatientFactory

    patient = PatientFactory()
    actor = Actor(user=None, source="command", reason="lab report received")
    result, _ = autoantibody_upsert(
        actor=actor,
        patient=patient,
        values={
            "antibody": "anti-MDA5",
            "result": "positive",
            "method": "line_blot",
            "sample_date": date(2020, 1, 2),
        },  # fmt: skip
    )
    changes = AuditEvent.objects.filter(object_type="registry.patient", field="serology_group")
    event = changes.get()
    assert (event.old_value, event.new_value, event.reason) == ("not_tested", "mda5", actor.reason)
    assert (event.object_id, event.patient_id) == (patient.pk, patient.pk)

    autoantibody_delete(actor=actor, result=result)
    assert list(changes.values_list("old_value", "new_value")) == [
        ("not_tested", "mda5"),
        ("mda5", "not_tested"),
    ]
