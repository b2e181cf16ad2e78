"""2017 EULAR/ACR classification criteria for adult and juvenile idiopathic inflammatory
myopathies (IIM) and their major subgroups.

Lundberg IE, Tjärnlund A, Bottai M, et al. Ann Rheum Dis 2017;76:1955–64 (also Arthritis
Rheumatol 2017;69:2271–82); methodology: Bottai M, et al. RMD Open 2017;3:e000507. To be used
"when no better explanation for the symptoms or signs exists".

The rule as the registry applies it:

- The score is the sum of the weights of the items present, all from one column: the biopsy
  column if and only if a muscle biopsy was done (only then do B1–B4 score), otherwise the
  no-biopsy column. Weights have one decimal and are summed as Decimals: the score is exact.
- Age at onset of the first symptom, in whole years, scores one band: ≥ 18 and < 40 (A1) or
  ≥ 40 (A2); onset before 18 scores 0.
- Heliotrope rash, Gottron's papules and Gottron's sign (S1–S3) score independently. Raised
  CK, LDH, AST or ALT (L2) is one item however many are raised; aldolase is not part of it.
- An unanswered item does not score and is listed as missing: the score is then a lower bound.
- Categories by the paper's score cut-offs (per column); the probability is shown as derived,
  ``1 / (1 + exp(a − score))`` with ``a`` = 5.30 without and 6.50 with a biopsy — intercepts that
  reproduce every score/probability pair the paper publishes (the formula is not printed there).
- With none of S1–S3 present and no biopsy done, a muscle biopsy is recommended (the Karolinska
  calculator's warning); the flag does not change the score.
- Probable and definite cases are subclassified by the paper's tree (``subgroup``).

Some public implementations get this wrong (age bands shifted by a year, aldolase counted in
L2, the no-biopsy weights used whatever the biopsy); the tests pin each of these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import Any, Final, NamedTuple

from ._frozen import FrozenDict
from ._input import Errors, describe, join, one_or_many, reject_unknown
from .errors import CalculatorInputError, InstrumentError

RULE: Final = "eular-acr-2017"

NO_BIOPSY: Final = "no_biopsy"
BIOPSY: Final = "biopsy"
COLUMNS: tuple[str, ...] = (NO_BIOPSY, BIOPSY)


class Item(NamedTuple):
    """One item of the criteria: its id in the paper, its key in a case, its two weights and
    its definition (the paper's wording)."""

    id: str
    key: str
    no_biopsy: Decimal | None  # None: scores only with a biopsy (B1–B4)
    biopsy: Decimal
    definition: str


def _weight(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


ITEMS: tuple[Item, ...] = tuple(
    Item(id_, key, _weight(no_biopsy), Decimal(biopsy), definition)
    for id_, key, no_biopsy, biopsy, definition in (
        ("W1", "weakness_proximal_upper", "0.7", "0.7",
         "Objective symmetric weakness, usually progressive, of the proximal upper extremities"),
        ("W2", "weakness_proximal_lower", "0.8", "0.5",
         "Objective symmetric weakness, usually progressive, of the proximal lower extremities"),
        ("W3", "neck_flexors_weaker", "1.9", "1.6",
         "Neck flexors relatively weaker than neck extensors"),
        ("W4", "legs_proximal_weaker_than_distal", "0.9", "1.2",
         "In the legs, proximal muscles relatively weaker than distal muscles"),
        ("S1", "heliotrope", "3.1", "3.2", "Heliotrope rash"),
        ("S2", "gottron_papules", "2.1", "2.7", "Gottron's papules"),
        ("S3", "gottron_sign", "3.3", "3.7", "Gottron's sign"),
        ("C1", "dysphagia", "0.7", "0.6", "Dysphagia or oesophageal dysmotility"),
        ("L1", "anti_jo1", "3.9", "3.8",
         "Anti-Jo-1 (anti-histidyl-tRNA synthetase) autoantibody present"),
        # One item however many enzymes are raised; aldolase is not part of it.
        ("L2", "enzymes_raised", "1.3", "1.4",
         "Serum CK, LDH, AST or ALT above the upper limit of normal (aldolase does not count)"),
        ("B1", "endomysial_infiltrate", None, "1.7",
         "Endomysial infiltration of mononuclear cells surrounding, but not invading, myofibres"),
        ("B2", "perimysial_perivascular_infiltrate", None, "1.2",
         "Perimysial and/or perivascular infiltration of mononuclear cells"),
        ("B3", "perifascicular_atrophy", None, "1.9", "Perifascicular atrophy"),
        ("B4", "rimmed_vacuoles", None, "3.1", "Rimmed vacuoles"),
    )
)  # fmt: skip
"""The items in the paper's table order (the order of ``missing``)."""

ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
BIOPSY_ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS if item.no_biopsy is None)
COLUMN_ITEM_KEYS: Mapping[str, tuple[str, ...]] = FrozenDict(
    {
        NO_BIOPSY: tuple(item.key for item in ITEMS if item.no_biopsy is not None),
        BIOPSY: ITEM_KEYS,
    }
)
"""The items that can score in each column, in table order."""

# (id, key, weight) of the items that can score in each column, in table order.
_COLUMN_WEIGHTS: Mapping[str, tuple[tuple[str, str, Decimal], ...]] = FrozenDict(
    {
        NO_BIOPSY: tuple(
            (item.id, item.key, item.no_biopsy) for item in ITEMS if item.no_biopsy is not None
        ),
        BIOPSY: tuple((item.id, item.key, item.biopsy) for item in ITEMS),
    }
)
_ITEM_KEY_SET = frozenset(ITEM_KEYS)
_BIOPSY_ITEM_KEY_SET = frozenset(BIOPSY_ITEM_KEYS)

WEAKNESS_KEYS: tuple[str, ...] = ITEM_KEYS[0:4]  # W1–W4
SKIN_KEYS: tuple[str, ...] = ITEM_KEYS[4:7]  # S1–S3
RIMMED_VACUOLES: Final = "rimmed_vacuoles"  # B4

# Age at onset, whole years: < 18 scores 0; A1 is ≥ 18 and < 40; A2 is ≥ 40.
ADULT_FROM_AGE: Final = 18
A2_FROM_AGE: Final = 40
MAX_AGE: Final = 120
AGE_WEIGHTS: Mapping[str, Mapping[str, Decimal]] = FrozenDict(
    {
        "A1": FrozenDict({NO_BIOPSY: Decimal("1.3"), BIOPSY: Decimal("1.5")}),
        "A2": FrozenDict({NO_BIOPSY: Decimal("2.1"), BIOPSY: Decimal("2.2")}),
    }
)

NOT_IIM: Final = "not_iim"
POSSIBLE: Final = "possible"
PROBABLE: Final = "probable"
DEFINITE: Final = "definite"
CATEGORIES: tuple[str, ...] = (NOT_IIM, POSSIBLE, PROBABLE, DEFINITE)
# The lowest score of possible, probable and definite in each column (the paper's cut-offs).
CUT_OFFS: Mapping[str, tuple[Decimal, Decimal, Decimal]] = FrozenDict(
    {
        NO_BIOPSY: (Decimal("5.3"), Decimal("5.5"), Decimal("7.5")),
        BIOPSY: (Decimal("6.5"), Decimal("6.7"), Decimal("8.7")),
    }
)
INTERCEPTS: Mapping[str, Decimal] = FrozenDict(
    {NO_BIOPSY: Decimal("5.30"), BIOPSY: Decimal("6.50")}
)
"""``a`` of the derived probability ``1 / (1 + exp(a − score))``, per column."""

JDM: Final = "jdm"
JUVENILE_OTHER: Final = "juvenile_other"
DM: Final = "dm"
ADM: Final = "adm"
IBM: Final = "ibm"
PM: Final = "pm"  # IMNM patients fall here too: the tree has no IMNM leaf.
SUBGROUPS: tuple[str, ...] = (JDM, JUVENILE_OTHER, DM, ADM, IBM, PM)

IMPROVED: Final = "improved"
NOT_IMPROVED: Final = "not_improved"
NOT_TREATED: Final = "not_treated"
TREATMENT_RESPONSES: tuple[str, ...] = (IMPROVED, NOT_IMPROVED, NOT_TREATED)

CASE_KEYS: tuple[str, ...] = (
    "age_at_onset",
    "muscle_biopsy",
    "items",
    "finger_flexor_weakness",
    "treatment_response",
)

EXAMPLE_CASE: Mapping[str, Any] = {
    "age_at_onset": 52,
    "muscle_biopsy": False,
    "items": {
        "weakness_proximal_upper": True,
        "weakness_proximal_lower": False,
        "neck_flexors_weaker": False,
        "legs_proximal_weaker_than_distal": False,
        "heliotrope": True,
        "gottron_papules": False,
        "gottron_sign": True,
        "dysphagia": False,
        "anti_jo1": False,
        "enzymes_raised": None,
    },
    "finger_flexor_weakness": False,
    "treatment_response": "not_treated",
}
"""The example case of the classification calculator's contract: the API's example."""

_TENTH = Decimal("0.1")
_PROBABILITY_PLACES = Decimal("0.0001")
# exp() in a fixed context, whatever the caller's decimal context: the same answer everywhere.
_CONTEXT = Context(prec=28)


# --- the case ------------------------------------------------------------------------------


def _age_problem(value: object) -> str | None:
    """Why ``value`` is not an age at onset in whole years from 0 to 120, or None."""
    if value is None:
        return "is required: the age at onset of the first symptom, in whole years (0–120)"
    if type(value) is bool or not isinstance(value, int | float | Decimal):
        return f"must be a whole number of years, not {describe(value)}"
    # Compared without converting to int first: Decimal("1e999999999") is a valid JSON number
    # whose int() would not fit in memory.
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, Decimal) and not value.is_finite():
        return "must be a finite number"
    if not 0 <= value <= MAX_AGE:
        return f"must be between 0 and {MAX_AGE} years"
    if value != int(value):
        return "must be a whole number of years"
    return None


def _boolean_problem(value: object, *, nullable: bool) -> str | None:
    if isinstance(value, bool) or (nullable and value is None):
        return None
    allowed = "true, false or null" if nullable else "true or false"
    return f"must be {allowed}, not {describe(value)}"


def _response_problem(value: object) -> str | None:
    if isinstance(value, str) and value in TREATMENT_RESPONSES:
        return None
    return f"must be one of {', '.join(TREATMENT_RESPONSES)}"


def _items_problems(items: object, muscle_biopsy: object, path: str) -> Errors:
    """The problems of ``items`` (at JSON path ``path``) as (path, message) pairs, in the
    order of its keys."""
    if items is None:
        return [(path, "is required: an object of the items (may be empty)")]
    if not isinstance(items, Mapping):
        return [(path, f"must be an object of the items, not {describe(items)}")]
    problems: Errors = []
    for key, value in items.items():
        if key not in _ITEM_KEY_SET:
            reject_unknown({key: value}, ITEM_KEYS, path, problems)
        elif value is None:
            continue  # unanswered, the same as leaving the key out
        elif value is not True and value is not False:
            problems.append(
                (join(path, key), f"must be true, false or null, not {describe(value)}")
            )
        elif muscle_biopsy is False and key in _BIOPSY_ITEM_KEY_SET:
            # Biopsy items are refused unless a biopsy was done; a finding's absence (false)
            # says a biopsy was done too.
            problems.append(
                (join(path, key), "is a biopsy finding: give it only with muscle_biopsy true")
            )
    return problems


def _case_problems(
    age: object,
    muscle_biopsy: object,
    items: object,
    finger_flexor_weakness: object,
    treatment_response: object,
) -> Errors:
    """Every problem of a case's fields, as (path inside the case, message) pairs."""
    if muscle_biopsy is None:
        muscle_problem: str | None = (
            "is required: true if a muscle biopsy was done (the biopsy column's weights), "
            "else false"
        )
    else:
        muscle_problem = _boolean_problem(muscle_biopsy, nullable=False)
    checks = (
        ("age_at_onset", _age_problem(age)),
        ("muscle_biopsy", muscle_problem),
        *_items_problems(items, muscle_biopsy, "items"),
        ("finger_flexor_weakness", _boolean_problem(finger_flexor_weakness, nullable=True)),
        ("treatment_response", _response_problem(treatment_response)),
    )
    return [(field, problem) for field, problem in checks if problem is not None]


@dataclass(frozen=True, slots=True)
class ClassificationCase:
    """One patient's inputs to the 2017 EULAR/ACR criteria.

    ``items`` maps every item key of the case's column, in table order, to True (present),
    False (absent) or None (unanswered); keys left out are unanswered. Built by
    ``read_classification_case`` from JSON, or directly: the same checks apply, the first
    problem raised as ``InstrumentError`` naming the field.
    """

    age_at_onset: int
    muscle_biopsy: bool
    items: Mapping[str, bool | None]
    finger_flexor_weakness: bool | None = None
    treatment_response: str = NOT_TREATED

    def __post_init__(self) -> None:
        problems = _case_problems(
            self.age_at_onset,
            self.muscle_biopsy,
            self.items,
            self.finger_flexor_weakness,
            self.treatment_response,
        )
        if problems:
            raise InstrumentError(*problems[0])
        if type(self.age_at_onset) is not int:  # 52.0 or Decimal("52") is 52 years
            object.__setattr__(self, "age_at_onset", int(self.age_at_onset))
        column = BIOPSY if self.muscle_biopsy else NO_BIOPSY
        items = self.items
        object.__setattr__(
            self, "items", FrozenDict({key: items.get(key) for key in COLUMN_ITEM_KEYS[column]})
        )

    @property
    def column(self) -> str:
        """``"biopsy"`` if and only if a muscle biopsy was done, else ``"no_biopsy"``."""
        return BIOPSY if self.muscle_biopsy else NO_BIOPSY


def _read_case(data: object, path: str, errors: Errors) -> ClassificationCase | None:
    if not isinstance(data, Mapping):
        expected = "an object with age_at_onset, muscle_biopsy and items"
        errors.append((path or "$", f"must be {expected}, not {describe(data)}"))
        return None
    before = len(errors)
    reject_unknown(data, CASE_KEYS, path, errors)
    age = data.get("age_at_onset")
    muscle_biopsy = data.get("muscle_biopsy")
    items = data.get("items")
    finger_flexor_weakness = data.get("finger_flexor_weakness")
    # Unanswered means not treated, the contract's default.
    treatment_response = data.get("treatment_response")
    if treatment_response is None:
        treatment_response = NOT_TREATED
    problems = _case_problems(age, muscle_biopsy, items, finger_flexor_weakness, treatment_response)
    errors.extend((join(path, field), problem) for field, problem in problems)
    if len(errors) > before:
        return None
    assert isinstance(items, Mapping) and isinstance(age, int | float | Decimal)
    return ClassificationCase(
        age_at_onset=int(age),  # checked: a whole number of years from 0 to 120
        muscle_biopsy=muscle_biopsy is True,
        items=items,
        finger_flexor_weakness=finger_flexor_weakness,
        treatment_response=treatment_response,
    )


def read_classification_case(data: object) -> ClassificationCase:
    """A case from JSON-like ``data``; raise ``CalculatorInputError`` listing every problem by
    its JSON path (``age_at_onset``, ``items.rimmed_vacuoles``, ...)."""
    errors: Errors = []
    case = _read_case(data, "", errors)
    if errors or case is None:
        raise CalculatorInputError(errors)
    return case


# --- the result ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    """The criteria applied to one case, with every intermediate value.

    ``points`` gives the weight scored by each item present, by its paper id (``"A2"``,
    ``"S1"``, ...), in table order; ``intercept`` is the ``a`` of the derived probability.
    """

    rule: str
    column: str
    score: Decimal
    complete: bool
    missing: tuple[str, ...]
    category: str
    probability: Decimal
    intercept: Decimal
    subgroup: str | None
    biopsy_recommended: bool
    age_band: str | None
    points: Mapping[str, Decimal]


def age_band(age_at_onset: int) -> str | None:
    """``"A1"`` (≥ 18 and < 40), ``"A2"`` (≥ 40), or None (onset before 18 scores 0)."""
    if age_at_onset < ADULT_FROM_AGE:
        return None
    return "A1" if age_at_onset < A2_FROM_AGE else "A2"


def category(score: Decimal, column: str) -> str:
    """``not_iim``, ``possible``, ``probable`` or ``definite`` by the column's cut-offs."""
    possible, probable, definite = CUT_OFFS[column]
    if score >= definite:
        return DEFINITE
    if score >= probable:
        return PROBABLE
    if score >= possible:
        return POSSIBLE
    return NOT_IIM


@lru_cache(maxsize=1024)  # scores are tenths in a short range: a handful of distinct values
def probability(score: Decimal, column: str) -> Decimal:
    """``1 / (1 + exp(a − score))`` rounded to 4 decimals (halves up); ``a`` per column."""
    exact = _CONTEXT.divide(1, _CONTEXT.add(1, _CONTEXT.exp(INTERCEPTS[column] - score)))
    return exact.quantize(_PROBABILITY_PLACES, rounding=ROUND_HALF_UP)


def subgroup(case: ClassificationCase, category_: str) -> str | None:
    """The paper's subclassification tree, for probable and definite cases only."""
    if category_ not in (PROBABLE, DEFINITE):
        return None
    present = case.items
    skin = any(present.get(key) is True for key in SKIN_KEYS)
    if case.age_at_onset < ADULT_FROM_AGE:
        return JDM if skin else JUVENILE_OTHER
    if skin:
        return DM if any(present.get(key) is True for key in WEAKNESS_KEYS) else ADM
    if present.get(RIMMED_VACUOLES) is True or (
        case.finger_flexor_weakness is True and case.treatment_response == NOT_IMPROVED
    ):
        return IBM
    return PM


def classify_case(case: ClassificationCase) -> ClassificationResult:
    """Apply the 2017 EULAR/ACR criteria to one case."""
    column = case.column
    points: dict[str, Decimal] = {}
    band = age_band(case.age_at_onset)
    if band is not None:
        points[band] = AGE_WEIGHTS[band][column]
    missing: list[str] = []
    answers = case.items
    for id_, key, weight in _COLUMN_WEIGHTS[column]:
        answer = answers.get(key)
        if answer is None:
            missing.append(key)
        elif answer:
            points[id_] = weight
    score = sum(points.values(), Decimal("0.0")).quantize(_TENTH)
    category_ = category(score, column)
    return ClassificationResult(
        rule=RULE,
        column=column,
        score=score,
        complete=not missing,
        missing=tuple(missing),
        category=category_,
        probability=probability(score, column),
        intercept=INTERCEPTS[column],
        subgroup=subgroup(case, category_),
        # The Karolinska calculator's warning: without skin signs, biopsy features should be
        # present to classify a case. Shown, never scored.
        biopsy_recommended=column == NO_BIOPSY
        and not any(answers.get(key) is True for key in SKIN_KEYS),
        age_band=band,
        points=FrozenDict(points),
    )


def classification_to_json(result: ClassificationResult) -> dict[str, Any]:
    """The calculator's answer: the score a one-decimal string, the probability a number."""
    return {
        "rule": result.rule,
        "column": result.column,
        "score": str(result.score),
        "complete": result.complete,
        "missing": list(result.missing),
        "category": result.category,
        "probability": float(result.probability),
        "subgroup": result.subgroup,
        "biopsy_recommended": result.biopsy_recommended,
    }


def _answer_case(data: object, path: str, errors: Errors) -> dict[str, Any] | None:
    case = _read_case(data, path, errors)
    return None if case is None else classification_to_json(classify_case(case))


def classify(document: object) -> dict[str, Any] | list[dict[str, Any]]:
    """Classify one case (an object) or a list of cases, answered in order as JSON-ready dicts.

    Raises ``CalculatorInputError`` with the errors of every case (paths like
    ``"[1].age_at_onset"`` for a list): a list is answered only when all its cases are valid.
    """
    return one_or_many(document, _answer_case)
