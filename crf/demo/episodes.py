"""What a patient is given: treatment episodes as the submission document holds them, each
drug dosed as a clinic writes it, and the reasons they stop."""

from __future__ import annotations

import random
from dataclasses import dataclass

from crf.demo.clinical import OTHER_DRUGS, clamp, round_to, weighted
from crf.demo.followup import Schedule
from crf.demo.patient import Profile


@dataclass
class Episode:
    drug: str
    start: int  # day relative to the baseline visit
    dose: float | None
    unit: str
    route: str
    frequency: str
    stop: int | None = None
    reason: str = ""
    other: str = ""


def adverse_events(drug: str) -> dict[str, float]:
    """Reasons a drug is stopped for intolerance, with relative weights (a new dict each time:
    the caller may add to it)."""
    reasons: dict[str, dict[str, float]] = {
        "methotrexate": {
            "adverse event: raised transaminases": 15,
            "adverse event: mouth ulcers": 5,
        },
        "azathioprine": {"adverse event: leukopenia": 15, "adverse event: nausea": 5},
        "mycophenolate": {"adverse event: diarrhoea": 15},
        "tacrolimus": {"adverse event: nephrotoxicity": 10, "adverse event: tremor": 5},
        "ciclosporin": {"adverse event: hypertension": 10, "adverse event: nephrotoxicity": 10},
    }
    return reasons.get(drug, {"adverse event": 10})


def dosing(
    rng: random.Random, profile: Profile, drug: str, other: str, *, upfront: bool
) -> tuple[float | None, str, str, str]:
    """Dose, unit, route and frequency as a clinic writes them."""
    child, weight, bsa = profile.paediatric_dosing, profile.weight, profile.bsa
    us = profile.site.country == "US"
    if drug in ("prednisone", "prednisolone"):
        return None, "mg", "oral", "daily, tapering"  # dose set by the course
    if drug == "methylprednisolone_iv":
        if child:
            return 30, "mg/kg", "iv", "daily for 3 days"
        return rng.choice((1000, 1000, 500)), "mg", "iv", "daily for 3 days"
    if drug == "methotrexate":
        if child:
            return 15, "mg/m2", "sc", "weekly"
        return rng.choice((15, 20, 20, 25)), "mg", rng.choice(("oral", "sc")), "weekly"
    if drug == "azathioprine":
        return clamp(round_to(2 * weight, 25), 50, 200), "mg", "oral", "daily"
    if drug == "mycophenolate":
        if child:
            return 600, "mg/m2", "oral", "twice daily"
        return rng.choice((1000, 1000, 1500)), "mg", "oral", "twice daily"
    if drug == "tacrolimus":
        dose = clamp(round_to(0.04 * weight, 0.5), 0.5, 4)
        return dose, "mg", "oral", "twice daily, trough 5-10 ng/mL"
    if drug == "ciclosporin":
        return clamp(round_to(1.5 * weight, 25), 25, 150), "mg", "oral", "twice daily"
    if drug == "hydroxychloroquine":
        if child:
            return clamp(round_to(5 * weight, 50), 50, 200), "mg", "oral", "daily"
        return 200, "mg", "oral", rng.choice(("twice daily", "daily"))
    if drug == "rituximab":
        if child or rng.random() < 0.15:
            return 750, "mg/m2", "iv", "days 0 and 14"
        return 1000, "mg", "iv", rng.choice(("days 0 and 14", "days 0 and 14, every 6 months"))
    if drug == "ivig":
        return 2, "g/kg", "iv", f"every 4 weeks, over {rng.choice((2, 2, 3, 5))} days"
    if drug == "cyclophosphamide":
        if upfront and rng.random() < 0.5:
            return 500, "mg", "iv", "every 2 weeks"
        return rng.choice((500, 750, 750, 1000)), "mg/m2", "iv", "monthly"
    if drug == "acth_gel":
        return 80, "U", "sc", rng.choice(("twice weekly", "twice weekly", "once weekly"))
    if drug == "tofacitinib":
        if us and not child:
            return 11, "mg", "oral", "daily, extended-release"
        return 5, "mg", "oral", "twice daily"
    if drug == "ruxolitinib":
        return (5 if child else 10), "mg", "oral", "twice daily"
    if drug == "baricitinib":
        return (2 if child and bsa < 1 else 4), "mg", "oral", "daily"
    if drug == "plasma_exchange":
        return 1, "plasma volume", "other", "3 times weekly for 4 weeks"
    if drug == "other":
        return OTHER_DRUGS[other]
    raise ValueError(f"no dosing for {drug}")

    # -- the document ----------------------------------------------------------------------------


class Episodes:
    """A patient's treatment episodes; at most one per drug and start day, none after `end`."""

    def __init__(
        self, rng: random.Random, profile: Profile, schedule: Schedule, *, upfront: bool
    ) -> None:
        self.rng = rng
        self.profile = profile
        self.schedule = schedule
        self.upfront = upfront  # anti-MDA5 lung disease treated with a combination up front
        self.items: list[Episode] = []
        self.used: set[str] = set()  # drugs given so far (drug_other for "other")

    def add(
        self, drug: str, start: int, stop: int | None = None, reason: str = "", other: str = ""
    ) -> Episode | None:
        if start > self.schedule.end or any(
            e.drug == drug and e.start == start for e in self.items
        ):
            return None
        dose, unit, route, frequency = dosing(
            self.rng, self.profile, drug, other, upfront=self.upfront
        )
        episode = Episode(drug, start, dose, unit, route, frequency, other=other)
        if stop is not None:
            episode.stop, episode.reason = stop, reason
        self.items.append(episode)
        self.used.add(other or drug)
        return episode

    def close(self, death: int | None, *, responding: bool) -> None:
        """Stop dates as of today: death stops everything; long-term responders are weaned; a
        few conventional drugs were stopped for an adverse event (or a planned pregnancy)."""
        rng, profile = self.rng, self.profile
        today = profile.day(profile.today)
        end = self.schedule.end
        for episode in self.items:
            if (
                death is not None
                and episode.start < death
                and (episode.stop is None or episode.stop > death)
            ):
                episode.stop, episode.reason = death, "death"
                continue
            if episode.stop is not None and episode.stop > today:
                episode.stop, episode.reason = None, ""  # still running today
            if episode.stop is None and episode.drug in ("rituximab", "ivig", "tofacitinib"):
                # Long-term responders are weaned after one to three years.
                stop = episode.start + rng.randint(365, 1100)
                if stop <= end and responding and rng.random() < 0.5:
                    episode.stop, episode.reason = stop, "remission"
            if (
                episode.stop is None
                and episode.drug in ("methotrexate", "azathioprine", "mycophenolate")
                and rng.random() < 0.08
            ):
                stop = episode.start + rng.randint(30, 365)
                if stop <= end:
                    reasons = adverse_events(episode.drug)
                    if (
                        profile.female
                        and 18 <= profile.age0 < 40
                        and episode.drug != "azathioprine"
                    ):
                        reasons["planning pregnancy"] = 10
                    episode.stop, episode.reason = stop, weighted(rng, reasons)
