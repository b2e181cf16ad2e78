"""Benchmark of the pure scoring functions (issue 3): 100,000 random baseline/follow-up pairs,
then 100,000 random cases of the 2017 EULAR/ACR classification criteria (issue 15).

Each pair is built from raw visit values — Decimals as the database and the calculator's JSON
parser give them, integer MMT and CMAS totals, enzymes with ULNs — into two ``Measures`` and
scored with ``score_pair`` (IMACS DOI and ACR/EULAR TIS), in one process. Each classification
case is a JSON-like dict as the calculator receives it, read and validated with
``read_classification_case`` and scored with ``classify_case``. Generating the raw values is not
timed; converting, validating and scoring is. One process: one core.
Run: ``.venv/bin/python benchmarks/scoring.py [PAIRS [CASES]]``.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

# Run as a script, this file's directory heads sys.path and this file's name would shadow the
# scoring package: look in the repository root instead.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

from scoring.instruments import (  # noqa: E402
    ENZYMES,
    Measures,
    classify_case,
    read_classification_case,
    score_pair,
)
from scoring.instruments.classification import COLUMN_ITEM_KEYS, TREATMENT_RESPONSES  # noqa: E402

GOAL_PAIRS_PER_SECOND = 20_000
DEFAULT_PAIRS = 100_000
DEFAULT_CASES = 100_000
SEED = 20160101


def _maybe(rng: random.Random, value: Any, present: float = 0.9) -> Any:
    return value if rng.random() < present else None


def _tenths(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)).scaleb(-1)  # exact: 73 → 7.3


ULNS = (Decimal(200), Decimal("7.6"), Decimal(250), Decimal(40), Decimal(45))


def _visit(rng: random.Random, juvenile: bool, mmt_max: int) -> dict[str, Any]:
    enzymes: dict[str, tuple[Decimal, Decimal]] = {}
    for key, uln in zip(ENZYMES, ULNS, strict=True):
        if rng.random() < 0.7:
            enzymes[key] = (_tenths(rng, int(uln * 2), int(uln * 150)), uln)
    return {
        "physician_global": _maybe(rng, _tenths(rng, 0, 100), 0.97),
        "patient_global": _maybe(rng, _tenths(rng, 0, 100)),
        "extramuscular": _maybe(rng, _tenths(rng, 0, 100)),
        "haq": _maybe(rng, Decimal(rng.randint(0, 24) * 125).scaleb(-3)),
        "mmt_total": _maybe(rng, rng.randint(mmt_max // 3, mmt_max), 0.95),
        "mmt_max": mmt_max,
        "cmas": rng.randint(0, 52) if juvenile and rng.random() < 0.8 else None,
        "enzymes": enzymes,
    }


def make_pairs(count: int, seed: int = SEED) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        juvenile = rng.random() < 0.25
        mmt_max = rng.choice((80, 150, 150, 260))
        # Now and then a follow-up on another MMT scale, which must fall back to CMAS or missing.
        followup_max = mmt_max if rng.random() < 0.95 else rng.choice((80, 150, 260))
        pairs.append(
            (
                "juvenile" if juvenile else "adult",
                _visit(rng, juvenile, mmt_max),
                _visit(rng, juvenile, followup_max),
            )
        )
    return pairs


def make_classification_cases(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """Valid cases: any age, a biopsy in a third, each item of the column true, false or
    unanswered (left out or null), as a form or a site's script would send them."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        biopsy = rng.random() < 0.3
        items: dict[str, bool | None] = {}
        for key in COLUMN_ITEM_KEYS["biopsy" if biopsy else "no_biopsy"]:
            draw = rng.random()
            if draw < 0.45:
                items[key] = False
            elif draw < 0.85:
                items[key] = True
            elif draw < 0.93:
                items[key] = None
        cases.append(
            {
                "age_at_onset": rng.randint(0, 90),
                "muscle_biopsy": biopsy,
                "items": items,
                "finger_flexor_weakness": rng.choice((True, False, None)),
                "treatment_response": rng.choice(TREATMENT_RESPONSES),
            }
        )
    return cases


def _timed(fixture: list[Any], run: Any) -> float:
    # The inputs are the benchmark's fixture, not the scorer's garbage: freeze them so that the
    # cyclic collector does not rescan them on every full collection (a worker holds one record
    # at a time). Everything the scorer allocates is still collected as usual.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    run(fixture)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    return elapsed


def _score_pairs(pairs: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    for population, before, after in pairs:
        score_pair(population, Measures(**before), Measures(**after))


def _classify(cases: list[dict[str, Any]]) -> None:
    for case in cases:
        classify_case(read_classification_case(case))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PAIRS
    elapsed = _timed(make_pairs(count), _score_pairs)
    rate = count / elapsed
    print(
        f"scoring: {count} pairs in {elapsed:.1f} s = {rate:,.0f} pairs/s "
        f"(goal {GOAL_PAIRS_PER_SECOND:,} pairs/s: {rate / GOAL_PAIRS_PER_SECOND:.1f}x)"
    )
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_CASES
    elapsed = _timed(make_classification_cases(cases), _classify)
    print(
        f"classification: {cases} cases read and scored in {elapsed:.1f} s = "
        f"{cases / elapsed:,.0f} cases/s"
    )


if __name__ == "__main__":
    main()
