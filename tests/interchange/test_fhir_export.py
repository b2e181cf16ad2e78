"""The FHIR R4 export's surfaces: the patient Bundle and the NDJSON bulk export over the API, the
`export_fhir` command; scoped like every read, audited, streamed in chunks."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from interchange.fhir.export import RESOURCE_TYPES, ndjson
from registry.models import AuditEvent, Membership, Patient
from scoring.services import score_patients
from tests.api.conftest import patient_document, store, token_client
from tests.factories import MembershipFactory, SiteFactory, UserFactory

INFUSION_REACTION = {
    "term": "Infusion reaction", "category": "infusion_reaction", "onset_date": "2020-01-10",
    "severity": "moderate", "serious": False, "outcome": "recovered",
    "related_to": [{"drug": "ivig", "start_date": "2020-01-10", "relatedness": "probable",
                    "action": "none"}],
}  # fmt: skip


def references(value) -> set[str]:
    if isinstance(value, dict):
        found = {value["reference"]} if isinstance(value.get("reference"), str) else set()
        for child in value.values():
            found |= references(child)
        return found
    if isinstance(value, list):
        return set().union(*map(references, value)) if value else set()
    return set()


def lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    assert body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]


@pytest.fixture
def world(db):
    own, other = SiteFactory(code="MAN"), SiteFactory(code="LDS")
    patients = [
        store(own, patient_document(f"MAN-000{n}", visits=2, adverse_events=[INFUSION_REACTION]))
        for n in range(2)
    ]
    stranger = store(other, patient_document("LDS-0001", visits=2))
    score_patients(patient_ids=[p.pk for p in [*patients, stranger]])
    coordinator = MembershipFactory(user=UserFactory(username="coord-man"), site=own).user
    manager = MembershipFactory(
        user=UserFactory(username="dm"), site=None, role=Membership.Role.DATA_MANAGER
    ).user
    return {
        "own": own,
        "other": other,
        "patient": patients[0],
        "stranger": stranger,
        "coordinator": token_client(coordinator),
        "manager": token_client(manager),
        "outsider": token_client(UserFactory(username="outsider")),
    }


# --- the patient's Bundle ---------------------------------------------------------------------


def test_a_patients_bundle_is_a_valid_collection_whose_references_resolve(world):
    patient = world["patient"]
    response = world["coordinator"].get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    kinds = {key.split("/")[0] for key in present}
    assert kinds == {
        "Patient", "Condition", "Observation", "QuestionnaireResponse", "MedicationStatement",
        "AdverseEvent",
    }  # fmt: skip
    assert references(bundle) <= present
    assert all(
        e["resource"].get("subject", {"reference": f"Patient/{patient.pk}"})
        == {"reference": f"Patient/{patient.pk}"}
        for e in bundle["entry"]
    )


def test_a_patients_bundle_export_is_audited(world):
    patient = world["patient"]
    world["coordinator"].get(f"/api/v1/patients/{patient.pk}/fhir/")
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id, event.patient_id) == (
        "registry.patient", patient.pk, patient.pk
    )  # fmt: skip
    assert event.site_id == patient.site_id and event.source == "api"
    assert event.actor.username == "coord-man"
    assert json.loads(event.new_value) == {"format": "FHIR R4 Bundle"}


def test_exporting_a_patient_does_not_make_it_changed_for_incremental_pulls(world):
    patient = world["patient"]
    since = AuditEvent.objects.order_by("at").last().at.isoformat()
    world["coordinator"].get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert AuditEvent.objects.filter(action="export", at__gte=since).exists()
    response = world["coordinator"].get("/api/v1/patients/", {"updated_since": since})
    assert response.status_code == 200
    assert [p["patient_id"] for p in response.json()["results"]] == []


@pytest.mark.parametrize("who", ["coordinator", "outsider"])
def test_another_sites_patient_or_an_unknown_id_is_not_found(world, who):
    for ident in (world["stranger"].pk, 999999, "abc"):
        response = world[who].get(f"/api/v1/patients/{ident}/fhir/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_bundle_needs_credentials(world):
    response = APIClient().get(f"/api/v1/patients/{world['patient'].pk}/fhir/")
    assert response.status_code == 401


def test_a_client_asking_for_fhir_json_gets_it(world):
    response = world["coordinator"].get(
        f"/api/v1/patients/{world['patient'].pk}/fhir/", HTTP_ACCEPT="application/fhir+json"
    )
    assert response.status_code == 200


# --- NDJSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource_type", RESOURCE_TYPES)
def test_every_ndjson_line_is_a_valid_resource_of_the_type_asked(world, resource_type):
    response = world["coordinator"].get(f"/api/v1/exports/fhir/?site=MAN&type={resource_type}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    assert response.streaming
    found = lines(response)
    assert found
    model = get_fhir_model_class(resource_type)
    for resource in found:
        assert resource["resourceType"] == resource_type
        model.model_validate(resource)


def test_the_bulk_export_holds_only_the_sites_patients(world):
    response = world["coordinator"].get("/api/v1/exports/fhir/?type=Patient")
    identifiers = {r["identifier"][0]["value"] for r in lines(response)}
    assert identifiers == {"MAN-0000", "MAN-0001"}
    response = world["manager"].get("/api/v1/exports/fhir/?type=Patient")
    assert {r["identifier"][0]["value"] for r in lines(response)} == {
        "MAN-0000", "MAN-0001", "LDS-0001"
    }  # fmt: skip
    response = world["manager"].get("/api/v1/exports/fhir/?type=Patient&site=LDS")
    assert [r["identifier"][0]["value"] for r in lines(response)] == ["LDS-0001"]


def test_a_site_not_yours_is_not_found_and_nothing_is_audited(world):
    for code in ("LDS", "NOPE"):
        response = world["coordinator"].get(f"/api/v1/exports/fhir/?site={code}&type=Patient")
        assert response.status_code == 404
    assert world["outsider"].get("/api/v1/exports/fhir/?site=MAN&type=Patient").status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("query", ["type=Encounter", "type=observation", "", "site=MAN"])
def test_a_missing_or_unknown_type_is_a_400_naming_type(world, query):
    response = world["coordinator"].get(f"/api/v1/exports/fhir/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert [e["field"] for e in response.json()["errors"]] == ["type"]


def test_a_site_code_with_a_nul_is_a_400(world):
    response = world["coordinator"].get("/api/v1/exports/fhir/?type=Patient&site=M%00N")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "site"


def test_the_bulk_export_is_audited_once_per_site_covered(world):
    world["manager"].get("/api/v1/exports/fhir/?type=Observation")
    events = AuditEvent.objects.filter(action="export").order_by("site_id")
    assert [(e.object_type, e.object_id, e.site_id) for e in events] == [
        ("registry.site", site.pk, site.pk)
        for site in sorted((world["own"], world["other"]), key=lambda s: s.pk)
    ]
    assert json.loads(events[0].new_value) == {"format": "FHIR R4 NDJSON", "types": ["Observation"]}


def test_the_export_reads_patients_in_chunks_with_a_constant_number_of_queries(world):
    def queries(patients, chunk_size):
        with CaptureQueriesContext(connection) as captured:
            for _ in ndjson("Observation", patients, chunk_size=chunk_size):
                pass
        return len(captured)

    patients = Patient.objects.all()
    one_chunk = queries(patients, chunk_size=100)
    # The same number for one patient as for three: prefetched per chunk, never per patient.
    assert queries(patients.filter(pk=world["patient"].pk), chunk_size=100) == one_chunk
    # One query of the patients, then the prefetches once per chunk: three chunks of one patient
    # take three times the prefetch queries of one chunk of three.
    assert queries(patients, chunk_size=1) == 1 + 3 * (one_chunk - 1)


# --- the command --------------------------------------------------------------------------------


def test_the_command_writes_one_valid_ndjson_file_per_type(world, tmp_path, capsys):
    call_command("export_fhir", "-o", str(tmp_path / "out"))
    files = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert files == sorted(f"{name}.ndjson" for name in RESOURCE_TYPES)
    for name in RESOURCE_TYPES:
        text = (tmp_path / "out" / f"{name}.ndjson").read_text()
        resources = [json.loads(line) for line in text.splitlines()]
        assert resources, name
        for resource in resources:
            assert resource["resourceType"] == name
            get_fhir_model_class(name).model_validate(resource)
    patients = (tmp_path / "out" / "Patient.ndjson").read_text().splitlines()
    assert len(patients) == 3
    captured = capsys.readouterr()
    assert "Patient.ndjson: 3 Patient resources" in captured.out
    assert "Observation [" in captured.err  # the progress bar
    events = AuditEvent.objects.filter(action="export", source="command")
    assert events.count() == 2
    assert json.loads(events[0].new_value)["types"] == sorted(RESOURCE_TYPES)


def test_the_command_exports_one_site_and_the_types_asked(world, tmp_path):
    call_command("export_fhir", "--site", "LDS", "--type", "Patient", "--type", "Condition",
                 "-o", str(tmp_path))  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Condition.ndjson", "Patient.ndjson"]
    patients = [json.loads(line) for line in (tmp_path / "Patient.ndjson").read_text().splitlines()]
    assert [p["identifier"][0]["value"] for p in patients] == ["LDS-0001"]
    event = AuditEvent.objects.get(action="export")
    assert event.site_id == world["other"].pk


def test_the_command_refuses_an_unknown_site_or_type(world, tmp_path):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("export_fhir", "--site", "NOPE", "-o", str(tmp_path))
    with pytest.raises(CommandError, match="Encounter"):
        call_command("export_fhir", "--type", "Encounter", "-o", str(tmp_path))
    assert not list(tmp_path.iterdir())
    assert not AuditEvent.objects.filter(action="export").exists()


# --- the schema ---------------------------------------------------------------------------------


def test_the_endpoints_are_in_the_openapi_schema(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    bundle = schema["paths"]["/api/v1/patients/{id}/fhir/"]["get"]
    assert "application/fhir+json" in bundle["responses"]["200"]["content"]
    bulk = schema["paths"]["/api/v1/exports/fhir/"]["get"]
    assert "application/fhir+ndjson" in bulk["responses"]["200"]["content"]
    (parameter,) = [p for p in bulk["parameters"] if p["name"] == "type"]
    assert parameter["required"] and sorted(parameter["schema"]["enum"]) == sorted(RESOURCE_TYPES)
