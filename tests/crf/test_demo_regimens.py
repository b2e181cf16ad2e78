"""The demo's anti-MDA5 patients treated up front (crf.demo.followup.draw_outcome) are those the
survival report's regimen definition (reports.regimens) reads as combined from their episodes:
glucocorticoids, tacrolimus and cyclophosphamide started within 14 days of each other."""

from collections import Counter
from datetime import date

from crf.demo.clinical import MDA5
from crf.demo.cohort import CohortGenerator
from crf.demo.sites import demo_sites
from reports.regimens import COMBINED, STEP_UP, classify


def test_up_front_patients_are_read_as_combined_and_the_others_as_step_up():
    generator = CohortGenerator(seed=1, sites=demo_sites(6), today=date(2026, 6, 1))
    found: Counter = Counter()
    for patient in generator.patients(1200):
        if patient.course is None or patient.course.profile.msa != MDA5:
            continue
        episodes = [
            (date.fromisoformat(t["start_date"]), t["drug"]) for t in patient.document["treatments"]
        ]
        regimen = classify(episodes)
        assert regimen is not None  # every anti-MDA5 patient of the demo is treated
        found[patient.course.upfront, regimen.regimen] += 1
    assert found[True, COMBINED] >= 10 and found[False, STEP_UP] >= 10
    assert found[True, STEP_UP] == found[False, COMBINED] == 0
