"""The outcomes report filtered and stratified by "refractory at the episode's start"
(`refractory=yes|no`, `stratify=refractory`), and the patient API's refractory object."""

from datetime import date

import pytest

from registry.errors import InputError
from reports.disclosure import Disclosure
from reports.filters import parse_filters
from reports.outcomes import outcomes_by_treatment
from scoring.services import score_patients
from tests.api.conftest import token_client
from tests.factories import MembershipFactory, PatientFactory, SiteFactory, TreatmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return SiteFactory(code="MAN")


@pytest.fixture
def cohort(site):
    """R: prednisone failed (stopped for inefficacy after 60 days), methotrexate not tolerated,
    then rituximab: refractory at the rituximab's start. N: rituximab without prior courses."""
    refractory = PatientFactory(site=site, patient_id="R")
    for drug, start, stop, reason in (
        ("prednisone", date(2020, 1, 1), date(2020, 3, 1), "inefficacy"),
        ("methotrexate", date(2020, 1, 15), date(2020, 4, 15), "adverse_event"),
        ("rituximab", date(2020, 4, 15), None, ""),
    ):
        TreatmentFactory(
            patient=refractory, drug=drug, start_date=start, stop_date=stop, stop_reason=reason
        )
    plain = PatientFactory(site=site, patient_id="N")
    TreatmentFactory(patient=plain, drug="rituximab", start_date=date(2020, 5, 1))
    score_patients(patient_ids=[refractory.pk, plain.pk])
    return refractory, plain


def counts(**params):
    report = outcomes_by_treatment(parse_filters(params), disclosure=Disclosure.registry_wide())
    return [(row.stratum, row.treatment, row.episodes) for row in report.rows]


def test_filter_by_refractory_at_the_episodes_start(cohort):
    assert counts(refractory="yes") == [(None, "rituximab", 1)]
    assert counts(refractory="no") == [
        (None, "prednisone", 1),
        (None, "methotrexate", 1),
        (None, "rituximab", 1),
    ]


def test_stratify_by_refractory_at_the_episodes_start(cohort):
    assert counts(stratify="refractory", drug="rituximab") == [
        ("no", "rituximab", 1),
        ("yes", "rituximab", 1),
    ]


def test_a_bad_refractory_value_names_the_parameter():
    with pytest.raises(InputError) as caught:
        parse_filters({"refractory": "maybe"})
    assert [path for path, _ in caught.value.errors] == ["refractory"]


def test_round_trip_of_the_filter():
    filters = parse_filters({"refractory": "no", "stratify": "refractory"})
    assert parse_filters(filters.as_dict()) == filters
    assert ("refractory", "no") in filters.query_pairs()


def test_report_api_takes_the_parameter(site, cohort):
    api = token_client(MembershipFactory(site=site, role="investigator").user)
    answer = api.get("/api/v1/reports/outcomes-by-treatment/?refractory=yes")
    assert answer.status_code == 200
    assert [(r["treatment"], r["episodes"]) for r in answer.json()["rows"]] == [("rituximab", 1)]
    assert api.get("/api/v1/reports/outcomes-by-treatment/?refractory=x").status_code == 400


def test_patient_api_shows_the_refractory_object(site, cohort):
    refractory, plain = cohort
    api = token_client(MembershipFactory(site=site, role="investigator").user)
    body = api.get(f"/api/v1/patients/{refractory.pk}/").json()
    prednisone, methotrexate = refractory.treatments.order_by("start_date")[:2]
    assert body["refractory"] == {
        "definition": "refractory_v1",
        "status": "candidate",
        "as_of": "2020-04-15",
        "episodes": [
            {"id": prednisone.pk, "drug": "prednisone", "start_date": "2020-01-01",
             "role": "gc", "reason": "failed"},
            {"id": methotrexate.pk, "drug": "methotrexate", "start_date": "2020-01-15",
             "role": "is", "reason": "intolerant"},
        ],
        "attested_by": None,
        "attested_at": None,
    }  # fmt: skip
    assert api.get(f"/api/v1/patients/{plain.pk}/").json()["refractory"]["status"] == "no"
    outsider = token_client(
        MembershipFactory(site=SiteFactory(code="LDS"), role="investigator").user
    )
    assert outsider.get(f"/api/v1/patients/{refractory.pk}/").status_code == 404
