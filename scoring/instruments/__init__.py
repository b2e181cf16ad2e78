"""Pure clinical scoring instruments for the myositis registry (spec: docs/scoring.md).

No Django import here or below (a test asserts it): these functions are used by every app, by
the ``python -m scoring.calculate`` command and by the benchmarks. All arithmetic on percent
changes and band look-ups is exact (``fractions.Fraction``); results are frozen dataclasses that
carry their algorithm identifier and every intermediate value.
"""

from .calculator import EXAMPLE_CASE, calculate, calculate_case
from .classification import EXAMPLE_CASE as CLASSIFICATION_EXAMPLE_CASE
from .classification import RULE as CLASSIFICATION_RULE
from .classification import (
    ClassificationCase,
    ClassificationResult,
    classification_to_json,
    classify,
    classify_case,
    read_classification_case,
)
from .doi import ALGORITHM as DOI_ALGORITHM
from .doi import DoiMeasure, DoiResult, score_doi
from .errors import CalculatorInputError, InstrumentError
from .haq import CHAQ_CATEGORIES, HAQ_CATEGORIES, chaq_di, haq_di
from .measures import (
    CMAS_MAX,
    ENZYMES,
    HAQ_MAX,
    MEASURE_KEYS,
    VAS_MAX,
    Measures,
    Pairing,
    choose_enzyme,
    pair_visits,
)
from .mmt import BILATERAL_GROUPS, MMT8_GROUPS, MMT24_MAX, MMT_MAX, MMT_MAXIMA, mmt8_total
from .population import ADULT, JUVENILE, POPULATIONS, age_in_years, population_for
from .results import PairResult, display_percent, score_pair, to_json
from .tis import ALGORITHM as TIS_ALGORITHM
from .tis import TisMeasure, TisResult, score_tis, tis_category, tis_points
from .worsening import ALGORITHM as WORSENING_ALGORITHM
from .worsening import (
    ConfirmedDeterioration,
    WorseningResult,
    confirmed_deterioration,
    is_worsened,
)

__all__ = [
    "EXAMPLE_CASE",
    "ADULT",
    "BILATERAL_GROUPS",
    "CHAQ_CATEGORIES",
    "CLASSIFICATION_EXAMPLE_CASE",
    "CLASSIFICATION_RULE",
    "CMAS_MAX",
    "DOI_ALGORITHM",
    "ENZYMES",
    "HAQ_CATEGORIES",
    "HAQ_MAX",
    "JUVENILE",
    "MEASURE_KEYS",
    "MMT24_MAX",
    "MMT8_GROUPS",
    "MMT_MAX",
    "MMT_MAXIMA",
    "POPULATIONS",
    "TIS_ALGORITHM",
    "VAS_MAX",
    "WORSENING_ALGORITHM",
    "CalculatorInputError",
    "ClassificationCase",
    "ClassificationResult",
    "ConfirmedDeterioration",
    "DoiMeasure",
    "DoiResult",
    "InstrumentError",
    "Measures",
    "PairResult",
    "Pairing",
    "TisMeasure",
    "TisResult",
    "WorseningResult",
    "age_in_years",
    "calculate",
    "calculate_case",
    "chaq_di",
    "classification_to_json",
    "classify",
    "classify_case",
    "choose_enzyme",
    "confirmed_deterioration",
    "display_percent",
    "haq_di",
    "is_worsened",
    "mmt8_total",
    "pair_visits",
    "population_for",
    "read_classification_case",
    "score_doi",
    "score_pair",
    "score_tis",
    "tis_category",
    "tis_points",
    "to_json",
]
