"""Controlled vocabularies of the registry: the codes of the submission document
(docs/data-dictionary.md).

Codes are a contract with the sites: extend, never rename. Labels are for people.
"""

import re

from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Unknown"


class Diagnosis(models.TextChoices):
    DERMATOMYOSITIS = "dermatomyositis", "Dermatomyositis"
    JUVENILE_DERMATOMYOSITIS = "juvenile_dermatomyositis", "Juvenile dermatomyositis"
    AMYOPATHIC_DERMATOMYOSITIS = (
        "amyopathic_dermatomyositis",
        "Clinically amyopathic dermatomyositis",
    )
    POLYMYOSITIS = "polymyositis", "Polymyositis"
    ANTISYNTHETASE_SYNDROME = "antisynthetase_syndrome", "Anti-synthetase syndrome"
    IMNM = "immune_mediated_necrotising_myopathy", "Immune-mediated necrotising myopathy"
    IBM = "inclusion_body_myositis", "Inclusion body myositis"
    OVERLAP_MYOSITIS = "overlap_myositis", "Overlap myositis"
    OTHER = "other", "Other"


class Antibody(models.TextChoices):
    JO1 = "anti-Jo-1", "anti-Jo-1"
    PL7 = "anti-PL-7", "anti-PL-7"
    PL12 = "anti-PL-12", "anti-PL-12"
    EJ = "anti-EJ", "anti-EJ"
    OJ = "anti-OJ", "anti-OJ"
    KS = "anti-KS", "anti-KS"
    ZO = "anti-Zo", "anti-Zo"
    HA = "anti-Ha", "anti-Ha"
    MDA5 = "anti-MDA5", "anti-MDA5"
    MI2 = "anti-Mi-2", "anti-Mi-2"
    TIF1G = "anti-TIF1-gamma", "anti-TIF1-γ"
    NXP2 = "anti-NXP2", "anti-NXP2"
    SAE = "anti-SAE", "anti-SAE"
    SRP = "anti-SRP", "anti-SRP"
    HMGCR = "anti-HMGCR", "anti-HMGCR"
    CN1A = "anti-cN1A", "anti-cN1A"
    RO52 = "anti-Ro52", "anti-Ro52"
    PMSCL = "anti-PM-Scl", "anti-PM/Scl"
    KU = "anti-Ku", "anti-Ku"
    U1RNP = "anti-U1-RNP", "anti-U1-RNP"


ANTISYNTHETASE = frozenset(
    {"anti-Jo-1", "anti-PL-7", "anti-PL-12", "anti-EJ", "anti-OJ", "anti-KS", "anti-Zo", "anti-Ha"}
)
MYOSITIS_ASSOCIATED = frozenset({"anti-Ro52", "anti-PM-Scl", "anti-Ku", "anti-U1-RNP"})


class AntibodyResult(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    EQUIVOCAL = "equivocal", "Equivocal"


class AntibodyMethod(models.TextChoices):
    IMMUNOPRECIPITATION = "immunoprecipitation", "Immunoprecipitation"
    LINE_BLOT = "line_blot", "Line blot"
    ELISA = "elisa", "ELISA"
    OTHER = "other", "Other"


class SerologyGroup(models.TextChoices):
    """Derived per patient from positive myositis-specific antibodies (docs/clinical-context.md)."""

    ANTISYNTHETASE = "antisynthetase", "Anti-synthetase"
    MDA5 = "mda5", "Anti-MDA5"
    MI2 = "mi2", "Anti-Mi-2"
    TIF1G = "tif1g", "Anti-TIF1-γ"
    NXP2 = "nxp2", "Anti-NXP2"
    SAE = "sae", "Anti-SAE"
    IMNM = "imnm", "Anti-SRP/HMGCR"
    CN1A = "cn1a", "Anti-cN1A"
    MULTIPLE = "multiple", "More than one MSA"
    MAA_ONLY = "maa_only", "Myositis-associated antibody only"
    SERONEGATIVE = "seronegative", "Seronegative"
    NOT_TESTED = "not_tested", "Not tested"


# Myositis-specific antibody → serological group.
MSA_GROUP = {
    **{code: SerologyGroup.ANTISYNTHETASE for code in ANTISYNTHETASE},
    "anti-MDA5": SerologyGroup.MDA5,
    "anti-Mi-2": SerologyGroup.MI2,
    "anti-TIF1-gamma": SerologyGroup.TIF1G,
    "anti-NXP2": SerologyGroup.NXP2,
    "anti-SAE": SerologyGroup.SAE,
    "anti-SRP": SerologyGroup.IMNM,
    "anti-HMGCR": SerologyGroup.IMNM,
    "anti-cN1A": SerologyGroup.CN1A,
}


def serology_group(results: list[tuple[str, str]]) -> str:
    """The serological group from (antibody, result) pairs.

    Registry rule: only positive results count; equivocal counts as not positive. Two MSAs of
    different groups are rare (MSAs are mostly mutually exclusive) and are reported as
    "multiple" rather than guessed.
    """
    if not results:
        return SerologyGroup.NOT_TESTED
    positive = {antibody for antibody, result in results if result == AntibodyResult.POSITIVE}
    groups = {MSA_GROUP[a] for a in positive if a in MSA_GROUP}
    if len(groups) > 1:
        return SerologyGroup.MULTIPLE
    if groups:
        return groups.pop()
    if positive & MYOSITIS_ASSOCIATED:
        return SerologyGroup.MAA_ONLY
    return SerologyGroup.SERONEGATIVE


class Drug(models.TextChoices):
    PREDNISONE = "prednisone", "Prednisone"
    PREDNISOLONE = "prednisolone", "Prednisolone"
    METHYLPREDNISOLONE_IV = "methylprednisolone_iv", "IV methylprednisolone"
    METHOTREXATE = "methotrexate", "Methotrexate"
    AZATHIOPRINE = "azathioprine", "Azathioprine"
    MYCOPHENOLATE = "mycophenolate", "Mycophenolate"
    TACROLIMUS = "tacrolimus", "Tacrolimus"
    CICLOSPORIN = "ciclosporin", "Ciclosporin"
    HYDROXYCHLOROQUINE = "hydroxychloroquine", "Hydroxychloroquine"
    RITUXIMAB = "rituximab", "Rituximab"
    IVIG = "ivig", "IVIG"
    CYCLOPHOSPHAMIDE = "cyclophosphamide", "Cyclophosphamide"
    ACTH_GEL = "acth_gel", "Repository corticotropin (ACTH) gel"
    TOFACITINIB = "tofacitinib", "Tofacitinib"
    RUXOLITINIB = "ruxolitinib", "Ruxolitinib"
    BARICITINIB = "baricitinib", "Baricitinib"
    PLASMA_EXCHANGE = "plasma_exchange", "Plasma exchange"
    OTHER = "other", "Other"


class DrugClass(models.TextChoices):
    GLUCOCORTICOID = "glucocorticoid", "Glucocorticoids"
    CONVENTIONAL = "conventional_immunosuppressant", "Conventional immunosuppressants"
    CALCINEURIN = "calcineurin_inhibitor", "Calcineurin inhibitors"
    ANTIMALARIAL = "antimalarial", "Antimalarials"
    BIOLOGIC = "biologic", "B-cell depletion"
    IMMUNOGLOBULIN = "immunoglobulin", "Immunoglobulin"
    ALKYLATING = "alkylating", "Alkylating agents"
    CORTICOTROPIN = "corticotropin", "Corticotropin"
    JAK_INHIBITOR = "jak_inhibitor", "JAK inhibitors"
    APHERESIS = "apheresis", "Apheresis"
    OTHER = "other", "Other"


DRUG_CLASS = {
    "prednisone": DrugClass.GLUCOCORTICOID,
    "prednisolone": DrugClass.GLUCOCORTICOID,
    "methylprednisolone_iv": DrugClass.GLUCOCORTICOID,
    "methotrexate": DrugClass.CONVENTIONAL,
    "azathioprine": DrugClass.CONVENTIONAL,
    "mycophenolate": DrugClass.CONVENTIONAL,
    "tacrolimus": DrugClass.CALCINEURIN,
    "ciclosporin": DrugClass.CALCINEURIN,
    "hydroxychloroquine": DrugClass.ANTIMALARIAL,
    "rituximab": DrugClass.BIOLOGIC,
    "ivig": DrugClass.IMMUNOGLOBULIN,
    "cyclophosphamide": DrugClass.ALKYLATING,
    "acth_gel": DrugClass.CORTICOTROPIN,
    "tofacitinib": DrugClass.JAK_INHIBITOR,
    "ruxolitinib": DrugClass.JAK_INHIBITOR,
    "baricitinib": DrugClass.JAK_INHIBITOR,
    "plasma_exchange": DrugClass.APHERESIS,
    "other": DrugClass.OTHER,
}


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    IV = "iv", "Intravenous"
    SC = "sc", "Subcutaneous"
    IM = "im", "Intramuscular"
    OTHER = "other", "Other"


class StopReason(models.TextChoices):
    """Why a treatment episode was stopped (docs/outcomes.md): free text only beside `other`."""

    COMPLETED = "completed", "Course completed"
    INEFFICACY = "inefficacy", "Inefficacy"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    OTHER = "other", "Other"


# The one mapping of free-text stop reasons to codes (`stop_reason_code`), used by the document
# reader (sites keep sending the text they always sent) and by the data migration that coded the
# text stored before codes existed. Keys are normalised as `_normalised` makes them; the text
# before a ":", "(", ";", "," or " - " is what is looked up, so "adverse event: leukopenia" is
# an adverse event. Only what a phrase plainly means is listed; anything else is `other`, with
# the text kept.
STOP_REASON_PHRASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "completed", "complete", "course completed", "course complete", "treatment completed",
            "finished", "course finished", "tapered", "tapered off", "remission",
        ),
        StopReason.COMPLETED,
    ),
    **dict.fromkeys(
        (
            "inefficacy", "lack of efficacy", "loss of efficacy", "not effective", "ineffective",
            "failure", "treatment failure", "inadequate response", "insufficient response",
            "no response", "non response", "nonresponse",
        ),
        StopReason.INEFFICACY,
    ),
    **dict.fromkeys(
        (
            "adverse event", "adverse events", "adverse effect", "adverse effects", "ae",
            "side effect", "side effects", "toxicity", "intolerance", "not tolerated",
        ),
        StopReason.ADVERSE_EVENT,
    ),
    **dict.fromkeys(
        (
            "patient choice", "patient decision", "patient wish", "patient request",
            "patient preference", "planning pregnancy", "pregnancy",
        ),
        StopReason.PATIENT_CHOICE,
    ),
    "other": StopReason.OTHER,
}  # fmt: skip
_HEAD_END = re.compile(r":|\(|;|,| - ")


def _normalised(text: str) -> str:
    head = _HEAD_END.split(text.strip().lower(), maxsplit=1)[0]
    head = head.replace("'s ", " ")  # "patient's choice"
    return " ".join(re.sub(r"[^a-z0-9]+", " ", head).split())


def stop_reason_code(text: str) -> tuple[str, str]:
    """(code, other text) of a stop reason given as a code or as free text.

    A code is itself; free text is the code it plainly means (STOP_REASON_PHRASES), else `other`
    with the text kept as the other text. Empty text is no reason: ("", ""). Applying it to its
    own result changes nothing, which makes re-sending a document and re-running the migration
    harmless.
    """
    text = text.strip()
    if not text:
        return "", ""
    if text in StopReason.values:
        return text, ""
    code = STOP_REASON_PHRASES.get(_normalised(text))
    if code is None:
        return str(StopReason.OTHER), text
    return str(code), ""
