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

# The two sides of the sided MMT-8 groups, as the form and the documents name them.
MMT_SIDE_LABELS = {"right": "right", "left": "left"}

LAB_PART_LABELS = {"value": "value", "unit": "unit", "uln": "upper limit of normal"}

# Parts of the visit document the form shows as one block; a path that stops at them is about
# the block as a whole.
_BLOCK_LABELS = {
    "mmt8": "MMT-8",
    "mmt8.scale": "MMT-8 scale",
    "mmt8.side": "MMT-8 side tested",
    "mmt8.total": "MMT-8 total",
    "haq": "HAQ / CHAQ",
    "haq.score": "HAQ / CHAQ disability index",
    "haq.aids": "HAQ / CHAQ aids or devices",
    "haq.help": "HAQ / CHAQ help from another person",
    "labs": "Muscle enzymes",
}


def query_field_choices() -> list[tuple[str, str]]:
    """The fields a data query can be about, by the JSON path of the visit document (the one the
    plausibility rules of crf.quality use too), with their labels."""
    paths = [name for name in VISIT_FIELD_LABELS if name != "reason"]
    paths.append("mmt8")
    paths += [f"mmt8.{group}" for group in MMT_GROUP_LABELS]
    paths += [f"labs.{enzyme}.value" for enzyme in ENZYME_LABELS]
    paths += [f"labs.{enzyme}.uln" for enzyme in ENZYME_LABELS]
    paths.append("haq")
    return [(path, field_label(path)) for path in paths]


def field_label(path: str) -> str:
    """The words for a path of the visit document, as the visit form labels its input: what a
    data query, the queries list, the visit page and the history show instead of `labs.ck.value`.

    A path nobody has words for is shown as it is (a rule added later still reads, if dryly).
    """
    if path in VISIT_FIELD_LABELS:
        return VISIT_FIELD_LABELS[path]
    if path in _BLOCK_LABELS:
        return _BLOCK_LABELS[path]
    parts = path.split(".")
    head, rest = parts[0], parts[1:]
    if head == "labs" and len(rest) == 2 and rest[0] in ENZYME_LABELS:
        enzyme, part = rest
        return f"{ENZYME_LABELS[enzyme]} {LAB_PART_LABELS.get(part, part)}"
    if head == "labs" and len(rest) == 1 and rest[0] in ENZYME_LABELS:
        return ENZYME_LABELS[rest[0]]
    if head == "mmt8" and rest and rest[0] in MMT_GROUP_LABELS:
        label = f"MMT-8 — {MMT_GROUP_LABELS[rest[0]]}"
        if len(rest) == 2 and rest[1] in MMT_SIDE_LABELS:
            label += f", {MMT_SIDE_LABELS[rest[1]]}"
        return label
    if head in ("haq", "chaq") and rest:
        # The item's wording in the HAQ-DI (the CHAQ adapts the same items for children).
        item = HAQ_ITEM_LABELS.get(rest[-1]) or CHAQ_ITEM_LABELS.get(rest[-1])
        if item:
            return f"HAQ / CHAQ — {item}"
    return path


def form_anchor(path: str) -> str:
    """The id of the visit form's input for a document path (web.visit_form.Field.id), so that a
    data query links to the value it is about. A block goes to its first input."""
    name = {"mmt8": "mmt8.scale", "haq": "haq.score"}.get(path, path)
    parts = name.split(".")
    if parts[0] == "mmt8" and len(parts) == 2 and parts[1] in MMT_GROUP_LABELS:
        if parts[1] != "neck_flexors":
            name += ".right"
    return "f-" + name.replace(".", "-").replace("_", "-")
