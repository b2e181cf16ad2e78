"""Issue 8 on the web: verification, signing, unlocking, data queries, history pages and the
audit export — each with someone who must be refused."""

import csv
import io

import pytest
from django.urls import reverse

from crf.models import DataQuery, Signature, Visit
from crf.services import visit_save
from registry.audit import Actor
from registry.models import AuditEvent
from tests.factories import PatientFactory, VisitFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def status_of(visit):
    return Visit.objects.get(pk=visit.pk).status


def test_monitor_verifies_a_submitted_visit(client, monitor, baseline):
    login(client, monitor)
    page = client.get(reverse("web:visit", args=[baseline.pk])).content.decode()
    assert "Mark verified" in page
    response = client.post(reverse("web:visit-verify", args=[baseline.pk]))
    assert response.status_code == 302
    assert status_of(baseline) == Visit.Status.VERIFIED


def test_coordinator_cannot_verify(as_coordinator, baseline):
    response = as_coordinator.post(reverse("web:visit-verify", args=[baseline.pk]))
    assert response.status_code == 403
    assert status_of(baseline) == Visit.Status.SUBMITTED


def test_verifying_with_an_open_query_is_refused_with_the_reason(client, monitor, baseline):
    DataQuery.objects.create(visit=baseline, field="cmas", text="Missing?", raised_by=monitor)
    login(client, monitor)
    response = client.post(reverse("web:visit-verify", args=[baseline.pk]), follow=True)
    assert "Close the visit&#x27;s open data queries" in response.content.decode()
    assert status_of(baseline) == Visit.Status.SUBMITTED


def test_investigator_signs_with_password_and_meaning_which_locks(client, investigator, baseline):
    Visit.objects.filter(pk=baseline.pk).update(status=Visit.Status.VERIFIED)
    login(client, investigator)
    url = reverse("web:visit-sign", args=[baseline.pk])
    assert "Re-enter your password" in client.get(url).content.decode()
    wrong = client.post(url, {"meaning": "approval", "password": "wrong"})
    assert wrong.status_code == 400
    assert "The password is not correct." in wrong.context["form"].errors["password"]
    assert status_of(baseline) == Visit.Status.VERIFIED
    assert client.post(url, {"meaning": "review", "password": "pw"}).status_code == 302
    assert status_of(baseline) == Visit.Status.LOCKED
    signature = Signature.objects.get()
    assert (signature.signer_name, signature.meaning) == ("inv-man", "review")
    page = client.get(reverse("web:visit", args=[baseline.pk])).content.decode()
    assert "inv-man</strong> signed on" in page
    assert "Its scores are those computed when it was signed" in page


def test_monitor_cannot_sign(client, monitor, baseline):
    Visit.objects.filter(pk=baseline.pk).update(status=Visit.Status.VERIFIED)
    login(client, monitor)
    url = reverse("web:visit-sign", args=[baseline.pk])
    assert client.post(url, {"meaning": "approval", "password": "pw"}).status_code == 403
    assert status_of(baseline) == Visit.Status.VERIFIED


def test_data_manager_unlocks_with_a_reason_which_voids_the_signature(
    client, data_manager, investigator, monitor, baseline
):
    from crf.services import visit_sign, visit_verify
    from registry.audit import Actor

    visit_verify(actor=Actor(monitor, "web"), visit=baseline)
    visit_sign(actor=Actor(investigator, "web"), visit=baseline, password="pw", meaning="approval")
    login(client, data_manager)
    url = reverse("web:visit-unlock", args=[baseline.pk])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "Give a reason for unlocking" in refused.content.decode()
    assert status_of(baseline) == Visit.Status.LOCKED
    assert client.post(url, {"reason": "wrong CK unit"}).status_code == 302
    assert status_of(baseline) == Visit.Status.SUBMITTED
    assert Signature.objects.get().void_reason == "wrong CK unit"


def test_investigator_cannot_unlock(client, investigator, baseline):
    Visit.objects.filter(pk=baseline.pk).update(status=Visit.Status.LOCKED)
    login(client, investigator)
    response = client.post(reverse("web:visit-unlock", args=[baseline.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert status_of(baseline) == Visit.Status.LOCKED


def test_query_is_raised_answered_and_closed(client, monitor, coordinator, baseline):
    login(client, monitor)
    client.post(
        reverse("web:query-new", args=[baseline.pk]),
        {"field": "labs.ck.value", "text": "CK 2000 confirmed on the lab report?"},
    )
    query = DataQuery.objects.get()
    assert (query.field, query.status, query.raised_by) == ("labs.ck.value", "open", monitor)
    login(client, coordinator)
    listing = client.get(reverse("web:queries")).content.decode()
    assert "CK 2000 confirmed on the lab report?" in listing
    client.post(reverse("web:query-answer", args=[query.pk]), {"answer": "Yes, checked."})
    query.refresh_from_db()
    assert (query.status, query.answer) == ("answered", "Yes, checked.")
    # The coordinator may not close it; the monitor does.
    assert client.post(reverse("web:query-close", args=[query.pk])).status_code == 403
    login(client, monitor)
    client.post(reverse("web:query-close", args=[query.pk]), {"note": "thanks"})
    query.refresh_from_db()
    assert query.status == "closed"
    assert "No open queries." in client.get(reverse("web:queries")).content.decode()


def test_coordinator_cannot_raise_a_query(as_coordinator, baseline):
    url = reverse("web:query-new", args=[baseline.pk])
    response = as_coordinator.post(url, {"field": "cmas", "text": "?"})
    assert response.status_code == 403
    assert not DataQuery.objects.exists()


def test_empty_answer_is_refused_with_a_message(client, coordinator, monitor, baseline):
    query = DataQuery.objects.create(visit=baseline, field="cmas", text="?", raised_by=monitor)
    login(client, coordinator)
    url = reverse("web:query-answer", args=[query.pk])
    response = client.post(url, {"answer": "  "}, follow=True)
    assert "Write the answer." in response.content.decode()
    assert DataQuery.objects.get().status == "open"


def test_open_queries_list_is_per_site(client, outsider, other_site, monitor, baseline):
    DataQuery.objects.create(visit=baseline, field="cmas", text="Manchester question")
    theirs = VisitFactory(patient=PatientFactory(site=other_site, patient_id="LDS-1"))
    DataQuery.objects.create(visit=theirs, field="cmas", text="Leeds question")
    login(client, outsider)
    html = client.get(reverse("web:queries")).content.decode()
    assert "Leeds question" in html and "Manchester question" not in html


def test_visit_history_lists_who_when_source_field_old_new_and_reason(as_coordinator, baseline):
    from tests.web.conftest import form_data, visit_doc

    doc = visit_doc()
    doc["mmt8"]["quadriceps"]["right"] = 9
    data = form_data(doc, version=1, reason="misread the paper form")
    as_coordinator.post(reverse("web:visit-edit", args=[baseline.pk]), data)
    html = as_coordinator.get(reverse("web:visit-history", args=[baseline.pk])).content.decode()
    # The form's label of the field, not the stored attribute name (quadriceps_right).
    row = next(r for r in html.split("<tr") if "MMT-8 — Quadriceps, right" in r)
    for text in ("coord-man", "Web", "Update MMT-8", ">8</span>", ">9</span>"):
        assert text in row
    assert "quadriceps_right" not in html
    assert "misread the paper form" in row
    assert "Create Visit" in html and "Create Lab result" in html


def test_visit_history_keeps_a_removed_instrument(as_coordinator, baseline):
    from tests.web.conftest import form_data, visit_doc

    doc = visit_doc()
    del doc["labs"]["aldolase"]
    data = form_data(doc, version=1, reason="aldolase belonged to another visit")
    as_coordinator.post(reverse("web:visit-edit", args=[baseline.pk]), data)
    html = as_coordinator.get(reverse("web:visit-history", args=[baseline.pk])).content.decode()
    assert "Delete Lab result" in html and "aldolase belonged to another visit" in html


def test_visit_history_shows_how_its_scores_were_computed_and_changed(
    as_coordinator, patient, baseline, coordinator
):
    from scoring.services import score_patients
    from tests.web.conftest import form_data, visit_doc

    actor = Actor(user=coordinator, source="web")
    follow_up, _ = visit_save(
        actor=actor, patient=patient, data=visit_doc(visit_date="2024-06-01", kind="follow_up")
    )
    score_patients(patient_ids=[patient.pk])  # as the worker would, whichever the broker
    changed = form_data(
        visit_doc(visit_date="2024-06-01", kind="follow_up", physician_global=2.0),
        version=1,
        reason="physician global re-read",
    )
    as_coordinator.post(reverse("web:visit-edit", args=[follow_up.pk]), changed)
    score_patients(patient_ids=[patient.pk])
    html = as_coordinator.get(reverse("web:visit-history", args=[follow_up.pk])).content.decode()
    rows = [r for r in html.split("<tr") if "Response record" in r]
    assert any("Create Response record" in r and "Scoring" in r and "scored" in r for r in rows)
    assert any("Update Response record" in r and "inputs changed" in r for r in rows)
    # The baseline's history does not list the records that score the follow-up against it.
    html = as_coordinator.get(reverse("web:visit-history", args=[baseline.pk])).content.decode()
    assert "Response record" not in html


def test_patient_history_shows_the_patients_events(as_coordinator, patient, baseline):
    response = as_coordinator.get(reverse("web:patient-history", args=[patient.pk]))
    events = list(response.context["events"])
    assert {e.object_type for e in events} >= {"crf.visit", "crf.mmt8", "crf.haq"}
    assert all(e.patient_id == patient.pk for e in events)


def test_data_manager_downloads_the_audit_trail_as_streamed_csv(client, data_manager, baseline):
    AuditEvent.objects.create(
        source="web", action="update", object_type="crf.visit", object_id=baseline.pk,
        site_id=baseline.patient.site_id, patient_id=baseline.patient_id, field="cmas",
        old_value="=1+1", new_value="-3", reason="@risky",
    )  # fmt: skip
    login(client, data_manager)
    assert "Download CSV" in client.get(reverse("web:audit")).content.decode()
    response = client.get(reverse("web:audit-export"), {"site": baseline.patient.site_id})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["event_id", "at", "user", "source", "action"]
    assert len(rows) == AuditEvent.objects.count() + 1
    assert any(r[2] == "coord-man" and r[7] == "crf.visit" for r in rows[1:])
    last = rows[-1]
    # Formula-like text is neutralised for spreadsheets; a negative number is left alone.
    assert (last[10], last[11], last[12]) == ("'=1+1", "-3", "'@risky")


def test_audit_export_filters_by_site(client, data_manager, baseline, other_site):
    login(client, data_manager)
    response = client.get(reverse("web:audit-export"), {"site": other_site.pk})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1


@pytest.mark.parametrize("who", ["coordinator", "monitor", "investigator", "outsider"])
def test_audit_export_is_for_data_managers_only(client, request, who, baseline):
    login(client, request.getfixturevalue(who))
    assert client.get(reverse("web:audit-export")).status_code == 403
    assert client.get(reverse("web:audit")).status_code == 403


def test_audit_export_filters_by_whole_utc_days(client, data_manager, baseline):
    from datetime import UTC, datetime
    from unittest import mock

    # The trail is append-only (a trigger refuses UPDATE on PostgreSQL): write the event at the
    # wanted time instead of moving an existing one.
    with mock.patch(
        "django.utils.timezone.now", return_value=datetime(2021, 3, 4, 23, 59, tzinfo=UTC)
    ):
        AuditEvent.objects.create(
            source="web",
            action="update",
            object_type="crf.visit",
            object_id=1,
            field="physician_global",
            old_value="6",
            new_value="5",
        )
    login(client, data_manager)
    response = client.get(
        reverse("web:audit-export"), {"since": "2021-03-04", "until": "2021-03-04"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 2 and rows[1][1].startswith("2021-03-04T23:59")
