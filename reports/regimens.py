"""A patient's initial regimen, combined up-front or step-up: the survival report's
`group_by=regimen` (docs/outcomes.md "Survival analyses": combined up-front therapy vs step-up in
anti-MDA5 disease).

Anti-MDA5 rapidly progressive lung disease is treated either with a combination from the start
— high-dose glucocorticoids, tacrolimus and IV cyclophosphamide together (Tsuji H et al.,
Arthritis Rheumatol 2020;72:488–498: 6-month survival 89 % vs 33 % with step-up therapy in the
historical controls) — or step-up: glucocorticoids, with a second immunosuppressant added only
when the first fails. The registry records treatment episodes, not intentions, so the regimen is
read from the start dates:

- A patient's *first treatment day* is the start date of their earliest treatment episode (any
  drug, glucocorticoids included); their *initial regimen* is every episode starting within
  WINDOW_DAYS (14) days of it, both days included (first day + 14 is in, + 15 is not).
- `combined` ("Combined up-front"): the initial regimen holds at least two different
  immunosuppressive drugs other than glucocorticoids (IMMUNOSUPPRESSANTS); `step_up`
  ("Step-up"): anything else, glucocorticoids alone included. Two episodes of the same drug
  count once.
- What counts as an immunosuppressant here: the conventional ones (methotrexate, azathioprine,
  mycophenolate), the calcineurin inhibitors (tacrolimus, ciclosporin), cyclophosphamide,
  rituximab and the JAK inhibitors (tofacitinib, ruxolitinib, baricitinib). Not counted:
  glucocorticoids (the backbone of both regimens); hydroxychloroquine (an antimalarial, not an
  immunosuppressant); repository corticotropin gel (acts through the patient's own
  glucocorticoids); IVIG and plasma exchange (immunomodulation and antibody removal, given in
  anti-MDA5 disease as rescue beside either regimen, not part of the combination Tsuji et al.
  studied); and "other" drugs (free text: an antifibrotic such as nintedanib is recorded so).

The survival report then has one row per patient, not per episode: time zero and survival times
are those scoring stored (scoring.EpisodeSurvival) for an episode of the patient's first
treatment day, for the asked outcome, time zero and lung progression definition. The report's
filters select that episode as they select any episode in the other groupings: a patient counts
when an episode starting on their first treatment day matches them (the period: treatment began
in it; `drug=cyclophosphamide`: cyclophosphamide started on the first treatment day), while the
regimen is always read from all of the patient's episodes. Patients without a treatment episode,
or without a survival record for that episode (PFS: no ILD), are not counted.

A caveat for readers of the numbers: a patient referred on treatment has their first treatment
day before they entered the registry, and the time from it until then is counted as survived
(left truncation, not corrected here). Referrals arrive after a step-up course, so this flatters
step-up; the rapidly progressive lung disease the combination is for is seen from its start.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from registry.models import TreatmentEpisode
from registry.vocabularies import DRUG_CLASS, DrugClass

COMBINED, STEP_UP = "combined", "step_up"
CHOICES = ((COMBINED, "Combined up-front"), (STEP_UP, "Step-up"))
LABELS = dict(CHOICES)
ORDER = {code: index for index, (code, _) in enumerate(CHOICES)}
WINDOW_DAYS = 14
# The drug classes whose drugs count towards a combination (see the module's docstring).
IMMUNOSUPPRESSIVE_CLASSES = frozenset(
    {
        DrugClass.CONVENTIONAL,
        DrugClass.CALCINEURIN,
        DrugClass.ALKYLATING,
        DrugClass.BIOLOGIC,
        DrugClass.JAK_INHIBITOR,
    }
)
IMMUNOSUPPRESSANTS = frozenset(
    str(drug) for drug, klass in DRUG_CLASS.items() if klass in IMMUNOSUPPRESSIVE_CLASSES
)


@dataclass(frozen=True)
class InitialRegimen:
    first_day: date
    # The immunosuppressants (IMMUNOSUPPRESSANTS) started within WINDOW_DAYS of first_day.
    drugs: frozenset[str]

    @property
    def regimen(self) -> str:
        return COMBINED if len(self.drugs) >= 2 else STEP_UP


def classify(episodes: Iterable[tuple[date, str]]) -> InitialRegimen | None:
    """The initial regimen of one patient's episodes, given as (start date, drug); None
    without any episode."""
    listed = sorted(episodes)
    if not listed:
        return None
    first_day = listed[0][0]
    last_day = first_day + timedelta(days=WINDOW_DAYS)
    drugs = frozenset(
        drug for start, drug in listed if start <= last_day and drug in IMMUNOSUPPRESSANTS
    )
    return InitialRegimen(first_day, drugs)


def initial_regimens(episodes: QuerySet[TreatmentEpisode]) -> dict[int, InitialRegimen]:
    """Per patient id, the initial regimen of `episodes` (give all of each patient's)."""
    rows = (
        episodes.order_by("patient_id", "start_date")
        .values_list("patient_id", "start_date", "drug")
        .iterator(chunk_size=5000)
    )
    found: dict[int, InitialRegimen] = {}
    for patient, group in itertools.groupby(rows, key=lambda row: row[0]):
        regimen = classify((start, drug) for _, start, drug in group)
        if regimen is not None:
            found[patient] = regimen
    return found


def per_patient(
    regimens: dict[int, InitialRegimen],
    rows: Iterable[tuple[int, date, str | None, str, int, bool]],
) -> Iterator[tuple[str, str | None, int, str, int, bool]]:
    """(regimen, stratum, patient, site, days, event), one per patient, from survival rows
    (patient, episode start, stratum, site, days, event) ordered by patient: the first row of
    an episode of the patient's first treatment day (`regimens`, from all their episodes)."""
    last = None
    for patient, start, stratum, site, days, event in rows:
        found = regimens.get(patient)
        if patient == last or found is None or start != found.first_day:
            continue
        last = patient
        yield found.regimen, stratum, patient, site, days, event
