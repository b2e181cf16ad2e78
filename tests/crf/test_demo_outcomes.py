"""The demo cohort's vital status, lung disease, HRCT scans and adverse events (crf.demo.outcomes):
drawn after everything else, valid for the writer, and distributed as the trials describe."""

from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command

import crf.demo.cohort as cohort_module
from crf.demo.cohort import CohortGenerator
from crf.demo.sites import demo_sites
from crf.models import AdverseEvent, AdverseEventRelation, HRCTAssessment, LungStatus, VitalStatus

TODAY = date.today()
OUTCOME_KEYS = ("vital_status", "lung", "hrct", "adverse_events")


@pytest.fixture(scope="module")
def cohort():
    return list(CohortGenerator(seed=1, sites=demo_sites(6), today=TODAY).patients(3000))


def _without_outcomes(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in OUTCOME_KEYS}


def test_the_outcome_records_leave_every_earlier_draw_as_it_was(monkeypatch):
    sites = demo_sites(4)
    with_outcomes = list(CohortGenerator(seed=3, sites=sites, today=TODAY).patients(80))
    monkeypatch.setattr(cohort_module, "add_outcomes", lambda rng, course, document: None)
    without = list(CohortGenerator(seed=3, sites=sites, today=TODAY).patients(80))
    assert [_without_outcomes(p.document) for p in with_outcomes] == [p.document for p in without]
    assert [p.visit_status for p in with_outcomes] == [p.visit_status for p in without]
    assert all(set(OUTCOME_KEYS) <= set(p.document) for p in with_outcomes)


def test_every_patient_has_a_vital_status_consistent_with_the_follow_up(cohort):
    for patient in cohort:
        vital = patient.document["vital_status"]
        course = patient.course
        expected = "dead" if course.death is not None else "unknown" if course.lost else "alive"
        assert vital["status"] == expected
        last_visit = max(v["visit_date"] for v in patient.document["visits"])
        assert vital["last_known_alive"] >= last_visit
        if expected == "dead":
            assert vital["death_date"][:7] >= vital["last_known_alive"][:7]


def test_deaths_concentrate_in_mda5_lung_disease_and_cancer_associated_tif1g(cohort):
    def death_rate(group):
        return sum(p.course.death is not None for p in group) / len(group)

    rp_ild = [p for p in cohort if p.course.profile.serology.rp_ild]
    tif1g = [
        p
        for p in cohort
        if p.course.profile.msa == "anti-TIF1-gamma" and not p.course.profile.juvenile
    ]
    everyone = death_rate(cohort)
    assert death_rate(rp_ild) > 5 * everyone
    assert death_rate(tif1g) > 1.5 * everyone
    causes = Counter(
        p.document["vital_status"]["cause_category"] for p in tif1g if p.course.death is not None
    )
    assert causes.most_common(1)[0][0] == "malignancy"
    ild_deaths = Counter(
        p.document["vital_status"]["cause_category"]
        for p in rp_ild
        if p.course.death is not None and p.course.death <= 200
    )
    assert ild_deaths.most_common(1)[0][0] == "interstitial_lung_disease"


def _combined_within_14_days(patient) -> bool:
    starts: dict[str, date] = {}
    for treatment in patient.document["treatments"]:
        starts.setdefault(treatment["drug"], date.fromisoformat(treatment["start_date"]))
    glucocorticoid = [
        starts[d] for d in ("methylprednisolone_iv", "prednisone", "prednisolone") if d in starts
    ]
    if not {"tacrolimus", "cyclophosphamide"} <= set(starts) or not glucocorticoid:
        return False
    first = [starts["tacrolimus"], starts["cyclophosphamide"], min(glucocorticoid)]
    return (max(first) - min(first)).days <= 14


def test_combined_up_front_therapy_does_better_than_step_up_in_mda5_rp_ild(cohort):
    # Patients whose first-line treatment the registry saw (referrals arrive treated already).
    rp_ild = [p for p in cohort if p.course.profile.serology.rp_ild and p.course.profile.incident]
    assert all(_combined_within_14_days(p) == p.course.upfront for p in rp_ild)

    def six_month_survival(combined: bool) -> float:
        group = [
            p
            for p in rp_ild
            if p.course.upfront == combined and (p.course.death is not None or p.course.end >= 183)
        ]
        assert len(group) >= 8
        return sum(p.course.death is None or p.course.death > 183 for p in group) / len(group)

    # The anti-MDA5 trial: 89 % with combined up-front therapy, 33 % step-up.
    assert six_month_survival(True) > 0.75
    assert six_month_survival(False) < 0.5


def test_lung_disease_in_anti_synthetase_patients_with_some_progression(cohort):
    asys = [p for p in cohort if p.document["diagnosis"] == "antisynthetase_syndrome"]
    with_ild = [p for p in asys if (p.document["lung"] or {}).get("ild") == "yes"]
    assert len(with_ild) / len(asys) > 0.5
    scans = [scan for p in with_ild for scan in p.document["hrct"]]
    progressed = [scan["progression"] for scan in scans if scan["progression"] is not None]
    assert 0.1 < sum(progressed) / len(progressed) < 0.4
    assert Counter(scan["pattern"] for scan in scans).most_common(1)[0][0] == "nsip"


def test_adverse_events_at_plausible_rates_and_fatal_ones_match_the_deaths(cohort):
    episodes: Counter = Counter()
    events: Counter = Counter()
    serious = fatal = total = 0
    for patient in cohort:
        document = patient.document
        for treatment in document["treatments"]:
            episodes[treatment["drug"]] += 1
        for event in document["adverse_events"]:
            total += 1
            serious += event["serious"]
            for related in event["related_to"][:1]:
                events[(related["drug"], event["category"])] += 1
            if event["outcome"] == "fatal":
                fatal += 1
                vital = document["vital_status"]
                assert vital["status"] == "dead"
                assert vital["death_date"] >= event["onset_date"]
                assert vital["cause_category"] == "infection"
    # IVIG: thromboembolic events in about 6 of 95 courses, infusion reactions more often.
    assert 0.03 < events[("ivig", "thromboembolic")] / episodes["ivig"] < 0.1
    assert events[("ivig", "infusion_reaction")] > events[("ivig", "thromboembolic")]
    assert events[("cyclophosphamide", "infection")] / episodes["cyclophosphamide"] > 0.1
    assert events[("rituximab", "infection")] > 0
    assert events[("prednisone", "hyperglycaemia")] > 0
    assert events[("prednisone", "osteoporotic_fracture")] > 0
    assert 0.05 < serious / total < 0.4
    assert 0 < fatal < serious


@pytest.mark.django_db(transaction=True)
def test_seeding_stores_the_outcome_records_through_the_writer():
    call_command(
        "seed_demo", patients=60, sites=3, seed=7, today=TODAY, no_scoring=True,
        stdout=open("/dev/null", "w"),
    )  # fmt: skip
    assert VitalStatus.objects.count() == 60
    for model in (LungStatus, HRCTAssessment, AdverseEvent, AdverseEventRelation):
        rows = list(model.objects.all())
        assert rows, model
        for row in rows[::3]:
            row.full_clean()
    assert not AdverseEvent.objects.filter(onset_date__gt=TODAY).exists()
