"""Signed visits in the reports (issue 13): a locked visit's response records stay as they were
signed, with their links to treatment episodes; after an episode's baseline or window changes,
the reports count only the records against the episode's current baseline, inside its current
window, and the visit page marks the frozen ones the reports leave out.

The patient (site AAA): visits 2020-01-01 (baseline), 2020-03-25 A (as the baseline),
2020-05-01 M and 2020-06-01 L (both MODERATE: TIS 50 against A, DOI met). Rituximab from
2020-04-01, ongoing: baseline A, follow-ups M (day 30) and L (day 61, the week 12 visit),
a confirmed response. L is signed.
"""

import csv
import io
from datetime import date

import pytest
from django.test import TestCase
from django.urls import reverse

from crf.models import Visit
from crf.services import visit_save, visit_sign, visit_verify
from registry.models import TreatmentEpisode
from registry.services import treatment_upsert
from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment
from reports.selectors import outcome_rows, signed_against_earlier_baseline
from scoring.models import ResponseRecord
from tests.factories import actor_with_role
from tests.reports.conftest import ACTOR, patient, save_document, treatment, visit

pytestmark = pytest.mark.django_db

TIS = ResponseRecord.Algorithm.ACR_EULAR


@pytest.fixture
def signed(sites):
    """The patient of the module docstring, with L signed. Returns (patient, episode, visits)."""
    site = sites["AAA"]
    document = patient(
        "S1", diagnosis="dermatomyositis", antibody="anti-Mi-2",
        visits=[visit("2020-01-01", "BASELINE"), visit("2020-03-25", "SAME"),
                visit("2020-05-01", "MODERATE"), visit("2020-06-01", "MODERATE")],
        treatments=[treatment("rituximab", "2020-04-01")],
    )  # fmt: skip
    patient_id = save_document(site, document)["id"]
    visits = {v.visit_date.isoformat(): v for v in Visit.objects.filter(patient_id=patient_id)}
    last = visits["2020-06-01"]
    visit_verify(actor=actor_with_role(site, "monitor"), visit=last)
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_sign(
            actor=actor_with_role(site, "investigator"), visit=last, password="pw",
            meaning="approval",
        )  # fmt: skip
    episode = TreatmentEpisode.objects.get(patient_id=patient_id)
    return last.patient, episode, visits


def outcome(episode):
    return next(outcome_rows(TreatmentEpisode.objects.filter(pk=episode.pk)))


def tis_against(visit_, reference):
    return ResponseRecord.objects.get(visit=visit_, reference_visit=reference, algorithm=TIS)


def test_a_signed_visit_counts_while_its_episode_is_unchanged(signed):
    _, episode, visits = signed
    e = outcome(episode)
    assert (e.scored, e.best_score, e.last_scored_day, e.confirmed_response) == (2, 50.0, 61, True)
    assert e.weeks[12] == (50.0, "moderate")
    assert signed_against_earlier_baseline([v.pk for v in visits.values()]) == {}


def test_a_frozen_record_against_a_baseline_the_episode_no_longer_has_is_not_counted(signed):
    patient_, episode, visits = signed
    last, old_baseline = visits["2020-06-01"], visits["2020-03-25"]
    # A visit nearer the start becomes the episode's baseline (B): M and L no longer improve.
    with TestCase.captureOnCommitCallbacks(execute=True):
        new_baseline, _ = visit_save(
            actor=ACTOR, patient=patient_, data=visit("2020-03-30", "MODERATE")
        )
    # L is signed: its record against A stays as it was, still linked to the episode; the
    # comparison against B, which it never had, is scored.
    frozen = tis_against(last, old_baseline)
    assert (frozen.score, list(frozen.episodes.all())) == (50, [episode])
    assert tis_against(last, new_baseline).score == 0

    e = outcome(episode)
    assert e.baseline_date == date(2020, 3, 30)
    assert (e.scored, e.best_score, e.best_category) == (2, 0.0, "none")
    assert (e.doi_met, e.confirmed_response, e.weeks[12]) == (False, False, (0.0, "none"))
    row = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide()).rows[0]
    assert (row.doi_responders.count, row.confirmed_responders.count) == (0, 0)
    assert row.tis.median == 0
    assert signed_against_earlier_baseline([last.pk, visits["2020-05-01"].pk]) == {
        last.pk: {old_baseline.pk}
    }


def test_a_frozen_record_of_a_visit_outside_the_shrunk_window_is_not_counted(signed):
    patient_, episode, visits = signed
    last = visits["2020-06-01"]
    # Stopped on 2020-04-15: the window ends on 2020-05-15, with M in it and L out.
    with TestCase.captureOnCommitCallbacks(execute=True):
        treatment_upsert(
            actor=ACTOR, patient=patient_, episode=episode, values={"stop_date": date(2020, 4, 15)}
        )
    assert list(tis_against(last, visits["2020-03-25"]).episodes.all()) == [episode]

    e = outcome(episode)
    assert (e.scored, e.last_scored_day, e.days_to_doi) == (1, 30, (30, True))
    assert (e.confirmed_response, e.weeks[12]) == (False, (None, None))
    assert e.last_visit_date == date(2020, 5, 1)
    row = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide()).rows[0]
    assert (row.confirmed_responders.count, row.weeks[12].tis.n) == (0, 0)
    assert signed_against_earlier_baseline([last.pk]) == {last.pk: {visits["2020-03-25"].pk}}


def test_pages_and_exports_leave_the_frozen_record_out(signed, client, people):
    patient_, episode, visits = signed
    last = visits["2020-06-01"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        treatment_upsert(
            actor=ACTOR, patient=patient_, episode=episode, values={"stop_date": date(2020, 4, 15)}
        )
    client.force_login(people["inv_a"])

    detail = client.get(reverse("reports:episode", args=[episode.pk]))
    assert [v["visit"].pk for v in detail.context["visits"]] == [visits["2020-05-01"].pk]

    page = client.get(reverse("web:visit", args=[last.pk]))
    assert page.context["earlier_baselines"] == {visits["2020-03-25"].pk}
    assert "signed against an earlier baseline" in page.content.decode()
    other = client.get(reverse("web:visit", args=[visits["2020-05-01"].pk]))
    assert "signed against an earlier baseline" not in other.content.decode()

    # The long export keeps the signed record's rows, without the episode it no longer measures.
    lines = b"".join(client.get(reverse("reports:long-csv")).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(lines)))
    episodes_of = {(r["visit_date"], r["reference_date"]): r["episode_ids"] for r in rows}
    assert episodes_of[("2020-06-01", "2020-03-25")] == ""
    assert episodes_of[("2020-05-01", "2020-03-25")] == str(episode.pk)
