"""Response records in the admin: readable by staff, never edited by hand, re-scored on demand."""

import pytest
from django.urls import reverse

from scoring.models import ResponseRecord
from tests.factories import PatientFactory, UserFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(save_visit):
    patient = PatientFactory(birth_year=1968)
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", physician_global=3.0))
    return patient


def test_staff_reads_records_but_cannot_edit_them(client, scored):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:scoring_responserecord_changelist"))
    assert listing.status_code == 200
    assert b"acr-eular-2016" in listing.content
    record = ResponseRecord.objects.first()
    detail = client.get(reverse("admin:scoring_responserecord_change", args=[record.pk]))
    assert detail.status_code == 200
    assert client.get(reverse("admin:scoring_responserecord_add")).status_code == 403
    posted = client.post(
        reverse("admin:scoring_responserecord_delete", args=[record.pk]), {"post": "yes"}
    )
    assert posted.status_code == 403
    assert ResponseRecord.objects.filter(pk=record.pk).exists()


def test_outsider_is_sent_to_log_in(client, scored):
    client.force_login(UserFactory())
    answer = client.get(reverse("admin:scoring_responserecord_changelist"))
    assert answer.status_code == 302
    assert "login" in answer["Location"]


def test_rescore_action_recomputes_the_patients(client, scored):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    before = dict(ResponseRecord.objects.values_list("pk", "computed_at"))
    answer = client.post(
        reverse("admin:scoring_responserecord_changelist"),
        {"action": "rescore_patients", "_selected_action": list(before)},
        follow=True,
    )
    assert answer.status_code == 200
    assert b"Scoring of 1 patient(s) asked for." in answer.content
    after = dict(ResponseRecord.objects.values_list("pk", "computed_at"))
    assert all(after[pk] > before[pk] for pk in before)
