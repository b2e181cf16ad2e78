"""What a myositis registry looks like, as tables the generator draws from
(docs/clinical-context.md).

Diagnoses and their demography, the autoantibodies of each diagnosis and the panels that test
them, the drugs of refractory disease and how often each works, relapse and follow-up; and the
three small drawing helpers every stage of the generator uses.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from typing import Any

MONTH = 30.4375  # days

DM, JDM, ADM = "dermatomyositis", "juvenile_dermatomyositis", "amyopathic_dermatomyositis"
PM, ASYS = "polymyositis", "antisynthetase_syndrome"
IMNM, IBM = "immune_mediated_necrotising_myopathy", "inclusion_body_myositis"
OVERLAP, OTHER = "overlap_myositis", "other"

# Share of each diagnosis in a tertiary myositis registry (IBM is under-represented because it
# is excluded from most treatment studies).
DIAGNOSIS_WEIGHTS = {
    DM: 29,
    JDM: 11,
    ADM: 4,
    PM: 9,
    ASYS: 22,
    IMNM: 10,
    IBM: 5,
    OVERLAP: 8,
    OTHER: 2,
}
FEMALE_SHARE = {
    DM: 0.68,
    JDM: 0.65,
    ADM: 0.7,
    PM: 0.62,
    ASYS: 0.68,
    IMNM: 0.6,
    IBM: 0.33,
    OVERLAP: 0.82,
    OTHER: 0.6,
}
# Age at symptom onset: mean, SD, minimum, maximum (years).
ONSET_AGE = {
    DM: (50, 13, 18, 85),
    JDM: (7, 3.5, 2, 17),
    ADM: (49, 12, 18, 80),
    PM: (52, 13, 18, 85),
    ASYS: (50, 12, 18, 80),
    IMNM: (55, 14, 18, 88),
    IBM: (64, 8, 45, 88),
    OVERLAP: (45, 13, 18, 80),
    OTHER: (50, 15, 18, 85),
}
# Delay from onset to diagnosis: median months and the log-normal spread. IBM takes years.
DIAGNOSTIC_DELAY = {
    DM: (3, 0.7),
    JDM: (3, 0.6),
    ADM: (6, 0.8),
    PM: (6, 0.8),
    ASYS: (6, 0.9),
    IMNM: (4, 0.8),
    IBM: (54, 0.5),
    OVERLAP: (8, 0.8),
    OTHER: (6, 0.9),
}

JO1, PL7, PL12, EJ, OJ = "anti-Jo-1", "anti-PL-7", "anti-PL-12", "anti-EJ", "anti-OJ"
KS, ZO, HA, MDA5, MI2 = "anti-KS", "anti-Zo", "anti-Ha", "anti-MDA5", "anti-Mi-2"
TIF1G, NXP2, SAE, SRP = "anti-TIF1-gamma", "anti-NXP2", "anti-SAE", "anti-SRP"
HMGCR, CN1A, RO52 = "anti-HMGCR", "anti-cN1A", "anti-Ro52"
PMSCL, KU, U1RNP = "anti-PM-Scl", "anti-Ku", "anti-U1-RNP"
ANTISYNTHETASE = (JO1, PL7, PL12, EJ, OJ, KS, ZO, HA)

# The myositis-specific antibody (None: none) by diagnosis. MSAs are mostly mutually exclusive.
MSA_WEIGHTS: dict[str, dict[str | None, float]] = {
    DM: {MI2: 18, TIF1G: 17, NXP2: 9, SAE: 5, MDA5: 6, JO1: 3, None: 42},
    ADM: {MDA5: 55, TIF1G: 10, SAE: 3, None: 32},
    JDM: {TIF1G: 28, NXP2: 20, MDA5: 7, MI2: 4, None: 41},
    PM: {JO1: 12, PL7: 3, PL12: 2, SRP: 5, HMGCR: 4, None: 74},
    ASYS: {JO1: 58, PL7: 13, PL12: 12, EJ: 7, OJ: 5, KS: 3, ZO: 1, HA: 1},
    IMNM: {HMGCR: 45, SRP: 38, None: 17},
    IBM: {CN1A: 30, None: 70},
    OVERLAP: {JO1: 5, PL7: 3, None: 92},
    OTHER: {JO1: 4, MI2: 3, None: 93},
}

# Line blot (e.g. a 16-antigen myositis profile) and immunoprecipitation panels; the Japanese
# commercial ELISAs cover fewer antigens. HMGCR and cN1A are separate ELISAs.
PANELS = {
    "line_blot": (MI2, TIF1G, MDA5, NXP2, SAE, KU, PMSCL, JO1, SRP, PL7, PL12, EJ, OJ, RO52),
    "immunoprecipitation": (JO1, PL7, PL12, EJ, OJ, KS, MI2, TIF1G, NXP2, SAE, MDA5, SRP, PMSCL,
                            KU, U1RNP),
    "elisa": (JO1, MDA5, TIF1G, MI2, RO52),
}  # fmt: skip

# Drugs a refractory patient is moved to, by phenotype: relative weights.
REFRACTORY_CHOICES: dict[str, dict[str, float]] = {
    "default": {"rituximab": 26, "ivig": 24, "tacrolimus": 7, "ciclosporin": 4,
                "mycophenolate": 8, "methotrexate": 4, "azathioprine": 3, "cyclophosphamide": 3,
                "acth_gel": 6, "tofacitinib": 9, "baricitinib": 2, "ruxolitinib": 1,
                "plasma_exchange": 3, "other": 2},
    "imnm": {"ivig": 45, "rituximab": 30, "methotrexate": 6, "mycophenolate": 5,
             "azathioprine": 4, "plasma_exchange": 5, "tacrolimus": 3, "other": 2},
    "ild": {"rituximab": 30, "tacrolimus": 22, "ciclosporin": 8, "cyclophosphamide": 14,
            "mycophenolate": 12, "ivig": 6, "tofacitinib": 4, "plasma_exchange": 1, "other": 3},
    "mda5": {"tofacitinib": 22, "rituximab": 18, "cyclophosphamide": 15, "tacrolimus": 15,
             "ivig": 12, "plasma_exchange": 8, "baricitinib": 5, "ruxolitinib": 3},
    "juvenile": {"ivig": 28, "rituximab": 22, "mycophenolate": 16, "ciclosporin": 6,
                 "tacrolimus": 4, "tofacitinib": 7, "baricitinib": 8, "ruxolitinib": 2,
                 "cyclophosphamide": 3, "acth_gel": 2},
    "ibm": {"ivig": 70, "methotrexate": 15, "other": 15},
}  # fmt: skip
OTHER_DRUGS = {  # drug_other: (dose, unit, route, frequency)
    "abatacept": (125, "mg", "sc", "weekly"),
    "sirolimus": (2, "mg", "oral", "daily"),
    "anifrolumab": (300, "mg", "iv", "every 4 weeks"),
    "nintedanib": (150, "mg", "oral", "twice daily"),
}

# Probability that a treatment really works, and its time constant in days. Rituximab: RIM,
# 83 % met the IMACS definition, median about 20 weeks; IVIG: ProDERM, 79 % vs 44 % placebo at
# week 16; tofacitinib: all 10 improved by week 12, minimally or moderately; tacrolimus vs
# ciclosporin in myositis ILD: progression-free 87 % vs 71 %; plasma exchange (1992): no better
# than sham. The registry's observed rates also include placebo-like improvement and noise.
RESPONSE: dict[str, tuple[float, float]] = {
    "first_line": (0.78, 50),
    "mda5_combination": (0.80, 90),
    "rituximab": (0.86, 75),
    "ivig": (0.91, 45),
    "tofacitinib": (0.97, 35),
    "baricitinib": (0.85, 45),
    "ruxolitinib": (0.80, 45),
    "tacrolimus": (0.80, 70),
    "ciclosporin": (0.70, 70),
    "cyclophosphamide": (0.72, 70),
    "acth_gel": (0.70, 70),
    "plasma_exchange": (0.25, 30),
    "methotrexate": (0.65, 70),
    "azathioprine": (0.60, 80),
    "mycophenolate": (0.65, 70),
    "other": (0.50, 70),
}
# Share of the treatments that fail under which the disease worsens (confirmed deterioration,
# ProDERM's worsening at two consecutive visits), by anti-MDA5 or not.
WORSENING = {False: 0.6, True: 0.7}
# Share of the activity that a response removes: (low, high), uniform.
RESPONSE_DEPTH = {"tofacitinib": (0.4, 0.65), "plasma_exchange": (0.25, 0.5)}
DEFAULT_DEPTH = (0.45, 0.9)
# Responders who flare again while glucocorticoids are tapered.
RELAPSE = {
    DM: 0.22,
    JDM: 0.25,
    ADM: 0.15,
    PM: 0.25,
    ASYS: 0.35,
    IMNM: 0.40,
    IBM: 0.0,
    OVERLAP: 0.25,
    OTHER: 0.2,
}

FOLLOW_UP_MONTHS = (3, 6, 12, 18, 24, 36, 48, 60, 72, 84, 96, 108, 120)
LOST_PER_VISIT = 0.045
LEGACY_BEFORE = date(2016, 1, 1)  # data imported from paper records: totals only


def weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    """A key drawn with probability proportional to its weight (dict order: deterministic)."""
    total = sum(weights.values())
    pick = rng.random() * total
    for key, weight in weights.items():
        pick -= weight
        if pick < 0:
            return key
    return key


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def round_to(value: float, step: float) -> float:
    return round(round(value / step) * step, 3)
