"""The demo cohort's baseline classification assessments (2017 EULAR/ACR), consistent with each
patient's diagnosis: heliotrope and Gottron's in dermatomyositis, proximal weakness in
polymyositis, IMNM and dermatomyositis, none in amyopathic DM, finger flexor weakness and rimmed
vacuoles in inclusion body myositis; a muscle biopsy in a fraction (perifascicular atrophy in
DM); a few items left unanswered. Anti-Jo-1 (L1) and raised enzymes (L2) are left unanswered, so
that the registry derives them from the patient's antibody panel and earliest visit.

The criteria are less sensitive for polymyositis and IMNM without a biopsy, so some of those
patients are "possible" or "not IIM", as in the validation cohort — and "other" diagnoses
mostly are.

Drawn from its own random stream (crf.demo.cohort derives it from the seed and the patient's
number), after everything else: the rest of a seeded cohort is the same with or without it.
"""

from __future__ import annotations

import random
from typing import Any

DM = frozenset({"dermatomyositis", "juvenile_dermatomyositis"})
ADM = "amyopathic_dermatomyositis"
IBM = "inclusion_body_myositis"
OTHER = "other"
# Probability of a muscle biopsy, by diagnosis (others: 0.4).
BIOPSY = {
    "dermatomyositis": 0.3, "juvenile_dermatomyositis": 0.2, ADM: 0.2, "polymyositis": 0.6,
    "immune_mediated_necrotising_myopathy": 0.6, IBM: 0.75, "antisynthetase_syndrome": 0.3,
}  # fmt: skip
UNANSWERED = 0.04  # an item left unanswered on the form


def _skin(rng: random.Random) -> dict[str, bool]:
    skin = {
        "heliotrope": rng.random() < 0.7,
        "gottron_papules": rng.random() < 0.7,
        "gottron_sign": rng.random() < 0.4,
    }
    if not (skin["heliotrope"] or skin["gottron_papules"] or skin["gottron_sign"]):
        skin[rng.choice(("heliotrope", "gottron_papules"))] = True
    return skin


def _weakness(rng: random.Random, dx: str) -> dict[str, bool]:
    if dx == ADM:
        return dict.fromkeys(
            ("weakness_proximal_upper", "weakness_proximal_lower", "neck_flexors_weaker",
             "legs_proximal_weaker_than_distal"), False,
        )  # fmt: skip
    if dx == IBM:
        # Quadriceps and finger flexors: the legs' proximal muscles are not the weaker ones.
        return {
            "weakness_proximal_upper": rng.random() < 0.4,
            "weakness_proximal_lower": rng.random() < 0.7,
            "neck_flexors_weaker": rng.random() < 0.2,
            "legs_proximal_weaker_than_distal": False,
        }
    likely = 0.45 if dx == OTHER else 0.85
    return {
        "weakness_proximal_upper": rng.random() < likely,
        "weakness_proximal_lower": rng.random() < likely,
        "neck_flexors_weaker": rng.random() < 0.35,
        "legs_proximal_weaker_than_distal": rng.random() < 0.15,
    }


def _biopsy(rng: random.Random, dx: str) -> dict[str, bool]:
    if dx in DM or dx == ADM:
        chances = (0.3, 0.6, 0.6, 0.0)
    elif dx == IBM:
        chances = (0.8, 0.4, 0.0, 0.85)
    elif dx == "immune_mediated_necrotising_myopathy":
        chances = (0.2, 0.2, 0.0, 0.0)  # necrosis, not inflammation: few items
    else:
        chances = (0.5, 0.5, 0.05, 0.0)
    keys = ("endomysial_infiltrate", "perimysial_perivascular_infiltrate",
            "perifascicular_atrophy", "rimmed_vacuoles")  # fmt: skip
    return {key: rng.random() < chance for key, chance in zip(keys, chances, strict=True)}


def draw_classification(rng: random.Random, document: dict[str, Any]) -> dict[str, Any]:
    """The `classification` object of a generated patient document."""
    dx = document["diagnosis"]
    visits = document.get("visits") or []
    assessed_on = visits[0]["visit_date"] if visits else document["onset_date"]
    items: dict[str, bool | None] = {}
    items.update(_weakness(rng, dx))
    skin = _skin(rng) if dx in DM or dx == ADM else None
    items.update(skin or dict.fromkeys(("heliotrope", "gottron_papules", "gottron_sign"), False))
    items["dysphagia"] = rng.random() < (0.45 if dx == IBM else 0.3)
    muscle_biopsy = rng.random() < BIOPSY.get(dx, 0.4)
    if muscle_biopsy:
        items.update(_biopsy(rng, dx))
    for key in list(items):
        # A few items left unanswered; never a DM patient's only skin sign.
        if rng.random() < UNANSWERED and not (skin and skin.get(key)):
            items[key] = None
    treated = bool(document.get("treatments"))
    if dx == IBM:
        response = "not_improved" if treated or rng.random() < 0.8 else "not_treated"
    elif treated:
        response = "improved" if rng.random() < 0.75 else "not_improved"
    else:
        response = "not_treated"
    return {
        "assessed_on": assessed_on,
        "muscle_biopsy": muscle_biopsy,
        "items": items,
        "finger_flexor_weakness": rng.random() < (0.85 if dx == IBM else 0.05),
        "treatment_response": response,
    }


def classification_stream(seed: int, index: int) -> random.Random:
    """The random stream of patient `index`'s classification, apart from its own stream."""
    return random.Random(f"{seed}:{index}:classification")
