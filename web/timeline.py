"""A patient's visits in time with their measures and response scores, for the patient page.

Scores come from scoring's selectors: per visit, one entry per reference visit with `status`
pending/done/failed and the calculator's `imacs_doi` / `acr_eular` objects (spec/SCORING.md §6).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from crf.models import HAQ, MMT8, Visit
from registry.models import TreatmentEpisode
from scoring import selectors as scoring_selectors
from scoring.instruments import InstrumentError


@dataclass
class Score:
    """One visit against one reference visit."""

    entry: dict[str, Any]

    @property
    def status(self) -> str:
        return self.entry.get("status") or "pending"

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def error(self) -> str:
        return self.entry.get("error") or ""

    @property
    def reference_date(self) -> str:
        return self.entry["reference_visit"]["date"]

    @property
    def reference_id(self) -> int:
        return self.entry["reference_visit"]["id"]

    @property
    def tis(self) -> dict[str, Any]:
        return self.entry.get("acr_eular") or {}

    @property
    def doi(self) -> dict[str, Any]:
        return self.entry.get("imacs_doi") or {}

    @property
    def worsening(self) -> dict[str, Any]:
        return self.entry.get("worsening") or {}

    @property
    def tis_score(self) -> float | None:
        return self.tis.get("score")

    @property
    def category(self) -> str:
        return self.tis.get("category") or ""

    @property
    def doi_met(self) -> bool | None:
        return self.doi.get("met")


@dataclass
class VisitRow:
    visit: Visit
    mmt_total: int | None = None
    mmt_max: int | None = None
    haq: Fraction | None = None
    haq_label: str = ""
    ck_x_uln: Decimal | None = None
    open_queries: int = 0
    baseline_score: Score | None = None
    scores: list[Score] = field(default_factory=list)
    is_reference: bool = False


@dataclass
class EpisodeRow:
    episode: TreatmentEpisode
    reference_date: str | None
    rows: list[tuple[Visit, Score]]


def _related(visit: Visit, name: str) -> Any:
    try:
        return getattr(visit, name)
    except (MMT8.DoesNotExist, HAQ.DoesNotExist):
        return None


def measures_of(visit: Visit) -> dict[str, Any]:
    """The instruments' totals as the server computes them (scoring.instruments)."""
    out: dict[str, Any] = {"mmt_total": None, "mmt_max": None, "haq": None, "haq_label": ""}
    mmt = _related(visit, "mmt8")
    if mmt is not None:
        out["mmt_max"] = mmt.maximum
        try:
            out["mmt_total"] = mmt.total
        except InstrumentError:
            out["mmt_total"] = None
    haq = _related(visit, "haq")
    if haq is not None:
        out["haq_label"] = haq.get_instrument_display()
        try:
            out["haq"] = haq.score
        except InstrumentError:
            out["haq"] = None
    out["ck_x_uln"] = None
    for lab in visit.labs.all():
        if lab.enzyme == "ck":
            out["ck_x_uln"] = lab.value / lab.uln
    return out


def build_timeline(
    visits: list[Visit], episodes: list[TreatmentEpisode], open_queries: dict[int, int]
) -> dict[str, Any]:
    """Rows of the visits table, one table per treatment episode, and the pending count."""
    entries = scoring_selectors.scores_for_visits([v.pk for v in visits]) if visits else {}
    rows: list[VisitRow] = []
    pending = 0
    references: set[int] = set()
    by_episode: dict[int, list[tuple[Visit, Score]]] = {e.pk: [] for e in episodes}
    episode_reference: dict[int, str] = {}
    for visit in visits:
        row = VisitRow(visit, open_queries=open_queries.get(visit.pk, 0), **measures_of(visit))
        for entry in entries.get(visit.pk, []):
            score = Score(entry)
            row.scores.append(score)
            references.add(score.reference_id)
            pending += score.pending
            if entry.get("reference_kind") == "baseline":
                row.baseline_score = score
            for episode_id in entry.get("episodes") or ():
                if episode_id in by_episode:
                    by_episode[episode_id].append((visit, score))
                    episode_reference[episode_id] = score.reference_date
        rows.append(row)
    for row in rows:
        row.is_reference = row.visit.pk in references
    episode_rows = [
        EpisodeRow(episode, episode_reference.get(episode.pk), by_episode[episode.pk])
        for episode in episodes
    ]
    return {"rows": rows, "episodes": episode_rows, "pending": pending}


def latest_date(rows: list[VisitRow], episodes: list[TreatmentEpisode]) -> date | None:
    dates = [r.visit.visit_date for r in rows] + [e.start_date for e in episodes]
    dates += [e.stop_date for e in episodes if e.stop_date]
    return max(dates) if dates else None
