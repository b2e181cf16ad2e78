"""The demo registry's centres and logins: which sites a cohort of K sites has, and who works there.

Pure Python: `crf.demo.accounts` creates them in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


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


# Demo logins: four site roles per site and one registry-wide data manager (docs/operations.md
# "Management commands").
SITE_ROLE_PREFIXES = (
    ("coord", "coordinator"),
    ("inv", "investigator"),
    ("monitor", "monitor"),
    ("submit", "submitter"),
)
DATA_MANAGER_USERNAME = "datamanager"


def site_login(role: str, code: str) -> str:
    """The username of the demo login with this role at this site (inv-man: MAN's investigator)."""
    prefix = next(prefix for prefix, named in SITE_ROLE_PREFIXES if named == role)
    return f"{prefix}-{code.lower()}"


def demo_people(site_codes: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(username, role, site code or None) of every demo login."""
    people: list[tuple[str, str, str | None]] = [(DATA_MANAGER_USERNAME, "data_manager", None)]
    for code in site_codes:
        for _, role in SITE_ROLE_PREFIXES:
            people.append((site_login(role, code), role, code))
    return people
