"""The reports' `lung=` filter (reports.filters.LUNG_CHOICES): episodes of patients whose lung
record says interstitial lung disease, rapidly progressive ILD or no ILD — the population of the
anti-MDA5 trials (docs/outcomes.md "Survival analyses"). A patient without a lung record, or with
ILD "unknown", matches none of the three."""

import pytest

from crf.outcomes import lung_save
from registry.errors import InputError
from reports.filters import ReportFilters, parse_filters
from reports.selectors import episodes_matching
from tests.factories import PatientFactory, SiteFactory, TreatmentFactory
from tests.reports.outcome_cohort import ACTOR, day

pytestmark = pytest.mark.django_db


@pytest.fixture
def lungs():
    site = SiteFactory(code="AAA")
    made = {}
    for name, values in {
        "rp": {"ild": "yes", "ild_onset_date": day(-10), "rapidly_progressive": True},
        "slow": {"ild": "yes", "ild_onset_date": day(-400), "rapidly_progressive": False},
        "unsaid": {"ild": "yes", "ild_onset_date": day(-40)},
        "none": {"ild": "no"},
        "unknown": {"ild": "unknown"},
        "no_record": None,
    }.items():
        patient = PatientFactory(site=site, patient_id=name)
        TreatmentFactory(patient=patient, drug="prednisone", start_date=day(0))
        if values is not None:
            lung_save(actor=ACTOR, patient=patient, values=values)
        made[name] = patient
    return made


def _names(lung: str | None) -> set[str]:
    episodes = episodes_matching(ReportFilters(lung=lung))
    return set(episodes.values_list("patient__patient_id", flat=True))


def test_each_choice_selects_the_patients_its_lung_record_describes(lungs):
    assert _names("ild") == {"rp", "slow", "unsaid"}
    assert _names("rp_ild") == {"rp"}
    assert _names("no_ild") == {"none"}
    assert _names(None) == set(lungs)


def test_an_unknown_choice_is_refused_naming_the_parameter():
    with pytest.raises(InputError) as raised:
        parse_filters({"lung": "maybe"})
    assert [field for field, _ in raised.value.errors] == ["lung"]
    assert parse_filters({"lung": "rp_ild"}).lung == "rp_ild"


def test_the_api_refuses_a_bad_value_with_400_naming_lung(client, people):
    client.force_login(people["dm"])
    response = client.get("/api/v1/reports/survival/", {"lung": "maybe"})
    assert response.status_code == 400
    assert "lung" in response.content.decode()


def test_the_survival_report_counts_only_the_filtered_patients(client, people, lungs):
    from scoring.services import score_patients

    score_patients(patient_ids=[p.pk for p in lungs.values()])
    client.force_login(people["dm"])
    body = client.get("/api/v1/reports/survival/", {"lung": "rp_ild"}).json()
    assert [(row["treatment"], row["patients"]) for row in body["rows"]] == [("prednisone", 1)]
    assert body["filters"]["lung"] == "rp_ild"
