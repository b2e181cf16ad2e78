"""The rows of the explain view: per core set measure, the two visits' values, the IMACS percent
change, the ACR/EULAR percent improvement with what it is a percentage of, and why a measure is
missing (docs/scoring.md §§1–3)."""

from typing import Any

from crf.models import Visit
from scoring.instruments.tis import SCALE_RANGE
from web.labels import ENZYME_LABELS, MEASURE_LABELS
from web.timeline import Score, measures_of

VAS_KEYS = ("physician_global", "patient_global", "extramuscular")
CMAS_MAX = 52


def _enzyme_name(code: str) -> str:
    return ENZYME_LABELS.get(code, code.upper()).split(" (")[0]


def measure_value(visit: Visit | None, key: str, score: Score) -> str:
    if visit is None:
        return ""
    if key in VAS_KEYS:
        value = getattr(visit, key)
        return "" if value is None else f"{value} cm"
    measures = measures_of(visit)
    if key == "haq":
        return "" if measures["haq"] is None else f"{float(measures['haq']):.3f}"
    if key == "mmt":
        if _strength_instrument(score) == "cmas":
            return "" if visit.cmas is None else f"CMAS {visit.cmas}/52"
        if measures["mmt_total"] is None:
            return ""
        return f"{measures['mmt_total']}/{measures['mmt_max']}"
    if key == "enzyme":
        enzyme = _enzyme(score)
        for lab in visit.labs.all():
            if lab.enzyme == enzyme:
                return f"{lab.get_enzyme_display()} {lab.value / lab.uln:.2f} ×ULN"
    return ""


def _enzyme(score: Score) -> str | None:
    return score.tis.get("enzyme") or score.doi.get("enzyme")


def _strength_instrument(score: Score) -> str | None:
    return score.tis.get("strength_instrument") or score.doi.get("strength_instrument")


def tis_basis(key: str, score: Score, reference: Visit | None) -> str:
    """What the ACR/EULAR percent improvement of `key` is a percentage of (docs/scoring.md §3): the
    scale's range for the bounded measures, the reference value for the enzyme."""
    if key in VAS_KEYS:
        return f"of the 0–{SCALE_RANGE[key]} cm range"
    if key == "haq":
        return f"of the 0–{SCALE_RANGE[key]} range"
    if key == "mmt":
        if _strength_instrument(score) == "cmas":
            return f"of the 0–{CMAS_MAX} range"
        maximum = measures_of(reference)["mmt_max"] if reference is not None else None
        return f"of the 0–{maximum} range" if maximum else "of the scale's range"
    return "of the reference value/ULN (relative)"


def missing_reason(key: str, score: Score, reference_value: str, value: str) -> str:
    """Why a measure has no percent change at this comparison, in words."""
    if key == "enzyme":
        enzyme = _enzyme(score)
        if enzyme is None:
            return (
                "No enzyme had both a value and an upper limit of normal at the reference visit, "
                "so none was chosen to follow."
            )
        name = _enzyme_name(enzyme)
        return (
            f"{name} was the enzyme chosen at the reference visit (the most abnormal, by "
            f"value/ULN) and {name} was not measured at this visit; no other enzyme is "
            "substituted."
        )
    if key == "mmt" and reference_value and value:
        return (
            "The MMT-8 totals are on different scales, which are never compared, and CMAS is "
            "not recorded at both visits."
        )
    if not reference_value and not value:
        return "Not recorded at either visit."
    if not reference_value:
        return "Not recorded at the reference visit."
    if not value:
        return "Not recorded at this visit."
    return "Not comparable."


def explain_rows(score: Score, reference: Visit | None, visit: Visit) -> list[dict[str, Any]]:
    doi_measures = score.doi.get("measures") or {}
    tis_measures = score.tis.get("measures") or {}
    missing_keys = set(score.tis.get("missing") or ())
    rows = []
    for key, label in MEASURE_LABELS.items():
        doi = doi_measures.get(key) or {}
        tis = tis_measures.get(key) or {}
        reference_value = measure_value(reference, key, score)
        value = measure_value(visit, key, score)
        missing = key in missing_keys or doi.get("status") == "missing"
        # docs/scoring.md §2: from a reference value of 0 the relative change is undefined.
        zero_reference = (
            not missing and bool(doi.get("status")) and doi.get("percent_change") is None
        )
        rows.append(
            {
                "key": key,
                "label": label,
                "reference_value": reference_value,
                "value": value,
                "percent_change": doi.get("percent_change"),
                "doi_status": doi.get("status") or "",
                "percent_improvement": tis.get("percent_improvement"),
                "tis_basis": tis_basis(key, score, reference),
                "points": tis.get("points"),
                "missing": missing,
                "zero_reference": zero_reference,
                "missing_reason": (
                    missing_reason(key, score, reference_value, value) if missing else ""
                ),
            }
        )
    return rows


def enzyme_label(score: Score) -> str:
    enzyme = _enzyme(score)
    return _enzyme_name(enzyme) if enzyme else ""
