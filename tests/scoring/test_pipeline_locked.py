"""Locked visits and the scoring pipeline (issue 8): a signed visit's scores are computed at
signing and then do not change until a data manager unlocks it; and every record the pipeline
creates, changes or deletes is in the audit trail (source "scoring")."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from crf.services import visit_delete, visit_sign, visit_unlock, visit_verify
from registry.audit import Actor, value_text
from registry.errors import LockedError
from registry.models import AuditEvent, TreatmentEpisode
from registry.services import treatment_delete, treatment_upsert
from scoring import selectors, tasks
from scoring.models import ResponseRecord
from scoring.services import mark_pending, score_patients
from tests.factories import PatientFactory, SiteFactory, UserFactory
from tests.factories import actor_with_role as person
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db

IMPROVED = {"physician_global": 3.0, "patient_global": 4.0, "extramuscular": 2.0, "mmt": 9,
            "ck": 500}  # fmt: skip
# The baseline as amended after the follow-up was signed: physician global 6 → 4 makes the
# follow-up's improvement 25 % instead of 50 %.
AMENDED_BASELINE = {"physician_global": 4.0}
RITUXIMAB = {"drug": "rituximab", "dose": Decimal(1000), "dose_unit": "mg", "route": "iv",
             "frequency": "other", "start_date": date(2020, 4, 20)}  # fmt: skip


@pytest.fixture
def site():
    return SiteFactory(code="LCK")


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, birth_year=1968)


@pytest.fixture
def series(patient, save_visit):
    """Baseline, a follow-up to be signed, and a later follow-up left open."""
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    signed = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    later = save_visit(patient, visit_doc("2020-07-08", **IMPROVED))
    return baseline, signed, later


def lock(site, visit):
    visit_verify(actor=person(site, "monitor"), visit=visit)
    visit_sign(actor=person(site, "investigator"), visit=visit, password="pw", meaning="approval")
    visit.refresh_from_db()


def frozen_state(visit):
    return sorted(
        ResponseRecord.objects.filter(visit=visit).values_list(
            "pk", "algorithm", "status", "fingerprint", "result", "computed_at"
        )
    )


def scoring_events(**filters):
    return AuditEvent.objects.filter(source="scoring", **filters)


def test_amending_the_baseline_leaves_a_locked_visits_scores_as_signed(
    site, patient, series, save_visit
):
    baseline, signed, later = series
    lock(site, signed)
    before = frozen_state(signed)
    later_doi = ResponseRecord.objects.get(visit=later, algorithm="imacs-doi-2004").result

    save_visit(patient, visit_doc("2020-01-08", "baseline", **AMENDED_BASELINE), visit=baseline)

    assert frozen_state(signed) == before
    # The open visit is scored against the amended baseline as usual.
    assert ResponseRecord.objects.get(visit=later, algorithm="imacs-doi-2004").result != later_doi
    # The registry counts the frozen visit as scored, and the sweep leaves it alone.
    assert selectors.scoring_counts()["scored"] == 3
    assert [ids for _, ids in selectors.patients_needing_scoring()] == [[]]
    # Asking again, even forcing, changes nothing of it either.
    summary = score_patients(patient_ids=[patient.pk], force=True)
    assert summary.frozen == 3
    call_command("rescore", "--all", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert frozen_state(signed) == before


def test_unlocking_brings_the_scores_up_to_date_and_audits_the_change(
    site, patient, series, save_visit, on_commit
):
    baseline, signed, _ = series
    lock(site, signed)
    save_visit(patient, visit_doc("2020-01-08", "baseline", **AMENDED_BASELINE), visit=baseline)
    old = ResponseRecord.objects.get(visit=signed, algorithm="acr-eular-2016")

    manager = replace(person(site, "data_manager"), reason="Baseline physician global corrected")
    with on_commit():
        visit_unlock(actor=manager, visit=signed)

    new = ResponseRecord.objects.get(visit=signed, algorithm="acr-eular-2016")
    assert new.pk == old.pk and new.score < old.score
    event = scoring_events(object_id=new.pk, action="update", field="score").get()
    assert (event.old_value, event.new_value) == (value_text(old.score), value_text(new.score))
    assert event.reason == "inputs changed" and event.actor_id is None
    assert (event.site_id, event.patient_id) == (site.pk, patient.pk)


def test_signing_computes_scores_not_yet_computed(site, patient, editor):
    # Saved without running the after-commit request for scoring (a broker that was down, say).
    from crf.services import visit_save

    visit_save(actor=editor, patient=patient, data=visit_doc("2020-01-08", "baseline"))
    follow_up, _ = visit_save(actor=editor, patient=patient, data=visit_doc("2020-04-08"))
    assert not ResponseRecord.objects.exists()

    lock(site, follow_up)

    stored = ResponseRecord.objects.filter(visit=follow_up)
    assert stored.count() == 3
    assert {(r.status, r.computed_by.split("@")[0]) for r in stored} == {("done", "signing")}


def test_a_refused_signature_computes_and_stores_nothing(site, patient, editor):
    from crf.services import visit_save

    visit_save(actor=editor, patient=patient, data=visit_doc("2020-01-08", "baseline"))
    follow_up, _ = visit_save(actor=editor, patient=patient, data=visit_doc("2020-04-08"))
    visit_verify(actor=person(site, "monitor"), visit=follow_up)
    with pytest.raises(Exception, match="password"):
        visit_sign(
            actor=person(site, "investigator"),
            visit=follow_up,
            password="no",
            meaning="approval",
        )
    assert not ResponseRecord.objects.exists()
    assert not scoring_events().exists()


def test_deleting_the_reference_of_a_locked_visit_is_refused(site, patient, series):
    baseline, signed, _ = series
    lock(site, signed)
    before = (ResponseRecord.objects.count(), AuditEvent.objects.count())
    coordinator = replace(person(site, "coordinator"), reason="duplicate entry")

    with pytest.raises(LockedError, match=r"2020-04-08 \(visit \d+\).*unlock"):
        visit_delete(actor=coordinator, visit=baseline)

    baseline.refresh_from_db()  # still there
    assert (ResponseRecord.objects.count(), AuditEvent.objects.count()) == before


def test_a_treatment_entered_after_signing_keeps_the_signed_scores_and_adds_its_own(
    site, patient, series, save_visit, on_commit
):
    _, signed, _ = series
    screening = save_visit(patient, visit_doc("2020-02-01", "unscheduled", ck=900))
    lock(site, signed)
    before = frozen_state(signed)
    # Started nine days after the screening visit, which becomes the episode's baseline: the
    # signed visit, in the episode's window, gains a comparison against it, computed although
    # the visit is locked: nothing that was signed changes by it.
    started = {**RITUXIMAB, "start_date": date(2020, 2, 10)}
    with on_commit():
        treatment_upsert(actor=Actor(None, "command"), patient=patient, values=started)

    after = frozen_state(signed)
    assert [row for row in after if row[0] in {b[0] for b in before}] == before
    added = ResponseRecord.objects.filter(visit=signed, reference_visit=screening)
    assert added.count() == 3 and set(added.values_list("status", flat=True)) == {"done"}
    assert selectors.scoring_counts()["stale"] == 0


def test_a_visit_locked_before_it_was_ever_scored_is_scored(site, patient, editor, on_commit):
    """Seeded or imported data can arrive locked; there is nothing signed to keep yet."""
    from crf.models import Visit
    from crf.services import visit_save

    visit_save(actor=editor, patient=patient, data=visit_doc("2020-01-08", "baseline"))
    follow_up, _ = visit_save(actor=editor, patient=patient, data=visit_doc("2020-04-08"))
    Visit.objects.filter(pk=follow_up.pk).update(status=Visit.Status.LOCKED)
    assert selectors.scoring_counts()["pending"] == 1

    tasks.sweep_stale.apply(kwargs={"grace_seconds": 0}).get()

    assert ResponseRecord.objects.filter(visit=follow_up, status="done").count() == 3


def test_a_request_for_scoring_does_not_mark_locked_visits_pending(site, patient, series):
    _, signed, later = series
    lock(site, signed)
    mark_pending(patient_ids=[patient.pk])
    assert set(ResponseRecord.objects.filter(visit=signed).values_list("status", flat=True)) == {
        "done"
    }
    assert set(ResponseRecord.objects.filter(visit=later).values_list("status", flat=True)) == {
        "pending"
    }


# --- the audit trail of the scoring path --------------------------------------------------------


def test_each_record_created_is_audited_with_its_outcome(site, patient, series):
    _, signed, _ = series
    records = ResponseRecord.objects.filter(visit=signed)
    for record in records:
        event = scoring_events(object_type="scoring.responserecord", object_id=record.pk).get()
        assert event.action == "create" and event.reason == "scored"
        assert (event.site_id, event.patient_id) == (site.pk, patient.pk)
        outcome = json.loads(event.new_value)
        assert outcome["visit_id"] == signed.pk and outcome["algorithm"] == record.algorithm
        if record.algorithm == "imacs-doi-2004":
            assert outcome["met"] == "True"
        if record.algorithm == "acr-eular-2016":
            assert outcome["score"] == value_text(record.score)
    assert (
        scoring_events(object_type="scoring.responserecord", action="create").count()
        == ResponseRecord.objects.count()
    )


def test_recomputing_the_same_result_writes_no_events(patient, series):
    count = scoring_events().count()
    tasks.score_patients.apply(args=[[patient.pk]], kwargs={"force": True}).get()
    assert scoring_events().count() == count


def test_a_changed_result_is_audited_field_by_field(patient, series, save_visit):
    baseline, signed, _ = series
    save_visit(
        patient, visit_doc("2020-04-08", **{**IMPROVED, "physician_global": 6.0}), visit=signed
    )
    # Physician global back at the baseline's 6: its 17.5 points of the TIS are gone.
    tis = ResponseRecord.objects.get(visit=signed, algorithm="acr-eular-2016")
    changed = scoring_events(object_id=tis.pk, action="update")
    assert {e.field for e in changed} <= set(selectors.OUTCOME_FIELDS)
    assert {e.reason for e in changed} == {"inputs changed"}
    score = changed.get(field="score")
    assert float(score.old_value) - float(score.new_value) == 17.5
    assert score.new_value == value_text(tis.score)


def test_deleting_a_visit_audits_the_deletion_of_its_records(site, patient, series):
    _, _, later = series
    ids = set(ResponseRecord.objects.filter(visit=later).values_list("pk", flat=True))
    visit_delete(actor=replace(person(site, "coordinator"), reason="entered twice"), visit=later)
    deleted = scoring_events(action="delete")
    assert set(deleted.values_list("object_id", flat=True)) == ids
    assert {e.reason for e in deleted} == {"visit deleted"}
    assert all(json.loads(e.old_value)["visit_id"] == later.pk for e in deleted)


def test_records_of_a_comparison_that_no_longer_applies_are_deleted_audited(
    patient, series, on_commit
):
    _, signed, later = series
    command = Actor(None, "command", reason="entered on the wrong patient")
    with on_commit():
        episode, _ = treatment_upsert(actor=command, patient=patient, values=RITUXIMAB)
    against = ResponseRecord.objects.filter(visit=later, reference_visit=signed)
    ids = set(against.values_list("pk", flat=True))
    assert len(ids) == 3

    with on_commit():
        treatment_delete(actor=command, episode=episode)

    assert not against.exists()
    deleted = scoring_events(action="delete")
    assert set(deleted.values_list("object_id", flat=True)) == ids
    assert {e.reason for e in deleted} == {"comparison no longer applies"}


# --- a treatment whose response signed scores measure -------------------------------------------


@pytest.fixture
def treated(site, patient, series, on_commit):
    """Rituximab started on the baseline's date: both follow-ups' baseline comparisons measure
    the response to it. The first follow-up is then signed."""
    _, signed, _ = series
    with on_commit():
        episode, _ = treatment_upsert(
            actor=Actor(None, "command"),
            patient=patient,
            values={**RITUXIMAB, "start_date": date(2020, 1, 8)},
        )
    assert ResponseRecord.objects.filter(visit=signed, episodes=episode).count() == 3
    lock(site, signed)
    return episode, signed


def test_deleting_a_treatment_that_signed_scores_measure_is_refused(site, treated):
    episode, signed = treated
    events = AuditEvent.objects.count()
    with pytest.raises(LockedError, match=r"2020-04-08 \(visit \d+\) measure the response"):
        treatment_delete(actor=Actor(None, "command", reason="wrong patient"), episode=episode)
    episode.refresh_from_db()  # still there, with its links and no audit event of the attempt
    assert ResponseRecord.objects.filter(visit=signed, episodes=episode).count() == 3
    assert AuditEvent.objects.count() == events


def test_the_treatment_delete_page_says_why_it_is_refused(client, site, treated):
    from django.urls import reverse

    episode, _ = treated
    coordinator = person(site, "coordinator")
    client.force_login(coordinator.user)
    page = client.post(
        reverse("web:treatment-delete", args=[episode.pk]), {"reason": "wrong patient"}
    )
    assert page.status_code == 200
    assert "a data manager must unlock them" in page.content.decode()
    episode.refresh_from_db()


def test_the_admin_refuses_it_too(client, site, treated):
    from django.urls import reverse

    episode, _ = treated
    client.force_login(UserFactory(username="staff", is_staff=True, is_superuser=True))
    answer = client.post(
        reverse("admin:registry_treatmentepisode_delete", args=[episode.pk]), {"post": "yes"}
    )
    assert answer.status_code == 403
    episode.refresh_from_db()


def test_once_unlocked_the_treatment_can_be_deleted(site, treated, on_commit):
    episode, signed = treated
    manager = replace(person(site, "data_manager"), reason="treatment entered on the wrong patient")
    episode_id = episode.pk
    with on_commit():
        visit_unlock(actor=manager, visit=signed)
        treatment_delete(actor=manager, episode=episode)
    assert not TreatmentEpisode.objects.filter(pk=episode_id).exists()
    assert not ResponseRecord.objects.filter(episodes=episode_id).exists()
