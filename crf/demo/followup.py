"""How long a patient is followed and when the visits fall.

Visits at baseline, about 3, 6, 12, 18 and 24 months and yearly after, with jitter; some
patients are lost to follow-up, a few die (anti-MDA5 rapidly progressive ILD above all).
Unscheduled visits for intercurrent problems, flares (crf.demo.treatments) and the assessment
after a fixed course of treatment are added as the course unfolds.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from crf.demo.clinical import FOLLOW_UP_MONTHS, IBM, LOST_PER_VISIT, MDA5, MONTH, TIF1G
from crf.demo.patient import Profile


@dataclass
class PlannedVisit:
    day: int
    kind: str
    flare: bool = False
    course_end: bool = False
    worsening: bool = False  # seen for a worsening, before the flare visit that confirms it


def draw_outcome(rng: random.Random, profile: Profile, end: int) -> tuple[bool, int | None]:
    """(up-front combination therapy, day of death or None): survival of anti-MDA5 rapidly
    progressive ILD depends on that first choice, so both are drawn together."""
    # Only an incident patient can be treated up front: a referral arrives after a step-up course
    # (and rapidly progressive lung disease is incident: crf.demo.patient).
    if profile.serology.rp_ild:
        upfront = rng.random() < 0.7
        # Anti-MDA5 RP-ILD: 6-month survival 89 % with up-front combination vs 33 % step-up.
        if rng.random() < (0.11 if upfront else 0.67):
            day = rng.randint(20, 180)
            return upfront, (day if day <= end else None)
    else:
        upfront = profile.msa == MDA5 and profile.ild and rng.random() < 0.5 and profile.incident
    yearly = 0.04 if (profile.msa == TIF1G and not profile.juvenile) else 0.008
    if profile.dx == IBM:
        yearly = 0.02
    years = rng.expovariate(yearly)
    return upfront, (int(years * 365.25) + 1 if years * 365.25 < end else None)


class Schedule:
    """The visits in date order, and the last day of follow-up (`end`, days from baseline)."""

    def __init__(self, rng: random.Random, end: int) -> None:
        self.rng = rng
        self.end = end
        self.visits: list[PlannedVisit] = []

    def plan(self) -> None:
        """The scheduled visits until the end or until the patient is lost to follow-up."""
        rng = self.rng
        days = [0]
        for months in FOLLOW_UP_MONTHS:
            jitter = 14 if months <= 6 else 30
            day = int(months * MONTH) + rng.randint(-jitter, jitter)
            if day > self.end:
                break
            days.append(day)
            if rng.random() < LOST_PER_VISIT:
                self.end = day
                break
        self.visits = [PlannedVisit(day, "baseline" if day == 0 else "follow_up") for day in days]
        # Unscheduled visits for intercurrent problems, now and then.
        for day in days[1:]:
            if rng.random() < 0.05:
                self.add(day - rng.randint(20, 60), "unscheduled")

    def add(self, day: int, kind: str, **flags: bool) -> PlannedVisit | None:
        """A visit on this day or the next free one, if within follow-up."""
        if day <= 0 or day > self.end:
            return None
        taken = {visit.day for visit in self.visits}
        while day in taken:
            day += 1
        if day > self.end:
            return None
        visit = PlannedVisit(day, kind, **flags)
        bisect.insort(self.visits, visit, key=lambda v: v.day)
        return visit
