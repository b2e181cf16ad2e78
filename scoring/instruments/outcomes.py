"""Lung progression, survival times and treatment-emergent adverse events (docs/outcomes.md).

Pure rules, no Django: from one patient's dates and lung function (`OutcomeInputs`) `derive`
gives what the scoring pipeline stores (scoring/outcomes.py) and the survival and safety reports
count.

- Lung progression under a named definition, from a reference visit (the latest visit with FVC
  or DLCO on or before the time zero, else the first after it; for the patient's own record,
  the first such visit):
  - `relative_fvc10_dlco15`: at a later visit, a relative FVC % predicted decline ≥ 10 % or a
    relative DLCO % predicted decline ≥ 15 % against the reference;
  - `ats_ers_2022_physiology` (Raghu G et al., Am J Respir Crit Care Med 2022;205:e18–e47): an
    absolute FVC decline ≥ 5 points or DLCO decline ≥ 10 points between two visits (from the
    reference on) at most 365 days apart — "within 1 year" read as over any year of follow-up.
  Each measure is compared only where both visits have it; the arithmetic is exact (Decimal).
- Times are whole days from the time zero: the episode's start, the ILD onset or the diagnosis
  date (no row when that date is unknown, or when death precedes it). Overall survival: death
  from any cause, else censored at the last date known alive (the latest of visit, vital
  status and adverse event dates; never before the time zero, the patient being alive then).
  Progression-free survival (patients with ILD): the first of death and progression after the
  time zero; else censored at the last visit with FVC or DLCO after the time zero, or at the
  last date known alive when no such visit exists (a progression could not have been seen).
- Treatment-emergent adverse event of an episode: onset on or after its start and no later than
  30 days after its stop (ongoing: up to the last follow-up), or related to it (possible,
  probable, definite). Exposure: (stop or last follow-up) − start, in days.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import InstrumentError

RELATIVE_FVC10_DLCO15 = "relative_fvc10_dlco15"
ATS_ERS_2022 = "ats_ers_2022_physiology"
LUNG_DEFINITIONS = (RELATIVE_FVC10_DLCO15, ATS_ERS_2022)
DEFAULT_LUNG_DEFINITION = RELATIVE_FVC10_DLCO15

EPISODE_START = "episode"
ILD_ONSET = "ild_onset"
DIAGNOSIS = "diagnosis"
TIME_ZEROS = (EPISODE_START, ILD_ONSET, DIAGNOSIS)

EMERGENT_DAYS = 30  # after the stop date, an onset still counts as treatment-emergent
ATS_ERS_WINDOW_DAYS = 365
RELATED = ("possible", "probable", "definite")
WITHDRAWN = "withdrawn"
FVC, DLCO = "fvc", "dlco"

# In every fingerprint: changing a rule above changes them all, and the pipeline rewrites.
VERSION = "outcomes-v1"


@dataclass(frozen=True, slots=True)
class LungVisit:
    date: date
    fvc: Decimal | None
    dlco: Decimal | None

    @property
    def measured(self) -> bool:
        return self.fvc is not None or self.dlco is not None


@dataclass(frozen=True, slots=True)
class Progression:
    """Lung progression under `definition`: the reference visit's date, the first visit that
    met the definition (None: no progression seen) and by which measure, and the last visit with
    FVC or DLCO from the reference on."""

    definition: str
    reference: date | None
    progressed_on: date | None
    criterion: str
    last_assessed: date | None

    @property
    def progressed(self) -> bool:
        return self.progressed_on is not None


def _declined(definition: str, before: LungVisit, after: LungVisit) -> str:
    """The measure by which `after` shows progression against `before`, or ""."""
    if definition == RELATIVE_FVC10_DLCO15:
        if before.fvc and after.fvc is not None and (before.fvc - after.fvc) * 10 >= before.fvc:
            return FVC
        if (
            before.dlco
            and after.dlco is not None
            and (before.dlco - after.dlco) * 100 >= before.dlco * 15
        ):
            return DLCO
        return ""
    if before.fvc is not None and after.fvc is not None and before.fvc - after.fvc >= 5:
        return FVC
    if before.dlco is not None and after.dlco is not None and before.dlco - after.dlco >= 10:
        return DLCO
    return ""


def lung_progression(
    visits: Iterable[LungVisit], definition: str, time_zero: date | None = None
) -> Progression:
    """Progression under `definition` after `time_zero` (None: from the first measured visit)."""
    if definition not in LUNG_DEFINITIONS:
        raise InstrumentError("definition", f"unknown lung progression definition {definition!r}")
    measured = sorted((v for v in visits if v.measured), key=lambda v: v.date)
    if not measured:
        return Progression(definition, None, None, "", None)
    start = 0
    if time_zero is not None:
        before = [i for i, v in enumerate(measured) if v.date <= time_zero]
        start = before[-1] if before else 0
    series = measured[start:]
    reference = series[0]
    for index, visit in enumerate(series[1:], start=1):
        if time_zero is not None and visit.date <= time_zero:
            continue
        if definition == RELATIVE_FVC10_DLCO15:
            earlier: Sequence[LungVisit] = (reference,)
        else:
            window = visit.date - timedelta(days=ATS_ERS_WINDOW_DAYS)
            earlier = [v for v in series[:index] if window <= v.date < visit.date]
        for candidate in earlier:
            criterion = _declined(definition, candidate, visit)
            if criterion:
                return Progression(
                    definition, reference.date, visit.date, criterion, series[-1].date
                )
    return Progression(definition, reference.date, None, "", series[-1].date)


def overall_survival(
    time_zero: date, death: date | None, last_known_alive: date | None
) -> tuple[int, bool] | None:
    """(days, died) from the time zero; None when the death precedes it."""
    if death is not None:
        if death < time_zero:
            return None
        return (death - time_zero).days, True
    if last_known_alive is None:
        return 0, False
    return max(0, (last_known_alive - time_zero).days), False


def progression_free_survival(
    time_zero: date,
    death: date | None,
    last_known_alive: date | None,
    visits: Iterable[LungVisit],
    definition: str,
) -> tuple[int, bool] | None:
    """(days, progressed or died) from the time zero; None when the death precedes it."""
    overall = overall_survival(time_zero, death, last_known_alive)
    if overall is None:
        return None
    visits = list(visits)
    progression = lung_progression(visits, definition, time_zero)
    progressed = progression.progressed_on
    if progressed is not None and (death is None or progressed <= death):
        return (progressed - time_zero).days, True
    if death is not None:
        return overall
    assessed = [v.date for v in visits if v.measured and v.date > time_zero]
    if assessed:
        return (max(assessed) - time_zero).days, False
    return overall


def treatment_emergent(
    onset: date, start: date, stop: date | None, last_follow_up: date | None
) -> bool:
    """Onset on or after the start and no later than 30 days after the stop (ongoing: up to
    the last follow-up)."""
    if onset < start:
        return False
    if stop is not None:
        return onset <= stop + timedelta(days=EMERGENT_DAYS)
    return last_follow_up is None or onset <= last_follow_up


def exposure_days(start: date, stop: date | None, last_follow_up: date | None) -> int:
    """Days on the treatment: to its stop, or to the last follow-up while ongoing."""
    end = stop if stop is not None else last_follow_up
    return 0 if end is None else max(0, (end - start).days)


@dataclass(frozen=True, slots=True)
class Episode:
    id: int
    drug: str
    start: date
    stop: date | None
    stop_reason: str


@dataclass(frozen=True, slots=True)
class Relation:
    episode: int
    relatedness: str
    action: str


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    id: int
    onset: date
    end: date | None
    relations: tuple[Relation, ...] = ()


@dataclass(frozen=True, slots=True)
class Scan:
    date: date
    progression: bool | None


@dataclass(frozen=True, slots=True)
class OutcomeInputs:
    """One patient's data the derived outcomes are computed from."""

    diagnosis_date: date | None = None
    death: date | None = None
    recorded_alive: date | None = None  # the vital status's last date known alive
    ild: str = ""  # "yes" / "no" / "unknown", "" when not recorded
    ild_onset: date | None = None
    visits: tuple[LungVisit, ...] = ()
    scans: tuple[Scan, ...] = ()
    episodes: tuple[Episode, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """What the outcomes are computed from, as stored beside them (and fingerprinted)."""

        def day(value: date | None) -> str | None:
            return None if value is None else value.isoformat()

        def number(value: Decimal | None) -> str | None:
            return None if value is None else format(value.normalize(), "f")

        return {
            "diagnosis_date": day(self.diagnosis_date),
            "death": day(self.death),
            "recorded_alive": day(self.recorded_alive),
            "ild": self.ild,
            "ild_onset": day(self.ild_onset),
            "visits": sorted([day(v.date), number(v.fvc), number(v.dlco)] for v in self.visits),
            "scans": sorted([day(s.date), s.progression] for s in self.scans),
            "episodes": sorted(
                [e.id, e.drug, day(e.start), day(e.stop), e.stop_reason] for e in self.episodes
            ),
            "adverse_events": sorted(
                [
                    a.id,
                    day(a.onset),
                    day(a.end),
                    sorted([r.episode, r.relatedness, r.action] for r in a.relations),
                ]
                for a in self.adverse_events
            ),
        }


def fingerprint(inputs: dict[str, Any]) -> str:
    """Digest of the rules' version, the definitions and the inputs: equal digests, equal
    outcomes."""
    text = json.dumps(
        [VERSION, LUNG_DEFINITIONS, TIME_ZEROS, inputs], sort_keys=True, separators=(",", ":")
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class EpisodeSurvival:
    episode: int
    time_zero: str
    definition: str
    os_days: int
    os_event: bool
    pfs_days: int | None
    pfs_event: bool | None


@dataclass(frozen=True, slots=True)
class EpisodeAdverseEvent:
    """An adverse event that is treatment-emergent for an episode: in its window (`in_window`),
    related to it (`related`), and whether that treatment was withdrawn for it."""

    episode: int
    adverse_event: int
    in_window: bool
    related: bool
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class Derived:
    last_known_alive: date | None
    death: date | None
    radiological_progression: date | None
    lung: tuple[Progression, ...]
    survival: tuple[EpisodeSurvival, ...]
    adverse_events: tuple[EpisodeAdverseEvent, ...]

    @property
    def last_follow_up(self) -> date | None:
        return self.death if self.death is not None else self.last_known_alive


def last_known_alive(inputs: OutcomeInputs) -> date | None:
    """The latest of the visit dates, the vital status's date and the adverse event dates."""
    dates = [v.date for v in inputs.visits]
    dates += [d for d in (inputs.recorded_alive, inputs.death) if d is not None]
    for event in inputs.adverse_events:
        dates += [d for d in (event.onset, event.end) if d is not None]
    return max(dates, default=None)


def _time_zero(inputs: OutcomeInputs, episode: Episode, kind: str) -> date | None:
    if kind == EPISODE_START:
        return episode.start
    if kind == ILD_ONSET:
        return inputs.ild_onset if inputs.ild == "yes" else None
    return inputs.diagnosis_date


def derive(inputs: OutcomeInputs) -> Derived:
    """Everything the pipeline stores for one patient."""
    alive = last_known_alive(inputs)
    follow_up = inputs.death if inputs.death is not None else alive
    survival = []
    for episode in sorted(inputs.episodes, key=lambda e: e.id):
        for kind in TIME_ZEROS:
            zero = _time_zero(inputs, episode, kind)
            if zero is None:
                continue
            overall = overall_survival(zero, inputs.death, alive)
            if overall is None:
                continue
            for definition in LUNG_DEFINITIONS:
                pfs = None
                if inputs.ild == "yes":
                    pfs = progression_free_survival(
                        zero, inputs.death, alive, inputs.visits, definition
                    )
                survival.append(
                    EpisodeSurvival(
                        episode.id,
                        kind,
                        definition,
                        *overall,
                        None if pfs is None else pfs[0],
                        None if pfs is None else pfs[1],
                    )
                )
    adverse = []
    for event in sorted(inputs.adverse_events, key=lambda a: a.id):
        relations = {r.episode: r for r in event.relations}
        for episode in sorted(inputs.episodes, key=lambda e: e.id):
            relation = relations.get(episode.id)
            in_window = treatment_emergent(event.onset, episode.start, episode.stop, follow_up)
            related = relation is not None and relation.relatedness in RELATED
            if in_window or related:
                withdrawn = relation is not None and relation.action == WITHDRAWN
                adverse.append(
                    EpisodeAdverseEvent(episode.id, event.id, in_window, related, withdrawn)
                )
    radiological = min((s.date for s in inputs.scans if s.progression), default=None)
    return Derived(
        alive,
        inputs.death,
        radiological,
        tuple(lung_progression(inputs.visits, d) for d in LUNG_DEFINITIONS),
        tuple(survival),
        tuple(adverse),
    )
