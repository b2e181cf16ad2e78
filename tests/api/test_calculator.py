"""POST /api/v1/calculator/: the calculator of docs/scoring.md §6, the same code as the command."""

import json
import subprocess
import sys

import pytest

from tests.api.conftest import token_client
from tests.factories import UserFactory

URL = "/api/v1/calculator/"
CASE = {
    "population": "adult",
    "baseline": {"physician_global": 6.0, "patient_global": 5.0, "extramuscular": 4.0,
                 "haq": 1.5, "mmt": {"total": 120, "max": 150}, "cmas": None,
                 "enzymes": {"ck": {"value": 2000, "uln": 200}, "ldh": {"value": 300, "uln": 250}}},
    "followup": {"physician_global": 3.0, "patient_global": 4.0, "extramuscular": 2.0,
                 "haq": 1.0, "mmt": {"total": 132, "max": 150},
                 "enzymes": {"ck": {"value": 500, "uln": 200}, "ldh": {"value": 260, "uln": 250}}},
}  # fmt: skip


@pytest.fixture
def client(db):
    return token_client(UserFactory())


def test_the_specification_example(client):
    response = client.post(URL, CASE, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["imacs_doi"]["met"] is True
    assert body["imacs_doi"]["improved"] == ["enzyme", "extramuscular", "haq", "patient_global",
                                             "physician_global"]  # fmt: skip
    assert (body["acr_eular"]["score"], body["acr_eular"]["category"]) == (57.5, "moderate")


def test_answers_exactly_as_the_command(client):
    cases = [CASE, {**CASE, "population": "juvenile"}]
    command = subprocess.run([sys.executable, "-m", "scoring.calculate"], input=json.dumps(cases),
                             capture_output=True, text=True, check=True)  # fmt: skip
    assert client.post(URL, cases, format="json").json() == json.loads(command.stdout)


def test_numbers_are_exact(client):
    # docs/scoring.md: 8.0 → 7.5 on a 10 cm scale is exactly 5 %, in the "≤ 5 %" band: 0 points.
    body = b'{"population": "adult", "baseline": {"physician_global": 8.0}, ' \
           b'"followup": {"physician_global": 7.5}}'  # fmt: skip
    response = client.post(URL, body, content_type="application/json")
    measure = response.json()["acr_eular"]["measures"]["physician_global"]
    assert measure == {"percent_improvement": 5.0, "points": 0.0}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({**CASE, "population": "elderly"}, "population"),
        ({**CASE, "baseline": {**CASE["baseline"], "mmt": {"total": 70, "max": 100}}},
         "baseline.mmt.max"),
        ({**CASE, "followup": {**CASE["followup"], "colour": 1}}, "followup.colour"),
        ([CASE, {**CASE, "baseline": {"haq": 4}}], "[1].baseline.haq"),
        ("a string", "$"),
        # Found by schemathesis: a unit that is not a string was a server error.
        ({**CASE, "baseline": {"enzymes": {"ck": {"value": 1, "uln": 1, "unit": {}}}}},
         "baseline.enzymes.ck.unit"),
    ],
)  # fmt: skip
def test_invalid_input_is_400_naming_the_field(client, document, field):
    response = client.post(URL, document, format="json")
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}


def test_results_beyond_json_numbers_are_400_not_500(client):
    # Found by schemathesis: a baseline of 1e-309 makes a percent change no float can hold.
    case = {"population": "adult", "baseline": {"physician_global": 2.2e-309},
            "followup": {"physician_global": 4.6}}  # fmt: skip
    response = client.post(URL, case, format="json")
    assert response.status_code == 400
    assert "too large" in response.json()["errors"][0]["message"]


def test_not_json(client):
    assert client.post(URL, b"x=1", content_type="text/plain").status_code == 415
    assert client.post(URL, b"{", content_type="application/json").status_code == 400
