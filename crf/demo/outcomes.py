"""Vital status, lung disease, HRCT scans and adverse events of a generated patient (issue 14).

Drawn after everything else, from a stream of its own ((seed, patient number, "outcomes"); see
crf.demo.cohort), so the rest of a patient stays exactly as it was before these records existed.
They follow what the earlier stages decided: who died and when (crf.demo.followup.draw_outcome:
anti-MDA5 rapidly progressive ILD above all, 6-month survival 89 % with up-front combination vs
33 % step-up; cancer-associated anti-TIF1-γ dermatomyositis), who has lung disease
(crf.demo.serology), which treatments ran when, and which were stopped for an adverse event.

Adverse events come at plausible rates per patient-year of exposure (or per course): infusion
reactions and thromboembolic events on IVIG (ProDERM: 6 thromboembolic events in 95 patients),
infections on cyclophosphamide and rituximab, hyperglycaemia and fractures on glucocorticoids;
an infection also suspected of a glucocorticoid given at the same time; some serious, a few
fatal — those are the deaths from infection, with the vital status saying so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crf.demo.clinical import ANTISYNTHETASE, MDA5, TIF1G, weighted
from crf.demo.patient import Profile

GLUCOCORTICOIDS = ("prednisone", "prednisolone", "methylprednisolone_iv")
INFECTIONS = ("Pneumonia", "Urinary tract infection", "Cellulitis", "Lower respiratory infection")
OPPORTUNISTIC = ("Herpes zoster", "Pneumocystis jirovecii pneumonia", "CMV reactivation")


@dataclass(frozen=True)
class Risk:
    """Events of one category on one drug: per patient-year of exposure, or per course."""

    category: str
    terms: tuple[str, ...]
    rate: float
    per_course: bool = False
    serious: float = 0.1  # share serious (hospitalisation)
    days: tuple[int, int] = (7, 28)  # duration
    action: tuple[tuple[str, float], ...] = (("none", 70), ("interrupted", 30))


RISKS: dict[str, tuple[Risk, ...]] = {
    "ivig": (
        Risk("infusion_reaction", ("Infusion reaction: headache", "Infusion reaction: fever",
             "Infusion reaction: rash"), 0.2, per_course=True, serious=0.03, days=(1, 3),
             action=(("none", 60), ("interrupted", 30), ("withdrawn", 10))),
        Risk("thromboembolic", ("Deep vein thrombosis", "Pulmonary embolism", "Ischaemic stroke",
             "Myocardial infarction"), 0.065, per_course=True, serious=0.6, days=(30, 120),
             action=(("interrupted", 45), ("withdrawn", 40), ("none", 15))),
    ),
    "cyclophosphamide": (
        Risk("infection", INFECTIONS, 0.45, serious=0.4, action=(("interrupted", 60),
             ("dose_reduced", 15), ("none", 25))),
        Risk("opportunistic_infection", OPPORTUNISTIC, 0.12, serious=0.5, days=(14, 42),
             action=(("interrupted", 70), ("none", 30))),
        Risk("cytopenia", ("Leukopenia", "Neutropenia"), 0.3, serious=0.1, days=(10, 40),
             action=(("dose_reduced", 50), ("interrupted", 30), ("none", 20))),
    ),
    "rituximab": (
        Risk("infection", INFECTIONS, 0.3, serious=0.3),
        Risk("opportunistic_infection", OPPORTUNISTIC[:1], 0.05, serious=0.2, days=(14, 42)),
        Risk("infusion_reaction", ("Infusion reaction",), 0.12, per_course=True, serious=0.05,
             days=(1, 2), action=(("none", 50), ("interrupted", 50))),
    ),
    "glucocorticoid": (
        Risk("hyperglycaemia", ("Steroid-induced hyperglycaemia", "Steroid-induced diabetes"),
             0.1, serious=0.05, days=(60, 365), action=(("dose_reduced", 40), ("none", 60))),
        Risk("osteoporotic_fracture", ("Vertebral compression fracture", "Hip fracture",
             "Wrist fracture"), 0.035, serious=0.5, days=(60, 180),
             action=(("none", 70), ("dose_reduced", 30))),
        Risk("infection", INFECTIONS, 0.08, serious=0.25, action=(("none", 100),)),
    ),
    "methotrexate": (Risk("hepatotoxicity", ("Raised transaminases",), 0.06, serious=0.0,
                          days=(14, 90), action=(("dose_reduced", 60), ("interrupted", 40))),),
    "azathioprine": (
        Risk("cytopenia", ("Leukopenia",), 0.05, serious=0.05, days=(14, 60)),
        Risk("hepatotoxicity", ("Raised transaminases",), 0.04, serious=0.0, days=(14, 90)),
    ),
    "mycophenolate": (Risk("infection", INFECTIONS, 0.08, serious=0.2),),
    "tacrolimus": (
        Risk("infection", INFECTIONS, 0.08, serious=0.25),
        Risk("other", ("Nephrotoxicity", "Tremor"), 0.06, serious=0.0, days=(30, 120),
             action=(("dose_reduced", 70), ("none", 30))),
    ),
    "ciclosporin": (Risk("other", ("Hypertension", "Nephrotoxicity"), 0.06, serious=0.0,
                         days=(30, 120), action=(("dose_reduced", 70), ("none", 30))),),
    "tofacitinib": (
        Risk("opportunistic_infection", ("Herpes zoster",), 0.06, serious=0.1, days=(14, 42)),
        Risk("infection", INFECTIONS, 0.08, serious=0.2),
    ),
}  # fmt: skip

# Stop reasons of crf.demo.episodes: the event that made the drug stop.
STOPPED_FOR = {
    "adverse event: raised transaminases": ("hepatotoxicity", "Raised transaminases"),
    "adverse event: leukopenia": ("cytopenia", "Leukopenia"),
    "adverse event: mouth ulcers": ("other", "Mouth ulcers"),
    "adverse event: nausea": ("other", "Nausea"),
    "adverse event: diarrhoea": ("other", "Diarrhoea"),
    "adverse event: nephrotoxicity": ("other", "Nephrotoxicity"),
    "adverse event: tremor": ("other", "Tremor"),
    "adverse event: hypertension": ("other", "Hypertension"),
    "adverse event": ("other", "Intolerance"),
}
CANCERS = ("Ovarian carcinoma", "Lung carcinoma", "Breast carcinoma", "Gastric carcinoma",
           "Nasopharyngeal carcinoma", "Colorectal carcinoma")  # fmt: skip


@dataclass(frozen=True)
class PatientCourse:
    """What the earlier stages decided that these records follow (crf.demo.cohort)."""

    profile: Profile
    upfront: bool  # anti-MDA5 lung disease treated with a combination up front
    death: int | None  # day of death (days from baseline)
    lost: bool  # lost to follow-up
    end: int  # the last day of follow-up
    # Stop reasons as the clinic wrote them, by (drug, start date): the document has their codes.
    stop_reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class _Episode:
    drug: str
    start_date: str
    start: int
    stop: int | None
    reason: str

    def active(self, day: int) -> bool:
        return self.start <= day and (self.stop is None or day <= self.stop)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def add_outcomes(rng: random.Random, course: PatientCourse, document: dict[str, Any]) -> None:
    """Add `vital_status`, `lung`, `hrct` and `adverse_events` to a patient's document."""
    Draw(rng, course, document).run()


class Draw:
    def __init__(self, rng: random.Random, course: PatientCourse, document: dict) -> None:
        self.rng, self.course, self.document = rng, course, document
        self.profile = course.profile
        visits = [self.profile.day(date.fromisoformat(v["visit_date"])) for v in document["visits"]]
        self.last_visit = max(visits)
        self.episodes = [
            _Episode(
                t["drug"],
                t["start_date"],
                self.profile.day(date.fromisoformat(t["start_date"])),
                None if t["stop_date"] is None else self.profile.day(
                    date.fromisoformat(t["stop_date"])
                ),
                course.stop_reasons.get((t["drug"], t["start_date"]), t.get("stop_reason") or ""),
            )
            for t in document["treatments"]
        ]  # fmt: skip
        self.events: dict[tuple[str, str, str], dict[str, Any]] = {}

    def date(self, day: int) -> str:
        return self.profile.date(day)

    def run(self) -> None:
        known = self.last_visit
        if self.course.death is None and not self.course.lost and self.rng.random() < 0.3:
            # A later contact (a letter, a phone call) after the last visit.
            today = self.profile.day(self.profile.today)
            known = min(today, known + self.rng.randint(1, 180))
        self.known = known
        fatal = self._death_cause()
        self.document["lung"] = self._lung()
        self.document["hrct"] = self._hrct()
        self._adverse_events()
        if fatal is not None:
            self._fatal_event(*fatal)
        self.document["vital_status"] = self._vital_status(fatal is not None)
        self.document["adverse_events"] = sorted(
            self.events.values(), key=lambda e: (e["onset_date"], e["category"], e["term"])
        )

    # -- death -------------------------------------------------------------------------------

    def _death_cause(self) -> tuple[str, str] | None:
        """The cause of death (category, text); the fatal event's (category, term) when the
        death was an infection, else None."""
        self.cause: tuple[str, str] | None = None
        death = self.course.death
        if death is None:
            return None
        rng, serology = self.rng, self.profile.serology
        if serology.rp_ild and death <= 200:
            if rng.random() < 0.15:
                self.cause = ("infection", "Opportunistic infection on combination therapy")
                return ("opportunistic_infection", rng.choice(OPPORTUNISTIC[1:]))
            self.cause = ("interstitial_lung_disease", "Rapidly progressive ILD (anti-MDA5)")
            return None
        if serology.msa == TIF1G and not self.profile.juvenile and rng.random() < 0.7:
            self.cause = ("malignancy", rng.choice(CANCERS))
            return None
        weights = {"infection": 25, "cardiovascular": 25, "myositis": 10, "malignancy": 12,
                   "other": 10, "unknown": 8}  # fmt: skip
        if serology.ild:
            weights["interstitial_lung_disease"] = 35 if serology.msa in ANTISYNTHETASE else 20
        category = weighted(rng, weights)
        texts = {
            "infection": "Sepsis",
            "cardiovascular": rng.choice(("Myocardial infarction", "Heart failure", "Stroke")),
            "myositis": "Refractory myositis with respiratory muscle weakness",
            "malignancy": rng.choice(CANCERS),
            "interstitial_lung_disease": "Progressive pulmonary fibrosis",
            "other": "",
            "unknown": "",
        }
        self.cause = (category, texts[category])
        if category == "infection":
            return ("infection", rng.choice(("Sepsis", "Pneumonia")))
        return None

    def _vital_status(self, fatal_event: bool) -> dict[str, Any]:
        rng, death = self.rng, self.course.death
        if death is None:
            return {
                "status": "unknown" if self.course.lost else "alive",
                "last_known_alive": self.date(self.known),
                "source": "medical_records",
            }
        assert self.cause is not None
        when = date.fromisoformat(self.date(death))
        death_date = when.isoformat()
        fifteenth = when.replace(day=15)
        if (
            not fatal_event
            and rng.random() < 0.1
            and date.fromisoformat(self.date(self.known)) <= fifteenth <= self.profile.today
        ):
            death_date = death_date[:7]  # only the month is known
        source = weighted(
            rng, {"medical_records": 75, "registry_linkage": 12, "relative": 10, "other": 3}
        )
        return {
            "status": "dead",
            "last_known_alive": self.date(self.known),
            "death_date": death_date,
            "cause_category": self.cause[0],
            "cause_text": self.cause[1] or None,
            "source": source,
        }

    def _fatal_event(self, category: str, term: str) -> None:
        death = self.course.death
        assert death is not None
        rng = self.rng
        onset = max(1, death - rng.randint(2, 21))
        suspects = [e for e in self.episodes if e.start <= onset and e.active(death - 1)]
        related = []
        for episode in suspects:
            if episode.drug in ("cyclophosphamide", "rituximab", "tacrolimus", *GLUCOCORTICOIDS):
                relatedness = "probable" if episode.drug == "cyclophosphamide" else "possible"
                related.append(self._related(episode, relatedness, "not_applicable"))
        self._add(
            {
                "term": term,
                "category": category,
                "onset_date": self.date(onset),
                "end_date": self.date(death),
                "severity": "severe",
                "ctcae_grade": 5,
                "serious": True,
                "serious_criteria": ["death", "hospitalisation"],
                "related_to": related,
                "outcome": "fatal",
            }
        )

    # -- lungs --------------------------------------------------------------------------------

    def _lung(self) -> dict[str, Any] | None:
        rng, profile = self.rng, self.profile
        if not profile.ild:
            if rng.random() < 0.05:
                return None  # not recorded
            return {"ild": "unknown" if rng.random() < 0.1 else "no"}
        onset = profile.onset + timedelta(days=rng.randint(-120, 240))
        latest = min(profile.today, profile.t0 + timedelta(days=30))
        onset = max(min(onset, latest), profile.birth)
        self.ild_onset = onset
        return {
            "ild": "yes",
            "ild_onset_date": onset.isoformat(),
            "rapidly_progressive": profile.serology.rp_ild,
        }

    def _hrct(self) -> list[dict[str, Any]]:
        rng, profile = self.rng, self.profile
        if not profile.ild:
            return []
        msa = profile.msa
        if msa in ANTISYNTHETASE:
            patterns = {"nsip": 50, "nsip_op": 20, "op": 10, "uip": 12, "indeterminate": 8}
        elif msa == MDA5:
            patterns = {"op": 30, "nsip_op": 35, "nsip": 20, "indeterminate": 15}
        else:
            patterns = {"nsip": 45, "op": 15, "nsip_op": 15, "uip": 10, "indeterminate": 10,
                        "other": 5}  # fmt: skip
        progression = 0.7 if profile.serology.rp_ild else 0.2 if msa in ANTISYNTHETASE else 0.15
        day = profile.day(self.ild_onset) + rng.randint(0, 30)
        pattern = weighted(rng, patterns)
        scans: list[dict[str, Any]] = []
        interval = (40, 90) if profile.serology.rp_ild else (300, 430)
        while day <= self.known and len(scans) < 5:
            scans.append(
                {
                    "date": self.date(day),
                    "pattern": pattern,
                    "progression": None if not scans else rng.random() < progression,
                }
            )
            if rng.random() < 0.1:
                pattern = weighted(rng, patterns)
            day += rng.randint(*interval)
        return scans

    # -- adverse events -----------------------------------------------------------------------

    def _related(self, episode: _Episode, relatedness: str, action: str) -> dict[str, Any]:
        return {
            "drug": episode.drug,
            "start_date": episode.start_date,
            "relatedness": relatedness,
            "action": action,
        }

    def _add(self, event: dict[str, Any]) -> None:
        key = (event["category"], event["term"], event["onset_date"])
        self.events.setdefault(key, event)

    def _adverse_events(self) -> None:
        rng = self.rng
        for episode in self.episodes:
            stop = self.known if episode.stop is None else min(episode.stop, self.known)
            if stop < episode.start:
                continue
            years = max(stop - episode.start, 1) / 365.25
            kind = "glucocorticoid" if episode.drug in GLUCOCORTICOIDS else episode.drug
            for risk in RISKS.get(kind, ()):
                if risk.per_course:
                    count = int(rng.random() < risk.rate)
                else:
                    count = min(_poisson(rng, risk.rate * years), 3)
                for _ in range(count):
                    if risk.per_course and risk.category == "infusion_reaction":
                        onset = episode.start + rng.randint(0, min(60, stop - episode.start))
                    else:
                        onset = rng.randint(episode.start, stop)
                    self._event(episode, risk, onset)
            reason = STOPPED_FOR.get(episode.reason)
            if reason is not None and episode.stop is not None:
                onset = max(episode.start, episode.stop - rng.randint(3, 21))
                withdrawn = Risk(reason[0], (reason[1],), 0, serious=0.05, days=(7, 42),
                                 action=(("withdrawn", 1),))  # fmt: skip
                self._event(episode, withdrawn, onset, relatedness="probable")

    def _event(
        self, episode: _Episode, risk: Risk, onset: int, relatedness: str | None = None
    ) -> None:
        rng = self.rng
        if onset > self.known:
            return
        serious = rng.random() < risk.serious
        severity = "severe" if serious else weighted(rng, {"mild": 45, "moderate": 55})
        end: int | None = onset + rng.randint(*risk.days) - 1
        if end is not None and end > self.known:
            end = None
        ongoing = "recovering" if self.course.death is None else "not_recovered"
        outcome = ongoing if end is None else (
            "recovered_with_sequelae" if risk.category == "osteoporotic_fracture"
            and rng.random() < 0.3 else "recovered"
        )  # fmt: skip
        if relatedness is None:
            relatedness = weighted(
                rng,
                {"definite": 40, "probable": 50, "possible": 10}
                if risk.category == "infusion_reaction"
                else {"probable": 35, "possible": 50, "unlikely": 15},
            )
        related = [self._related(episode, relatedness, weighted(rng, dict(risk.action)))]
        if risk.category in ("infection", "opportunistic_infection") and episode.drug not in (
            GLUCOCORTICOIDS
        ):
            # An infection on an immunosuppressant is also suspected of the glucocorticoid
            # given at the same time.
            for other in self.episodes:
                if other.drug in GLUCOCORTICOIDS and other.active(onset) and rng.random() < 0.5:
                    related.append(self._related(other, "possible", "none"))
                    break
        grade = (3 if serious else rng.choice((1, 2))) if rng.random() < 0.6 else None
        self._add(
            {
                "term": rng.choice(risk.terms),
                "category": risk.category,
                "onset_date": self.date(onset),
                "end_date": None if end is None else self.date(end),
                "severity": severity,
                "ctcae_grade": grade,
                "serious": serious,
                "serious_criteria": ["hospitalisation"] if serious else [],
                "related_to": related,
                "outcome": outcome,
            }
        )
