"""Invariants of the response definitions, checked with hypothesis (issue 3)."""

import dataclasses
from fractions import Fraction

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from scoring.instruments import ENZYMES, Measures, choose_enzyme, score_doi, score_pair, score_tis

SETTINGS = settings(max_examples=200, deadline=None)


def maybe(strategy):
    """``strategy`` four times in five, else None (missing)."""
    return st.tuples(st.integers(0, 4), strategy).map(lambda t: None if t[0] == 0 else t[1])


vas = maybe(st.integers(0, 100).map(lambda n: Fraction(n, 10)))
haq = maybe(st.integers(0, 24).map(lambda n: Fraction(n, 8)))
enzyme_pair = st.tuples(
    st.integers(1, 200_000).map(lambda n: Fraction(n, 10)),
    st.sampled_from([Fraction(76, 10), 40, 45, 200, 250]),
)
enzymes = st.dictionaries(st.sampled_from(ENZYMES), enzyme_pair, max_size=5)
populations = st.sampled_from(["adult", "juvenile"])


@st.composite
def visit(draw, mmt_max):
    total = draw(maybe(st.integers(0, mmt_max)))
    return Measures(
        physician_global=draw(vas),
        patient_global=draw(vas),
        extramuscular=draw(vas),
        haq=draw(haq),
        mmt_total=total,
        mmt_max=mmt_max,
        cmas=draw(maybe(st.integers(0, 52))),
        enzymes=draw(enzymes),
    )


@st.composite
def visit_pairs(draw):
    mmt_max = draw(st.sampled_from([80, 150, 260]))
    # Mostly the same MMT scale at both visits, sometimes not (then CMAS or missing).
    other_max = draw(st.sampled_from([mmt_max, mmt_max, mmt_max, 80, 150, 260]))
    return draw(visit(mmt_max)), draw(visit(other_max))


# A straightforward reference of docs/scoring.md §3 in plain Fraction arithmetic, to check the
# integer-scaled implementation against.
REFERENCE_POINTS = {
    "physician_global": (0, 7.5, 15, 17.5, 20),
    "patient_global": (0, 2.5, 5, 7.5, 10),
    "haq": (0, 5, 7.5, 7.5, 10),
    "enzyme": (0, 2.5, 5, 7.5, 7.5),
    "extramuscular": (0, 7.5, 12.5, 15, 20),
    "mmt": (0, 10, 20, 27.5, 32.5),
}


def reference_points(key, percent):
    edges = (2, 10, 20, 30) if key == "mmt" else (5, 15, 25, 40)
    band = sum(1 for edge in edges if percent > edge)
    return Fraction(REFERENCE_POINTS[key][band])


def reference_tis(baseline, followup):
    total = Fraction(0)
    for key, scale in (
        ("physician_global", 10),
        ("patient_global", 10),
        ("extramuscular", 10),
        ("haq", 3),
    ):
        before, after = getattr(baseline, key), getattr(followup, key)
        if before is not None and after is not None:
            total += reference_points(key, 100 * (before - after) / scale)
    if (
        baseline.mmt_total is not None
        and followup.mmt_total is not None
        and baseline.mmt_max == followup.mmt_max
    ):
        total += reference_points(
            "mmt", 100 * (followup.mmt_total - baseline.mmt_total) / baseline.mmt_max
        )
    elif baseline.cmas is not None and followup.cmas is not None:
        total += reference_points("mmt", 100 * (followup.cmas - baseline.cmas) / 52)
    chosen = choose_enzyme(baseline)
    if chosen is not None and chosen in followup.enzymes:
        before = baseline.enzymes[chosen][0] / baseline.enzymes[chosen][1]
        after = followup.enzymes[chosen][0] / followup.enzymes[chosen][1]
        total += reference_points("enzyme", 100 * (before - after) / before)
    return total


@SETTINGS
@given(visit_pairs(), populations)
def test_tis_is_within_0_to_100_and_a_multiple_of_2_5(visits, population):
    result = score_tis(population, *visits)
    if result.score is not None:
        assert 0 <= result.score <= 100
        assert (result.score / Fraction(5, 2)).denominator == 1
        assert result.score == sum(m.points for m in result.measures.values())


@SETTINGS
@given(visit_pairs(), populations)
def test_tis_agrees_with_a_plain_fraction_reference(visits, population):
    result = score_tis(population, *visits)
    event("scored" if result.score is not None else "not scored")
    if result.score is not None:
        assert result.score == reference_tis(*visits)


@SETTINGS
@given(visit_pairs())
def test_doi_counts_are_consistent(visits):
    result = score_doi(*visits)
    assert set(result.improved).isdisjoint(result.worsened)
    assert len(result.improved) + len(result.worsened) <= result.evaluated <= 6
    assert list(result.improved) == sorted(result.improved)
    assert (result.met is None) == (result.evaluated < 3)


def improve(draw, pair_result, baseline, followup):
    """A copy of ``followup`` with one present measure made strictly better."""
    present = [key for key, m in pair_result.doi.measures.items() if m.status != "missing"]
    assume(present)
    key = draw(st.sampled_from(present))
    step = Fraction(draw(st.integers(1, 10)), 10)
    if key in ("physician_global", "patient_global", "extramuscular", "haq"):
        value = getattr(followup, key)
        assume(value > 0)
        return dataclasses.replace(followup, **{key: value - value * step})
    if key == "mmt":
        if pair_result.doi.strength_instrument == "mmt":
            room = followup.mmt_max - followup.mmt_total
            assume(room > 0)
            return dataclasses.replace(
                followup, mmt_total=followup.mmt_total + max(1, int(room * step))
            )
        assume(followup.cmas < 52)
        return dataclasses.replace(
            followup, cmas=followup.cmas + max(1, int((52 - followup.cmas) * step))
        )
    chosen = pair_result.doi.enzyme
    value, uln = followup.enzymes[chosen]
    lowered = value * Fraction(draw(st.integers(1, 9)), 10)
    return dataclasses.replace(followup, enzymes={**followup.enzymes, chosen: (lowered, uln)})


@SETTINGS
@given(visit_pairs(), populations, st.data())
def test_improving_one_measure_never_lowers_tis_nor_unmeets_doi(visits, population, data):
    baseline, followup = visits
    before = score_pair(population, baseline, followup)
    better = improve(data.draw, before, baseline, followup)
    after = score_pair(population, baseline, better)
    assert (before.tis.score is None) == (after.tis.score is None)
    if before.tis.score is not None:
        assert after.tis.score >= before.tis.score
    if before.doi.met is True:
        assert after.doi.met is True
    assert len(after.doi.improved) >= len(before.doi.improved)
    assert len(after.doi.worsened) <= len(before.doi.worsened)


@SETTINGS
@given(st.sampled_from([80, 150, 260]).flatmap(visit), populations)
def test_identical_visits_score_zero_and_do_not_meet_the_doi(measures, population):
    result = score_pair(population, measures, measures)
    assert result.tis.score in (0, None)
    if measures.physician_global is not None and (
        measures.mmt_total is not None or measures.cmas is not None
    ):
        assert result.tis.score == 0
        assert result.tis.category == "none"
    assert result.doi.met is not True
    assert result.doi.improved == result.doi.worsened == ()


@SETTINGS
@given(visit_pairs(), populations, st.booleans(), st.data())
def test_scaling_an_enzyme_value_and_uln_together_changes_nothing(
    visits, population, at_baseline, data
):
    baseline, followup = visits
    target = baseline if at_baseline else followup
    assume(target.enzymes)
    key = data.draw(st.sampled_from(sorted(target.enzymes)))
    factor = data.draw(st.fractions(min_value=Fraction(1, 1000), max_value=1000).filter(bool))
    value, uln = target.enzymes[key]
    scaled = dataclasses.replace(
        target, enzymes={**target.enzymes, key: (value * factor, uln * factor)}
    )
    if at_baseline:
        assert score_pair(population, scaled, followup) == score_pair(
            population, baseline, followup
        )
    else:
        assert score_pair(population, baseline, scaled) == score_pair(
            population, baseline, followup
        )
