"""Disease activity (0–1) over time: exponential moves towards successive targets.

A treatment that works moves activity down towards a lower level (crf.demo.treatments), a flare
moves it back up; every instrument of a visit is derived from the activity on its day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from crf.demo.clinical import clamp


@dataclass
class Phase:
    day: int
    start: float
    target: float
    tau: float  # time constant, days


@dataclass
class Course:
    phases: list[Phase] = field(default_factory=list)

    @classmethod
    def steady(cls, activity: float) -> Course:
        """Activity constant at this level since long before the baseline visit."""
        return cls([Phase(-100_000, activity, activity, 1.0)])

    def at(self, day: int) -> float:
        phase = self.phases[0]
        for candidate in self.phases:
            if candidate.day > day:
                break
            phase = candidate
        elapsed = max(0, day - phase.day)
        return phase.target + (phase.start - phase.target) * math.exp(-elapsed / phase.tau)

    def move(self, day: int, target: float, tau: float) -> None:
        if self.phases and day < self.phases[-1].day:
            day = self.phases[-1].day
        start = self.at(day) if self.phases else target
        self.phases.append(Phase(day, start, clamp(target, 0.0, 1.0), max(tau, 1.0)))
