"""Words shown to people for the codes of the instruments (codes are the document's;
docs/data-dictionary.md "Codes": labels are the UI's business). Item wordings follow the
published forms: HAQ-DI (Fries 1980, Stanford) and CHAQ (Singh 1994)."""

from crf.models import MMT8

# The HAQ/CHAQ wording is crf's (the FHIR export writes it too); the forms import it from here.
from crf.wording import (  # noqa: F401
    CHAQ_ITEM_LABELS,
    CHAQ_NOT_APPLICABLE,
    HAQ_ANSWERS,
    HAQ_CATEGORY_LABELS,
    HAQ_ITEM_LABELS,
)

MMT_GROUP_LABELS = {
    "neck_flexors": "Neck flexors",
    "deltoid": "Deltoid (middle)",
    "biceps": "Biceps brachii",
    "wrist_extensors": "Wrist extensors",
    "gluteus_maximus": "Gluteus maximus",
    "gluteus_medius": "Gluteus medius",
    "quadriceps": "Quadriceps",
    "ankle_dorsiflexors": "Ankle dorsiflexors",
}


ENZYME_LABELS = {
    "ck": "CK (creatine kinase)",
    "aldolase": "Aldolase",
    "ldh": "LDH",
    "ast": "AST",
    "alt": "ALT",
}

# The six IMACS core set measures, in the order of docs/scoring.md §1.
MEASURE_LABELS = {
    "physician_global": "Physician global activity",
    "patient_global": "Patient global activity",
    "mmt": "Muscle strength",
    "haq": "Physical function (HAQ/CHAQ)",
    "enzyme": "Muscle enzyme",
    "extramuscular": "Extramuscular activity",
}

VISIT_FIELD_LABELS = {
    "visit_date": "Visit date",
    "kind": "Kind of visit",
    "physician_global": "Physician global activity",
    "patient_global": "Patient global activity",
    "extramuscular": "Extramuscular global activity",
    "physician_damage": "Physician global damage",
    "patient_global_damage": "Patient global damage",
    "cmas": "CMAS",
    "fvc_percent": "FVC",
    "dlco_percent": "DLCO",
    "glucocorticoid_mg_per_day": "Glucocorticoid dose",
    "reason": "Reason for change",
}

TIS_CATEGORY_LABELS = {
    "none": "no improvement",
    "minimal": "minimal",
    "moderate": "moderate",
    "major": "major",
}

MMT_SCALE_LABELS = dict(MMT8.Scale.choices)
