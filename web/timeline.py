"""A patient's visits in time with their measures and response scores, for the patient page.

Scores come from scoring's selectors: per visit, one `VisitScore` per reference visit with its
`status` (pending/done/failed) and the calculator's `imacs_doi` / `acr_eular` objects
(docs/scoring.md §6).
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
from scoring.planning import BASELINE_REFERENCE
from scoring.scores import VisitScore


@dataclass(frozen=True)
class Score:
    """One visit against one reference visit, as the pages show it."""

    score: VisitScore

    @property
    def status(self) -> str:
        return self.score.status

    @property
    def pending(self) -> bool:
        return self.score.pending

    @property
    def failed(self) -> bool:
        return self.score.failed

    @property
    def error(self) -> str:
        return self.score.error

    @property
    def reference_date(self) -> str:
        return self.score.reference_date.isoformat()

    @property
    def reference_id(self) -> int:
        return self.score.reference_id

    @property
    def reference_kind(self) -> str:
        return self.score.reference_kind

    @property
    def episodes(self) -> tuple[int, ...]:
        return self.score.episodes

    @property
    def computed_at(self) -> str:
        """When it was computed, to the second in UTC ("" when not yet)."""
        computed_at = self.score.computed_at
        return "" if computed_at is None else computed_at.isoformat()[:19]

    @property
    def tis(self) -> dict[str, Any]:
        return self.score.acr_eular or {}

    @property
    def doi(self) -> dict[str, Any]:
        return self.score.imacs_doi or {}

    @property
    def worsening(self) -> dict[str, Any]:
        return self.score.worsening or {}

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
    """The response table of one treatment episode, or of several started the same day whose
    tables are the same (same baseline visit, same visits, same scores): shown once, naming
    them all."""

    episode: TreatmentEpisode
    reference_date: str | None
    rows: list[tuple[Visit, Score]]
    together: list[TreatmentEpisode] = field(default_factory=list)

    @property
    def episodes(self) -> list[TreatmentEpisode]:
        return [self.episode, *self.together]

    @property
    def label(self) -> str:
        return " + ".join(e.drug_label for e in self.episodes)

    @property
    def period(self) -> str:
        """The dates: "from 2025-03-01 to 2025-09-01", "from 2025-03-01, ongoing", or each
        drug's end when they differ."""

        def end(e: TreatmentEpisode) -> str:
            return f"to {e.stop_date.isoformat()}" if e.stop_date else "ongoing"

        start = f"from {self.episode.start_date.isoformat()}"
        ends = {end(e) for e in self.episodes}
        if len(ends) == 1:
            only = ends.pop()
            return f"{start} {only}" if self.episode.stop_date else f"{start}, {only}"
        return f"{start} ({'; '.join(f'{e.drug_label} {end(e)}' for e in self.episodes)})"

    def table(self) -> tuple:
        """What the table shows, to tell identical tables apart from merely similar ones."""
        return (
            self.reference_date,
            tuple(
                (v.pk, s.reference_id, s.status, s.tis_score, s.category, s.doi_met, s.error)
                for v, s in self.rows
            ),
        )


def merge_same_day(rows: list[EpisodeRow]) -> list[EpisodeRow]:
    """Episodes started the same day have, as a rule, the same baseline visit and window, so
    the same table: keep one and name the others in it. Only a table identical in every row is
    merged; one that differs (another stop date that ends the window sooner) stays apart."""
    merged: list[EpisodeRow] = []
    for row in rows:
        same = next(
            (
                kept
                for kept in merged
                if kept.episode.start_date == row.episode.start_date and kept.table() == row.table()
            ),
            None,
        )
        if same is None:
            merged.append(row)
        else:
            same.together.append(row.episode)
    return merged


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
    scores = scoring_selectors.scores_for_visits([v.pk for v in visits]) if visits else {}
    rows: list[VisitRow] = []
    pending = 0
    references: set[int] = set()
    by_episode: dict[int, list[tuple[Visit, Score]]] = {e.pk: [] for e in episodes}
    episode_reference: dict[int, str] = {}
    for visit in visits:
        row = VisitRow(visit, open_queries=open_queries.get(visit.pk, 0), **measures_of(visit))
        for visit_score in scores.get(visit.pk, []):
            score = Score(visit_score)
            row.scores.append(score)
            references.add(score.reference_id)
            pending += score.pending
            if score.reference_kind == BASELINE_REFERENCE:
                row.baseline_score = score
            for episode_id in score.episodes:
                if episode_id in by_episode:
                    by_episode[episode_id].append((visit, score))
                    episode_reference[episode_id] = score.reference_date
        rows.append(row)
    for row in rows:
        row.is_reference = row.visit.pk in references
    episode_rows = merge_same_day(
        [
            EpisodeRow(episode, episode_reference.get(episode.pk), by_episode[episode.pk])
            for episode in episodes
        ]
    )
    return {"rows": rows, "episodes": episode_rows, "pending": pending}


def latest_date(rows: list[VisitRow], episodes: list[TreatmentEpisode]) -> date | None:
    dates = [r.visit.visit_date for r in rows] + [e.start_date for e in episodes]
    dates += [e.stop_date for e in episodes if e.stop_date]
    return max(dates) if dates else None
