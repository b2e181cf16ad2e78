"""Treatment decisions and what they do to the disease activity.

Either an incident patient (baseline visit at diagnosis, first-line glucocorticoids with
methotrexate, azathioprine or mycophenolate; up-front tacrolimus + cyclophosphamide for anti-MDA5
lung disease) or a refractory referral (earlier glucocorticoids and immunosuppressants, baseline
visit at entry, then rituximab, IVIG, a calcineurin inhibitor, cyclophosphamide, a JAK inhibitor,
ACTH gel or plasma exchange). Each treatment either works (activity falls exponentially to a
lower level, faster with anti-Mi-2, slower with anti-MDA5) or not, with the response rates of the
trials in docs/clinical-context.md; responders may relapse while glucocorticoids are tapered,
non-responders are escalated at a later visit, and some of them worsen (confirmed deterioration:
worse at an unscheduled visit and again at the flare visit that follows). When a patient is
escalated, the glucocorticoid course and the immunosuppressant that failed are recorded as
stopped for inefficacy, so that scoring's `refractory_v1` finds the patient refractory at the
next drug's start. The stop reasons are written as a clinic writes them; the document sends
their codes (crf.demo.cohort).
"""

from __future__ import annotations

import random

from crf.demo.activity import Course
from crf.demo.clinical import (
    ADM,
    ANTISYNTHETASE,
    DEFAULT_DEPTH,
    DM,
    HMGCR,
    IBM,
    IMNM,
    JDM,
    MDA5,
    MI2,
    REFRACTORY_CHOICES,
    RELAPSE,
    RESPONSE,
    RESPONSE_DEPTH,
    WORSENING,
    round_to,
    weighted,
)
from crf.demo.episodes import Episodes, adverse_events
from crf.demo.followup import PlannedVisit, Schedule
from crf.demo.glucocorticoids import Glucocorticoids
from crf.demo.patient import Profile


class Regimen:
    """One patient's treatments, the glucocorticoid taper and the activity course they shape."""

    def __init__(
        self, rng: random.Random, profile: Profile, schedule: Schedule, *, upfront: bool
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.schedule = schedule
        self.episodes = Episodes(rng, profile, schedule, upfront=upfront)
        self.gc = Glucocorticoids(rng, profile, self.episodes)
        self.course = Course.steady(profile.a0)
        self.escalations = 0
        self.responding = False
        self.last_start = 0
        self.pending_relapse: tuple[int, float] | None = None  # (day, share of a0 regained)
        self.plex_until: int | None = None  # enzymes fall after plasma exchange, until this day

    def start(self) -> None:
        """The treatment decided at the baseline visit."""
        if self.profile.incident:
            self._first_line()
        else:
            self._referral()

    def before_visit(self, day: int) -> None:
        """What has happened by this visit's day: a relapse, the end of the taper."""
        self._apply_relapse(day)
        self.gc.check(day, responding=self.responding)

    def _respond(self, key: str, start: int, *, depth_scale: float = 1.0) -> bool:
        """Set the activity course from `start` by whether this treatment works.

        The rituximab trial's predictors: anti-Mi-2 responds more often and faster, anti-synthetase
        and juvenile DM more often, higher damage less often; anti-MDA5 and refractory disease
        respond less often and more slowly. A treatment that fails leaves the disease about where
        it was or, in some, worse: a flare visit and a second one weeks later that confirm it."""
        rng, profile = self.rng, self.profile
        probability, tau = RESPONSE[key]
        if profile.msa == MDA5:
            probability, tau = probability * 0.75, tau * 1.8
        elif profile.msa == MI2:
            probability, tau = min(0.97, probability + 0.12), tau * 0.5
        elif profile.msa in ANTISYNTHETASE or profile.dx == JDM:
            probability = min(0.97, probability + 0.05)
        if profile.damage0 > 0.25:
            probability -= 0.1
        if not profile.incident:
            tau *= 1.25
        if profile.dx == IBM:
            probability = 0.05
        current = self.course.at(start)
        works = rng.random() < probability
        if works:
            low, high = RESPONSE_DEPTH.get(key, DEFAULT_DEPTH)
            depth = rng.uniform(low, high) * depth_scale
            self.course.move(start, current * (1 - depth), tau * rng.uniform(0.7, 1.3))
            relapse = RELAPSE[profile.dx] * (0.4 if profile.msa in (MDA5, MI2) else 1.0)
            if rng.random() < relapse:
                self._schedule_relapse(start + rng.randint(240, 900))
            self.gc.floor(start + 90, 5.0)
            self.gc.floor(start + 540, 2.5)
        elif profile.dx != IBM and rng.random() < WORSENING[profile.msa == MDA5]:
            # Worse on the treatment: seen at an unscheduled visit, and again at a flare visit a
            # few weeks later that changes the treatment (confirmed deterioration).
            self.course.move(start, current + rng.uniform(0.3, 0.5), rng.uniform(20, 40))
            seen = self.schedule.add(start + rng.randint(35, 70), "unscheduled", worsening=True)
            if seen is not None:
                self.schedule.add(seen.day + rng.randint(14, 28), "unscheduled", flare=True)
            self.gc.floor(start + 60, 12.5)
        else:
            # No real response, though some improve a little (regression to the mean).
            self.course.move(start, current * (1 - rng.uniform(-0.1, 0.15)), 60)
            self.gc.floor(start + 60, 12.5)
        self.responding = works
        self.last_start = start
        return works

    def _schedule_relapse(self, day: int) -> None:
        if day >= self.schedule.end:
            return
        self.pending_relapse = (day, self.rng.uniform(0.5, 1.0))
        if self.rng.random() < 0.7:
            self.schedule.add(day + self.rng.randint(14, 45), "unscheduled", flare=True)

    def _apply_relapse(self, day: int) -> None:
        if self.pending_relapse is None or self.pending_relapse[0] > day:
            return
        relapse_day, share = self.pending_relapse
        self.pending_relapse = None
        current = self.course.at(relapse_day)
        self.course.move(relapse_day, current + (self.profile.a0 - current) * share, 40)
        self.responding = False

    def decide_at(self, visit: PlannedVisit) -> None:
        """Escalate a non-responder or a flare at this visit (the next episode's baseline)."""
        rng = self.rng
        if visit.day <= 0 or self.escalations >= 3:
            return
        if visit.flare or (not self.responding and visit.day >= self.last_start + 84):
            if not visit.flare and rng.random() > 0.7:
                return
            if visit.flare:
                # Glucocorticoids up again; a new immunosuppressant in two of three flares.
                self.gc.restart(visit.day + rng.randint(0, 7), 0.5)
                if rng.random() > 0.65:
                    self._respond("first_line", visit.day + 3, depth_scale=0.8)
                    return
            delay = rng.randint(0, 21) if rng.random() > 0.08 else rng.randint(35, 60)
            self._escalate(visit.day + delay)

    # -- regimens ----------------------------------------------------------------------------------

    def _first_line(self) -> None:
        rng, dx = self.rng, self.profile.dx
        # A few start treatment long after the baseline visit (awaiting biopsy): no episode
        # baseline in the 30-day window, so the episode is not evaluable.
        # Not in anti-MDA5 lung disease treated up front: the combination cannot wait.
        late = rng.random() <= 0.05 and not self.episodes.upfront
        start = rng.randint(35, 75) if late else rng.randint(0, 7)
        if dx == IBM:
            choice = rng.random()
            if choice < 0.3:  # a trial of glucocorticoids
                self.gc.course(start, 1.0)
                self._respond("first_line", start)
            elif choice < 0.45:
                self.episodes.add("ivig", start)  # for dysphagia
                self._respond("ivig", start)
            else:
                self.responding = True  # untreated IBM: no escalation, slow decline
            return
        severe = self.profile.a0 > 0.78 or self.profile.serology.rp_ild
        if severe and rng.random() < 0.6:
            self.episodes.add("methylprednisolone_iv", start, start + 2, "course completed")
        mild_amyopathic = dx == ADM and not self.profile.ild
        self.gc.course(start, 0.3 if mild_amyopathic else 1.0)
        if dx in (DM, ADM, JDM) and rng.random() < (0.9 if mild_amyopathic else 0.35):
            self.episodes.add("hydroxychloroquine", start + rng.choice((0, 0, 14, 28)))
        if self.episodes.upfront:
            # Anti-MDA5 lung disease: glucocorticoids + tacrolimus + IV cyclophosphamide.
            self.episodes.add("tacrolimus", start + rng.randint(0, 7))
            self._course_drug("cyclophosphamide", start + rng.randint(0, 7))
            self._respond("mda5_combination", start)
            return
        if mild_amyopathic and rng.random() < 0.6:
            self._respond("first_line", start, depth_scale=0.8)
            return
        drug = self._conventional_choice()
        self.episodes.add(drug, start if rng.random() < 0.5 else start + rng.randint(7, 42))
        if self.profile.msa == HMGCR and rng.random() < 0.3:
            self.episodes.add("ivig", start + rng.randint(0, 28))  # early IVIG in HMGCR IMNM
        if self.profile.ild and self.profile.msa in ANTISYNTHETASE and rng.random() < 0.1:
            self.episodes.add("rituximab", start + rng.randint(0, 21))
        self._respond("first_line", start)

    def _conventional_choice(self) -> str:
        weights: dict[str, float]
        if self.profile.dx == JDM or self.profile.juvenile:
            weights = {"methotrexate": 85, "mycophenolate": 10, "ciclosporin": 5}
        elif self.profile.ild:
            # Methotrexate is avoided in ILD; mycophenolate or a calcineurin inhibitor instead.
            weights = {
                "mycophenolate": 55,
                "tacrolimus": 20,
                "azathioprine": 15,
                "ciclosporin": 5,
                "methotrexate": 5,
            }
        elif self.profile.dx == IMNM:
            weights = {"methotrexate": 50, "azathioprine": 30, "mycophenolate": 20}
        else:
            weights = {"methotrexate": 55, "azathioprine": 25, "mycophenolate": 20}
        drug: str = weighted(self.rng, weights)
        return drug

    def _referral(self) -> None:
        """A refractory patient referred on treatment; the new drug starts after baseline."""
        rng = self.rng
        diagnosed = self.profile.day(self.profile.diagnosis)
        self.gc.course(diagnosed + rng.randint(0, 14), 1.0)
        self.gc.floor(diagnosed + 120, round_to(rng.uniform(7.5, 22.5), 2.5))
        first = self._conventional_choice()
        start = diagnosed + rng.randint(0, 60)
        if rng.random() < 0.6 and start + 90 < -7:
            stop = rng.randint(start + 90, -7)
            reason = weighted(rng, {"inadequate response": 75, **adverse_events(first)})
            self.episodes.add(first, start, stop, reason)
            if rng.random() < 0.4:
                second = weighted(
                    rng,
                    {d: 1 for d in ("methotrexate", "azathioprine", "mycophenolate") if d != first},
                )
                self.episodes.add(second, min(-1, stop + rng.randint(0, 21)))
        else:
            self.episodes.add(first, start)
        start = rng.randint(0, 28) if rng.random() > 0.08 else rng.randint(35, 100)
        self._escalate(start, from_referral=True)

    def _escalate(self, start: int, from_referral: bool = False) -> None:
        rng = self.rng
        if start > self.schedule.end:
            return
        self.escalations += 0 if from_referral else 1
        if self.profile.dx == IBM:
            group = "ibm"
        elif self.profile.msa == MDA5:
            group = "mda5"
        elif self.profile.juvenile:
            group = "juvenile"
        elif self.profile.dx == IMNM:
            group = "imnm"
        elif self.profile.ild:
            group = "ild"
        else:
            group = "default"
        weights = {
            d: w for d, w in REFRACTORY_CHOICES[group].items() if d not in self.episodes.used
        }
        if not self.profile.site.acth:
            weights.pop("acth_gel", None)
        if not weights:
            return
        drug = weighted(rng, weights)
        # The glucocorticoid course that failed is recorded as stopped, a new one going on; a
        # failed drug is nearly always stopped when the next starts. Both make the patient
        # refractory (scoring's refractory_v1) at the new drug's start once long enough.
        self.gc.renew(start, "inadequate response")
        for episode in self.episodes.items:
            if (
                episode.stop is None
                and episode.start < start
                and episode.drug not in ("prednisone", "prednisolone", "hydroxychloroquine")
                and rng.random() < 0.9
            ):
                episode.stop, episode.reason = start, "inadequate response"
        if drug == "other":
            other = weighted(
                rng,
                {
                    "abatacept": 3,
                    "sirolimus": 2,
                    "anifrolumab": 2,
                    "nintedanib": 3 if self.profile.ild else 0,
                },
            )
            self.episodes.add("other", start, other=other)
        elif drug in ("cyclophosphamide", "plasma_exchange", "acth_gel"):
            self._course_drug(drug, start)
        else:
            self.episodes.add(drug, start)
        self._respond(drug, start)

    def _course_drug(self, drug: str, start: int) -> None:
        """Drugs given as a fixed course, with an assessment visit shortly after it ends."""
        rng = self.rng
        length = {
            "cyclophosphamide": rng.randint(140, 170),
            "plasma_exchange": 28,
            "acth_gel": rng.randint(170, 190),
        }[drug]
        reason = "course completed"
        if drug == "acth_gel" and rng.random() < 0.15:
            length, reason = rng.randint(40, 120), "insurance coverage ended"
        self.episodes.add(drug, start, start + length, reason)
        if drug == "plasma_exchange":
            self.plex_until = start + 60  # enzymes fall whether or not the patient improves
        self.schedule.add(start + length + rng.randint(3, 21), "unscheduled", course_end=True)

    # -- glucocorticoids -------------------------------------------------------------------------
