"""Lung progression, survival times and treatment-emergent adverse events on hand-built cases
(docs/outcomes.md): no database."""

from datetime import date
from decimal import Decimal

import pytest

from scoring.instruments import InstrumentError
from scoring.instruments.outcomes import (
    ATS_ERS_2022,
    RELATIVE_FVC10_DLCO15,
    AdverseEvent,
    Episode,
    LungVisit,
    OutcomeInputs,
    Relation,
    Scan,
    derive,
    exposure_days,
    fingerprint,
    last_known_alive,
    lung_progression,
    overall_survival,
    progression_free_survival,
    treatment_emergent,
)


def lung(day, fvc=None, dlco=None):
    return LungVisit(
        date.fromisoformat(day),
        None if fvc is None else Decimal(str(fvc)),
        None if dlco is None else Decimal(str(dlco)),
    )


def test_relative_decline_thresholds_are_inclusive_and_exact():
    # FVC 80 → 72 is a 10 % relative decline exactly; 72.1 is not.
    assert lung_progression([lung("2020-01-01", 80), lung("2020-06-01", 72)],
                            RELATIVE_FVC10_DLCO15).progressed_on == date(2020, 6, 1)  # fmt: skip
    none = lung_progression(
        [lung("2020-01-01", 80), lung("2020-06-01", 72.1)], RELATIVE_FVC10_DLCO15
    )
    assert (none.progressed, none.reference, none.last_assessed) == (
        False,
        date(2020, 1, 1),
        date(2020, 6, 1),
    )
    # DLCO 60 → 51 is 15 % relative; FVC absent at the later visit is not compared.
    found = lung_progression([lung("2020-01-01", 80, 60), lung("2020-03-01", None, 51)],
                             RELATIVE_FVC10_DLCO15)  # fmt: skip
    assert (found.progressed_on, found.criterion) == (date(2020, 3, 1), "dlco")


def test_ats_ers_absolute_decline_within_a_year():
    visits = [lung("2020-01-01", 80, 60), lung("2020-12-01", 77, 55), lung("2021-06-01", 75, 52)]
    # 80 → 75 is 5 points but 517 days apart; 77 → 75 within a year is 2 points: none.
    assert not lung_progression(visits, ATS_ERS_2022).progressed
    # The relative definition sees neither (6.25 % FVC, 13.3 % DLCO).
    assert not lung_progression(visits, RELATIVE_FVC10_DLCO15).progressed
    visits.append(lung("2021-11-01", 72, 50))  # 77 → 72 within 335 days: 5 points
    found = lung_progression(visits, ATS_ERS_2022)
    assert (found.progressed_on, found.criterion) == (date(2021, 11, 1), "fvc")
    dlco = lung_progression([lung("2020-01-01", 80, 60), lung("2020-05-01", 79, 50)], ATS_ERS_2022)
    assert dlco.criterion == "dlco"


def test_reference_is_the_last_measured_visit_on_or_before_time_zero():
    visits = [lung("2020-01-01", 90), lung("2020-05-01", 80), lung("2020-09-01", 71)]
    # From the patient's first visit: 90 → 80 is not 10 % (11.1 % is): progressed in May.
    assert lung_progression(visits, RELATIVE_FVC10_DLCO15).progressed_on == date(2020, 5, 1)
    # From a time zero in June the reference is May's 80: 71 is 11.25 % below.
    after = lung_progression(visits, RELATIVE_FVC10_DLCO15, date(2020, 6, 1))
    assert (after.reference, after.progressed_on) == (date(2020, 5, 1), date(2020, 9, 1))
    # Nothing measured before the time zero: the first visit after it is the reference.
    later = lung_progression(visits, RELATIVE_FVC10_DLCO15, date(2019, 6, 1))
    assert later.reference == date(2020, 1, 1)
    assert lung_progression([], ATS_ERS_2022).reference is None
    with pytest.raises(InstrumentError):
        lung_progression(visits, "fvc_only")


def test_overall_survival_in_whole_days():
    start = date(2020, 1, 1)
    assert overall_survival(start, date(2020, 3, 1), None) == (60, True)
    assert overall_survival(start, None, date(2020, 12, 31)) == (365, False)
    assert overall_survival(start, None, None) == (0, False)  # alive at the start, no more
    assert overall_survival(start, None, date(2019, 12, 1)) == (0, False)
    assert overall_survival(start, date(2019, 12, 1), None) is None  # dead before time zero
    assert overall_survival(start, start, None) == (0, True)


def test_progression_free_survival():
    start = date(2020, 1, 1)
    visits = [lung("2019-12-20", 80), lung("2020-04-01", 78), lung("2020-07-01", 70)]
    # Progression on 2020-07-01 (12.5 %), before a death in 2021: the progression is the event.
    found = progression_free_survival(start, date(2021, 1, 1), None, visits, RELATIVE_FVC10_DLCO15)
    assert found == (182, True)
    # Death before any progression or follow-up visit: the death.
    assert progression_free_survival(
        start, date(2020, 2, 1), None, visits[:1], RELATIVE_FVC10_DLCO15
    ) == (31, True)
    # Alive, no progression: censored at the last visit with FVC or DLCO, not at later contact.
    assert progression_free_survival(
        start, None, date(2020, 12, 1), visits[:2], RELATIVE_FVC10_DLCO15
    ) == (91, False)
    # No lung function after the time zero: progression cannot be seen; last known alive.
    assert progression_free_survival(
        start, None, date(2020, 12, 1), visits[:1], RELATIVE_FVC10_DLCO15
    ) == (335, False)


def test_treatment_emergent_window_and_exposure():
    start, stop = date(2020, 1, 1), date(2020, 3, 1)
    assert treatment_emergent(date(2020, 1, 1), start, stop, None)
    assert treatment_emergent(date(2020, 3, 31), start, stop, None)  # stop + 30 days
    assert not treatment_emergent(date(2020, 4, 1), start, stop, None)
    assert not treatment_emergent(date(2019, 12, 31), start, stop, None)
    assert treatment_emergent(date(2020, 6, 1), start, None, date(2020, 6, 1))
    assert not treatment_emergent(date(2020, 6, 2), start, None, date(2020, 6, 1))
    assert exposure_days(start, stop, date(2021, 1, 1)) == 60
    assert exposure_days(start, None, date(2021, 1, 1)) == 366
    assert exposure_days(start, None, None) == 0


def test_derive_one_patient():
    ivig = Episode(1, "ivig", date(2020, 1, 1), date(2020, 6, 30), "completed")
    rituximab = Episode(2, "rituximab", date(2020, 5, 1), None, "")
    # A thrombosis during the overlap, related to both episodes, IVIG withdrawn for it; an
    # infection 100 days after IVIG's stop but recorded as possibly related to it.
    thrombosis = AdverseEvent(
        10,
        date(2020, 5, 15),
        date(2020, 6, 1),
        (Relation(1, "probable", "withdrawn"), Relation(2, "unlikely", "none")),
    )
    infection = AdverseEvent(11, date(2020, 10, 8), None, (Relation(1, "possible", "none"),))
    inputs = OutcomeInputs(
        diagnosis_date=date(2019, 11, 1),
        death=date(2020, 11, 1),
        recorded_alive=date(2020, 10, 20),
        ild="yes",
        ild_onset=date(2019, 10, 1),
        visits=(lung("2019-12-15", 80, 60), lung("2020-04-01", 75, 50)),
        scans=(Scan(date(2019, 12, 1), None), Scan(date(2020, 4, 2), True)),
        episodes=(ivig, rituximab),
        adverse_events=(thrombosis, infection),
    )
    assert last_known_alive(inputs) == date(2020, 11, 1)
    derived = derive(inputs)
    assert (derived.last_follow_up, derived.radiological_progression) == (
        date(2020, 11, 1),
        date(2020, 4, 2),
    )
    rows = {(r.episode, r.time_zero, r.definition): r for r in derived.survival}
    assert len(rows) == 2 * 3 * 2
    ivig_os = rows[1, "episode", RELATIVE_FVC10_DLCO15]
    # Death 305 days after IVIG's start; DLCO 60 → 50 (16.7 %) on 2020-04-01 is progression.
    assert (ivig_os.os_days, ivig_os.os_event, ivig_os.pfs_days, ivig_os.pfs_event) == (
        305,
        True,
        91,
        True,
    )
    # Rituximab starts after that visit: its reference is it, and only death follows.
    ritux = rows[2, "episode", RELATIVE_FVC10_DLCO15]
    assert (ritux.os_days, ritux.pfs_days, ritux.pfs_event) == (184, 184, True)
    assert rows[1, "ild_onset", ATS_ERS_2022].os_days == 397
    assert rows[1, "diagnosis", ATS_ERS_2022].os_days == 366
    emergent = {(a.episode, a.adverse_event): a for a in derived.adverse_events}
    assert set(emergent) == {(1, 10), (2, 10), (1, 11), (2, 11)}
    assert (emergent[1, 10].in_window, emergent[1, 10].related, emergent[1, 10].withdrawn) == (
        True,
        True,
        True,
    )
    assert (emergent[2, 10].related, emergent[2, 10].withdrawn) == (False, False)
    assert (emergent[1, 11].in_window, emergent[1, 11].related) == (False, True)
    assert emergent[2, 11].in_window  # rituximab is ongoing up to the last follow-up


def test_no_ild_no_pfs_and_unknown_time_zeros_make_no_rows():
    inputs = OutcomeInputs(
        ild="no", episodes=(Episode(1, "methotrexate", date(2020, 1, 1), None, ""),)
    )
    rows = derive(inputs).survival
    assert {r.time_zero for r in rows} == {"episode"}
    assert all(r.pfs_days is None and r.pfs_event is None for r in rows)


def test_fingerprint_follows_the_inputs():
    base = OutcomeInputs(visits=(lung("2020-01-01", 80),))
    same = OutcomeInputs(visits=(lung("2020-01-01", "80.0"),))
    moved = OutcomeInputs(visits=(lung("2020-01-01", 79),))
    assert fingerprint(base.as_json()) == fingerprint(same.as_json())
    assert fingerprint(base.as_json()) != fingerprint(moved.as_json())
