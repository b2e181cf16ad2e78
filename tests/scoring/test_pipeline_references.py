"""Which visits are scored against which reference (docs/scoring.md §7).

Pure: plan_comparisons takes visit and episode keys, no database.
"""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scoring.planning import Comparison, EpisodeKey, VisitKey, plan_comparisons

D = date.fromisoformat


def visits(*specs: str) -> list[VisitKey]:
    """'2020-01-01' or '2020-01-01 baseline'; ids 1, 2, ... in the given order."""
    keys = []
    for number, spec in enumerate(specs, start=1):
        day, _, kind = spec.partition(" ")
        keys.append(VisitKey(number, D(day), kind or "follow_up"))
    return keys


def by_pair(comparisons: list[Comparison]) -> dict[tuple[int, int], Comparison]:
    return {(c.visit, c.reference): c for c in comparisons}


def test_every_later_visit_is_scored_against_the_earliest_without_a_baseline_visit():
    plan = plan_comparisons(visits("2020-03-01", "2020-01-01", "2020-06-01"), [])
    assert [(c.visit, c.reference, c.kind) for c in plan] == [
        (1, 2, "baseline"),
        (3, 2, "baseline"),
    ]


def test_the_visit_of_kind_baseline_is_the_reference_and_earlier_visits_are_not_scored():
    plan = plan_comparisons(
        visits("2019-11-01", "2020-01-01 baseline", "2020-03-01", "2020-06-01"), []
    )
    assert set(by_pair(plan)) == {(3, 2), (4, 2)}


def test_previous_visit_is_the_one_before_after_the_same_reference():
    plan = by_pair(plan_comparisons(visits("2020-01-01", "2020-03-01", "2020-06-01"), []))
    assert plan[(2, 1)].previous is None  # the first follow-up has none: nothing to confirm
    assert plan[(3, 1)].previous == 2


def test_episode_baseline_is_the_latest_visit_up_to_30_days_before_its_start():
    keys = visits("2020-01-01", "2020-02-01", "2020-02-20", "2020-04-01", "2020-05-01")
    episode = EpisodeKey(7, D("2020-02-25"), None)
    plan = by_pair(plan_comparisons(keys, [episode]))
    # Visit 3 (5 days before the start) is the episode's baseline, not visit 2 or the patient's.
    assert plan[(4, 3)].kind == "treatment"
    assert plan[(4, 3)].episodes == (7,)
    assert plan[(5, 3)].previous == 4
    # The patient-baseline comparisons are not linked to the episode: their reference is not its.
    assert plan[(4, 1)].episodes == ()


def test_start_date_visit_is_the_baseline_and_not_scored_itself():
    keys = visits("2020-01-01", "2020-02-01", "2020-03-01")
    plan = by_pair(plan_comparisons(keys, [EpisodeKey(1, D("2020-02-01"), None)]))
    assert plan[(3, 2)].episodes == (1,)
    assert (2, 2) not in plan


def test_visit_31_days_before_start_leaves_the_episode_without_baseline():
    keys = visits("2020-01-01", "2020-03-01")
    start = D("2020-01-01") + timedelta(days=31)
    plan = plan_comparisons(keys, [EpisodeKey(1, start, None)])
    assert [c.episodes for c in plan] == [()]  # only the patient-baseline comparison


def test_scored_visits_end_30_days_after_the_stop_date():
    keys = visits("2020-01-01", "2020-02-01", "2020-03-31", "2020-04-01")
    episode = EpisodeKey(3, D("2020-01-10"), D("2020-03-01"))
    plan = by_pair(plan_comparisons(keys, [episode]))
    assert plan[(2, 1)].episodes == (3,)
    assert plan[(3, 1)].episodes == (3,)  # stop + 30 days: included
    assert plan[(4, 1)].episodes == ()  # stop + 31 days: scored against the baseline only


def test_episode_sharing_the_patient_baseline_is_one_comparison_listing_every_episode():
    keys = visits("2020-01-08 baseline", "2020-04-08")
    episodes = [EpisodeKey(5, D("2020-01-10"), None), EpisodeKey(4, D("2020-01-10"), None)]
    plan = plan_comparisons(keys, episodes)
    assert plan == [Comparison(2, 1, None, "baseline", (4, 5))]


def test_no_visits_no_comparisons():
    assert plan_comparisons([], [EpisodeKey(1, D("2020-01-01"), None)]) == []


@st.composite
def patients(draw):
    days = draw(st.lists(st.integers(0, 2000), min_size=0, max_size=12, unique=True))
    baseline_at = draw(st.one_of(st.none(), st.integers(0, max(len(days) - 1, 0))))
    origin = D("2015-01-01")
    keys = [
        VisitKey(i + 1, origin + timedelta(days=d), "baseline" if i == baseline_at else "follow_up")
        for i, d in enumerate(days)
    ]
    episodes = []
    for number in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 2000))
        length = draw(st.one_of(st.none(), st.integers(0, 600)))
        episodes.append(
            EpisodeKey(
                number + 1,
                origin + timedelta(days=start),
                None if length is None else origin + timedelta(days=start + length),
            )
        )
    return keys, episodes


@given(patients())
def test_every_comparison_looks_back_and_is_unique(patient):
    keys, episodes = patient
    dates = {v.id: v.date for v in keys}
    plan = plan_comparisons(keys, episodes)
    assert len({(c.visit, c.reference) for c in plan}) == len(plan)
    for c in plan:
        assert dates[c.reference] < dates[c.visit]
        if c.previous is not None:
            assert dates[c.reference] < dates[c.previous] < dates[c.visit]
            # The previous visit is itself scored against the same reference.
            assert (c.previous, c.reference) in {(p.visit, p.reference) for p in plan}
        for episode_id in c.episodes:
            episode = next(e for e in episodes if e.id == episode_id)
            assert dates[c.visit] > episode.start
            assert episode.start - timedelta(days=30) <= dates[c.reference] <= episode.start
