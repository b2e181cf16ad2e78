"""Autoantibodies consistent with the diagnosis, and the laboratory results that show them.

Anti-synthetase antibodies in anti-synthetase syndrome (Jo-1 most often) with interstitial lung
disease (ILD), anti-MDA5 in amyopathic DM (commoner in East Asia) with rapidly progressive ILD,
anti-Mi-2 with classic DM, anti-TIF1-γ and anti-NXP2 in DM and JDM, anti-SRP/HMGCR in IMNM,
anti-cN1A in IBM; Ro52 and the overlap antibodies as myositis-associated antibodies. A line-blot
or immunoprecipitation panel records the negatives too; a few patients are never tested.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crf.demo.clinical import (
    ADM,
    ANTISYNTHETASE,
    ASYS,
    CN1A,
    DM,
    HMGCR,
    IBM,
    IMNM,
    JDM,
    JO1,
    KU,
    MDA5,
    MSA_WEIGHTS,
    OTHER,
    OVERLAP,
    PANELS,
    PM,
    PMSCL,
    RO52,
    SRP,
    U1RNP,
    clamp,
    weighted,
)
from crf.demo.sites import SiteProfile


@dataclass(frozen=True)
class Serology:
    """A patient's antibodies (msa: the myositis-specific one; maa: associated ones) and lungs."""

    tested: bool
    msa: str | None
    maa: tuple[str, ...]
    ild: bool
    rp_ild: bool  # anti-MDA5 rapidly progressive ILD: the lethal phenotype


def draw_serology(rng: random.Random, site: SiteProfile, dx: str, juvenile: bool) -> Serology:
    tested = dx == ASYS or rng.random() > 0.06
    weights = dict(MSA_WEIGHTS[dx])
    if MDA5 in weights:
        weights[MDA5] *= site.mda5
    if juvenile and dx != JDM:
        weights = {SRP: 30, HMGCR: 10, None: 60} if dx == IMNM else {None: 100}
    msa: str | None = weighted(rng, weights) if tested else None
    maa: list[str] = []
    if tested:
        ro52 = {JO1: 0.65, MDA5: 0.35, SRP: 0.3}.get(msa or "", 0.15)
        if msa in ANTISYNTHETASE and msa != JO1:
            ro52 = 0.45
        if dx == OVERLAP:
            ro52 = 0.3
        if rng.random() < ro52:
            maa.append(RO52)
        for antibody, overlap, others in (
            (PMSCL, 0.35, 0.02),
            (KU, 0.12, 0.01),
            (U1RNP, 0.25, 0.01),
        ):
            if rng.random() < (overlap if dx == OVERLAP else others):
                maa.append(antibody)
    ild_share = {
        ASYS: 0.8,
        PM: 0.15,
        DM: 0.08,
        ADM: 0.3,
        JDM: 0.05,
        IMNM: 0.05,
        OVERLAP: 0.3,
        OTHER: 0.1,
        IBM: 0.0,
    }[dx]
    if msa in ANTISYNTHETASE:
        ild_share = max(ild_share, 0.75)
    elif msa == MDA5:
        ild_share = 0.85
    elif PMSCL in maa:
        ild_share = 0.5
    ild = rng.random() < ild_share
    rp_ild = msa == MDA5 and ild and not juvenile and rng.random() < 0.45
    return Serology(tested, msa, tuple(maa), ild, rp_ild)


def antibody_results(
    rng: random.Random,
    serology: Serology,
    *,
    dx: str,
    method: str,
    t0: date,
    onset: int,
    diagnosed: int,
) -> list[dict[str, Any]]:
    """The submission document's `autoantibodies`: the site's panel (or only what was asked
    for), separate ELISAs where the diagnosis calls for them, sampled around the diagnosis
    (days `onset` and `diagnosed` relative to the baseline visit on `t0`)."""
    if not serology.tested:
        return []
    msa = serology.msa
    panel = PANELS[method]
    positives = {a for a in (msa, *serology.maa) if a}
    if rng.random() < (1.0 if method == "elisa" else 0.4):
        tested = list(panel)
    else:  # only what was asked for: the positives and a few key negatives
        tested = [a for a in panel if a in positives]
        tested += rng.sample([a for a in panel if a not in positives], rng.randint(1, 4))
    extra = []
    if dx in (IMNM, PM) or msa == HMGCR:
        extra.append((HMGCR, "elisa"))
    if dx in (IBM, PM) or msa == CN1A:
        extra.append((CN1A, "elisa"))
    for antibody in sorted(positives):  # sorted: set order changes with PYTHONHASHSEED
        if antibody not in tested and antibody not in dict(extra):
            extra.append((antibody, "elisa" if antibody in (HMGCR, CN1A) else "other"))
    sample = clamp(diagnosed + rng.randint(-30, 10), onset, 0)

    def when(day: int) -> str:
        return (t0 + timedelta(days=day)).isoformat()

    results = []
    for antibody, how in [(a, method) for a in tested] + extra:
        if antibody in positives:
            result = "positive"
            intensity = {
                "line_blot": rng.choice(("+", "++", "+++")),
                "elisa": f"index {rng.randint(30, 400)}",
            }.get(how, "")
        elif how == "line_blot" and rng.random() < 0.03:
            result, intensity = "equivocal", "(+)"  # a faint band
        else:
            result, intensity = "negative", ""
        results.append(
            {
                "antibody": antibody,
                "result": result,
                "method": how,
                "intensity": intensity,
                "sample_date": when(int(sample)),
            }
        )
    confirmed = min(0, int(sample) + rng.randint(20, 90))
    if msa and method == "line_blot" and confirmed > sample and rng.random() < 0.12:
        # Confirmed by immunoprecipitation at a reference laboratory.
        results.append(
            {
                "antibody": msa,
                "result": "positive",
                "method": "immunoprecipitation",
                "sample_date": when(confirmed),
            }
        )
    return results
