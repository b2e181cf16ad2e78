"""`refractory_v1` on hand-built cases (docs/outcomes.md "Refractory status"): no database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from scoring.instruments.refractory import (
    CANDIDATE,
    CONFIRMED,
    FAILED,
    GLUCOCORTICOID,
    IMMUNOSUPPRESSANT,
    INTOLERANT,
    NO,
    Episode,
    Response,
    fingerprint,
    inputs_json,
    refractory_as_of,
)

START = date(2020, 1, 1)
AS_OF = date(2021, 6, 1)
GC, MTX = 1, 2


def day(n: int) -> date:
    return START + timedelta(days=n)


def no_response(episode: int, on: int, visit: int = 100) -> Response:
    return Response(episode, visit + on, day(on), False, Decimal("7.5"))


def gc(days: int | None, reason: str = "", episode: int = GC, start: int = 0) -> Episode:
    stop = None if days is None else day(start + days)
    return Episode(episode, "prednisone", day(start), stop, reason)


def mtx(days: int | None, reason: str = "", start: int = 14, episode: int = MTX) -> Episode:
    stop = None if days is None else day(start + days)
    return Episode(episode, "methotrexate", day(start), stop, reason)


def status(episodes, responses=(), as_of=AS_OF, attested=False):
    return refractory_as_of(episodes, responses, as_of, attested=attested)


def roles(found):
    return {(q.episode, q.role, q.reason) for q in found.episodes}


def test_glucocorticoid_and_immunosuppressant_failing_makes_a_candidate():
    found = status([gc(56), mtx(84)], [no_response(GC, 50), no_response(MTX, 14 + 80)])
    assert found.status == CANDIDATE
    assert roles(found) == {(GC, GLUCOCORTICOID, FAILED), (MTX, IMMUNOSUPPRESSANT, FAILED)}
    failed_gc = next(q for q in found.episodes if q.episode == GC)
    # Judged at the stop date, on the latest visit scored against the episode's baseline.
    assert (failed_gc.evaluated_on, failed_gc.visit_date, failed_gc.doi_met) == (
        day(56),
        day(50),
        False,
    )
    assert found.as_json()["parameters"]["glucocorticoid_min_days"] == 56


@pytest.mark.parametrize(("days", "counts"), [(55, False), (56, True)])
def test_a_glucocorticoid_course_is_adequate_from_8_weeks(days, counts):
    found = status([gc(days), mtx(84)], [no_response(GC, 40), no_response(MTX, 90)])
    assert ((GC, GLUCOCORTICOID, FAILED) in roles(found)) is counts
    assert found.status == (CANDIDATE if counts else NO)


@pytest.mark.parametrize(("days", "counts"), [(83, False), (84, True)])
def test_an_immunosuppressant_course_is_adequate_from_12_weeks(days, counts):
    found = status([gc(60), mtx(days)], [no_response(GC, 40), no_response(MTX, 80)])
    assert ((MTX, IMMUNOSUPPRESSANT, FAILED) in roles(found)) is counts
    assert found.status == (CANDIDATE if counts else NO)


def test_an_immunosuppressant_entirely_before_any_glucocorticoid_does_not_count():
    early = Episode(MTX, "methotrexate", day(-200), day(-100), "inefficacy")
    found = status([gc(60, "inefficacy"), early])
    assert roles(found) == {(GC, GLUCOCORTICOID, FAILED)}
    assert found.status == NO
    # Started before the glucocorticoid but still running when it started: overlapping.
    overlapping = Episode(MTX, "methotrexate", day(-200), day(10), "inefficacy")
    assert status([gc(60, "inefficacy"), overlapping]).status == CANDIDATE
    # After the glucocorticoid course stopped: follows it.
    after = Episode(MTX, "methotrexate", day(100), day(200), "inefficacy")
    assert status([gc(60, "inefficacy"), after]).status == CANDIDATE


@pytest.mark.parametrize(
    "response",
    [
        Response(GC, 150, day(50), True, Decimal("7.5")),  # DOI met
        Response(GC, 150, day(50), False, Decimal("20")),  # TIS ≥ 20
        Response(GC, 150, day(50), None, Decimal("22.5")),  # TIS only
    ],
)
def test_a_response_at_the_evaluation_date_is_not_a_failure(response):
    found = status([gc(56), mtx(84, "inefficacy")], [response])
    assert (GC, GLUCOCORTICOID, FAILED) not in roles(found)
    assert found.status == NO


def test_the_latest_visit_on_or_before_the_evaluation_date_decides():
    responses = [
        Response(GC, 1, day(20), True, Decimal(30)),  # responded early...
        Response(GC, 2, day(50), False, Decimal(10)),  # ...lost it by the stop date
        Response(GC, 3, day(70), True, Decimal(40)),  # after the stop: not the evaluation
    ]
    found = status([gc(56), mtx(84, "inefficacy")], responses)
    assert found.status == CANDIDATE
    gc_row = next(q for q in found.episodes if q.role == GLUCOCORTICOID)
    assert (gc_row.visit, gc_row.tis) == (2, Decimal(10))


def test_without_a_scored_visit_an_adequate_course_cannot_be_judged():
    assert status([gc(56), mtx(84, "inefficacy")]).status == NO


def test_an_ongoing_course_is_judged_12_weeks_after_its_start():
    ongoing = gc(None)
    responses = [no_response(GC, 80)]
    # Adequate (8 weeks) but not judged before week 12.
    assert status([ongoing, mtx(84, "inefficacy")], responses, as_of=day(83)).status == NO
    found = status([ongoing, mtx(84, "inefficacy")], responses, as_of=day(120))
    assert found.status == CANDIDATE
    gc_row = next(q for q in found.episodes if q.role == GLUCOCORTICOID)
    assert gc_row.evaluated_on == day(84)


def test_stopped_for_inefficacy_fails_an_adequate_course_without_scores():
    found = status([gc(56, "inefficacy"), mtx(84, "inefficacy")])
    assert found.status == CANDIDATE
    # Stopped for inefficacy before an adequate duration: not an adequate trial.
    assert status([gc(55, "inefficacy"), mtx(84, "inefficacy")]).status == NO


def test_stopped_for_an_adverse_event_is_intolerance_whatever_the_length():
    found = status([gc(10, "adverse_event"), mtx(20, "adverse_event")])
    assert found.status == CANDIDATE
    assert roles(found) == {
        (GC, GLUCOCORTICOID, INTOLERANT),
        (MTX, IMMUNOSUPPRESSANT, INTOLERANT),
    }
    # Other reasons are neither failure nor intolerance.
    assert status([gc(10, "patient_choice"), mtx(20, "completed")]).status == NO


def test_confirmed_only_for_an_attested_candidate():
    assert status([gc(56, "inefficacy"), mtx(84, "inefficacy")], attested=True).status == (
        CONFIRMED
    )
    assert status([gc(56, "inefficacy")], attested=True).status == NO


def test_other_drugs_do_not_count():
    rituximab = Episode(3, "rituximab", day(10), day(200), "inefficacy")
    assert status([gc(56, "inefficacy"), rituximab]).status == NO


def test_as_of_a_date_uses_only_what_was_known_then():
    episodes = [gc(56, "inefficacy"), mtx(100, "inefficacy", start=30)]
    # The methotrexate stop (day 130) is in the future on day 120: ongoing then, 90 days long,
    # but not yet judged by its scores (none) nor known to be stopped for inefficacy.
    assert status(episodes, as_of=day(120)).status == NO
    assert status(episodes, as_of=day(130)).status == CANDIDATE
    # Episodes started later are unknown.
    assert status(episodes, as_of=day(29)).episodes == (
        status([gc(56, "inefficacy")], as_of=day(29)).episodes
    )
    # Responses after the date are unknown: the ongoing course judged at week 12 on day 84.
    later = [Response(GC, 9, day(80), False, Decimal(5))]
    ongoing = [gc(None), mtx(100, "inefficacy", start=30)]
    assert status(ongoing, later, as_of=day(79)).status == NO


def test_fingerprint_follows_the_inputs():
    episodes = [gc(56, "inefficacy")]
    one = fingerprint(inputs_json(episodes, [], AS_OF, False))
    assert one == fingerprint(inputs_json(list(episodes), [], AS_OF, False))
    assert one != fingerprint(inputs_json(episodes, [], AS_OF, True))
    assert one != fingerprint(inputs_json([gc(56, "adverse_event")], [], AS_OF, False))
