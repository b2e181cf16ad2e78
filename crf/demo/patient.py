"""Who a synthetic patient is, drawn once before any visit.

A diagnosis in registry-like proportions (DM most common; JDM commoner at paediatric centres),
sex and age at onset typical of the diagnosis, serology (crf.demo.serology), how disease activity
shows (weakness, skin or lung disease, enzymes), the dates from onset to the baseline visit, the
body that doses are computed from, and how the site records the visits.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from crf.demo.clinical import (
    ADM,
    ASYS,
    DIAGNOSIS_WEIGHTS,
    DIAGNOSTIC_DELAY,
    DM,
    FEMALE_SHARE,
    HMGCR,
    IBM,
    IMNM,
    JDM,
    LEGACY_BEFORE,
    MDA5,
    MI2,
    MONTH,
    ONSET_AGE,
    OTHER,
    OVERLAP,
    PM,
    SRP,
    TIF1G,
    clamp,
    weighted,
)
from crf.demo.serology import Serology, draw_serology
from crf.demo.sites import SiteProfile
from scoring.instruments import population_for


@dataclass(frozen=True)
class Profile:
    """Everything about a patient that later stages read and never change. Days are counted
    from the baseline visit (`t0`), the day the patient entered the registry."""

    site: SiteProfile
    patient_id: str
    today: date
    dx: str
    juvenile: bool
    female: bool
    serology: Serology
    # How activity shows: the share of it seen as weakness and as extramuscular disease; CK as
    # × ULN at onset, and the floor it falls to in remission.
    muscle: float
    extra: float
    ck0: float
    enzyme_floor: float
    incident: bool  # diagnosed at entry (else a refractory referral)
    t0: date
    birth: date
    onset: date
    diagnosis: date
    diagnosis_known: bool
    age0: float  # age at baseline, years
    weight: float
    bsa: float
    paediatric_dosing: bool
    damage0: float  # damage (0–1) at baseline, and how fast it accrues per year
    damage_rate: float
    a0: float  # disease activity (0–1) at baseline
    legacy: bool  # early visits imported from paper records: totals only
    chaq: bool
    cmas: bool

    @property
    def msa(self) -> str | None:
        return self.serology.msa

    @property
    def ild(self) -> bool:
        return self.serology.ild

    def day(self, value: date) -> int:
        return (value - self.t0).days

    def date(self, day: int) -> str:
        return (self.t0 + timedelta(days=day)).isoformat()

    def before_legacy(self, day: int) -> bool:
        return self.t0 + timedelta(days=day) < LEGACY_BEFORE


def draw_profile(rng: random.Random, site: SiteProfile, patient_id: str, today: date) -> Profile:
    weights: dict[str, float] = dict(DIAGNOSIS_WEIGHTS)
    weights[JDM] *= site.paediatric
    dx = weighted(rng, weights)
    juvenile = dx == JDM or (dx in (PM, IMNM, OVERLAP) and rng.random() < 0.03)
    female = rng.random() < FEMALE_SHARE[dx]
    serology = draw_serology(rng, site, dx, juvenile)
    muscle, extra, ck0, enzyme_floor = _phenotype(rng, dx, serology.msa)
    incident, t0, birth, onset, diagnosis = _dates(rng, dx, juvenile, today)
    if serology.rp_ild and not incident:
        # Rapidly progressive lung disease is seen at presentation (it kills within months): a
        # referral months or years after the diagnosis has chronic anti-MDA5 lung disease.
        serology = replace(serology, rp_ild=False)
    diagnosis_known = rng.random() > 0.02
    # The body.
    age0 = (t0 - birth).days / 365.25
    if age0 < 18:
        height = 77 + 6.2 * min(age0, 14) + (5 if age0 > 14 else 0)
        weight = clamp((2.2 * age0 + 9) * math.exp(rng.gauss(0, 0.15)), 10, 90)
    else:
        height = rng.gauss(163 if female else 176, 7)
        weight = clamp(rng.gauss(70 if female else 82, 13), 42, 140)
    bsa = math.sqrt(height * weight / 3600)  # Mosteller
    damage0 = rng.uniform(0, 0.1) if incident else rng.uniform(0.05, 0.35)
    a0 = rng.uniform(0.5, 0.9) if incident else rng.uniform(0.45, 0.8)
    if dx == IBM:
        a0 = rng.uniform(0.3, 0.5)
    # How this patient's visits are recorded.
    legacy = t0 < LEGACY_BEFORE and rng.random() < 0.4
    cmas = juvenile and rng.random() < (0.9 if site.paediatric > 1 else 0.5)
    return Profile(
        site=site,
        patient_id=patient_id,
        today=today,
        dx=dx,
        juvenile=juvenile,
        female=female,
        serology=serology,
        muscle=muscle,
        extra=extra,
        ck0=ck0,
        enzyme_floor=enzyme_floor,
        incident=incident,
        t0=t0,
        birth=birth,
        onset=onset,
        diagnosis=diagnosis,
        diagnosis_known=diagnosis_known,
        age0=age0,
        weight=weight,
        bsa=bsa,
        paediatric_dosing=age0 < 16,
        damage0=damage0,
        damage_rate=0.07 if dx == IBM else 0.02,
        a0=a0,
        legacy=legacy,
        chaq=age0 < 18,
        cmas=cmas,
    )


def _phenotype(rng: random.Random, dx: str, msa: str | None) -> tuple[float, float, float, float]:
    """Muscle and extramuscular shares of activity, CK × ULN at onset, CK floor in remission."""
    muscle = {
        DM: 0.6,
        JDM: 0.6,
        ADM: 0.05,
        PM: 0.85,
        ASYS: 0.45,
        IMNM: 1.0,
        IBM: 0.9,
        OVERLAP: 0.5,
        OTHER: 0.5,
    }[dx]
    extra = {
        DM: 0.85,
        JDM: 0.85,
        ADM: 0.95,
        PM: 0.25,
        ASYS: 0.7,
        IMNM: 0.1,
        IBM: 0.05,
        OVERLAP: 0.6,
        OTHER: 0.5,
    }[dx]
    ck = {
        DM: 4.0,
        JDM: 3.5,
        ADM: 0.7,
        PM: 8.0,
        ASYS: 6.0,
        IMNM: 20.0,
        IBM: 3.0,
        OVERLAP: 5.0,
        OTHER: 3.0,
    }[dx]
    if msa == MDA5:
        muscle, extra, ck = min(muscle, 0.2), 1.0, min(ck, 1.0)
    elif msa == MI2:
        muscle, ck = 0.75, 15.0
    elif msa == TIF1G:
        ck = 2.0
    elif msa == SRP:
        ck = 30.0
    elif msa == HMGCR:
        ck = 22.0
    ck0 = ck * math.exp(rng.gauss(0, 0.6))
    return muscle, extra, ck0, 2.0 if dx == IMNM else 0.55  # IMNM: CK stays raised in remission


def _dates(
    rng: random.Random, dx: str, juvenile: bool, today: date
) -> tuple[bool, date, date, date, date]:
    """Incident or referred; the baseline visit, the birth month, onset and diagnosis."""
    incident = rng.random() < (0.9 if dx == IBM else 0.62)
    days_back = max(7, int(3650 * rng.random() ** 1.4))
    t0 = today - timedelta(days=days_back)
    if incident:
        diagnosis = t0 - timedelta(days=rng.randint(0, 21))
    else:
        months = clamp(20 * math.exp(rng.gauss(0, 0.8)), 4, 144)
        diagnosis = t0 - timedelta(days=int(months * MONTH))
    median, spread = DIAGNOSTIC_DELAY[dx]
    delay = clamp(median * math.exp(rng.gauss(0, spread)), 0.5, 180)
    onset = diagnosis - timedelta(days=int(delay * MONTH))
    mean, sd, low, high = ONSET_AGE[dx]
    if juvenile and dx != JDM:
        mean, sd, low, high = 12, 3, 5, 17
    age = clamp(rng.gauss(mean, sd), low, high)
    born = onset - timedelta(days=int(age * 365.25))
    year, month = born.year, born.month
    # Adult or juvenile is decided by age at onset from the first day of the birth month.
    while (population_for(year, month, onset) == "juvenile") != juvenile:
        year += -1 if not juvenile else 1
    return incident, t0, date(year, month, 1), onset, diagnosis
