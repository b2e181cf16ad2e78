"""registry.fastwrite: the bulk paths' inserts give every row a fresh id and store its values as
the ORM would."""

from datetime import date
from decimal import Decimal

import pytest

from registry.fastwrite import insert_events, insert_rows
from registry.models import AuditEvent, Site, TreatmentEpisode
from tests.factories import PatientFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_ids_are_fresh_even_after_the_highest_row_was_deleted():
    SiteFactory(code="AAA")
    gone = SiteFactory(code="BBB")
    gone_id = gone.pk
    gone.delete()
    new = [Site(code="CCC", name="C", country="GB"), Site(code="DDD", name="D", country="GB")]
    insert_rows(Site, new)
    # Neither database hands out a deleted id again (SQLite: AUTOINCREMENT's counter).
    assert all(site.pk > gone_id for site in new)
    assert sorted(Site.objects.values_list("code", "pk")) == sorted(
        [("AAA", Site.objects.get(code="AAA").pk), ("CCC", new[0].pk), ("DDD", new[1].pk)]
    )
    assert not new[0]._state.adding  # saved instances, usable as foreign keys at once


def test_values_round_trip_as_the_orm_stores_them():
    patient = PatientFactory()
    episode = TreatmentEpisode(
        patient=patient,
        drug="methotrexate",
        dose=Decimal("17.5"),
        dose_unit="mg/week",
        route="oral",
        frequency="weekly",
        start_date=date(2020, 1, 10),
    )
    insert_rows(TreatmentEpisode, [episode])
    stored = TreatmentEpisode.objects.get(pk=episode.pk)
    assert (stored.dose, stored.start_date, stored.stop_date) == (
        Decimal("17.5"),
        date(2020, 1, 10),
        None,
    )


def test_audit_events_from_field_values_are_stamped_and_keep_their_nulls():
    before = AuditEvent.objects.count()
    insert_events(
        [
            {
                "source": "scoring", "action": "update", "site_id": 1, "patient_id": 2,
                "object_type": "scoring.responserecord", "object_id": 3, "field": "met",
                "old_value": None, "new_value": "True", "reason": "inputs changed",
            },
        ]
    )  # fmt: skip
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.at is not None and event.actor_id is None
    assert (event.old_value, event.new_value, event.field) == (None, "True", "met")
