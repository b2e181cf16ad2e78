"""Where each seeded visit stands in the workflow, and the signature of every locked one.

Older visits have been verified and signed (locked); the newest may still be a draft. A locked
visit was signed by the site's investigator some weeks after the visit, with the meaning the
investigator chose (crf.models.Signature.Meaning), as the signing service records it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from crf.demo.followup import PlannedVisit
from crf.demo.patient import Profile

LOCKED = "locked"
APPROVAL, REVIEW = "approval", "review"  # crf.models.Signature.Meaning


@dataclass(frozen=True)
class PlannedSignature:
    signed_at: datetime
    meaning: str


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


def draw_signatures(
    rng: random.Random,
    profile: Profile,
    visits: Sequence[PlannedVisit],
    statuses: Sequence[str],
) -> dict[str, PlannedSignature]:
    """A signature for every locked visit, by ISO visit date: one to eight weeks after the
    visit (never later than yesterday), in working hours; approval mostly, review at times."""
    yesterday = profile.day(profile.today) - 1
    signatures = {}
    for visit, status in zip(visits, statuses, strict=True):
        if status != LOCKED:
            continue
        day = min(visit.day + rng.randint(7, 56), yesterday)
        at = time(rng.randint(8, 17), rng.randint(0, 59), tzinfo=UTC)
        meaning = APPROVAL if rng.random() < 0.85 else REVIEW
        signed = datetime.combine(profile.t0 + timedelta(days=day), at)
        signatures[profile.date(visit.day)] = PlannedSignature(signed, meaning)
    return signatures
