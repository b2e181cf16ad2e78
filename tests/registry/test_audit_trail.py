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
