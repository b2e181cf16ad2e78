"""Oral glucocorticoids: a course at about 1 mg/kg/day, tapered, held at the lowest dose the
disease allows, re-increased at a flare, stopped within two to three years in half of the
patients whose disease is quiet by then."""

from __future__ import annotations

import bisect
import random

from crf.demo.clinical import clamp, round_to
from crf.demo.episodes import Episode, Episodes
from crf.demo.patient import Profile


class Glucocorticoids:
    def __init__(self, rng: random.Random, profile: Profile, episodes: Episodes) -> None:
        self.rng = rng
        self.profile = profile
        self.episodes = episodes
        # (day, starting dose) of each course or re-increase; (day, floor) the taper stops at.
        self.starts: list[tuple[int, float]] = []
        self.floors: list[tuple[int, float]] = []
        self.off: int | None = None  # planned end of the taper, if the disease allows
        self.episode: Episode | None = None

    def course(self, start: int, mg_per_kg: float) -> None:
        """About 1 mg/kg/day (2 mg/kg in children), at most 60–80 mg."""
        rng, profile = self.rng, self.profile
        per_kg = mg_per_kg * (2 if profile.paediatric_dosing and mg_per_kg >= 1 else 1)
        cap = 60 if profile.paediatric_dosing else rng.choice((60, 60, 60, 80))
        dose = clamp(round_to(per_kg * profile.weight, 5), 10, cap)
        self.starts.append((start, dose))
        self.floor(start, 0.0)
        self.episode = self.episodes.add(profile.site.steroid, start)
        if self.episode:
            self.episode.dose = dose
        # Half of the patients come off glucocorticoids within two to three years, if their
        # disease is quiet by then (check).
        self.off = start + rng.randint(540, 900) if rng.random() < 0.5 else None

    def floor(self, day: int, floor: float) -> None:
        bisect.insort(self.floors, (day, floor))

    def check(self, day: int, *, responding: bool) -> None:
        """At a visit after the planned end of the taper: stopped if responding, else not."""
        if self.off is None or day < self.off:
            return
        if responding and self.episode is not None and self.episode.stop is None:
            self.episode.stop, self.episode.reason = self.off, "tapered off"
        elif not (self.episode and self.episode.stop is not None):
            self.off = None

    def restart(self, day: int, mg_per_kg: float) -> None:
        """A flare: back on glucocorticoids, or up to about 0.5 mg/kg again."""
        if self.episode is None or self.episode.stop is not None:
            self.course(day, mg_per_kg)
            return
        self.off = None
        self.starts.append((day, clamp(round_to(mg_per_kg * self.profile.weight, 5), 10, 40)))

    def renew(self, day: int, reason: str) -> None:
        """The course given so far recorded as stopped on `day` for `reason` (a failed induction:
        what makes a patient refractory), glucocorticoids going on from then as a new course at
        about 0.5 mg/kg. Nothing when no course is running or it is younger than 8 weeks."""
        episode = self.episode
        if episode is None or episode.stop is not None or day - episode.start < 56:
            return
        episode.stop, episode.reason = day, reason
        self.off = None
        dose = clamp(round_to(0.5 * self.profile.weight, 5), 10, 40)
        self.starts.append((day, dose))
        self.episode = self.episodes.add(self.profile.site.steroid, day)
        if self.episode:
            self.episode.dose = dose

    def dose(self, day: int) -> float:
        """The prednisone-equivalent dose on a visit day."""
        if self.episode is None or (self.off is not None and day >= self.off):
            return 0.0
        started = [(s, dose) for s, dose in self.starts if s <= day]
        if not started:
            return 0.0
        start, dose = started[-1]
        floor = 0.0
        for floor_day, value in self.floors:
            if floor_day <= day:
                floor = value
        # Halving about every ten weeks, held at the lowest dose the disease allows.
        value = max(dose * 0.5 ** ((day - start) / 70), floor)
        return round_to(value, 5 if value >= 15 else 2.5)
