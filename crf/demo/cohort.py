"""A synthetic demo cohort that looks real to a rheumatologist (seed_demo;
docs/clinical-context.md).

Pure Python, no database nor Django: `CohortGenerator` turns a seed and a reference date
("today") into submission documents (docs/data-dictionary.md) — patients, autoantibody panels,
treatment episodes and visit series — with each visit's workflow status and the signature of each
locked visit. The same seed and reference date give the same cohort, value for value, because every
patient draws from its own `random.Random` seeded by (seed, patient number); patient N is the
same whether 100 or 100,000 are made. `crf.demo.store` writes them.

How a patient is made, stage by stage, each stage drawing from the patient's stream in turn:
who the patient is (crf.demo.patient, crf.demo.serology), how long they are followed and when
the visits fall (crf.demo.followup), the treatments decided at each visit and the disease
activity they shape (crf.demo.treatments), what each visit measures (crf.demo.instruments), and
where each visit stands in the workflow (crf.demo.workflow).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crf.demo.classification import classification_stream, draw_classification
from crf.demo.followup import Schedule, draw_outcome
from crf.demo.instruments import Examiner
from crf.demo.outcomes import PatientCourse, add_outcomes
from crf.demo.patient import Profile, draw_profile
from crf.demo.serology import antibody_results
from crf.demo.sites import SiteProfile
from crf.demo.treatments import Regimen
from crf.demo.workflow import PlannedSignature, draw_signatures, draw_statuses
from registry.vocabularies import stop_reason_code


@dataclass
class SyntheticPatient:
    site_code: str
    document: dict[str, Any]  # one patient of the submission document
    visit_status: dict[str, str]  # visit date (ISO) -> workflow status
    signatures: dict[str, PlannedSignature] = field(default_factory=dict)  # of locked visits
    # What the outcome records follow (crf.demo.outcomes), drawn after everything else.
    course: PatientCourse | None = None


class CohortGenerator:
    """Makes the cohort patient by patient; see the module docstring."""

    def __init__(self, *, seed: int, sites: Sequence[SiteProfile], today: date) -> None:
        self.seed = seed
        self.sites = list(sites)
        self.today = today
        self._numbers: dict[str, int] = {}
        weights = [site.size for site in self.sites]
        self._cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]

    def patients(self, count: int, start: int = 0) -> Iterator[SyntheticPatient]:
        """Patients number start .. start+count-1; call in order to keep site ids sequential."""
        for index in range(start, start + count):
            rng = random.Random(f"{self.seed}:{index}")
            site = self.sites[
                bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
            ]
            number = self._numbers.get(site.code, 0) + 1
            self._numbers[site.code] = number
            patient = synthetic_patient(rng, site, f"{site.code}-{number:04d}", self.today)
            # Its own stream, drawn last: the rest of the patient is the same without it.
            patient.document["classification"] = draw_classification(
                classification_stream(self.seed, index), patient.document
            )
            # Vital status, lung disease and adverse events (issue 14) from a stream of their
            # own, so that everything drawn before them stays as it was.
            assert patient.course is not None
            add_outcomes(
                random.Random(f"{self.seed}:{index}:outcomes"), patient.course, patient.document
            )
            yield patient


def synthetic_patient(
    rng: random.Random, site: SiteProfile, patient_id: str, today: date
) -> SyntheticPatient:
    profile = draw_profile(rng, site, patient_id, today)
    end = profile.day(today)
    upfront, death = draw_outcome(rng, profile, end)
    if death is not None:
        end = min(end, death - 1)
    schedule = Schedule(rng, end)
    schedule.plan()
    lost = death is None and schedule.end < end
    regimen = Regimen(rng, profile, schedule, upfront=upfront)
    regimen.start()
    examiner = Examiner(rng, profile)
    # Visits in date order; each is measured from what has happened up to its date, then may
    # trigger a change of treatment (so it is that episode's baseline). A decision may add a
    # later visit (a flare, the end of a course): the list grows while it is walked.
    visits: list[dict[str, Any]] = []
    index = 0
    while index < len(schedule.visits):
        visit = schedule.visits[index]
        regimen.before_visit(visit.day)
        visits.append(
            examiner.visit(
                visit,
                activity=regimen.course.at(visit.day),
                gc_dose=regimen.gc.dose(visit.day),
                plex_until=regimen.plex_until,
            )
        )
        regimen.decide_at(visit)
        index += 1
    regimen.episodes.close(death, responding=regimen.responding)
    if rng.random() < 0.02 and len(schedule.visits) > 1:
        # Entered from another registry without a visit marked as the baseline.
        visits[0]["kind"] = "follow_up"

    document, stop_reasons = _document(rng, profile, regimen, visits)
    statuses = draw_statuses(rng, profile, schedule.visits)
    # Drawn last: the signatures came with issue 13, and leave everything before them as it was.
    signatures = draw_signatures(rng, profile, schedule.visits, statuses)
    status_by_date = {v["visit_date"]: s for v, s in zip(visits, statuses, strict=True)}
    course = PatientCourse(profile, upfront, death, lost, schedule.end, stop_reasons)
    return SyntheticPatient(site.code, document, status_by_date, signatures, course)


def _document(
    rng: random.Random, profile: Profile, regimen: Regimen, visits: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """One patient of the submission document, and the stop reasons as the clinic wrote them
    by (drug, start date): the document sends their codes (registry.vocabularies.StopReason)."""
    onset = profile.day(profile.onset)
    treatments = []
    stop_reasons: dict[tuple[str, str], str] = {}
    for episode in sorted(regimen.episodes.items, key=lambda e: (e.start, e.drug)):
        code, other_reason = stop_reason_code(episode.reason)
        treatment: dict[str, Any] = {
            "drug": episode.drug,
            "dose": episode.dose,
            "dose_unit": episode.unit,
            "route": episode.route,
            "frequency": episode.frequency,
            "start_date": profile.date(max(episode.start, onset)),
            "stop_date": None if episode.stop is None else profile.date(episode.stop),
            "stop_reason": code or None,
        }
        if other_reason:
            treatment["stop_reason_other"] = other_reason
        if episode.other:
            treatment["drug_other"] = episode.other
        treatments.append(treatment)
        if episode.reason:
            stop_reasons[(episode.drug, treatment["start_date"])] = episode.reason
    document = {
        "patient_id": profile.patient_id,
        "sex": "female" if profile.female else "male",
        "birth_year_month": f"{profile.birth.year:04d}-{profile.birth.month:02d}",
        "diagnosis": profile.dx,
        "onset_date": profile.onset.isoformat(),
        "diagnosis_date": profile.diagnosis.isoformat() if profile.diagnosis_known else None,
        "autoantibodies": antibody_results(
            rng,
            profile.serology,
            dx=profile.dx,
            method=profile.site.antibody_method,
            t0=profile.t0,
            onset=onset,
            diagnosed=profile.day(profile.diagnosis),
        ),
        "treatments": treatments,
        "visits": visits,
    }
    return document, stop_reasons
