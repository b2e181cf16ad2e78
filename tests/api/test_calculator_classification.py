"""POST /api/v1/calculator/classification/: the 2017 EULAR/ACR criteria, the same code as
``python -m scoring.classify``."""

import json
import subprocess
import sys

import pytest
from rest_framework.test import APIClient

from scoring.instruments import CLASSIFICATION_EXAMPLE_CASE, classify
from scoring.instruments.classification import ITEM_KEYS
from tests.api.conftest import token_client
from tests.factories import UserFactory

URL = "/api/v1/calculator/classification/"
K3 = {"age_at_onset": 70, "muscle_biopsy": True,
      "items": {"legs_proximal_weaker_than_distal": True, "enzymes_raised": True,
                "rimmed_vacuoles": True, "endomysial_infiltrate": True}}  # fmt: skip
K4A = {"age_at_onset": 55, "muscle_biopsy": False,
       "items": {"weakness_proximal_upper": True, "weakness_proximal_lower": True,
                 "enzymes_raised": True}}  # fmt: skip


@pytest.fixture
def client(db):
    return token_client(UserFactory())


def test_one_case(client):
    response = client.post(URL, K3, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "rule": "eular-acr-2017", "column": "biopsy", "score": "9.6", "complete": False,
        "missing": ["weakness_proximal_upper", "weakness_proximal_lower", "neck_flexors_weaker",
                    "heliotrope", "gottron_papules", "gottron_sign", "dysphagia", "anti_jo1",
                    "perimysial_perivascular_infiltrate", "perifascicular_atrophy"],
        "category": "definite", "probability": 0.9569, "subgroup": "ibm",
        "biopsy_recommended": False,
    }  # fmt: skip


def test_the_route_without_its_slash(client):
    response = client.post(URL.rstrip("/"), K4A, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["category"], body["biopsy_recommended"]) == ("4.9", "not_iim", True)


def test_answers_exactly_as_the_command(client):
    cases = [K3, K4A, CLASSIFICATION_EXAMPLE_CASE]
    command = subprocess.run([sys.executable, "-m", "scoring.classify"], input=json.dumps(cases),
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert client.post(URL, cases, format="json").json() == json.loads(command.stdout)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({**K4A, "items": {"endomysial_infiltrate": True}}, "items.endomysial_infiltrate"),
        ({**K4A, "items": {"aldolase_raised": True}}, "items.aldolase_raised"),
        ({**K4A, "colour": 1}, "colour"),
        ({**K4A, "age_at_onset": 121}, "age_at_onset"),
        ({**K4A, "age_at_onset": -1}, "age_at_onset"),
        ({**K4A, "age_at_onset": 55.5}, "age_at_onset"),
        ({**K4A, "age_at_onset": "55"}, "age_at_onset"),
        ({**K4A, "age_at_onset": True}, "age_at_onset"),
        ({**K4A, "age_at_onset": 10**300}, "age_at_onset"),
        ({"muscle_biopsy": False, "items": {}}, "age_at_onset"),
        ({**K4A, "muscle_biopsy": "no"}, "muscle_biopsy"),
        ({**K4A, "items": ["heliotrope"]}, "items"),
        ({**K4A, "items": {"heliotrope": "yes"}}, "items.heliotrope"),
        ({**K4A, "finger_flexor_weakness": {}}, "finger_flexor_weakness"),
        ({**K4A, "treatment_response": "better"}, "treatment_response"),
        ([K3, {**K3, "age_at_onset": None}], "[1].age_at_onset"),
        ([K3, [K3]], "[1]"),
        ("a string", "$"),
        (52, "$"),
    ],
)
def test_invalid_input_is_400_naming_the_field(client, document, field):
    response = client.post(URL, document, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in {e["field"] for e in body["errors"]}


@pytest.mark.parametrize(
    "body",
    [
        b'{"age_at_onset": NaN, "muscle_biopsy": false, "items": {}}',
        b'{"age_at_onset": Infinity, "muscle_biopsy": false, "items": {}}',
        b'{"age_at_onset": 1e999999999, "muscle_biopsy": false, "items": {}}',
        b'{"age_at_onset": ' + b"9" * 5000 + b', "muscle_biopsy": false, "items": {}}',
        b"[" * 100_000 + b"]" * 100_000,
        b"{",
    ],
    ids=["nan", "infinity", "huge-exponent", "too-many-digits", "deep", "malformed"],
)
def test_numbers_that_are_not_ages_and_broken_json_are_400_not_500(client, body):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400


def test_not_json(client):
    assert client.post(URL, b"x=1", content_type="text/plain").status_code == 415


def test_credentials_are_required(db):
    response = APIClient().post(URL, K3, format="json")
    assert response.status_code == 401


def test_described_in_the_openapi_schema(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][URL]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ClassificationRequest"}
    assert {"200", "400", "401"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    case = components["ClassificationCase"]
    assert list(case["properties"]["items"]["properties"]) == list(ITEM_KEYS)
    assert case["required"] == ["age_at_onset", "muscle_biopsy", "items"]
    answer = classify(CLASSIFICATION_EXAMPLE_CASE)
    assert set(components["ClassificationResult"]["required"]) == set(answer)
