"""Planning of a patient's classification record (2017 EULAR/ACR criteria, docs:
docs/classification.md), pure: the inputs it is computed from, the items derived from the patient's
data, its fingerprint and its result. Plain data in (scoring.planning.PatientInputs as
scoring.selectors reads it), plain data out; no database and no Django.

Registry rules: the age at onset is the patient's. L1 (`anti_jo1`) is derived from the
patient's antibody panel — present with a positive anti-Jo-1 result, absent with only negative
ones — and L2 (`enzymes_raised`) from the earliest visit's CK, LDH, AST and ALT (aldolase does
not count) — present when one is above its upper limit of normal, absent when those measured
are not. A derived value is used only where the form leaves the item unanswered: an answer on
the form overrides it. The record lists the items it derived.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from scoring.instruments import (
    ClassificationCase,
    InstrumentError,
    classification_to_json,
    classify_case,
)
from scoring.planning import REVISION, PatientInputs

ANTI_JO1_KEY = "anti_jo1"  # L1
ENZYMES_KEY = "enzymes_raised"  # L2
DERIVED_KEYS = (ANTI_JO1_KEY, ENZYMES_KEY)
# The enzymes of L2, as crf's LabResult.Enzyme names them; aldolase is not one of them.
L2_ENZYMES = ("ck", "ldh", "ast", "alt")
# The value of a positive result in the antibody panel (registry.vocabularies.AntibodyResult).
POSITIVE = "positive"
NEGATIVE = "negative"


@dataclass(frozen=True, slots=True)
class Derived:
    """The items the patient's data give: True, False or None (the data say nothing), and
    where each came from."""

    anti_jo1: bool | None
    enzymes_raised: bool | None
    sources: dict[str, Any]

    def value(self, key: str) -> bool | None:
        return self.anti_jo1 if key == ANTI_JO1_KEY else self.enzymes_raised


def derive(patient: PatientInputs) -> Derived:
    """L1 from the antibody panel, L2 from the earliest visit's enzymes."""
    results = patient.anti_jo1_results
    anti_jo1: bool | None = None
    if POSITIVE in results:
        anti_jo1 = True
    elif NEGATIVE in results:
        anti_jo1 = False
    sources: dict[str, Any] = {ANTI_JO1_KEY: {"anti_jo1_results": sorted(results)}}
    enzymes_raised: bool | None = None
    if patient.visits:
        earliest = patient.visits[0]  # scoring.selectors reads them by date
        measured = earliest.snapshot["measures"]["enzymes"]
        raised = []
        for enzyme in L2_ENZYMES:
            lab = measured.get(enzyme)
            if lab is None:
                continue
            try:
                above = Decimal(lab["value"]) > Decimal(lab["uln"])  # one unit for both
            except (InvalidOperation, TypeError):
                continue
            enzymes_raised = enzymes_raised or above
            if above:
                raised.append(enzyme)
        sources[ENZYMES_KEY] = {
            "visit": earliest.id,
            "date": earliest.date.isoformat(),
            "raised": raised,
            "measured": [enzyme for enzyme in L2_ENZYMES if enzyme in measured],
        }
    else:
        sources[ENZYMES_KEY] = {"visit": None}
    return Derived(anti_jo1, enzymes_raised, sources)


def classification_inputs(patient: PatientInputs) -> dict[str, Any] | None:
    """What the patient's classification record is computed from, or None without an
    assessment: the form's answers with the derived items filled in where it left them
    unanswered, the age at onset, and which items were derived."""
    assessment = patient.assessment
    if assessment is None:
        return None
    derived = derive(patient)
    items = dict(assessment["items"])
    used = []
    for key in DERIVED_KEYS:
        value = derived.value(key)
        if items.get(key) is None and value is not None:
            items[key] = value
            used.append(key)
    inputs: dict[str, Any] = {
        "assessed_on": assessment["assessed_on"],
        "age_at_onset": patient.age_at_onset,
        "muscle_biopsy": assessment["muscle_biopsy"],
        "items": items,
        "finger_flexor_weakness": assessment["finger_flexor_weakness"],
        "treatment_response": assessment["treatment_response"],
        "derived": used,
        "sources": derived.sources,
    }
    if patient.population_error:
        inputs["age_error"] = patient.population_error
    return inputs


def inputs_json(inputs: dict[str, Any]) -> str:
    return json.dumps(inputs, sort_keys=True, separators=(",", ":"))


def fingerprint(inputs: dict[str, Any]) -> str:
    """Digest of the inputs and the pipeline revision: a record is current when it carries the
    fingerprint of the current data."""
    text = f"{REVISION}\x1fclassification\x1f{inputs_json(inputs)}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class ClassificationOutcome:
    """A classification record's result (None with `error`) and its query columns."""

    result: dict[str, Any] | None
    error: str
    columns: dict[str, Any]


def classification_outcome(inputs: dict[str, Any]) -> ClassificationOutcome:
    """The criteria applied to a record's inputs: the calculator's answer plus the points per
    item, the intercept `a`, the age band and the derived items."""
    if inputs.get("age_error") or inputs["age_at_onset"] is None:
        return ClassificationOutcome(None, f"age_at_onset: {inputs.get('age_error', '')}", {})
    try:
        case = ClassificationCase(
            age_at_onset=inputs["age_at_onset"],
            muscle_biopsy=inputs["muscle_biopsy"],
            items=inputs["items"],
            finger_flexor_weakness=inputs["finger_flexor_weakness"],
            treatment_response=inputs["treatment_response"],
        )
    except InstrumentError as exc:
        return ClassificationOutcome(None, str(exc), {})
    result = classify_case(case)
    answer = classification_to_json(result)
    answer["points"] = {item: str(points) for item, points in result.points.items()}
    answer["intercept"] = str(result.intercept)
    answer["age_band"] = result.age_band
    answer["derived"] = list(inputs["derived"])
    columns = {
        "score": result.score,
        "category": result.category,
        "probability": result.probability,
        "subgroup": result.subgroup or "",
        "biopsy_recommended": result.biopsy_recommended,
        "complete": result.complete,
    }
    return ClassificationOutcome(answer, "", columns)
