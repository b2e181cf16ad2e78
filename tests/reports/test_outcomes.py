"""Outcomes by treatment on the hand-built cohort of conftest.py: every count known in advance."""

import pytest

from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment
from reports.selectors import episodes_matching, outcome_rows

pytestmark = pytest.mark.django_db


def rows_by(report):
    return {(row.stratum, row.treatment): row for row in report.rows}


def episode(ids, name):
    from registry.models import TreatmentEpisode

    return next(outcome_rows(TreatmentEpisode.objects.filter(pk=ids[name])))


def test_episode_with_a_baseline_and_three_follow_ups(cohort):
    e1 = episode(cohort, "E1")
    assert (e1.has_baseline, e1.evaluable, e1.scored) == (True, True, 3)
    assert (e1.doi_met, e1.first_doi_day, e1.last_scored_day) == (True, 170, 360)
    assert (e1.best_score, e1.best_category) == (70.0, "major")
    assert e1.weeks == {12: (22.5, "minimal"), 24: (50.0, "moderate"), 52: (70.0, "major")}
    assert (e1.confirmed_response, e1.confirmed_deterioration) == (True, False)
    assert (e1.baseline_gc, e1.last_gc, e1.glucocorticoid_change) == (60.0, 10.0, -50.0)
    assert e1.days_to_doi == (170, True)


def test_overlapping_episode_is_evaluated_on_its_own_window(cohort):
    # Methotrexate overlaps rituximab; its window ends 30 days after its stop, so only the
    # MINIMAL visit of day 84 is its follow-up, whatever rituximab's visits show later.
    e2 = episode(cohort, "E2")
    assert (e2.evaluable, e2.scored, e2.doi_met) == (True, 1, False)
    assert e2.days_to_doi == (84, False)  # censored at its last follow-up visit
    assert e2.weeks == {12: (22.5, "minimal"), 24: (None, None), 52: (None, None)}
    assert (e2.best_category, e2.confirmed_response) == ("minimal", False)
    assert e2.glucocorticoid_change == -20.0


def test_episode_without_a_visit_before_its_start_has_no_baseline(cohort):
    e3 = episode(cohort, "E3")
    assert (e3.has_baseline, e3.evaluable, e3.doi_met, e3.days_to_doi) == (
        False,
        False,
        False,
        None,
    )
    assert e3.best_category is None and e3.glucocorticoid_change is None


def test_visits_after_the_end_of_the_window_are_not_counted(cohort):
    # E4 stopped 2020-12-31: the MODERATE visit of 2021-03-01 is outside its window.
    e4 = episode(cohort, "E4")
    assert (e4.scored, e4.doi_met, e4.best_score, e4.best_category) == (2, False, 0.0, "none")
    assert e4.days_to_doi == (174, False)
    assert e4.last_visit_date.isoformat() == "2020-12-01"
    assert (e4.confirmed_response, e4.confirmed_deterioration) == (False, True)
    assert e4.weeks == {12: (0.0, "none"), 24: (0.0, "none"), 52: (None, None)}
    assert e4.glucocorticoid_change == 10.0


def test_juvenile_thresholds_decide_the_category(cohort):
    e5 = episode(cohort, "E5")
    assert e5.population == "juvenile"
    # TIS 22.5 is below the juvenile minimal threshold of 30: MODERATE then "none" is no
    # confirmed response.
    assert e5.weeks[24] == (22.5, "none")
    assert (e5.best_score, e5.best_category, e5.confirmed_response) == (50.0, "moderate", False)
    assert e5.days_to_doi == (90, True)


def test_pending_records_give_no_outcome_and_are_counted(cohort):
    e6 = episode(cohort, "E6")
    assert (e6.evaluable, e6.scored, e6.pending, e6.failed) == (True, 0, 3, 0)
    assert (e6.doi_met, e6.best_category, e6.days_to_doi) == (False, None, None)
    assert e6.glucocorticoid_change == 0.0  # from the visits, not the records


def test_outcomes_by_drug(cohort):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    assert [row.treatment for row in report.rows] == ["methotrexate", "rituximab", "ivig"]
    assert (report.episodes, report.pending_records, report.failed_records) == (6, 3, 0)
    rows = rows_by(report)

    rituximab = rows[(None, "rituximab")]
    assert rituximab.episodes == 2
    assert (rituximab.with_baseline.count, rituximab.evaluable.count) == (2, 2)
    # E6's outcome is unknown (pending) and counts as not meeting it: 1 of 2.
    assert (rituximab.doi_responders.count, rituximab.doi_responders.total) == (1, 2)
    assert rituximab.doi_responders.percent == 50.0
    assert rituximab.confirmed_responders.count == 1
    assert rituximab.confirmed_deteriorations.count == 0
    assert {k: v.count for k, v in rituximab.best_category.items()} == {
        "none": 0, "minimal": 0, "moderate": 0, "major": 1, "not_computed": 1,
    }  # fmt: skip
    assert (rituximab.tis.n, rituximab.tis.median) == (1, 70.0)
    assert (rituximab.time_to_doi.n, rituximab.time_to_doi.median) == (1, 170)
    assert rituximab.glucocorticoid_change.median == -25.0
    assert rituximab.pending_records == 3

    ivig = rows[(None, "ivig")]
    assert (ivig.episodes, ivig.with_baseline.count, ivig.evaluable.count) == (3, 2, 2)
    assert (ivig.doi_responders.count, ivig.confirmed_responders.count) == (1, 0)
    assert ivig.confirmed_deteriorations.count == 1
    assert {k: v.count for k, v in ivig.best_category.items()} == {
        "none": 1, "minimal": 0, "moderate": 1, "major": 0, "not_computed": 0,
    }  # fmt: skip
    assert (ivig.tis.median, ivig.tis.q1, ivig.tis.q3) == (25.0, 12.5, 37.5)
    # Kaplan–Meier: E5 meets the DOI on day 90 with 2 at risk (S = 0.5); E4 censored on 174.
    assert (ivig.time_to_doi.n, ivig.time_to_doi.events, ivig.time_to_doi.median) == (2, 1, 90)
    assert ivig.weeks[12].tis.n == 2 and ivig.weeks[12].categories["none"] == 1
    assert ivig.weeks[52].tis.n == 0

    methotrexate = rows[(None, "methotrexate")]
    assert (methotrexate.evaluable.count, methotrexate.doi_responders.count) == (1, 0)
    assert methotrexate.time_to_doi.median is None  # censored: never reached
    assert methotrexate.best_category["minimal"].count == 1


def test_percentages_carry_wilson_intervals(cohort):
    rituximab = rows_by(
        outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    )[(None, "rituximab")]
    share = rituximab.doi_responders
    # 1 of 2: Wilson 95 % interval 0.0945–0.9055.
    assert share.low == pytest.approx(0.09453, abs=1e-4)
    assert share.high == pytest.approx(0.90547, abs=1e-4)


def test_outcomes_by_drug_class(cohort):
    report = outcomes_by_treatment(
        ReportFilters(group_by="drug_class"), disclosure=Disclosure.registry_wide()
    )
    rows = rows_by(report)
    assert [row.treatment for row in report.rows] == [
        "conventional_immunosuppressant", "biologic", "immunoglobulin",
    ]  # fmt: skip
    assert rows[(None, "biologic")].episodes == 2
    assert rows[(None, "immunoglobulin")].doi_responders.count == 1
    assert rows[(None, "biologic")].treatment_label == "B-cell depletion"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ReportFilters(sites=("AAA",)), {"rituximab": 2, "methotrexate": 1, "ivig": 1}),
        (ReportFilters(sites=("BBB",)), {"ivig": 2}),
        (ReportFilters(population="juvenile"), {"ivig": 1}),
        (ReportFilters(population="adult"), {"rituximab": 2, "methotrexate": 1, "ivig": 2}),
        (ReportFilters(serology=("mi2",)), {"rituximab": 1, "methotrexate": 1}),
        (ReportFilters(diagnoses=("polymyositis",)), {"ivig": 1}),
        (ReportFilters(drugs=("ivig",)), {"ivig": 3}),
        (
            ReportFilters(drug_classes=("biologic", "conventional_immunosuppressant")),
            {"rituximab": 2, "methotrexate": 1},
        ),  # fmt: skip
        # The period is the episode's start date: E3 (2021-02-15) and E6 (2022-01-02).
        (
            ReportFilters(start_from=__import__("datetime").date(2021, 1, 1)),
            {"ivig": 1, "rituximab": 1},
        ),  # fmt: skip
        (
            ReportFilters(start_to=__import__("datetime").date(2020, 1, 5)),
            {"rituximab": 1, "methotrexate": 1},
        ),  # fmt: skip
    ],
)
def test_filters_narrow_the_episodes(cohort, filters, expected):
    report = outcomes_by_treatment(filters, disclosure=Disclosure.registry_wide())
    assert {row.treatment: row.episodes for row in report.rows} == expected


def test_an_empty_filter_result_is_an_empty_report(cohort):
    report = outcomes_by_treatment(
        ReportFilters(drugs=("tofacitinib",)), disclosure=Disclosure.registry_wide()
    )
    assert (report.rows, report.episodes, report.pending_records) == ([], 0, 0)


def test_stratified_by_site(cohort):
    report = outcomes_by_treatment(
        ReportFilters(stratify="site"), disclosure=Disclosure.registry_wide()
    )
    assert [(row.stratum, row.treatment, row.episodes) for row in report.rows] == [
        ("AAA", "methotrexate", 1), ("AAA", "rituximab", 2), ("AAA", "ivig", 1),
        ("BBB", "ivig", 2),
    ]  # fmt: skip
    bbb_ivig = rows_by(report)[("BBB", "ivig")]
    assert (bbb_ivig.evaluable.count, bbb_ivig.doi_responders.count) == (2, 1)


def test_stratified_by_population_and_serology(cohort):
    by_population = rows_by(
        outcomes_by_treatment(
            ReportFilters(stratify="population"), disclosure=Disclosure.registry_wide()
        )
    )
    assert by_population[("juvenile", "ivig")].episodes == 1
    assert by_population[("adult", "ivig")].episodes == 2
    assert by_population[("juvenile", "ivig")].stratum_label == "Juvenile"
    by_serology = rows_by(
        outcomes_by_treatment(
            ReportFilters(stratify="serology"), disclosure=Disclosure.registry_wide()
        )
    )
    assert set(by_serology) == {
        ("mi2", "rituximab"), ("mi2", "methotrexate"), ("seronegative", "ivig"),
        ("antisynthetase", "ivig"), ("nxp2", "ivig"), ("imnm", "rituximab"),
    }  # fmt: skip


def test_unknown_site_code_is_an_error_naming_the_parameter(cohort):
    from registry.errors import InputError

    with pytest.raises(InputError) as caught:
        outcomes_by_treatment(ReportFilters(sites=("ZZZ",)), disclosure=Disclosure.registry_wide())
    assert caught.value.errors[0][0] == "site"


def test_a_tie_at_a_week_goes_to_the_earlier_visit(sites, save_patient):
    from tests.reports.conftest import patient, treatment, visit

    # Start 2020-01-01; week 12 is day 84 (2020-03-25): day 80 and day 88 are equally near.
    save_patient(sites["AAA"], patient(
        "T1", diagnosis="dermatomyositis", antibody="anti-Mi-2",
        visits=[visit("2019-12-20", "BASELINE"), visit("2020-03-21", "MAJOR"),
                visit("2020-03-29", "MINIMAL")],
        treatments=[treatment("tacrolimus", "2020-01-01")],
    ))  # fmt: skip
    (row,) = list(outcome_rows(episodes_matching(ReportFilters(drugs=("tacrolimus",)))))
    assert row.weeks[12] == (70.0, "major")
