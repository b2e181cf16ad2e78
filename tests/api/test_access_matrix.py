"""Every endpoint × every role × own site / other site (docs/architecture.md "Roles").

Another site's records answer 404 — exactly as a record that does not exist — and never appear in
lists; a role that may not do something at its own site gets 403; no credentials get 401.
"""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import ROLES, patient_document

READERS = {"coordinator", "investigator", "monitor", "submitter", "data_manager"}
WRITERS = {"coordinator", "submitter"}
EVERYONE = (*ROLES, "anonymous")


def client_for(world, role: str) -> APIClient:
    return APIClient() if role == "anonymous" else world.client(role)


def expected(role: str, *, own_site: bool, write: bool = False) -> int:
    """The status a role gets for a record of its own site or of the other site."""
    if role == "anonymous":
        return 401
    sees = role == "data_manager" or (own_site and role in READERS)
    if not sees:
        return 404
    if write and role not in WRITERS:
        return 403
    return 200


@pytest.mark.parametrize("role", EVERYONE)
def test_sites_list_only_the_callers_sites(world, role):
    response = client_for(world, role).get("/api/v1/sites/")
    if role == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        return
    assert response.status_code == 200
    codes = [site["code"] for site in response.json()]
    assert codes == {"data_manager": ["LDS", "MAN"], "outsider": []}.get(role, ["MAN"])


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("own_site", [True, False], ids=["own", "other"])
@pytest.mark.parametrize("kind", ["patients", "visits"])
def test_detail_reads(world, role, own_site, kind):
    patient = world.own_patient if own_site else world.other_patient
    record = patient if kind == "patients" else patient.visits.first()
    response = client_for(world, role).get(f"/api/v1/{kind}/{record.pk}/")
    assert response.status_code == expected(role, own_site=own_site)
    if response.status_code == 200:
        assert response.json()["id"] == record.pk
    if response.status_code == 404:
        # Indistinguishable from a record that does not exist.
        missing = client_for(world, role).get(f"/api/v1/{kind}/987654321/")
        assert missing.status_code == 404
        assert response.json() == missing.json()


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("kind", ["patients", "visits"])
def test_lists_leave_other_sites_out(world, role, kind):
    response = client_for(world, role).get(f"/api/v1/{kind}/")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    own = world.own_patient if kind == "patients" else world.own_patient.visits.first()
    other = world.other_patient if kind == "patients" else world.other_patient.visits.first()
    assert (own.pk in ids) == (role in READERS)
    assert (other.pk in ids) == (role == "data_manager")


@pytest.mark.parametrize("role", EVERYONE)
def test_visits_of_another_sites_patient_are_an_empty_list(world, role):
    response = client_for(world, role).get(f"/api/v1/visits/?patient={world.other_patient.pk}")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert bool(response.json()["results"]) == (role == "data_manager")


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("own_site", [True, False], ids=["own", "other"])
def test_patch_visit(world, role, own_site):
    visit = world.own_visit if own_site else world.other_visit
    body = {"version": visit.version, "reason": "transcription error",
            "instruments": {"physician_global": 4.5}}  # fmt: skip
    response = client_for(world, role).patch(f"/api/v1/visits/{visit.pk}/", body, format="json")
    status = expected(role, own_site=own_site, write=True)
    assert response.status_code == status, response.content
    visit.refresh_from_db()
    assert (str(visit.physician_global) == "4.5") == (status == 200)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("own_site", [True, False], ids=["own", "other"])
def test_submit(world, role, own_site):
    site = world.own if own_site else world.other
    document = {"site": site.code, "patients": [patient_document(f"{site.code}-NEW")]}
    response = client_for(world, role).post("/api/v1/submissions/", document, format="json")
    status = expected(role, own_site=own_site, write=True)
    assert response.status_code == status, response.content
    stored = site.patients.filter(patient_id=f"{site.code}-NEW").exists()
    assert stored == (status == 200)
    if status == 404:
        missing = client_for(world, role).post(
            "/api/v1/submissions/", {**document, "site": "NOPE"}, format="json"
        )
        assert missing.status_code == 404
        assert response.json() == missing.json()


@pytest.mark.parametrize("role", EVERYONE)
def test_calculator_needs_only_authentication(world, role):
    case = {"population": "adult", "baseline": {"physician_global": 6}, "followup": {}}
    response = client_for(world, role).post("/api/v1/calculator/", case, format="json")
    assert response.status_code == (401 if role == "anonymous" else 200)
