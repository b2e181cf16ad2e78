"""A synthetic demo cohort that looks real to a rheumatologist (seed_demo; CLINICAL_CONTEXT.md).

Pure Python, no database nor Django: `CohortGenerator` turns a seed and a reference date
("today") into submission documents (DESIGN.md) — sites, patients, autoantibody panels,
treatment episodes and visit series. The same seed and reference date give the same cohort,
value for value, because every patient draws from its own `random.Random` seeded by (seed,
patient number); patient N is the same whether 100 or 100,000 are made. `crf.bulk` validates
the documents with the submission readers and writes them.

How a patient is made:
- a site (big centres get more patients), a diagnosis in registry-like proportions (DM most
  common; JDM commoner at paediatric centres), sex and age at onset typical of the diagnosis;
- serology consistent with the diagnosis: anti-synthetase in anti-synthetase syndrome (Jo-1
  most often) with interstitial lung disease (ILD), anti-MDA5 in amyopathic DM (commoner in
  East Asia) with rapidly progressive ILD, anti-Mi-2 with classic DM and high CK, anti-TIF1-γ
  and anti-NXP2 in DM and JDM, anti-SRP/HMGCR in IMNM, anti-cN1A in IBM; Ro52 and the
  overlap antibodies as myositis-associated antibodies; a line-blot or immunoprecipitation
  panel records the negatives too; a few patients are never tested;
- either an incident patient (baseline visit at diagnosis, first-line glucocorticoids with
  methotrexate, azathioprine or mycophenolate; up-front tacrolimus + cyclophosphamide for
  anti-MDA5 lung disease) or a refractory referral (earlier glucocorticoids and
  immunosuppressants, baseline visit at entry, then rituximab, IVIG, a calcineurin inhibitor,
  cyclophosphamide, a JAK inhibitor, ACTH gel or plasma exchange);
- a disease-activity course: each treatment either works (activity falls exponentially to a
  lower level, faster with anti-Mi-2, slower with anti-MDA5) or not, with the response rates
  of the trials in CLINICAL_CONTEXT.md; responders may relapse while glucocorticoids are
  tapered, non-responders are escalated at a later visit; some are lost to follow-up and a
  few die (anti-MDA5 rapidly progressive ILD above all);
- visits at baseline, about 3, 6, 12, 18 and 24 months and yearly after, with jitter, plus
  unscheduled visits at flares; every instrument is derived from the activity, the phenotype
  (how much of it shows as weakness, skin or lung disease, enzymes) and accumulated damage,
  with measurement noise and data missing now and then.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from scoring.instruments import BILATERAL_GROUPS, CHAQ_CATEGORIES, HAQ_CATEGORIES, population_for

MONTH = 30.4375  # days
HAQ_ITEMS = tuple(item for items in HAQ_CATEGORIES.values() for item in items)
CHAQ_ITEMS = tuple(item for items in CHAQ_CATEGORIES.values() for item in items)

# --- sites ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteProfile:
    """A myositis centre and the habits that show in its data."""

    code: str
    name: str
    country: str
    size: int  # relative number of patients
    unit: str = "U/L"  # Swedish laboratories report enzymes in µkat/L
    antibody_method: str = "line_blot"
    steroid: str = "prednisolone"  # prednisone in the Americas, China and parts of Europe
    mmt_scale: str = "bilateral"  # the IMACS trials centres grade one side (0–80)
    paediatric: float = 1.0  # weight of juvenile DM relative to other centres
    mda5: float = 1.0  # anti-MDA5 is commoner in East Asia
    mdaat: bool = True  # records the extramuscular global activity (MDAAT VAS)
    damage: bool = False  # records the physician global damage VAS
    acth: bool = False  # repository corticotropin gel is a US product
    ck_uln: tuple[float, float] = (170, 200)  # (female, male), U/L
    aldolase: float = 0.35  # share of visits with an aldolase (US centres order it routinely)


SITE_CATALOGUE: tuple[SiteProfile, ...] = (
    SiteProfile("MAN", "Salford Royal Hospital, Manchester", "GB", 9,
                antibody_method="immunoprecipitation", damage=True),
    SiteProfile("STO", "Karolinska University Hospital, Stockholm", "SE", 8, unit="ukat/L",
                damage=True, aldolase=0.0),
    SiteProfile("PIT", "University of Pittsburgh Myositis Center", "US", 9,
                antibody_method="immunoprecipitation", steroid="prednisone",
                mmt_scale="unilateral", acth=True, aldolase=0.8),
    SiteProfile("LDN", "Great Ormond Street and UCL Hospitals, London", "GB", 7, paediatric=2.0,
                damage=True),
    SiteProfile("TOK", "Tokyo Medical and Dental University Hospital", "JP", 6,
                antibody_method="elisa", mda5=2.5, mdaat=False),
    SiteProfile("BUD", "Semmelweis University, Budapest", "HU", 5, ck_uln=(145, 171)),
    SiteProfile("BAL", "Johns Hopkins Myositis Center, Baltimore", "US", 8, steroid="prednisone",
                acth=True, ck_uln=(145, 190), aldolase=0.8),
    SiteProfile("PRG", "Institute of Rheumatology, Prague", "CZ", 6, steroid="prednisone",
                damage=True, ck_uln=(145, 171)),
    SiteProfile("PAR", "Pitié-Salpêtrière Hospital, Paris", "FR", 7, steroid="prednisone"),
    SiteProfile("BET", "NIH Clinical Center, Bethesda", "US", 4,
                antibody_method="immunoprecipitation", steroid="prednisone",
                mmt_scale="unilateral", paediatric=3.0, acth=True, damage=True, aldolase=0.8),
    SiteProfile("AMS", "Amsterdam UMC", "NL", 4, ck_uln=(145, 170)),
    SiteProfile("DEB", "University of Debrecen", "HU", 4, ck_uln=(145, 171)),
    SiteProfile("SEO", "Seoul National University Hospital", "KR", 4, mda5=2.0, mdaat=False),
    SiteProfile("BEI", "Peking Union Medical College Hospital, Beijing", "CN", 7,
                steroid="prednisone", mda5=2.5, mdaat=False),
    SiteProfile("ROC", "Mayo Clinic, Rochester", "US", 6, steroid="prednisone", acth=True,
                aldolase=0.8),
    SiteProfile("BCN", "Vall d'Hebron University Hospital, Barcelona", "ES", 5,
                steroid="prednisone"),
    SiteProfile("MIL", "ASST Gaetano Pini-CTO, Milan", "IT", 4, steroid="prednisone"),
    SiteProfile("BER", "Charité – Universitätsmedizin Berlin", "DE", 5),
    SiteProfile("LEU", "University Hospitals Leuven", "BE", 3),
    SiteProfile("OSL", "Oslo University Hospital", "NO", 4, damage=True),
    SiteProfile("SYD", "Royal Prince Alfred Hospital, Sydney", "AU", 3),
    SiteProfile("TOR", "Mount Sinai Hospital, Toronto", "CA", 3, steroid="prednisone"),
    SiteProfile("SAO", "Hospital das Clínicas, São Paulo", "BR", 5, steroid="prednisone",
                mdaat=False),
    SiteProfile("MEX", "Instituto Nacional de Ciencias Médicas y Nutrición, Mexico City", "MX", 4,
                steroid="prednisone", mdaat=False),
    SiteProfile("KYO", "Kyoto University Hospital", "JP", 4, antibody_method="elisa", mda5=2.5,
                mdaat=False),
    SiteProfile("NIJ", "Radboud University Medical Center, Nijmegen", "NL", 3, ck_uln=(145, 170)),
    SiteProfile("LUN", "Skåne University Hospital, Lund", "SE", 3, unit="ukat/L", aldolase=0.0),
    SiteProfile("COP", "Rigshospitalet, Copenhagen", "DK", 3, ck_uln=(145, 280)),
    SiteProfile("ZUR", "University Hospital Zurich", "CH", 3, steroid="prednisone"),
    SiteProfile("VIE", "Medical University of Vienna", "AT", 3),
)  # fmt: skip


def demo_sites(count: int) -> list[SiteProfile]:
    """The first `count` centres of the catalogue; beyond it, satellite clinics of them."""
    if count < 1:
        raise ValueError("At least one site is needed.")
    sites = list(SITE_CATALOGUE[:count])
    number = 2
    while len(sites) < count:
        for base in SITE_CATALOGUE[: count - len(sites)]:
            sites.append(
                replace(
                    base,
                    code=f"{base.code}{number}",
                    name=f"{base.name} (satellite clinic {number})",
                    size=max(1, base.size // 2),
                )
            )
        number += 1
    return sites


# Demo logins: four site roles per site and one registry-wide data manager (CONTRACTS.md).
SITE_ROLE_PREFIXES = (
    ("coord", "coordinator"),
    ("inv", "investigator"),
    ("monitor", "monitor"),
    ("submit", "submitter"),
)
DATA_MANAGER_USERNAME = "datamanager"


def demo_people(site_codes: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(username, role, site code or None) of every demo login."""
    people: list[tuple[str, str, str | None]] = [(DATA_MANAGER_USERNAME, "data_manager", None)]
    for code in site_codes:
        for prefix, role in SITE_ROLE_PREFIXES:
            people.append((f"{prefix}-{code.lower()}", role, code))
    return people


# --- clinical tables -----------------------------------------------------------------------------

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
    "first_line": (0.80, 50),
    "mda5_combination": (0.80, 90),
    "rituximab": (0.93, 75),
    "ivig": (0.92, 45),
    "tofacitinib": (1.0, 35),
    "baricitinib": (0.85, 45),
    "ruxolitinib": (0.80, 45),
    "tacrolimus": (0.88, 70),
    "ciclosporin": (0.75, 70),
    "cyclophosphamide": (0.75, 70),
    "acth_gel": (0.75, 70),
    "plasma_exchange": (0.25, 30),
    "methotrexate": (0.65, 70),
    "azathioprine": (0.60, 80),
    "mycophenolate": (0.68, 70),
    "other": (0.50, 70),
}
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


# --- the generator -------------------------------------------------------------------------------


@dataclass
class SyntheticPatient:
    site_code: str
    document: dict[str, Any]  # one patient of the submission document
    visit_status: dict[str, str]  # visit date (ISO) -> workflow status


class CohortGenerator:
    """Makes the cohort patient by patient; see the module docstring."""

    def __init__(self, *, seed: int, sites: Sequence[SiteProfile], today: date) -> None:
        self.seed = seed
        self.sites = list(sites)
        self.today = today
        self._numbers: dict[str, int] = {}
        weights = [site.size for site in self.sites]
        self._cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]

    def patients(self, count: int, start: int = 0) -> Iterator[SyntheticPatient]:
        """Patients number start .. start+count-1; call in order to keep site ids sequential."""
        for index in range(start, start + count):
            rng = random.Random(f"{self.seed}:{index}")
            site = self.sites[
                bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
            ]
            number = self._numbers.get(site.code, 0) + 1
            self._numbers[site.code] = number
            yield _PatientBuilder(rng, site, f"{site.code}-{number:04d}", self.today).build()


def _weighted(rng: random.Random, weights: dict[Any, float]) -> Any:
    total = sum(weights.values())
    pick = rng.random() * total
    for key, weight in weights.items():
        pick -= weight
        if pick < 0:
            return key
    return key


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _round_to(value: float, step: float) -> float:
    return round(round(value / step) * step, 3)


@dataclass
class _Phase:
    day: int
    start: float
    target: float
    tau: float


@dataclass
class _Course:
    """Disease activity (0–1) over time: exponential moves towards successive targets."""

    phases: list[_Phase] = field(default_factory=list)

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
        self.phases.append(_Phase(day, start, _clamp(target, 0.0, 1.0), max(tau, 1.0)))


@dataclass
class _Episode:
    drug: str
    start: int  # day relative to the baseline visit
    dose: float | None
    unit: str
    route: str
    frequency: str
    stop: int | None = None
    reason: str = ""
    other: str = ""


@dataclass
class _Visit:
    day: int
    kind: str
    flare: bool = False
    course_end: bool = False


class _PatientBuilder:
    def __init__(self, rng: random.Random, site: SiteProfile, patient_id: str, today: date):
        self.rng = rng
        self.site = site
        self.patient_id = patient_id
        self.today = today
        self.episodes: list[_Episode] = []
        self.escalations = 0
        self.used: set[str] = set()
        # Glucocorticoids: (day, starting dose) of each course or re-increase; (day, floor).
        self.gc_starts: list[tuple[int, float]] = []
        self.gc_floors: list[tuple[int, float]] = []
        self.gc_off: int | None = None  # planned end of the taper, if the disease allows
        self.gc_episode: _Episode | None = None
        self.responding = False
        self.last_start = 0
        self.pending_relapse: tuple[int, float] | None = None
        self.plex_until: int | None = None
        self.visit_documents: list[dict[str, Any]] = []

    # -- who ---------------------------------------------------------------------------------------

    def build(self) -> SyntheticPatient:
        rng, site = self.rng, self.site
        weights = dict(DIAGNOSIS_WEIGHTS)
        weights[JDM] *= site.paediatric
        self.dx = dx = _weighted(rng, weights)
        self.juvenile = dx == JDM or (dx in (PM, IMNM, OVERLAP) and rng.random() < 0.03)
        self.female = rng.random() < FEMALE_SHARE[dx]
        self._serology()
        self._phenotype()
        self._dates()
        self._body()
        self.visits: list[_Visit] = []
        self._treat_and_follow()
        return self._document()

    def _serology(self) -> None:
        rng, dx = self.rng, self.dx
        self.tested = dx == ASYS or rng.random() > 0.06
        weights = dict(MSA_WEIGHTS[dx])
        if MDA5 in weights:
            weights[MDA5] *= self.site.mda5
        if self.juvenile and dx != JDM:
            weights = {SRP: 30, HMGCR: 10, None: 60} if dx == IMNM else {None: 100}
        self.msa: str | None = _weighted(rng, weights) if self.tested else None
        maa: list[str] = []
        if self.tested:
            ro52 = {JO1: 0.65, MDA5: 0.35, SRP: 0.3}.get(self.msa or "", 0.15)
            if self.msa in ANTISYNTHETASE and self.msa != JO1:
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
        self.maa = maa
        ild = {
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
        if self.msa in ANTISYNTHETASE:
            ild = max(ild, 0.75)
        elif self.msa == MDA5:
            ild = 0.85
        elif PMSCL in maa:
            ild = 0.5
        self.ild = rng.random() < ild
        # Anti-MDA5 rapidly progressive ILD: the lethal phenotype.
        self.rp_ild = self.msa == MDA5 and self.ild and not self.juvenile and rng.random() < 0.45

    def _phenotype(self) -> None:
        """How activity shows: weakness, extramuscular disease, enzymes (× ULN at onset)."""
        rng, dx, msa = self.rng, self.dx, self.msa
        self.muscle = {
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
        self.extra = {
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
            self.muscle, self.extra, ck = min(self.muscle, 0.2), 1.0, min(ck, 1.0)
        elif msa == MI2:
            self.muscle, ck = 0.75, 15.0
        elif msa == TIF1G:
            ck = 2.0
        elif msa == SRP:
            ck = 30.0
        elif msa == HMGCR:
            ck = 22.0
        self.ck0 = ck * math.exp(rng.gauss(0, 0.6))
        self.enzyme_floor = 2.0 if dx == IMNM else 0.55  # IMNM: CK stays raised in remission

    def _dates(self) -> None:
        rng, dx, today = self.rng, self.dx, self.today
        self.incident = rng.random() < (0.9 if dx == IBM else 0.62)
        days_back = max(7, int(3650 * rng.random() ** 1.4))
        self.t0 = today - timedelta(days=days_back)
        if self.incident:
            diagnosis = self.t0 - timedelta(days=rng.randint(0, 21))
        else:
            months = _clamp(20 * math.exp(rng.gauss(0, 0.8)), 4, 144)
            diagnosis = self.t0 - timedelta(days=int(months * MONTH))
        median, spread = DIAGNOSTIC_DELAY[dx]
        delay = _clamp(median * math.exp(rng.gauss(0, spread)), 0.5, 180)
        onset = diagnosis - timedelta(days=int(delay * MONTH))
        mean, sd, low, high = ONSET_AGE[dx]
        if self.juvenile and dx != JDM:
            mean, sd, low, high = 12, 3, 5, 17
        age = _clamp(rng.gauss(mean, sd), low, high)
        born = onset - timedelta(days=int(age * 365.25))
        year, month = born.year, born.month
        # Adult or juvenile is decided by age at onset from the first day of the birth month.
        while (population_for(year, month, onset) == "juvenile") != self.juvenile:
            year += -1 if not self.juvenile else 1
        self.birth = date(year, month, 1)
        self.onset, self.diagnosis = onset, diagnosis
        self.diagnosis_known = rng.random() > 0.02

    def _body(self) -> None:
        rng = self.rng
        self.age0 = (self.t0 - self.birth).days / 365.25
        if self.age0 < 18:
            height = 77 + 6.2 * min(self.age0, 14) + (5 if self.age0 > 14 else 0)
            self.weight = _clamp((2.2 * self.age0 + 9) * math.exp(rng.gauss(0, 0.15)), 10, 90)
        else:
            height = rng.gauss(163 if self.female else 176, 7)
            self.weight = _clamp(rng.gauss(70 if self.female else 82, 13), 42, 140)
        self.bsa = math.sqrt(height * self.weight / 3600)  # Mosteller
        self.paediatric_dosing = self.age0 < 16
        # Damage (0–1) at baseline and how fast it accrues per year.
        self.damage0 = rng.uniform(0, 0.1) if self.incident else rng.uniform(0.05, 0.35)
        self.damage_rate = 0.07 if self.dx == IBM else 0.02
        self.a0 = rng.uniform(0.5, 0.9) if self.incident else rng.uniform(0.45, 0.8)
        if self.dx == IBM:
            self.a0 = rng.uniform(0.3, 0.5)
        self.course = _Course([_Phase(-100_000, self.a0, self.a0, 1.0)])
        # How this patient's visits are recorded.
        self.legacy = self.t0 < LEGACY_BEFORE and rng.random() < 0.4
        self.chaq = self.age0 < 18
        self.cmas = self.juvenile and rng.random() < (0.9 if self.site.paediatric > 1 else 0.5)

    # -- treatment and follow-up ---------------------------------------------------------------

    def _day(self, value: date) -> int:
        return (value - self.t0).days

    def _treat_and_follow(self) -> None:
        rng = self.rng
        self.end = self._day(self.today)
        death = self._death_day()
        if death is not None:
            self.end = min(self.end, death - 1)
        self._plan_visits()
        if self.incident:
            self._first_line()
        else:
            self._referral()
        # Visits in date order; each is measured from what has happened up to its date, then
        # may trigger a change of treatment (so it is that episode's baseline).
        index = 0
        while index < len(self.visits):
            visit = self.visits[index]
            self._apply_relapse(visit.day)
            self._gc_check(visit.day)
            self.visit_documents.append(self._visit(visit))
            self._decide_at(visit)
            index += 1
        self._close_episodes(death)
        if rng.random() < 0.02 and len(self.visits) > 1:
            # Entered from another registry without a visit marked as the baseline.
            self.visit_documents[0]["kind"] = "follow_up"

    def _death_day(self) -> int | None:
        rng = self.rng
        if self.rp_ild:
            self.upfront = rng.random() < 0.7
            # Anti-MDA5 RP-ILD: 6-month survival 89 % with up-front combination vs 33 % step-up.
            if rng.random() < (0.11 if self.upfront else 0.67):
                day = rng.randint(20, 180)
                return day if day <= self.end else None
        else:
            self.upfront = self.msa == MDA5 and self.ild and rng.random() < 0.5
        yearly = 0.04 if (self.msa == TIF1G and not self.juvenile) else 0.008
        if self.dx == IBM:
            yearly = 0.02
        years = rng.expovariate(yearly)
        return int(years * 365.25) + 1 if years * 365.25 < self.end else None

    def _plan_visits(self) -> None:
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
        self.visits = [_Visit(day, "baseline" if day == 0 else "follow_up") for day in days]
        # Unscheduled visits for intercurrent problems, now and then.
        for day in days[1:]:
            if rng.random() < 0.05:
                self._add_visit(day - rng.randint(20, 60), "unscheduled")

    def _add_visit(self, day: int, kind: str, **flags: bool) -> _Visit | None:
        if day <= 0 or day > self.end:
            return None
        taken = {visit.day for visit in self.visits}
        while day in taken:
            day += 1
        if day > self.end:
            return None
        visit = _Visit(day, kind, **flags)
        bisect.insort(self.visits, visit, key=lambda v: v.day)
        return visit

    def _add_episode(
        self, drug: str, start: int, stop: int | None = None, reason: str = "", other: str = ""
    ) -> _Episode | None:
        if start > self.end or any(e.drug == drug and e.start == start for e in self.episodes):
            return None
        dose, unit, route, frequency = self._dosing(drug, other)
        episode = _Episode(drug, start, dose, unit, route, frequency, other=other)
        if stop is not None:
            episode.stop, episode.reason = stop, reason
        self.episodes.append(episode)
        self.used.add(other or drug)
        return episode

    def _respond(self, key: str, start: int, *, depth_scale: float = 1.0) -> bool:
        """Set the activity course from `start` by whether this treatment works."""
        rng = self.rng
        probability, tau = RESPONSE[key]
        if self.msa == MDA5:
            probability, tau = probability * 0.75, tau * 1.8
        elif self.msa == MI2:
            probability, tau = min(0.97, probability + 0.12), tau * 0.5
        elif self.msa in ANTISYNTHETASE or self.dx == JDM:
            probability = min(0.97, probability + 0.05)
        if self.damage0 > 0.25:
            probability -= 0.1
        if self.dx == IBM:
            probability = 0.05
        current = self.course.at(start)
        works = rng.random() < probability
        if works:
            low, high = RESPONSE_DEPTH.get(key, DEFAULT_DEPTH)
            depth = rng.uniform(low, high) * depth_scale
            self.course.move(start, current * (1 - depth), tau * rng.uniform(0.7, 1.3))
            relapse = RELAPSE[self.dx] * (0.4 if self.msa in (MDA5, MI2) else 1.0)
            if rng.random() < relapse:
                self._schedule_relapse(start + rng.randint(240, 900))
            self._gc_floor(start + 90, 5.0)
            self._gc_floor(start + 540, 2.5)
        else:
            # No real response, though some improve a little (regression to the mean).
            self.course.move(start, current * (1 - rng.uniform(-0.2, 0.3)), 60)
            self._gc_floor(start + 60, 12.5)
        self.responding = works
        self.last_start = start
        return works

    def _schedule_relapse(self, day: int) -> None:
        if day >= self.end:
            return
        self.pending_relapse = (day, self.rng.uniform(0.5, 1.0))
        if self.rng.random() < 0.7:
            self._add_visit(day + self.rng.randint(14, 45), "unscheduled", flare=True)

    def _apply_relapse(self, day: int) -> None:
        if self.pending_relapse is None or self.pending_relapse[0] > day:
            return
        relapse_day, share = self.pending_relapse
        self.pending_relapse = None
        current = self.course.at(relapse_day)
        self.course.move(relapse_day, current + (self.a0 - current) * share, 40)
        self.responding = False

    def _decide_at(self, visit: _Visit) -> None:
        """Escalate a non-responder or a flare at this visit (the next episode's baseline)."""
        rng = self.rng
        if visit.day <= 0 or self.escalations >= 3:
            return
        if visit.flare or (not self.responding and visit.day >= self.last_start + 75):
            if not visit.flare and rng.random() > 0.7:
                return
            if visit.flare:
                # Glucocorticoids up again; a new immunosuppressant in two of three flares.
                self._gc_restart(visit.day + rng.randint(0, 7), 0.5)
                if rng.random() > 0.65:
                    self._respond("first_line", visit.day + 3, depth_scale=0.8)
                    return
            delay = rng.randint(0, 21) if rng.random() > 0.08 else rng.randint(35, 60)
            self._escalate(visit.day + delay)

    # -- regimens ----------------------------------------------------------------------------------

    def _first_line(self) -> None:
        rng, dx = self.rng, self.dx
        # A few start treatment long after the baseline visit (awaiting biopsy): no episode
        # baseline in the 30-day window, so the episode is not evaluable.
        start = rng.randint(0, 7) if rng.random() > 0.05 else rng.randint(35, 75)
        if dx == IBM:
            choice = rng.random()
            if choice < 0.3:  # a trial of glucocorticoids
                self._gc_course(start, 1.0)
                self._respond("first_line", start)
            elif choice < 0.45:
                self._add_episode("ivig", start)  # for dysphagia
                self._respond("ivig", start)
            else:
                self.responding = True  # untreated IBM: no escalation, slow decline
            return
        severe = self.a0 > 0.78 or self.rp_ild
        if severe and rng.random() < 0.6:
            self._add_episode("methylprednisolone_iv", start, start + 2, "course completed")
        mild_amyopathic = dx == ADM and not self.ild
        self._gc_course(start, 0.3 if mild_amyopathic else 1.0)
        if dx in (DM, ADM, JDM) and rng.random() < (0.9 if mild_amyopathic else 0.35):
            self._add_episode("hydroxychloroquine", start + rng.choice((0, 0, 14, 28)))
        if self.upfront:
            # Anti-MDA5 lung disease: glucocorticoids + tacrolimus + IV cyclophosphamide.
            self._add_episode("tacrolimus", start + rng.randint(0, 7))
            self._course_drug("cyclophosphamide", start + rng.randint(0, 7))
            self._respond("mda5_combination", start)
            return
        if mild_amyopathic and rng.random() < 0.6:
            self._respond("first_line", start, depth_scale=0.8)
            return
        drug = self._conventional_choice()
        self._add_episode(drug, start if rng.random() < 0.5 else start + rng.randint(7, 42))
        if self.msa == HMGCR and rng.random() < 0.3:
            self._add_episode("ivig", start + rng.randint(0, 28))  # early IVIG in HMGCR IMNM
        if self.ild and self.msa in ANTISYNTHETASE and rng.random() < 0.1:
            self._add_episode("rituximab", start + rng.randint(0, 21))
        self._respond("first_line", start)

    def _conventional_choice(self) -> str:
        if self.dx == JDM or self.juvenile:
            weights = {"methotrexate": 85, "mycophenolate": 10, "ciclosporin": 5}
        elif self.ild:
            # Methotrexate is avoided in ILD; mycophenolate or a calcineurin inhibitor instead.
            weights = {
                "mycophenolate": 55,
                "tacrolimus": 20,
                "azathioprine": 15,
                "ciclosporin": 5,
                "methotrexate": 5,
            }
        elif self.dx == IMNM:
            weights = {"methotrexate": 50, "azathioprine": 30, "mycophenolate": 20}
        else:
            weights = {"methotrexate": 55, "azathioprine": 25, "mycophenolate": 20}
        return _weighted(self.rng, weights)

    def _referral(self) -> None:
        """A refractory patient referred on treatment; the new drug starts after baseline."""
        rng = self.rng
        diagnosed = self._day(self.diagnosis)
        self._gc_course(diagnosed + rng.randint(0, 14), 1.0)
        self._gc_floor(diagnosed + 120, _round_to(rng.uniform(7.5, 22.5), 2.5))
        first = self._conventional_choice()
        start = diagnosed + rng.randint(0, 60)
        if rng.random() < 0.6 and start + 90 < -7:
            stop = rng.randint(start + 90, -7)
            reason = _weighted(rng, {"inadequate response": 75, **self._adverse_event(first)})
            self._add_episode(first, start, stop, reason)
            if rng.random() < 0.4:
                second = _weighted(
                    rng,
                    {d: 1 for d in ("methotrexate", "azathioprine", "mycophenolate") if d != first},
                )
                self._add_episode(second, min(-1, stop + rng.randint(0, 21)))
        else:
            self._add_episode(first, start)
        start = rng.randint(0, 28) if rng.random() > 0.08 else rng.randint(35, 100)
        self._escalate(start, from_referral=True)

    def _adverse_event(self, drug: str) -> dict[str, float]:
        return {
            "methotrexate": {
                "adverse event: raised transaminases": 15,
                "adverse event: mouth ulcers": 5,
            },
            "azathioprine": {"adverse event: leukopenia": 15, "adverse event: nausea": 5},
            "mycophenolate": {"adverse event: diarrhoea": 15},
            "tacrolimus": {"adverse event: nephrotoxicity": 10, "adverse event: tremor": 5},
            "ciclosporin": {"adverse event: hypertension": 10, "adverse event: nephrotoxicity": 10},
        }.get(drug, {"adverse event": 10})

    def _escalate(self, start: int, from_referral: bool = False) -> None:
        rng = self.rng
        if start > self.end:
            return
        self.escalations += 0 if from_referral else 1
        if self.dx == IBM:
            group = "ibm"
        elif self.msa == MDA5:
            group = "mda5"
        elif self.juvenile:
            group = "juvenile"
        elif self.dx == IMNM:
            group = "imnm"
        elif self.ild:
            group = "ild"
        else:
            group = "default"
        weights = {d: w for d, w in REFRACTORY_CHOICES[group].items() if d not in self.used}
        if not self.site.acth:
            weights.pop("acth_gel", None)
        if not weights:
            return
        drug = _weighted(rng, weights)
        # A failed drug is usually stopped when the next starts (rituximab and IVIG often go on).
        for episode in self.episodes:
            if (
                episode.stop is None
                and episode.start < start
                and episode.drug not in ("prednisone", "prednisolone", "hydroxychloroquine")
                and rng.random() < 0.6
            ):
                episode.stop, episode.reason = start, "inadequate response"
        if drug == "other":
            other = _weighted(
                rng,
                {
                    "abatacept": 3,
                    "sirolimus": 2,
                    "anifrolumab": 2,
                    "nintedanib": 3 if self.ild else 0,
                },
            )
            self._add_episode("other", start, other=other)
        elif drug in ("cyclophosphamide", "plasma_exchange", "acth_gel"):
            self._course_drug(drug, start)
        else:
            self._add_episode(drug, start)
        self._respond(drug, start)

    def _course_drug(self, drug: str, start: int) -> None:
        """Drugs given as a fixed course, with an assessment visit shortly after it ends."""
        rng = self.rng
        length = {
            "cyclophosphamide": rng.randint(140, 170),
            "plasma_exchange": 28,
            "acth_gel": rng.randint(170, 190),
        }[drug]
        reason = "course completed"
        if drug == "acth_gel" and rng.random() < 0.15:
            length, reason = rng.randint(40, 120), "insurance coverage ended"
        self._add_episode(drug, start, start + length, reason)
        if drug == "plasma_exchange":
            self.plex_until = start + 60  # enzymes fall whether or not the patient improves
        self._add_visit(start + length + rng.randint(3, 21), "unscheduled", course_end=True)

    # -- glucocorticoids -------------------------------------------------------------------------

    def _gc_course(self, start: int, mg_per_kg: float) -> None:
        """Oral glucocorticoids, about 1 mg/kg/day (2 mg/kg in children), at most 60–80 mg."""
        rng = self.rng
        per_kg = mg_per_kg * (2 if self.paediatric_dosing and mg_per_kg >= 1 else 1)
        cap = 60 if self.paediatric_dosing else rng.choice((60, 60, 60, 80))
        dose = _clamp(_round_to(per_kg * self.weight, 5), 10, cap)
        self.gc_starts.append((start, dose))
        self._gc_floor(start, 0.0)
        self.gc_episode = self._add_episode(self.site.steroid, start)
        if self.gc_episode:
            self.gc_episode.dose = dose
        # Half of the patients come off glucocorticoids within two to three years, if their
        # disease is quiet by then (_gc_check).
        self.gc_off = start + rng.randint(540, 900) if rng.random() < 0.5 else None

    def _gc_floor(self, day: int, floor: float) -> None:
        bisect.insort(self.gc_floors, (day, floor))

    def _gc_check(self, day: int) -> None:
        """At a visit after the planned end of the taper: stopped if responding, else not."""
        if self.gc_off is None or day < self.gc_off:
            return
        if self.responding and self.gc_episode is not None and self.gc_episode.stop is None:
            self.gc_episode.stop, self.gc_episode.reason = self.gc_off, "tapered off"
        elif not (self.gc_episode and self.gc_episode.stop is not None):
            self.gc_off = None

    def _gc_restart(self, day: int, mg_per_kg: float) -> None:
        """A flare: back on glucocorticoids, or up to about 0.5 mg/kg again."""
        if self.gc_episode is None or self.gc_episode.stop is not None:
            self._gc_course(day, mg_per_kg)
            return
        self.gc_off = None
        self.gc_starts.append((day, _clamp(_round_to(mg_per_kg * self.weight, 5), 10, 40)))

    def _gc_dose(self, day: int) -> float:
        """The prednisone-equivalent dose on a visit day."""
        if self.gc_episode is None or (self.gc_off is not None and day >= self.gc_off):
            return 0.0
        started = [(s, dose) for s, dose in self.gc_starts if s <= day]
        if not started:
            return 0.0
        start, dose = started[-1]
        floor = 0.0
        for floor_day, value in self.gc_floors:
            if floor_day <= day:
                floor = value
        # Halving about every ten weeks, held at the lowest dose the disease allows.
        value = max(dose * 0.5 ** ((day - start) / 70), floor)
        return _round_to(value, 5 if value >= 15 else 2.5)

    def _close_episodes(self, death: int | None) -> None:
        rng = self.rng
        today = self._day(self.today)
        for episode in self.episodes:
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
                if stop <= self.end and self.responding and rng.random() < 0.5:
                    episode.stop, episode.reason = stop, "remission"
            if (
                episode.stop is None
                and episode.drug in ("methotrexate", "azathioprine", "mycophenolate")
                and rng.random() < 0.08
            ):
                stop = episode.start + rng.randint(30, 365)
                if stop <= self.end:
                    reasons = self._adverse_event(episode.drug)
                    if self.female and 18 <= self.age0 < 40 and episode.drug != "azathioprine":
                        reasons["planning pregnancy"] = 10
                    episode.stop, episode.reason = stop, _weighted(rng, reasons)

    def _dosing(self, drug: str, other: str) -> tuple[float | None, str, str, str]:
        """Dose, unit, route and frequency as a clinic writes them."""
        rng, child, weight, bsa = self.rng, self.paediatric_dosing, self.weight, self.bsa
        us = self.site.country == "US"
        if drug in ("prednisone", "prednisolone"):
            return None, "mg", "oral", "daily, tapering"  # dose set by _gc_course
        if drug == "methylprednisolone_iv":
            if child:
                return 30, "mg/kg", "iv", "daily for 3 days"
            return rng.choice((1000, 1000, 500)), "mg", "iv", "daily for 3 days"
        if drug == "methotrexate":
            if child:
                return 15, "mg/m2", "sc", "weekly"
            return rng.choice((15, 20, 20, 25)), "mg", rng.choice(("oral", "sc")), "weekly"
        if drug == "azathioprine":
            return _clamp(_round_to(2 * weight, 25), 50, 200), "mg", "oral", "daily"
        if drug == "mycophenolate":
            if child:
                return 600, "mg/m2", "oral", "twice daily"
            return rng.choice((1000, 1000, 1500)), "mg", "oral", "twice daily"
        if drug == "tacrolimus":
            dose = _clamp(_round_to(0.04 * weight, 0.5), 0.5, 4)
            return dose, "mg", "oral", "twice daily, trough 5-10 ng/mL"
        if drug == "ciclosporin":
            return _clamp(_round_to(1.5 * weight, 25), 25, 150), "mg", "oral", "twice daily"
        if drug == "hydroxychloroquine":
            if child:
                return _clamp(_round_to(5 * weight, 50), 50, 200), "mg", "oral", "daily"
            return 200, "mg", "oral", rng.choice(("twice daily", "daily"))
        if drug == "rituximab":
            if child or rng.random() < 0.15:
                return 750, "mg/m2", "iv", "days 0 and 14"
            return 1000, "mg", "iv", rng.choice(("days 0 and 14", "days 0 and 14, every 6 months"))
        if drug == "ivig":
            return 2, "g/kg", "iv", f"every 4 weeks, over {rng.choice((2, 2, 3, 5))} days"
        if drug == "cyclophosphamide":
            if self.upfront and rng.random() < 0.5:
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

    def _date(self, day: int) -> str:
        return (self.t0 + timedelta(days=day)).isoformat()

    def _document(self) -> SyntheticPatient:
        sex = "female" if self.female else "male"
        doc: dict[str, Any] = {
            "patient_id": self.patient_id,
            "sex": sex,
            "birth_year_month": f"{self.birth.year:04d}-{self.birth.month:02d}",
            "diagnosis": self.dx,
            "onset_date": self.onset.isoformat(),
            "diagnosis_date": self.diagnosis.isoformat() if self.diagnosis_known else None,
            "autoantibodies": self._antibodies(),
            "treatments": [],
            "visits": [],
        }
        for episode in sorted(self.episodes, key=lambda e: (e.start, e.drug)):
            treatment: dict[str, Any] = {
                "drug": episode.drug,
                "dose": episode.dose,
                "dose_unit": episode.unit,
                "route": episode.route,
                "frequency": episode.frequency,
                "start_date": self._date(max(episode.start, self._day(self.onset))),
                "stop_date": None if episode.stop is None else self._date(episode.stop),
                "stop_reason": episode.reason or None,
            }
            if episode.other:
                treatment["drug_other"] = episode.other
            doc["treatments"].append(treatment)
        doc["visits"] = self.visit_documents
        last = self.visits[-1].day
        statuses = {
            document["visit_date"]: self._status(visit.day, visit.day == last)
            for visit, document in zip(self.visits, self.visit_documents, strict=True)
        }
        return SyntheticPatient(self.site.code, doc, statuses)

    def _status(self, day: int, last: bool) -> str:
        """Older visits have been verified and signed (locked); the newest may be a draft."""
        age = self._day(self.today) - day
        roll = self.rng.random()
        if age > 365:
            return "locked" if roll < 0.5 else "verified" if roll < 0.92 else "submitted"
        if age > 90:
            return "verified" if roll < 0.55 else "submitted" if roll < 0.97 else "locked"
        if last and age <= 30 and roll < 0.25:
            return "draft"
        return "submitted" if roll < 0.9 else "verified"

    def _antibodies(self) -> list[dict[str, Any]]:
        if not self.tested:
            return []
        rng, site = self.rng, self.site
        method = site.antibody_method
        panel = PANELS[method]
        positives = {a for a in (self.msa, *self.maa) if a}
        if rng.random() < (1.0 if method == "elisa" else 0.4):
            tested = list(panel)
        else:  # only what was asked for: the positives and a few key negatives
            tested = [a for a in panel if a in positives]
            tested += rng.sample([a for a in panel if a not in positives], rng.randint(1, 4))
        extra = []
        if self.dx in (IMNM, PM) or self.msa == HMGCR:
            extra.append((HMGCR, "elisa"))
        if self.dx in (IBM, PM) or self.msa == CN1A:
            extra.append((CN1A, "elisa"))
        for antibody in sorted(positives):  # sorted: set order changes with PYTHONHASHSEED
            if antibody not in tested and antibody not in dict(extra):
                extra.append((antibody, "elisa" if antibody in (HMGCR, CN1A) else "other"))
        sample = _clamp(self._day(self.diagnosis) + rng.randint(-30, 10), self._day(self.onset), 0)
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
                    "sample_date": self._date(int(sample)),
                }
            )
        confirmed = min(0, int(sample) + rng.randint(20, 90))
        if self.msa and method == "line_blot" and confirmed > sample and rng.random() < 0.12:
            # Confirmed by immunoprecipitation at a reference laboratory.
            results.append(
                {
                    "antibody": self.msa,
                    "result": "positive",
                    "method": "immunoprecipitation",
                    "sample_date": self._date(confirmed),
                }
            )
        return results

    # -- one visit -------------------------------------------------------------------------------

    def _visit(self, visit: _Visit) -> dict[str, Any]:
        rng = self.rng
        day = visit.day
        activity = self.course.at(day)
        years = day / 365.25
        damage = _clamp(self.damage0 + self.damage_rate * max(0.0, years), 0, 1)
        if self.dx == IBM:  # IBM: slowly progressive weakness whatever the treatment
            activity = _clamp(activity + 0.04 * max(0.0, years), 0, 1)
        # Intercurrent unscheduled visits record less; a flare or end-of-course assessment is
        # as complete as a scheduled one (it is the next episode's baseline or its outcome).
        unscheduled = visit.kind == "unscheduled" and not (visit.flare or visit.course_end)
        doc: dict[str, Any] = {"visit_date": self._date(day), "kind": visit.kind}

        def present(share: float) -> bool:
            return rng.random() < share

        if present(0.99):
            doc["physician_global"] = round(_clamp(10 * activity + rng.gauss(0, 0.4), 0, 10), 1)
        if present(0.7 if unscheduled else 0.95):
            value = 10 * (0.15 + 0.75 * activity) + 2 * damage + rng.gauss(0, 0.9)
            doc["patient_global"] = round(_clamp(value, 0, 10), 1)
        if present((0.6 if unscheduled else 0.93) * (1 if self.site.mdaat else 0.5)):
            value = 10 * activity * self.extra * rng.uniform(0.75, 1.1) + rng.gauss(0, 0.4)
            doc["extramuscular"] = round(_clamp(value, 0, 10), 1)
        if self.site.damage and day > 0 and present(0.6):
            doc["physician_damage"] = round(_clamp(10 * damage + rng.gauss(0, 0.4), 0, 10), 1)
        weakness = activity * self.muscle * 0.45 + damage * 0.17  # share of the MMT lost
        if self.dx == IBM:
            weakness = 0.12 + 0.35 * activity
        if present(0.6 if unscheduled else 0.98):
            doc["mmt8"] = self._mmt8(weakness, legacy=self.legacy and self._before_legacy(day))
        if self.cmas and present(0.85):
            doc["cmas"] = int(_clamp(round(52 - 62 * weakness + rng.gauss(0, 1.5)), 0, 52))
        if present(0.4 if unscheduled else 0.91):
            disability = 3 * (0.08 + 0.5 * activity * (0.4 + 0.6 * self.muscle)) + 0.8 * damage
            disability = _clamp(disability + rng.gauss(0, 0.15), 0, 3)
            key = "chaq" if self.chaq else "haq"
            doc[key] = self._haq(disability, legacy=self.legacy and self._before_legacy(day))
        if present(0.96):
            doc["labs"] = self._labs(day, activity)
        lungs = self.ild or day == 0
        if present((0.75 if self.ild else 0.5 if day == 0 else 0.1) * (0.5 if unscheduled else 1)):
            fvc, dlco = (70, 55) if self.ild else (96, 88)
            if self.ild:
                fvc, dlco = fvc - 25 * activity, dlco - 30 * activity
            doc["fvc_percent"] = round(_clamp(rng.gauss(fvc, 6), 25, 140), 1)
            if lungs and present(0.8):
                doc["dlco_percent"] = round(_clamp(rng.gauss(dlco, 7), 15, 140), 1)
        if present(0.95):
            doc["glucocorticoid_mg_per_day"] = self._gc_dose(day)
        return doc

    def _before_legacy(self, day: int) -> bool:
        return self.t0 + timedelta(days=day) < LEGACY_BEFORE

    def _mmt8(self, weakness: float, *, legacy: bool) -> dict[str, Any]:
        """Kendall 0–10 grades; proximal groups weaker, except IBM (quadriceps, distal)."""
        rng = self.rng
        if self.dx == IBM:
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
            return int(_clamp(round(10 - loss), 0, 10))

        unilateral = self.site.mmt_scale == "unilateral"
        mmt: dict[str, Any] = {"scale": "unilateral" if unilateral else "bilateral"}
        if unilateral and rng.random() < 0.05:
            mmt["side"] = "left"  # the right side could not be tested
        if legacy:
            maximum = 80 if unilateral else 150
            mmt["total"] = int(
                _clamp(round(maximum * (1 - weakness) + rng.gauss(0, 2)), 0, maximum)
            )
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
            return {"score": _round_to(_clamp(disability + rng.gauss(0, 0.1), 0, 3), 0.125)}
        legs = {"stand", "bed", "walk", "climb_steps", "bath", "toilet", "car_in_out", "bike"}
        grip = {"cut_meat", "open_carton", "car_doors", "open_jars", "faucets", "write"}
        items: dict[str, Any] = {}
        keys = CHAQ_ITEMS if self.chaq else HAQ_ITEMS
        for key in keys:
            bias = 0.3 * self.muscle if key in legs else 0.0
            if key in grip:
                bias = 0.5 if self.dx == IBM else -0.3
            items[key] = int(_clamp(round(disability + bias + rng.gauss(0, 0.35)), 0, 3))
        if self.chaq and self.age0 < 6:
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

    def _labs(self, day: int, activity: float) -> dict[str, Any]:
        """Enzymes as × ULN from activity, converted to the site's unit and reference range."""
        rng, site = self.rng, self.site
        ratio = activity / self.a0 if self.a0 else 0
        ck = self.enzyme_floor + (self.ck0 - self.enzyme_floor) * ratio**1.6
        ck = max(0.15, ck * math.exp(rng.gauss(0, 0.25)))
        if self.plex_until is not None and 0 <= self.plex_until - day <= 60:
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
        female, child = self.female, self.age0 < 18
        if self.site.unit == "ukat/L":
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
            "ck": self.site.ck_uln[0 if female else 1],
            "aldolase": 7.6,
            "ldh": 250,
            "ast": 35 if female else 40,
            "alt": 35 if female else 45,
        }[enzyme]
