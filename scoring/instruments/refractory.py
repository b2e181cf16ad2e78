"""Refractory status `refractory_v1` (docs/outcomes.md "Refractory status"), pure.

The entry rule of the rituximab and IVIG trials: no response to an adequate course of
glucocorticoids plus at least one other immunosuppressant, mimics and malignancy ruled out.
Operationally, with the parameters (`Parameters`) stored beside every status:

- a glucocorticoid course (prednisone, prednisolone, IV methylprednisolone) is adequate when it
  lasts at least 8 weeks (56 days); an immunosuppressant course (methotrexate, azathioprine,
  mycophenolate, tacrolimus, ciclosporin, cyclophosphamide) when it lasts at least 12 weeks (84
  days). Its length is stop − start in whole days, or as-of date − start while it is ongoing.
- An immunosuppressant course counts only when it overlaps or follows a glucocorticoid course:
  some glucocorticoid episode (of any length) started on or before the immunosuppressant's end
  (its stop date, or the as-of date while ongoing) — an immunosuppressant taken entirely before
  any glucocorticoid (for another disease, say) does not count.
- Failed: an adequate course stopped for inefficacy, or an adequate course with no response at
  its evaluation date — its stop date, or 12 weeks (84 days) after its start while ongoing.
  "No response" is read from the response records scored against the episode's own baseline
  (the records scoring links to the episode): the latest such visit on or before the evaluation
  date with an evaluable IMACS DOI or TIS; the course failed when that visit neither meets the
  DOI nor reaches TIS ≥ 20. Without such a visit the course cannot be judged and has not failed.
- Intolerant: stopped for an adverse event (whatever its length: a course stopped for toxicity
  could not be given for an adequate duration).
- `candidate` when a glucocorticoid course failed or was not tolerated and at least one
  immunosuppressant course failed or was not tolerated; `confirmed` when, in addition, an
  investigator attested that mimics and malignancy were excluded; otherwise `no`. The qualifying
  episodes (failed or intolerant, either role) are listed whatever the status.

Everything is "as of" a date D and uses only what was known at D: episodes started by D; a stop
date (and its reason) only if on or before D (a later stop is unknown at D: the episode is
ongoing then); responses of visits on or before D. So the status at the start of an episode is
`refractory_as_of(..., as_of=episode.start)`.

No Django here (scoring.instruments is pure): scoring.selectors reads the episodes and responses,
scoring.services stores the status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

DEFINITION = "refractory_v1"

NO = "no"
CANDIDATE = "candidate"
CONFIRMED = "confirmed"
STATUSES: tuple[str, ...] = (NO, CANDIDATE, CONFIRMED)

GLUCOCORTICOID = "gc"
IMMUNOSUPPRESSANT = "is"
ROLES: tuple[str, ...] = (GLUCOCORTICOID, IMMUNOSUPPRESSANT)
FAILED = "failed"
INTOLERANT = "intolerant"
REASONS: tuple[str, ...] = (FAILED, INTOLERANT)

# The treatment episodes' stop_reason codes this rule reads (registry.vocabularies.StopReason).
INEFFICACY = "inefficacy"
ADVERSE_EVENT = "adverse_event"


@dataclass(frozen=True, slots=True)
class Parameters:
    """The operational choices of `refractory_v1`, stored with every status it gives."""

    glucocorticoids: tuple[str, ...] = ("prednisone", "prednisolone", "methylprednisolone_iv")
    immunosuppressants: tuple[str, ...] = (
        "methotrexate", "azathioprine", "mycophenolate", "tacrolimus", "ciclosporin",
        "cyclophosphamide",
    )  # fmt: skip
    glucocorticoid_min_days: int = 56  # 8 weeks
    immunosuppressant_min_days: int = 84  # 12 weeks
    ongoing_evaluation_days: int = 84  # an ongoing course is judged 12 weeks after its start
    tis_response: int = 20  # TIS ≥ 20 (at least minimal improvement) is a response

    def as_json(self) -> dict[str, Any]:
        return {
            "glucocorticoids": list(self.glucocorticoids),
            "immunosuppressants": list(self.immunosuppressants),
            "glucocorticoid_min_days": self.glucocorticoid_min_days,
            "immunosuppressant_min_days": self.immunosuppressant_min_days,
            "ongoing_evaluation_days": self.ongoing_evaluation_days,
            "tis_response": self.tis_response,
        }


PARAMETERS = Parameters()


@dataclass(frozen=True, slots=True)
class Episode:
    id: int
    drug: str
    start: date
    stop: date | None
    stop_reason: str = ""


@dataclass(frozen=True, slots=True)
class Response:
    """The outcome of one visit scored against an episode's baseline (its linked records with
    status done): the DOI's `met` and the TIS, None where not evaluable."""

    episode: int
    visit: int
    date: date
    doi_met: bool | None
    tis: Decimal | None

    @property
    def evaluable(self) -> bool:
        return self.doi_met is not None or self.tis is not None


@dataclass(frozen=True, slots=True)
class Qualifying:
    """An episode that counts towards the status: its role and why (failed or intolerant), the
    date it was judged on, and the visit that showed no response (failures by response only)."""

    episode: int
    drug: str
    start: date
    role: str  # GLUCOCORTICOID or IMMUNOSUPPRESSANT
    reason: str  # FAILED or INTOLERANT
    evaluated_on: date
    visit: int | None = None
    visit_date: date | None = None
    doi_met: bool | None = None
    tis: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "episode": self.episode,
            "drug": self.drug,
            "start_date": self.start.isoformat(),
            "role": self.role,
            "reason": self.reason,
            "evaluated_on": self.evaluated_on.isoformat(),
            "visit": self.visit,
            "visit_date": None if self.visit_date is None else self.visit_date.isoformat(),
            "doi_met": self.doi_met,
            "tis": None if self.tis is None else format(self.tis, "f"),
        }


@dataclass(frozen=True, slots=True)
class RefractoryStatus:
    definition: str
    as_of: date
    status: str  # one of STATUSES
    attested: bool
    episodes: tuple[Qualifying, ...] = ()
    parameters: Parameters = field(default=PARAMETERS)

    @property
    def refractory(self) -> bool:
        """Candidate or confirmed: what reports call "refractory"."""
        return self.status != NO

    def as_json(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "attested": self.attested,
            "episodes": [q.as_json() for q in self.episodes],
            "parameters": self.parameters.as_json(),
        }


def _role(drug: str, parameters: Parameters) -> str | None:
    if drug in parameters.glucocorticoids:
        return GLUCOCORTICOID
    if drug in parameters.immunosuppressants:
        return IMMUNOSUPPRESSANT
    return None


def _judge(
    episode: Episode,
    role: str,
    responses: Sequence[Response],
    as_of: date,
    parameters: Parameters,
) -> Qualifying | None:
    """Whether one episode failed or was not tolerated, as known at `as_of`."""
    stop = episode.stop if episode.stop is not None and episode.stop <= as_of else None
    reason = episode.stop_reason if stop is not None else ""
    if stop is not None and reason == ADVERSE_EVENT:
        return Qualifying(episode.id, episode.drug, episode.start, role, INTOLERANT, stop)
    minimum = (
        parameters.glucocorticoid_min_days
        if role == GLUCOCORTICOID
        else parameters.immunosuppressant_min_days
    )
    if ((stop or as_of) - episode.start).days < minimum:
        return None  # not an adequate course (yet)
    if stop is not None and reason == INEFFICACY:
        return Qualifying(episode.id, episode.drug, episode.start, role, FAILED, stop)
    evaluated_on = stop or episode.start + timedelta(days=parameters.ongoing_evaluation_days)
    if evaluated_on > as_of:
        return None  # an ongoing course not judged yet
    seen = [r for r in responses if r.evaluable and r.date <= evaluated_on]
    if not seen:
        return None  # nothing scored against its baseline by then: cannot be judged
    last = max(seen, key=lambda r: (r.date, r.visit))
    responded = last.doi_met is True or (
        last.tis is not None and last.tis >= parameters.tis_response
    )
    if responded:
        return None
    return Qualifying(
        episode.id,
        episode.drug,
        episode.start,
        role,
        FAILED,
        evaluated_on,
        visit=last.visit,
        visit_date=last.date,
        doi_met=last.doi_met,
        tis=last.tis,
    )


def refractory_as_of(
    episodes: Iterable[Episode],
    responses: Iterable[Response],
    as_of: date,
    *,
    attested: bool = False,
    parameters: Parameters = PARAMETERS,
) -> RefractoryStatus:
    """The patient's `refractory_v1` status with only what was known at `as_of` (see above).

    `attested`: an investigator attested (by `as_of`, when asking about the past) that mimics
    and malignancy were excluded.
    """
    known = sorted((e for e in episodes if e.start <= as_of), key=lambda e: (e.start, e.drug, e.id))
    by_episode: dict[int, list[Response]] = {}
    for response in responses:
        if response.date <= as_of:
            by_episode.setdefault(response.episode, []).append(response)
    glucocorticoid_starts = [e.start for e in known if _role(e.drug, parameters) == GLUCOCORTICOID]
    qualifying: list[Qualifying] = []
    for episode in known:
        role = _role(episode.drug, parameters)
        if role is None:
            continue
        if role == IMMUNOSUPPRESSANT:
            end = episode.stop if episode.stop is not None and episode.stop <= as_of else as_of
            if not any(start <= end for start in glucocorticoid_starts):
                continue  # entirely before any glucocorticoid course
        found = _judge(episode, role, by_episode.get(episode.id, ()), as_of, parameters)
        if found is not None:
            qualifying.append(found)
    roles = {q.role for q in qualifying}
    status = NO
    if roles == {GLUCOCORTICOID, IMMUNOSUPPRESSANT}:
        status = CONFIRMED if attested else CANDIDATE
    return RefractoryStatus(DEFINITION, as_of, status, attested, tuple(qualifying), parameters)


def inputs_json(
    episodes: Iterable[Episode],
    responses: Iterable[Response],
    as_of: date,
    attested: bool,
) -> dict[str, Any]:
    """What a status is computed from, as stored beside it (and fingerprinted)."""
    return {
        "as_of": as_of.isoformat(),
        "attested": attested,
        "episodes": [
            {
                "id": e.id,
                "drug": e.drug,
                "start_date": e.start.isoformat(),
                "stop_date": None if e.stop is None else e.stop.isoformat(),
                "stop_reason": e.stop_reason,
            }
            for e in sorted(episodes, key=lambda e: e.id)
        ],
        "responses": [
            {
                "episode": r.episode,
                "visit": r.visit,
                "date": r.date.isoformat(),
                "doi_met": r.doi_met,
                "tis": None if r.tis is None else format(r.tis.normalize(), "f"),
            }
            for r in sorted(responses, key=lambda r: (r.episode, r.date, r.visit))
        ],
    }


def fingerprint(inputs: dict[str, Any], parameters: Parameters = PARAMETERS) -> str:
    """Digest of the definition, its parameters and the inputs: equal digests, equal status."""
    text = json.dumps(
        [DEFINITION, parameters.as_json(), inputs], sort_keys=True, separators=(",", ":")
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
