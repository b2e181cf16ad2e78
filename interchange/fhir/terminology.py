"""The codes the FHIR export speaks: standard systems where a code is known for sure (LOINC for the
enzymes and FVC, SNOMED CT for the diagnoses that have one, UCUM units), and the registry's own
CodeSystems for everything else (no standard code exists for the IMACS measures and scores).

Every URI of the export is here. The registry's are URNs under one namespace, the same in every
installation, so that files from two registries speak the same codes:

- `urn:myositis-registry:site:<CODE>` — the identifier system of a site's patient ids (the value is
  the site's own pseudonymous id), and `urn:myositis-registry:site` the identifier system of the
  sites themselves (Organization identifiers);
- `urn:myositis-registry:codesystem:<name>` — the registry's CodeSystems (CODE_SYSTEMS below);
- `urn:myositis-registry:questionnaire:<instrument>` — the HAQ-DI and CHAQ Questionnaires;
- `urn:myositis-registry:extension:action-taken` — the action taken with a suspect treatment of
  an adverse event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crf.outcome_models import SERIOUS_CRITERIA, AdverseEvent, AdverseEventRelation
from crf.wording import CHAQ_NOT_APPLICABLE, HAQ_ANSWERS, HAQ_CATEGORY_LABELS
from registry.vocabularies import Diagnosis, Drug, StopReason
from scoring.planning import DOI, TIS

NAMESPACE = "urn:myositis-registry"
SITE_SYSTEM = f"{NAMESPACE}:site"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# The date a condition was first asserted: the registry's date of diagnosis.
# The action taken with a suspect treatment (AdverseEvent.suspectEntity has no element for it).
ACTION_TAKEN = f"{NAMESPACE}:extension:action-taken"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
AE_CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"
ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"


def patient_system(site_code: str) -> str:
    """The identifier system of a site's patient ids."""
    return f"{SITE_SYSTEM}:{site_code}"


def site_reference(code: str, name: str) -> dict[str, Any]:
    """A site as a logical reference to an Organization: no Organization resource is exported,
    the site's code identifies it."""
    return {
        "type": "Organization",
        "identifier": {"system": SITE_SYSTEM, "value": code},
        "display": name,
    }


def code_system_url(name: str) -> str:
    return f"{NAMESPACE}:codesystem:{name}"


def questionnaire_url(instrument: str) -> str:
    return f"{NAMESPACE}:questionnaire:{instrument}"


# ---------------------------------------------------------------------------------------------
# Standard codes

# LOINC, serum or plasma catalytic concentration of each enzyme (INTEROP: CK 2157-6, aldolase
# 1761-6, LDH 2532-0, AST 1920-8, ALT 1742-6).
ENZYME_LOINC = {
    "ck": "2157-6",
    "aldolase": "1761-6",
    "ldh": "2532-0",
    "ast": "1920-8",
    "alt": "1742-6",
}
# LOINC 19872-1 "FVC measured/predicted". DLCO % predicted has no LOINC code we are sure of: it
# carries the registry's code.
FVC_PERCENT_LOINC = "19872-1"

# SNOMED CT disorders, only where the concept is certain; the others are text (and the
# registry's diagnosis code) only.
DIAGNOSIS_SNOMED = {
    Diagnosis.DERMATOMYOSITIS: "396230008",
    Diagnosis.POLYMYOSITIS: "31384009",
    Diagnosis.IBM: "72315009",
}

# The lab units of crf's LabResult.Unit as UCUM: (code, what a person reads).
LAB_UNITS = {"U/L": ("U/L", "U/L"), "ukat/L": ("ukat/L", "µkat/L")}


@dataclass(frozen=True, slots=True)
class Unit:
    code: str  # UCUM
    unit: str  # for people

    def quantity(self, value: Any) -> dict[str, Any]:
        return {"value": value, "unit": self.unit, "system": UCUM, "code": self.code}


CM = Unit("cm", "cm")
PERCENT = Unit("%", "%")
SCORE = Unit("{score}", "score")


# ---------------------------------------------------------------------------------------------
# The registry's CodeSystems

# Observation codes of the registry (MEASURE): code → (display, definition).
MEASURES: dict[str, tuple[str, str]] = {
    "physician-global": (
        "Physician global disease activity",
        "Physician's global assessment of disease activity, 10 cm visual analogue scale (IMACS).",
    ),
    "patient-global": (
        "Patient global disease activity",
        "Patient's (or parent's) global assessment of disease activity, 10 cm visual analogue "
        "scale (IMACS).",
    ),
    "extramuscular": (
        "Extramuscular global activity",
        "Extramuscular global disease activity, MDAAT 10 cm visual analogue scale.",
    ),
    "physician-damage": (
        "Physician global damage",
        "Physician's global assessment of disease damage, 10 cm visual analogue scale.",
    ),
    "mmt8-total": (
        "MMT-8 total",
        "Manual muscle testing of the 8 IMACS muscle groups, Kendall 0–10 per group: 0–80 "
        "unilateral, 0–150 bilateral.",
    ),
    "mmt8-maximum": ("MMT-8 scale maximum", "80 for the unilateral scale, 150 for the bilateral."),
    "cmas": ("CMAS", "Childhood Myositis Assessment Scale, 0–52 (higher is better)."),
    "dlco-percent-predicted": (
        "DLCO % predicted",
        "Diffusing capacity of the lung for carbon monoxide, percent of predicted.",
    ),
    "haq-di": (
        "HAQ disability index",
        "Stanford Health Assessment Questionnaire disability index (Fries 1980), 0–3.",
    ),
    "chaq-di": (
        "CHAQ disability index",
        "Childhood Health Assessment Questionnaire disability index (Singh 1994), 0–3.",
    ),
    TIS: (
        "ACR/EULAR total improvement score",
        "2016 ACR/EULAR myositis response criteria, total improvement score 0–100 of a visit "
        "against a reference visit (Aggarwal 2017, Rider 2017).",
    ),
    DOI: (
        "IMACS definition of improvement",
        "IMACS definition of improvement (Rider 2004) met by a visit against a reference visit.",
    ),
    "tis-category": (
        "ACR/EULAR improvement category",
        "none, minimal, moderate or major improvement (population thresholds).",
    ),
    "reference-date": (
        "Date of the reference visit",
        "The visit a score compares with: the patient's baseline or a treatment's baseline.",
    ),
}

HAQ_CATEGORY = "haq-category"
HAQ_ANSWER = "haq-answer"
MEASURE = "measure"
AE_CATEGORY = "adverse-event-category"
SERIOUS_CRITERION = "serious-criterion"
RELATEDNESS = "relatedness"
AE_ACTION = "adverse-event-action"


def _answers() -> dict[str, tuple[str, str]]:
    options = [*HAQ_ANSWERS, CHAQ_NOT_APPLICABLE]
    # "0 – no difficulty": the code is the part before the dash.
    return {code: (label.split(" – ", 1)[1].capitalize(), label) for code, label in options}


# name → (title, concepts: code → (display, definition)). Each is exported as a CodeSystem.
CODE_SYSTEMS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    MEASURE: ("Myositis registry measures and scores", MEASURES),
    "diagnosis": (
        "Myositis registry diagnoses",
        {code: (label, label) for code, label in Diagnosis.choices},
    ),
    "drug": ("Myositis registry drugs", {code: (label, label) for code, label in Drug.choices}),
    "stop-reason": (
        "Why a treatment episode was stopped",
        {code: (label, label) for code, label in StopReason.choices},
    ),
    HAQ_CATEGORY: (
        "HAQ/CHAQ categories",
        {code: (label, label) for code, label in HAQ_CATEGORY_LABELS.items()},
    ),
    HAQ_ANSWER: ("HAQ/CHAQ answers", _answers()),
    AE_CATEGORY: (
        "Adverse event categories",
        {code: (label, label) for code, label in AdverseEvent.Category.choices},
    ),
    SERIOUS_CRITERION: (
        "ICH E2A seriousness criteria",
        {
            code: (str(AdverseEvent._meta.get_field(f"criterion_{code}").verbose_name),) * 2
            for code in SERIOUS_CRITERIA
        },
    ),
    RELATEDNESS: (
        "Relatedness of an adverse event to a treatment",
        {code: (label, label) for code, label in AdverseEventRelation.Relatedness.choices},
    ),
    AE_ACTION: (
        "Action taken with a treatment for an adverse event",
        {code: (label, label) for code, label in AdverseEventRelation.Action.choices},
    ),
}


def coding(system_name: str, code: str) -> dict[str, str]:
    """A Coding of one of the registry's CodeSystems, with its display."""
    display = CODE_SYSTEMS[system_name][1][code][0]
    return {"system": code_system_url(system_name), "code": code, "display": display}


def measure(code: str) -> dict[str, Any]:
    """The CodeableConcept of one of the registry's measures."""
    return {"coding": [coding(MEASURE, code)], "text": MEASURES[code][0]}


def category(code: str) -> list[dict[str, Any]]:
    """Observation.category: laboratory, exam, survey, procedure."""
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}]


def code_systems() -> list[dict[str, Any]]:
    """The registry's CodeSystem resources (exported once, in bulk)."""
    return [
        {
            "resourceType": "CodeSystem",
            "id": f"myositis-registry-{name}",
            "url": code_system_url(name),
            "name": "MyositisRegistry" + "".join(part.title() for part in name.split("-")),
            "title": title,
            "status": "active",
            "experimental": False,
            "publisher": "Myositis registry",
            "caseSensitive": True,
            "content": "complete",
            "count": len(concepts),
            "concept": [
                {"code": code, "display": display, "definition": definition}
                for code, (display, definition) in concepts.items()
            ],
        }
        for name, (title, concepts) in CODE_SYSTEMS.items()
    ]
