"""The outcomes report filtered and stratified by the patients' 2017 EULAR/ACR classification."""

from datetime import date

import pytest
from django.urls import reverse

from crf.classification import classification_save, default_values
from registry.audit import Actor
from registry.models import Patient
from reports.filters import parse_filters
from scoring.services import score_patients

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/outcomes-by-treatment/"


@pytest.fixture
def classified(cohort):
    """P1 definite DM, P3 definite PM (anti-Jo-1 derived), P2 not IIM; P4 and P5 none."""
    answers = {
        "P1": {"weakness_proximal_upper": True, "weakness_proximal_lower": True,
               "heliotrope": True, "gottron_papules": True},
        "P3": {"weakness_proximal_upper": True},
        "P2": {},
    }  # fmt: skip
    ids = []
    for patient_id, items in answers.items():
        patient = Patient.objects.get(patient_id=patient_id)
        values = {**default_values(date(2020, 1, 1)), **items}
        classification_save(actor=Actor(None, "command"), patient=patient, values=values)
        ids.append(patient.pk)
    score_patients(patient_ids=ids)
    return cohort


@pytest.fixture
def api(client, people):
    # The data manager: these cohorts are small cells that investigators see withheld.
    client.force_login(people["dm"])
    return client


def rows(body):
    return [(r["stratum"], r["treatment"], r["episodes"]) for r in body["rows"]]


def test_probable_or_definite_only(api, classified):
    body = api.get(URL, {"classification": "probable_or_definite"}).json()
    assert body["episodes"] == 3  # E1, E2 (P1) and E4 (P3)
    assert rows(body) == [(None, "methotrexate", 1), (None, "rituximab", 1), (None, "ivig", 1)]
    assert body["filters"]["classification"] == ["probable_or_definite"]
    assert api.get(URL, {"classification": "not_iim"}).json()["episodes"] == 1  # E3 (P2)
    assert api.get(URL, {"classification": "possible"}).json()["episodes"] == 0
    assert api.get(URL, {"classification_subgroup": "pm"}).json()["episodes"] == 1  # E4


def test_stratified_by_subgroup_and_category(api, classified):
    body = api.get(URL, {"stratify": "classification_subgroup"}).json()
    assert rows(body) == [
        ("dm", "methotrexate", 1), ("dm", "rituximab", 1), ("pm", "ivig", 1),
        ("unclassified", "rituximab", 1), ("unclassified", "ivig", 2),
    ]  # fmt: skip
    body = api.get(URL, {"stratify": "classification"}).json()
    assert [(r["stratum"], r["episodes"]) for r in body["rows"]] == [
        ("not_iim", 1), ("definite", 1), ("definite", 1), ("definite", 1),
        ("unclassified", 1), ("unclassified", 1),
    ]  # fmt: skip


def test_unknown_code_is_400_naming_the_parameter(api, classified):
    response = api.get(URL, {"classification": "likely"})
    assert response.status_code == 400
    assert "classification" in response.content.decode()


def test_filters_round_trip_and_the_page_offers_them(client, people, classified):
    filters = parse_filters(
        {"classification": ["probable_or_definite"], "stratify": "classification_subgroup"}
    )
    assert parse_filters(filters.as_dict()) == filters
    client.force_login(people["inv_a"])
    page = client.get(reverse("reports:outcomes"), {"classification": "probable_or_definite"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Probable or definite only" in text and 'id="f-classification"' in text
