"""What the interface shows of a visit's scores: one typed `VisitScore` per (visit, reference
visit), holding the three algorithms' results, pure.

scoring.selectors builds them from the stored records (`scores_for_visits`) or from a dry run
(`preview_scores`); the API sends `VisitScore.as_json()` (docs/api.md, a visit's `scores`),
the pages read the attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from scoring.planning import DOI, TIS, WORSENING

# The states of a response record (the values of ResponseRecord.Status), and of a score computed
# by a dry run and not stored.
PENDING, DONE, FAILED = "pending", "done", "failed"
PREVIEW = "preview"

# A score's status is the worst of its records': one failed algorithm fails the comparison.
_STATUS_RANK = {FAILED: 3, PENDING: 2, DONE: 1, PREVIEW: 1}


@dataclass(frozen=True, slots=True)
class VisitScore:
    """A visit scored against one reference visit, every algorithm at once."""

    reference_id: int
    reference_date: date
    reference_kind: str  # planning.BASELINE_REFERENCE or TREATMENT_REFERENCE
    episodes: tuple[int, ...]  # the treatment episodes whose response this measures
    status: str  # PENDING, DONE or FAILED (the worst of the records'), or PREVIEW
    error: str = ""  # the records' errors, "; "-joined
    computed_at: datetime | None = None  # the latest of the records'
    # The calculator's JSON of each algorithm (docs/scoring.md §6), None when not computed.
    imacs_doi: dict[str, Any] | None = None
    acr_eular: dict[str, Any] | None = None
    worsening: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def as_json(self) -> dict[str, Any]:
        """The API's response record (docs/api.md, visits' `scores`)."""
        return {
            "reference_visit": {"id": self.reference_id, "date": self.reference_date.isoformat()},
            "reference_kind": self.reference_kind,
            "episodes": list(self.episodes),
            "status": self.status,
            "error": self.error or None,
            "imacs_doi": self.imacs_doi,
            "acr_eular": self.acr_eular,
            "worsening": self.worsening,
            "computed_at": None if self.computed_at is None else self.computed_at.isoformat(),
        }


@dataclass(slots=True)
class ScoreDraft:
    """A VisitScore being put together from its records, one algorithm at a time."""

    reference_id: int
    reference_date: date
    reference_kind: str
    episodes: tuple[int, ...]
    status: str
    error: str = ""
    computed_at: datetime | None = None
    results: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def add(
        self,
        algorithm: str,
        status: str,
        error: str,
        result: dict[str, Any] | None,
        computed_at: datetime | None,
    ) -> None:
        if _STATUS_RANK[status] > _STATUS_RANK[self.status]:
            self.status = status
        if error:
            self.error = f"{self.error}; {error}" if self.error else error
        self.results[algorithm] = result
        if computed_at is not None and (self.computed_at is None or computed_at > self.computed_at):
            self.computed_at = computed_at

    def score(self) -> VisitScore:
        return VisitScore(
            self.reference_id,
            self.reference_date,
            self.reference_kind,
            self.episodes,
            self.status,
            self.error,
            self.computed_at,
            imacs_doi=self.results.get(DOI),
            acr_eular=self.results.get(TIS),
            worsening=self.results.get(WORSENING),
        )
