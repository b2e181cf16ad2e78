"""Every instrument of a visit, derived from the disease activity on its day, the phenotype (how
much of it shows as weakness, skin or lung disease, enzymes) and accumulated damage, with
measurement noise and data missing now and then: global assessments, MMT8, CMAS, HAQ or CHAQ,
muscle enzymes in the site's unit and reference range, lung function, glucocorticoid dose.
"""

from __future__ import annotations

import math
import random
from typing import Any

from crf.demo.clinical import IBM, clamp, round_to
from crf.demo.followup import PlannedVisit
from crf.demo.patient import Profile
from scoring.instruments import BILATERAL_GROUPS, CHAQ_CATEGORIES, HAQ_CATEGORIES

HAQ_ITEMS = tuple(item for items in HAQ_CATEGORIES.values() for item in items)
CHAQ_ITEMS = tuple(item for items in CHAQ_CATEGORIES.values() for item in items)


class Examiner:
    """Measures one patient at each visit, drawing from the patient's random stream."""

    def __init__(self, rng: random.Random, profile: Profile) -> None:
        self.rng = rng
        self.profile = profile

    def visit(
        self, visit: PlannedVisit, *, activity: float, gc_dose: float, plex_until: int | None
    ) -> dict[str, Any]:
        """One visit of the submission document, measured from the activity on its day."""
        rng = self.rng
        day = visit.day
        years = day / 365.25
        damage = clamp(self.profile.damage0 + self.profile.damage_rate * max(0.0, years), 0, 1)
        if self.profile.dx == IBM:  # IBM: slowly progressive weakness whatever the treatment
            activity = clamp(activity + 0.04 * max(0.0, years), 0, 1)
        # Intercurrent unscheduled visits record less; a worsening, a flare or an
        # end-of-course assessment is as complete as a scheduled one (it is the next episode's
        # baseline or its outcome).
        unscheduled = visit.kind == "unscheduled" and not (
            visit.flare or visit.course_end or visit.worsening
        )
        doc: dict[str, Any] = {"visit_date": self.profile.date(day), "kind": visit.kind}

        def present(share: float) -> bool:
            return rng.random() < share

        if present(0.99):
            doc["physician_global"] = round(clamp(10 * activity + rng.gauss(0, 0.4), 0, 10), 1)
        if present(0.7 if unscheduled else 0.95):
            value = 10 * (0.15 + 0.75 * activity) + 2 * damage + rng.gauss(0, 0.9)
            doc["patient_global"] = round(clamp(value, 0, 10), 1)
        if present((0.6 if unscheduled else 0.93) * (1 if self.profile.site.mdaat else 0.5)):
            value = 10 * activity * self.profile.extra * rng.uniform(0.75, 1.1) + rng.gauss(0, 0.4)
            doc["extramuscular"] = round(clamp(value, 0, 10), 1)
        if self.profile.site.damage and day > 0 and present(0.6):
            doc["physician_damage"] = round(clamp(10 * damage + rng.gauss(0, 0.4), 0, 10), 1)
        weakness = activity * self.profile.muscle * 0.45 + damage * 0.17  # share of the MMT lost
        if self.profile.dx == IBM:
            weakness = 0.12 + 0.35 * activity
        if present(0.6 if unscheduled else 0.98):
            doc["mmt8"] = self._mmt8(
                weakness, legacy=self.profile.legacy and self.profile.before_legacy(day)
            )
        if self.profile.cmas and present(0.85):
            doc["cmas"] = int(clamp(round(52 - 62 * weakness + rng.gauss(0, 1.5)), 0, 52))
        if present(0.4 if unscheduled else 0.91):
            disability = (
                3 * (0.08 + 0.5 * activity * (0.4 + 0.6 * self.profile.muscle)) + 0.8 * damage
            )
            disability = clamp(disability + rng.gauss(0, 0.15), 0, 3)
            key = "chaq" if self.profile.chaq else "haq"
            doc[key] = self._haq(
                disability, legacy=self.profile.legacy and self.profile.before_legacy(day)
            )
        if present(0.96):
            doc["labs"] = self._labs(day, activity, plex_until)
        lungs = self.profile.ild or day == 0
        if present(
            (0.75 if self.profile.ild else 0.5 if day == 0 else 0.1) * (0.5 if unscheduled else 1)
        ):
            fvc: float
            dlco: float
            fvc, dlco = (70, 55) if self.profile.ild else (96, 88)
            if self.profile.ild:
                fvc, dlco = fvc - 25 * activity, dlco - 30 * activity
            doc["fvc_percent"] = round(clamp(rng.gauss(fvc, 6), 25, 140), 1)
            if lungs and present(0.8):
                doc["dlco_percent"] = round(clamp(rng.gauss(dlco, 7), 15, 140), 1)
        if present(0.95):
            doc["glucocorticoid_mg_per_day"] = gc_dose
        return doc

    def _mmt8(self, weakness: float, *, legacy: bool) -> dict[str, Any]:
        """Kendall 0–10 grades; proximal groups weaker, except IBM (quadriceps, distal)."""
        rng = self.rng
        if self.profile.dx == IBM:
            weights = {
                "neck_flexors": 0.8,
                "deltoid": 0.6,
                "biceps": 0.9,
                "wrist_extensors": 0.7,
                "gluteus_maximus": 0.6,
                "gluteus_medius": 0.6,
                "quadriceps": 2.2,
                "ankle_dorsiflexors": 1.6,
            }
        else:
            weights = {
                "neck_flexors": 1.6,
                "deltoid": 1.3,
                "biceps": 0.9,
                "wrist_extensors": 0.5,
                "gluteus_maximus": 1.4,
                "gluteus_medius": 1.4,
                "quadriceps": 1.0,
                "ankle_dorsiflexors": 0.4,
            }
        mean = sum(weights.values()) / len(weights)

        def grade(group: str) -> int:
            loss = 10 * weakness * weights[group] / mean + rng.gauss(0, 0.5)
            return int(clamp(round(10 - loss), 0, 10))

        unilateral = self.profile.site.mmt_scale == "unilateral"
        mmt: dict[str, Any] = {"scale": "unilateral" if unilateral else "bilateral"}
        if unilateral and rng.random() < 0.05:
            mmt["side"] = "left"  # the right side could not be tested
        if legacy:
            maximum = 80 if unilateral else 150
            mmt["total"] = int(clamp(round(maximum * (1 - weakness) + rng.gauss(0, 2)), 0, maximum))
            return mmt
        mmt["neck_flexors"] = grade("neck_flexors")
        for group in BILATERAL_GROUPS:
            mmt[group] = (
                grade(group) if unilateral else {"right": grade(group), "left": grade(group)}
            )
        if rng.random() < 0.015:  # a group not graded: the total is then missing
            group = rng.choice(BILATERAL_GROUPS)
            if unilateral:
                del mmt[group]
            else:
                mmt[group][rng.choice(("right", "left"))] = None
        return mmt

    def _haq(self, disability: float, *, legacy: bool) -> dict[str, Any]:
        rng = self.rng
        if legacy:
            return {"score": round_to(clamp(disability + rng.gauss(0, 0.1), 0, 3), 0.125)}
        legs = {"stand", "bed", "walk", "climb_steps", "bath", "toilet", "car_in_out", "bike"}
        grip = {"cut_meat", "open_carton", "car_doors", "open_jars", "faucets", "write"}
        items: dict[str, Any] = {}
        keys = CHAQ_ITEMS if self.profile.chaq else HAQ_ITEMS
        for key in keys:
            bias = 0.3 * self.profile.muscle if key in legs else 0.0
            if key in grip:
                bias = 0.5 if self.profile.dx == IBM else -0.3
            items[key] = int(clamp(round(disability + bias + rng.gauss(0, 0.35)), 0, 3))
        if self.profile.chaq and self.profile.age0 < 6:
            for key in ("write", "bike", "errands", "car_in_out"):
                if rng.random() < 0.5:
                    items[key] = "na"  # not applicable at this age
        if rng.random() < 0.05:
            del items[rng.choice(keys)]  # one question left unanswered
        aids = [
            c
            for c, share in (("walking", 0.5), ("arising", 0.35), ("hygiene", 0.3), ("reach", 0.1))
            if disability > 1.2 and rng.random() < share
        ]
        helped = [
            c
            for c, share in (("dressing", 0.4), ("hygiene", 0.3), ("activities", 0.4))
            if disability > 1.8 and rng.random() < share
        ]
        assert all(c in HAQ_CATEGORIES for c in aids + helped)
        return {"items": items, "aids": aids, "help": helped}

    def _labs(self, day: int, activity: float, plex_until: int | None) -> dict[str, Any]:
        """Enzymes as × ULN from activity, converted to the site's unit and reference range."""
        rng, site = self.rng, self.profile.site
        ratio = activity / self.profile.a0 if self.profile.a0 else 0
        ck = self.profile.enzyme_floor + (self.profile.ck0 - self.profile.enzyme_floor) * ratio**1.6
        ck = max(0.15, ck * math.exp(rng.gauss(0, 0.25)))
        if plex_until is not None and 0 <= plex_until - day <= 60:
            ck *= 0.45
        times = {
            "ck": ck,
            "aldolase": max(0.3, (0.8 + 0.3 * ck + 0.8 * activity) * math.exp(rng.gauss(0, 0.2))),
            "ldh": max(0.4, (0.75 + 0.25 * math.sqrt(ck)) * math.exp(rng.gauss(0, 0.12))),
            "ast": max(0.3, (0.55 + 0.12 * ck) * math.exp(rng.gauss(0, 0.2))),
            "alt": max(0.3, (0.5 + 0.08 * ck) * math.exp(rng.gauss(0, 0.25))),
        }
        measured = {"ck": 0.97, "aldolase": site.aldolase, "ldh": 0.6, "ast": 0.75, "alt": 0.75}
        labs: dict[str, Any] = {}
        for enzyme, share in measured.items():
            if rng.random() >= share:
                continue
            uln = self._uln(enzyme)
            if site.unit == "ukat/L":
                value = round(max(0.01, times[enzyme] * uln), 2)
            elif enzyme == "aldolase":
                value = round(max(0.1, times[enzyme] * uln), 1)
            else:
                value = max(1, round(times[enzyme] * uln))
            labs[enzyme] = {"value": value, "unit": site.unit, "uln": uln}
        return labs

    def _uln(self, enzyme: str) -> float:
        """Upper limits of normal by laboratory, sex and age (children: higher LDH)."""
        female, child = self.profile.female, self.profile.age0 < 18
        if self.profile.site.unit == "ukat/L":
            if child:
                return {"ck": 3.9, "aldolase": 0.2, "ldh": 5.0, "ast": 0.8, "alt": 0.6}[enzyme]
            return {
                "ck": 3.5 if female else 4.7,
                "aldolase": 0.13,
                "ldh": 3.5,
                "ast": 0.6 if female else 0.76,
                "alt": 0.75 if female else 1.1,
            }[enzyme]
        if child:
            return {"ck": 230, "aldolase": 12.0, "ldh": 320, "ast": 50, "alt": 35}[enzyme]
        return {
            "ck": self.profile.site.ck_uln[0 if female else 1],
            "aldolase": 7.6,
            "ldh": 250,
            "ast": 35 if female else 40,
            "alt": 35 if female else 45,
        }[enzyme]
