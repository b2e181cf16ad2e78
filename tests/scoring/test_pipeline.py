"""The scoring pipeline on the embedded default: every write path's commit leads to current
response records (docs/architecture.md "Data flow"), tasks are idempotent, records trace their
inputs."""

import json
import logging
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

from crf.models import HAQ, Visit
from crf.services import visit_delete
from registry.services import patient_upsert, treatment_upsert
from scoring import planning, selectors, tasks
from scoring import selectors as scoring_selectors
from scoring.instruments import calculate_case
from scoring.models import ResponseEpisode, ResponseRecord
from scoring.services import score_patients
from tests.factories import PatientFactory
from tests.scoring.conftest import visit_doc

pytestmark = pytest.mark.django_db

ALGORITHMS = {"imacs-doi-2004", "acr-eular-2016", "proderm-worsening-2022"}
# An improving follow-up of docs/data-dictionary.md's example baseline: physician 6 → 3, patient 5 →
# 4, extramuscular 4 → 2, MMT 119 → 134 of 150, CK 2000 → 500 (ULN 200), HAQ unchanged (1.625).
IMPROVED = {"physician_global": 3.0, "patient_global": 4.0, "extramuscular": 2.0, "mmt": 9,
            "ck": 500}  # fmt: skip


@pytest.fixture
def patient():
    return PatientFactory(birth_year=1968)


def records(**filters):
    return ResponseRecord.objects.filter(**filters)


def calculator_input(snapshot):
    """A record's stored visit inputs in the calculator's §6 shape."""
    measures = snapshot["measures"]

    def number(text):
        return None if text is None else Decimal(text)

    return {
        "physician_global": number(measures["physician_global"]),
        "patient_global": number(measures["patient_global"]),
        "extramuscular": number(measures["extramuscular"]),
        "haq": number(measures["haq"]),
        "mmt": measures["mmt"],
        "cmas": measures["cmas"],
        "enzymes": {
            key: {"value": number(e["value"]), "uln": number(e["uln"]), "unit": e["unit"]}
            for key, e in measures["enzymes"].items()
        },
    }


def test_saved_follow_up_is_scored_against_the_baseline_on_commit(patient, save_visit):
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    assert not records().exists()  # a lone baseline has nothing to be compared with
    follow_up = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))

    stored = {r.algorithm: r for r in records(visit=follow_up)}
    assert set(stored) == ALGORITHMS
    for record in stored.values():
        assert (record.reference_visit_id, record.reference_kind) == (baseline.pk, "baseline")
        assert record.status == "done" and record.computed_at is not None
        assert record.computed_by.startswith("eager@")
        assert record.patient_id == patient.pk
    doi, tis = stored["imacs-doi-2004"], stored["acr-eular-2016"]
    assert doi.met is True
    assert doi.result["improved"] == ["enzyme", "extramuscular", "patient_global",
                                      "physician_global"]  # fmt: skip
    # physician 30 % → 17.5, patient 10 % → 2.5, extramuscular 20 % → 12.5, MMT 10 % → 10,
    # CK 75 % → 7.5, HAQ 0 → 0 (docs/scoring.md §3).
    assert (tis.score, tis.category, tis.complete) == (Decimal("50.0"), "moderate", True)
    assert tis.result["measures"]["mmt"] == {"percent_improvement": 10.0, "points": 10.0}
    assert stored["proderm-worsening-2022"].worsened is False
    assert stored["proderm-worsening-2022"].previous_visit_id is None


def test_stored_inputs_reproduce_the_result_with_the_calculator(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    tis = records(algorithm="acr-eular-2016").get()
    assert tis.inputs["population"] == "adult"
    assert tis.inputs["reference"]["measures"]["mmt"] == {"total": 119, "max": 150}
    assert tis.inputs["reference"]["measures"]["haq"] == "1.625"
    case = {
        "population": tis.inputs["population"],
        "baseline": calculator_input(tis.inputs["reference"]),
        "followup": calculator_input(tis.inputs["visit"]),
    }
    assert calculate_case(case)["acr_eular"] == tis.result
    doi = records(algorithm="imacs-doi-2004").get()
    assert calculate_case(case)["imacs_doi"] == doi.result


def test_enzymes_in_ukat_per_litre_score_as_in_units_per_litre(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = visit_doc("2020-04-08", **IMPROVED)
    # 500 U/L is 8.333… µkat/L; the ULN converts with it (200 U/L = 3.333… µkat/L), so use a
    # CK of 6 µkat/L with a ULN of 2.4 µkat/L: 360 and 144 U/L, the same ratio 2.5 as 500/200.
    follow_up["labs"]["ck"] = {"value": 6, "unit": "ukat/L", "uln": 2.4}
    save_visit(patient, follow_up)
    tis = records(algorithm="acr-eular-2016").get()
    assert tis.result["measures"]["enzyme"]["percent_improvement"] == 75.0
    assert tis.inputs["visit"]["measures"]["enzymes"]["ck"] == {
        "value": "6", "uln": "2.4", "unit": "ukat/L"}  # fmt: skip


def test_new_baseline_rescores_every_visit_against_it(patient, save_visit):
    first = save_visit(patient, visit_doc("2020-01-08"))
    second = save_visit(patient, visit_doc("2020-02-08"))
    third = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    assert set(records().values_list("reference_visit", flat=True)) == {first.pk}
    # The second visit becomes the baseline: the first is no longer scored, nor compared with.
    save_visit(patient, visit_doc("2020-02-08", "baseline"), visit=second)
    assert set(records().values_list("visit", "reference_visit")) == {(third.pk, second.pk)}
    assert records().count() == 3


def test_worsening_confirmed_at_two_consecutive_visits(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    worse = {"physician_global": 9.0, "extramuscular": 7.0, "mmt": 5}
    first = save_visit(patient, visit_doc("2020-03-08", **worse))
    second = save_visit(patient, visit_doc("2020-05-08", **worse))
    at_first = records(visit=first, algorithm="proderm-worsening-2022").get()
    at_second = records(visit=second, algorithm="proderm-worsening-2022").get()
    assert (at_first.worsened, at_first.confirmed) == (True, False)
    assert (at_second.worsened, at_second.confirmed) == (True, True)
    assert at_second.previous_visit_id == first.pk
    assert at_second.inputs["previous"]["id"] == first.pk
    assert at_second.result["previous"]["worsened"] is True


def test_treatment_episode_dates_decide_its_scored_visits(patient, save_visit, editor, on_commit):
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-03-01", **IMPROVED))
    late = save_visit(patient, visit_doc("2020-09-01", **IMPROVED))
    values = {"drug": "methotrexate", "dose": Decimal(15), "dose_unit": "mg/week",
              "route": "oral", "frequency": "weekly", "start_date": date(2020, 1, 10)}  # fmt: skip
    with on_commit():
        episode, _ = treatment_upsert(actor=editor, patient=patient, values=values)
    linked = ResponseEpisode.objects.filter(episode=episode)
    assert linked.count() == 2 * 3  # both follow-ups, three algorithms each
    assert set(records(episodes=episode).values_list("reference_kind", flat=True)) == {"baseline"}

    with on_commit():
        treatment_upsert(actor=editor, patient=patient, episode=episode,
                         values={**values, "stop_date": date(2020, 4, 1)})  # fmt: skip
    # Stopped on 1 April: the September visit is past stop + 30 days.
    assert not records(episodes=episode, visit=late).exists()
    assert records(visit=late, reference_visit=baseline).count() == 3


def test_episode_with_its_own_baseline_is_scored_as_treatment(
    patient, save_visit, editor, on_commit
):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    pre = save_visit(patient, visit_doc("2020-06-01"))
    after = save_visit(patient, visit_doc("2020-08-01", **IMPROVED))
    values = {"drug": "rituximab", "route": "iv", "start_date": date(2020, 6, 10)}
    with on_commit():
        episode, _ = treatment_upsert(actor=editor, patient=patient, values=values)
    treatment = records(visit=after, reference_visit=pre)
    assert treatment.count() == 3
    assert {r.reference_kind for r in treatment} == {"treatment"}
    assert {tuple(r.episodes.values_list("pk", flat=True)) for r in treatment} == {(episode.pk,)}


def test_onset_date_change_moves_patient_to_juvenile_thresholds(
    patient, save_visit, editor, on_commit
):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    assert records(algorithm="acr-eular-2016").get().category == "moderate"
    # Born April 1968: onset in June 1985 is at 17, so juvenile (docs/scoring.md §3): the TIS is
    # scored again with the JDM thresholds.
    values = {"patient_id": patient.patient_id, "sex": "female", "birth_year": 1968,
              "birth_month": 4, "diagnosis": "juvenile_dermatomyositis",
              "onset_date": date(1985, 6, 1), "diagnosis_date": date(1985, 9, 1)}  # fmt: skip
    with on_commit():
        patient_upsert(actor=editor, site=patient.site, values=values)
    tis = records(algorithm="acr-eular-2016").get()
    assert tis.inputs["population"] == "juvenile"
    assert tis.result["population"] == "juvenile"


def test_deleting_a_visit_removes_its_records_and_rescores_the_rest(
    patient, save_visit, editor, on_commit
):
    baseline = save_visit(patient, visit_doc("2020-01-08"))
    middle = save_visit(patient, visit_doc("2020-03-08"))
    last = save_visit(patient, visit_doc("2020-05-08"))
    worsening = records(visit=last, algorithm="proderm-worsening-2022").get()
    assert worsening.previous_visit_id == middle.pk
    with on_commit():
        visit_delete(actor=editor, visit=middle)
    assert not records(visit=middle).exists()
    assert records(visit=last, algorithm="proderm-worsening-2022").get().previous_visit is None
    # The baseline itself is deleted: the May visit is now the earliest, nothing to score.
    with on_commit():
        visit_delete(actor=editor, visit=baseline)
    assert not records().exists()
    assert Visit.objects.filter(pk=last.pk).exists()


def test_running_the_task_twice_changes_nothing(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    before = list(records().order_by("pk").values("pk", "computed_at", "result"))
    first = tasks.score_patients.apply(args=[[patient.pk]]).get()
    second = tasks.score_patients.apply(args=[[patient.pk]]).get()
    assert first == second == {"patients": 1, "written": 0, "unchanged": 3, "deleted": 0,
                               "failed": 0, "frozen": 0}  # fmt: skip
    assert list(records().order_by("pk").values("pk", "computed_at", "result")) == before


def test_forced_rescore_rewrites_in_place(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    before = dict(records().values_list("pk", "computed_at"))
    summary = score_patients(patient_ids=[patient.pk], force=True, computed_by="test")
    assert summary.written == 3
    after = dict(records().values_list("pk", "computed_at"))
    assert set(after) == set(before)  # upserted under the unique constraint: same rows
    assert all(after[pk] > before[pk] for pk in before)


def test_one_record_per_visit_reference_and_algorithm(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08"))
    record = records(algorithm="imacs-doi-2004").get()
    record.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()


def test_inputs_that_cannot_be_read_fail_the_record_with_the_error(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save_visit(patient, visit_doc("2020-04-08"))
    # Corrupt data written around the services (as a faulty import might): an unknown HAQ
    # category among the aids.
    HAQ.objects.filter(visit=follow_up).update(aids=["levitation"])
    score_patients(patient_ids=[patient.pk])
    failed = records(visit=follow_up)
    assert {r.status for r in failed} == {"failed"}
    assert all("levitation" in r.error or "aids" in r.error for r in failed)
    assert selectors.scoring_counts() == {"visits": 2, "scored": 1, "pending": 0, "stale": 0,
                                          "failed": 1}  # fmt: skip
    # Failures on unchanged data are not swept again (they would fail again)...
    assert [ids for _, ids in selectors.patients_needing_scoring()] == [[]]
    # ...but once the data is fixed, the record is stale and the sweep picks the patient up.
    HAQ.objects.filter(visit=follow_up).update(aids=["arising"])
    assert [ids for _, ids in selectors.patients_needing_scoring()] == [[patient.pk]]


def test_scores_hook_shows_records_grouped_by_reference(patient, save_visit):
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    scores = scoring_selectors.scores_for_visits([baseline.pk, follow_up.pk])
    assert scores.get(baseline.pk, []) == []
    [score] = scores[follow_up.pk]
    entry = score.as_json()
    assert entry["reference_visit"] == {"id": baseline.pk, "date": "2020-01-08"}
    assert (entry["reference_kind"], entry["episodes"], entry["status"]) == ("baseline", [], "done")
    assert entry["imacs_doi"]["met"] is True
    assert entry["acr_eular"]["score"] == 50.0
    assert entry["worsening"]["confirmed"] is False
    assert entry["computed_at"] is not None


def test_scores_hook_lists_comparisons_not_scored_yet_as_pending(patient, save_visit):
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = Visit.objects.create(patient=patient, visit_date=date(2020, 4, 8))
    [score] = scoring_selectors.scores_for_visits([follow_up.pk])[follow_up.pk]
    assert score.reference_id == baseline.pk
    assert (score.status, score.acr_eular) == ("pending", None)


def test_scores_hook_query_count_does_not_grow_with_visits(
    save_visit, django_assert_max_num_queries
):
    visit_ids = []
    for _ in range(6):
        patient = PatientFactory(birth_year=1968)
        save_visit(patient, visit_doc("2020-01-08", "baseline"))
        visit_ids.append(save_visit(patient, visit_doc("2020-04-08", **IMPROVED)).pk)
    with django_assert_max_num_queries(4):
        scores = scoring_selectors.scores_for_visits(visit_ids)
    assert all(len(scores[pk]) == 1 for pk in visit_ids)


def test_preview_hook_scores_without_storing(patient, save_visit):
    baseline = save_visit(patient, visit_doc("2020-01-08", "baseline"))
    with transaction.atomic():
        # A dry run: written, previewed, rolled back.
        follow_up = Visit.objects.create(
            patient=patient, visit_date=date(2020, 4, 8), physician_global=Decimal(3)
        )
        preview = scoring_selectors.preview_scores([patient.pk])
        transaction.set_rollback(True)
    assert not records().exists()
    [score] = preview[follow_up.pk]
    assert preview[baseline.pk] == []
    assert score.status == "preview"
    assert score.reference_id == baseline.pk
    # No MMT at the follow-up: the TIS cannot be computed (strength required), with the reason.
    assert score.acr_eular["score"] is None
    assert "strength" in score.acr_eular["reason"]


def test_unreachable_broker_at_save_leaves_the_visit_pending_until_the_sweep(
    patient, save_visit, monkeypatch, caplog
):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    first = save_visit(patient, visit_doc("2020-03-08"))

    def broker_down(*args, **kwargs):
        raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.score_patients, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING, logger="scoring.tasks"):
        follow_up = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
        save_visit(patient, visit_doc("2020-03-08", physician_global=1.0), visit=first)
    assert Visit.objects.filter(pk=follow_up.pk).exists()  # the save succeeded
    assert not records(visit=follow_up).exists()
    assert set(records(visit=first).values_list("status", flat=True)) == {"pending"}
    assert selectors.scoring_counts()["pending"] == 2
    assert "broker unreachable" in caplog.text
    assert patient.patient_id not in caplog.text and "2020-04-08" not in caplog.text

    monkeypatch.undo()
    # Within the grace period the periodic sweep leaves them to the task it assumes queued...
    assert tasks.sweep_stale.apply().get() == 0
    # ...past it (here: no grace, as `rescore --stale`) it scores them.
    assert tasks.sweep_stale.apply(kwargs={"grace_seconds": 0}).get() == 1
    assert set(records(visit=follow_up).values_list("status", flat=True)) == {"done"}
    assert records(visit=first, algorithm="imacs-doi-2004").get().result["measures"][
        "physician_global"]["percent_change"] == pytest.approx(83.33)  # fmt: skip
    assert selectors.scoring_counts() == {"visits": 3, "scored": 3, "pending": 0, "stale": 0,
                                          "failed": 0}  # fmt: skip


def test_data_changed_behind_the_pipeline_is_stale_and_swept(patient, save_visit):
    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    follow_up = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    # A bulk fix in SQL, around the services: nothing asked for scoring.
    Visit.objects.filter(pk=follow_up.pk).update(physician_global=Decimal("5.5"))
    assert selectors.scoring_counts()["stale"] == 1
    assert tasks.sweep_stale.apply().get() == 1  # stale needs no grace: nothing is queued for it
    assert selectors.scoring_counts()["scored"] == 2
    doi = records(visit=follow_up, algorithm="imacs-doi-2004").get()
    assert doi.inputs["visit"]["measures"]["physician_global"] == "5.5"


def test_inputs_text_and_worsening_are_what_the_instruments_give(patient, save_visit):
    """The fast paths of scoring.planning and scoring.compute (inputs put together as text, each
    visit's worsening reused as the next one's "previous") give exactly the documented objects."""
    from scoring.instruments import confirmed_deterioration, to_json

    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-03-08", physician_global=9.0, extramuscular=7.0, mmt=5))
    save_visit(patient, visit_doc("2020-05-08", physician_global=8.5, extramuscular=6.5, mmt=5))
    inputs = selectors.load_inputs([patient.pk])[patient.pk]
    for row in planning.expected_rows(inputs):
        comparison = row.comparison
        assert json.loads(
            planning.row_inputs_json(inputs, comparison, row.algorithm)
        ) == planning.row_inputs(inputs, comparison, row.algorithm)
        if row.algorithm == "proderm-worsening-2022":
            by_id = inputs.by_id
            previous = by_id[comparison.previous].measures if comparison.previous else None
            expected = confirmed_deterioration(
                by_id[comparison.reference].measures, previous, by_id[comparison.visit].measures
            )
            stored = records(visit=comparison.visit, algorithm=row.algorithm).get()
            assert stored.result == to_json(expected)
    assert records(algorithm="proderm-worsening-2022", confirmed=True).count() == 1


def test_forced_rescore_deletes_what_no_longer_applies_and_keeps_links(
    patient, save_visit, editor, on_commit
):
    first = save_visit(patient, visit_doc("2020-01-08"))
    second = save_visit(patient, visit_doc("2020-02-08"))
    third = save_visit(patient, visit_doc("2020-04-08", **IMPROVED))
    values = {"drug": "methotrexate", "route": "oral", "start_date": date(2020, 1, 10)}
    with on_commit():
        episode, _ = treatment_upsert(actor=editor, patient=patient, values=values)
    assert ResponseEpisode.objects.filter(episode=episode).count() == 6
    # Changed around the pipeline: the second visit becomes the baseline. The first stays the
    # episode's baseline, so its comparisons stay, as treatment ones, with their links.
    Visit.objects.filter(pk=second.pk).update(kind="baseline")
    summary = score_patients(patient_ids=[patient.pk], force=True)
    assert (summary.written, summary.deleted) == (9, 0)
    assert set(records().values_list("visit", "reference_visit", "reference_kind")) == {
        (second.pk, first.pk, "treatment"), (third.pk, first.pk, "treatment"),
        (third.pk, second.pk, "baseline")}  # fmt: skip
    assert ResponseEpisode.objects.filter(episode=episode).count() == 6
    assert set(records(episodes=episode).values_list("reference_visit", flat=True)) == {first.pk}
    # Without the episode nothing is compared with the first visit any more.
    ResponseEpisode.objects.filter(episode=episode).delete()
    episode.delete()
    summary = score_patients(patient_ids=[patient.pk], force=True)
    assert (summary.written, summary.deleted) == (3, 6)
    assert set(records().values_list("visit", "reference_visit")) == {(third.pk, second.pk)}
    assert selectors.scoring_counts()["scored"] == 3


def test_task_retries_transient_database_errors_only(patient, save_visit, monkeypatch):
    from django.db import OperationalError

    from scoring import services

    save_visit(patient, visit_doc("2020-01-08", "baseline"))
    save_visit(patient, visit_doc("2020-04-08"))
    real = services.score_patients
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["patient_ids"])
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    assert tasks.score_patients.acks_late and tasks.sweep_stale.acks_late
    monkeypatch.setattr(services, "score_patients", flaky)
    monkeypatch.setattr(tasks.score_patients, "retry_backoff", False)
    result = tasks.score_patients.apply(args=[[patient.pk]], kwargs={"force": True})
    assert result.successful()
    assert calls == [[patient.pk], [patient.pk]]

    def broken(**kwargs):
        calls.append(kwargs["patient_ids"])
        raise ValueError("a bug, not a transient fault")

    calls.clear()
    monkeypatch.setattr(services, "score_patients", broken)
    result = tasks.score_patients.apply(args=[[patient.pk]])
    assert result.failed()
    assert calls == [[patient.pk]]  # not retried
