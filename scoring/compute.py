"""Computing the records a plan calls for, pure: one algorithm on one comparison of one patient's
inputs (scoring.planning), with the error that stopped it if any.

Used by the service that stores records (scoring.services.score_patients) and by the dry run that
only shows them (scoring.selectors.preview_scores). No database and no Django here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scoring.instruments import (
    WORSENING_ALGORITHM,
    ConfirmedDeterioration,
    Pairing,
    WorseningResult,
    pair_visits,
    to_json,
)

# The per-algorithm halves of score_pair / score_doi / score_tis / is_worsened, which take a
# pairing made once (scoring.instruments.results.score_pair does the same).
from scoring.instruments.doi import doi_from_pairing
from scoring.instruments.tis import tis_from_pairing
from scoring.instruments.worsening import worsening_from_pairing
from scoring.planning import DOI, TIS, WORSENING, Comparison, PatientInputs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one algorithm on one comparison, or why it could not be computed; `columns`
    are the record's query columns copied from the result (met, score, category...)."""

    result: dict[str, Any] | None
    columns: dict[str, Any]
    error: str = ""


def _failure(exc: BaseException | str) -> Outcome:
    message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Outcome(None, {}, message or "unknown error")


def _input_error(patient: PatientInputs, comparison: Comparison, algorithm: str) -> str:
    names = [("reference visit", comparison.reference), ("visit", comparison.visit)]
    if algorithm == WORSENING and comparison.previous is not None:
        names.append(("previous visit", comparison.previous))
    for label, visit_id in names:
        error = patient.by_id[visit_id].error
        if error:
            return f"{label} {visit_id}: {error}"
    if algorithm == TIS and patient.population is None:
        return f"population: {patient.population_error}"
    return ""


class Scorer:
    """Scores one patient's comparisons, pairing each two visits once (docs/scoring.md §1: which
    strength measure and which enzyme are compared). The DOI, the TIS and the worsening of a
    comparison share its pairing, and a visit's worsening is reused as the next visit's
    "previous"."""

    def __init__(self, patient: PatientInputs) -> None:
        self.patient = patient
        self.pairings: dict[tuple[int, int], Pairing] = {}
        self.worsening: dict[tuple[int, int], WorseningResult] = {}

    def outcome(self, comparison: Comparison, algorithm: str) -> Outcome:
        error = _input_error(self.patient, comparison, algorithm)
        if error:
            return _failure(error)
        try:
            if algorithm == WORSENING:
                return self._worsening(comparison)
            return self._response(comparison, algorithm)
        except Exception as exc:  # noqa: BLE001 - recorded on the record, never retried blindly
            # Ids only: the log must not carry clinical values.
            log.warning(
                "scoring %s of visit %s against %s failed: %s",
                algorithm,
                comparison.visit,
                comparison.reference,
                type(exc).__name__,
            )
            return _failure(exc)

    def _pairing(self, reference: int, visit: int) -> Pairing:
        key = (reference, visit)
        found = self.pairings.get(key)
        if found is None:
            by_id = self.patient.by_id
            found = self.pairings[key] = pair_visits(
                by_id[reference].measures,  # type: ignore[arg-type]
                by_id[visit].measures,  # type: ignore[arg-type]
            )
        return found

    def _response(self, comparison: Comparison, algorithm: str) -> Outcome:
        # score_doi / score_tis, on the comparison's one pairing.
        pairing = self._pairing(comparison.reference, comparison.visit)
        if algorithm == DOI:
            doi = doi_from_pairing(pairing)
            return Outcome(to_json(doi), {"met": doi.met})
        assert self.patient.population is not None  # _input_error said so otherwise
        tis = tis_from_pairing(self.patient.population, pairing)
        score = None
        if tis.score is not None:
            score = Decimal(tis.score.numerator) / Decimal(tis.score.denominator)
        return Outcome(
            to_json(tis),
            {"score": score, "category": tis.category or "", "complete": tis.complete},
        )

    def _worsened(self, reference: int, visit: int) -> WorseningResult:
        # is_worsened, on the pairing.
        key = (reference, visit)
        found = self.worsening.get(key)
        if found is None:
            found = self.worsening[key] = worsening_from_pairing(self._pairing(reference, visit))
        return found

    def _worsening(self, comparison: Comparison) -> Outcome:
        # docs/scoring.md §4: confirmed when worsening (against the reference) holds at this visit
        # and at the previous one — as scoring.instruments.confirmed_deterioration, with each
        # visit's worsening computed once.
        current = self._worsened(comparison.reference, comparison.visit)
        previous = None
        if comparison.previous is not None:
            previous = self._worsened(comparison.reference, comparison.previous)
        result = ConfirmedDeterioration(
            algorithm=WORSENING_ALGORITHM,
            confirmed=current.worsened and previous is not None and previous.worsened,
            current=current,
            previous=previous,
        )
        return Outcome(
            to_json(result), {"worsened": current.worsened, "confirmed": result.confirmed}
        )
