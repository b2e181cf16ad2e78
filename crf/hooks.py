"""Hooks through which the scoring app serves crf's API without crf importing it (DESIGN.md).

The scoring app registers its implementations in ScoringConfig.ready(). Until then (or if the
scoring app is not installed) the hooks say that no scores exist.
"""

from collections.abc import Callable, Iterable
from typing import Any

# visit ids -> {visit_id: [response record as the API shows it, ...]}
ScoresProvider = Callable[[Iterable[int]], dict[int, list[dict[str, Any]]]]
# patient ids -> {visit_id: [response record dicts computed now, without storing]}
ScoresPreviewer = Callable[[Iterable[int]], dict[int, list[dict[str, Any]]]]

_providers: dict[str, Callable[..., Any]] = {}


def register(*, scores: ScoresProvider, preview: ScoresPreviewer) -> None:
    _providers["scores"] = scores
    _providers["preview"] = preview


def scores_for_visits(visit_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The stored response records of these visits (each with its status)."""
    provider = _providers.get("scores")
    return provider(visit_ids) if provider else {}


def preview_scores(patient_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Scores computed now from the current (possibly uncommitted) data, storing nothing."""
    provider = _providers.get("preview")
    return provider(patient_ids) if provider else {}
