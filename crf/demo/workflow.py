"""Where each seeded visit stands in the workflow.

Older visits have been verified and signed (locked); the newest may still be a draft.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from crf.demo.followup import PlannedVisit
from crf.demo.patient import Profile

LOCKED = "locked"


def draw_statuses(
    rng: random.Random, profile: Profile, visits: Sequence[PlannedVisit]
) -> list[str]:
    """The workflow status of each visit, in visit order."""
    today = profile.day(profile.today)
    last = visits[-1].day
    return [_status(rng, today - visit.day, visit.day == last) for visit in visits]


def _status(rng: random.Random, age: int, last: bool) -> str:
    roll = rng.random()
    if age > 365:
        return LOCKED if roll < 0.5 else "verified" if roll < 0.92 else "submitted"
    if age > 90:
        return "verified" if roll < 0.55 else "submitted" if roll < 0.97 else LOCKED
    if last and age <= 30 and roll < 0.25:
        return "draft"
    return "submitted" if roll < 0.9 else "verified"
