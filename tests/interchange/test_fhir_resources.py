"""The FHIR R4 mapping (INTEROP "FHIR R4"): what each resource says, validated with the
fhir.resources R4B models."""

import copy
from datetime import date

import pytest
from fhir.resources.R4B import get_fhir_model_class

from crf.models import HAQ, Visit
from crf.wording import CHAQ_ITEM_LABELS, HAQ_ITEM_LABELS
from interchange.fhir.export import RESOURCE_TYPES, patient_bundle, resources_of_type
from interchange.fhir.questionnaires import questionnaire_response
from interchange.fhir.resources import medication_statement
from interchange.fhir.terminology import (
    INTERPRETATION,
    LOINC,
    SNOMED,
    UCUM,
    code_system_url,
    questionnaire_url,
)
from registry.models import Patient
from scoring.services import score_patients
from tests.api.conftest import patient_document, store
from tests.factories import SiteFactory, TreatmentFactory

HAQ_ANSWERS = code_system_url("haq-answer")
# A serious infection possibly related to the example's IVIG, and a mild rash related to nothing.
PNEUMONIA = {
    "term": "Pneumonia", "category": "infection", "onset_date": "2020-03-01",
    "end_date": "2020-03-20", "severity": "severe", "serious": True,
    "serious_criteria": ["hospitalisation", "life_threatening"], "outcome": "recovered",
    "related_to": [{"drug": "ivig", "start_date": "2020-01-10", "relatedness": "possible",
                    "action": "interrupted"}],
}  # fmt: skip
MILD_RASH = {
    "term": "Rash", "category": "other", "onset_date": "2020-02-01", "severity": "mild",
    "serious": False, "outcome": "not_recovered",
}  # fmt: skip


def validate(resource: dict) -> None:
    """Raises unless the resource parses with its fhir.resources R4B model."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def by_id(bundle: dict) -> dict[str, dict]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
        for e in bundle["entry"]
    }


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN", name="Manchester myositis clinic")


@pytest.fixture
def patient(site) -> Patient:
    """Two visits: the example's baseline (CK 2000/200 and aldolase 15.2/7.6 U/L) and a follow-up
    with LDH in µkat/L under its ULN, FVC, DLCO and CMAS; scored."""
    document = patient_document("MAN-0001", visits=2)
    follow_up = document["visits"][1]
    follow_up["labs"] = {
        "ck": {"value": 400, "unit": "U/L", "uln": 200},
        "ldh": {"value": 3.1, "unit": "ukat/L", "uln": 4.2},
    }
    follow_up.update(fvc_percent=78.5, dlco_percent=61, cmas=40, physician_damage=1.5)
    document["adverse_events"] = [PNEUMONIA, MILD_RASH]
    stored = store(site, document)
    score_patients(patient_ids=[stored.pk])
    return stored


@pytest.fixture
def bundle(patient) -> dict:
    return patient_bundle(Patient.objects.all(), patient.pk)[1]


def test_every_resource_type_is_valid_fhir_r4(patient):
    for resource_type in RESOURCE_TYPES:
        found = list(resources_of_type(resource_type, Patient.objects.all()))
        assert found, resource_type
        for resource in found:
            assert resource["resourceType"] == resource_type
            validate(resource)


def test_the_patient_is_pseudonymous_with_site_identifier_and_year_month_of_birth(bundle, patient):
    resource = by_id(bundle)[f"Patient/{patient.pk}"]
    assert resource["identifier"] == [
        {"system": "urn:myositis-registry:site:MAN", "value": "MAN-0001"}
    ]
    assert resource["birthDate"] == "1968-04"
    assert resource["gender"] == "female"
    assert "name" not in resource and "deceasedDateTime" not in resource
    assert resource["managingOrganization"]["identifier"]["value"] == "MAN"


def test_the_diagnosis_is_a_condition_with_snomed_where_known_and_text_always(
    site, bundle, patient
):
    condition = by_id(bundle)[f"Condition/{patient.pk}-diagnosis"]
    assert {"system": SNOMED, "code": "396230008"} in condition["code"]["coding"]
    assert condition["code"]["text"] == "Dermatomyositis"
    assert condition["onsetDateTime"] == "2019-03-01"
    assert condition["extension"][0]["valueDateTime"] == "2019-05-20"

    other = store(site, patient_document("MAN-0002", diagnosis="antisynthetase_syndrome"))
    condition = by_id(patient_bundle(Patient.objects.all(), other.pk)[1])[
        f"Condition/{other.pk}-diagnosis"
    ]
    assert [c["system"] for c in condition["code"]["coding"]] == [code_system_url("diagnosis")]
    assert condition["code"]["text"] == "Anti-synthetase syndrome"


def test_an_enzyme_is_a_laboratory_observation_with_loinc_ucum_uln_and_interpretation(
    bundle, patient
):
    baseline, follow_up = patient.visits.order_by("visit_date")
    ck = by_id(bundle)[f"Observation/{baseline.pk}-ck"]
    assert ck["category"][0]["coding"][0]["code"] == "laboratory"
    assert ck["code"]["coding"] == [{"system": LOINC, "code": "2157-6"}]
    assert ck["valueQuantity"] == {"value": 2000, "unit": "U/L", "system": UCUM, "code": "U/L"}
    assert ck["referenceRange"] == [
        {"high": {"value": 200, "unit": "U/L", "system": UCUM, "code": "U/L"}}
    ]
    assert ck["interpretation"] == [
        {"coding": [{"system": INTERPRETATION, "code": "H", "display": "High"}]}
    ]
    aldolase = by_id(bundle)[f"Observation/{baseline.pk}-aldolase"]
    assert aldolase["code"]["coding"][0]["code"] == "1761-6"
    assert aldolase["valueQuantity"]["value"] == 15.2
    assert aldolase["referenceRange"][0]["high"]["value"] == 7.6

    ldh = by_id(bundle)[f"Observation/{follow_up.pk}-ldh"]
    assert ldh["code"]["coding"][0]["code"] == "2532-0"
    assert ldh["valueQuantity"] == {
        "value": 3.1,
        "unit": "µkat/L",
        "system": UCUM,
        "code": "ukat/L",
    }
    assert "interpretation" not in ldh  # under the ULN


def test_visit_measures_use_loinc_for_fvc_and_the_registry_codes_otherwise(bundle, patient):
    follow_up = patient.visits.order_by("visit_date")[1]
    resources = by_id(bundle)
    fvc = resources[f"Observation/{follow_up.pk}-fvc-percent"]
    assert fvc["code"]["coding"] == [{"system": LOINC, "code": "19872-1"}]
    assert fvc["valueQuantity"] == {"value": 78.5, "unit": "%", "system": UCUM, "code": "%"}
    measures = code_system_url("measure")
    for suffix, code, value in [
        ("dlco-percent", "dlco-percent-predicted", 61),
        ("physician-global", "physician-global", 5),
        ("patient-global", "patient-global", 4),
        ("extramuscular", "extramuscular", 4),
        ("physician-damage", "physician-damage", 1.5),
        ("cmas", "cmas", 40),
        ("mmt8", "mmt8-total", 119),
    ]:
        observation = resources[f"Observation/{follow_up.pk}-{suffix}"]
        assert observation["code"]["coding"][0]["system"] == measures
        assert observation["code"]["coding"][0]["code"] == code
        assert observation["valueQuantity"]["value"] == value, suffix
    mmt = resources[f"Observation/{follow_up.pk}-mmt8"]
    assert mmt["component"][0]["valueQuantity"]["value"] == 150


def test_haq_items_are_a_questionnaire_response_and_the_index_derives_from_it(bundle, patient):
    baseline = patient.visits.order_by("visit_date")[0]
    resources = by_id(bundle)
    response = resources[f"QuestionnaireResponse/{baseline.pk}-haq"]
    assert response["questionnaire"] == questionnaire_url("haq-di")
    assert response["status"] == "completed"
    assert response["authored"] == "2020-01-08"
    # Entered at the site: authored by it, not sourced from the patient.
    assert response["author"]["identifier"] == {
        "system": "urn:myositis-registry:site",
        "value": "MAN",
    }
    assert "source" not in response
    groups = {group["linkId"]: group for group in response["item"]}
    arising = {item["linkId"]: item for item in groups["arising"]["item"]}
    assert arising["stand"]["text"] == HAQ_ITEM_LABELS["stand"]
    assert arising["stand"]["answer"][0]["valueCoding"]["code"] == "2"
    assert arising["stand"]["answer"][0]["valueCoding"]["system"] == HAQ_ANSWERS
    assert [a["valueCoding"]["code"] for a in groups["aids"]["answer"]] == ["arising", "walking"]
    assert "help" not in groups  # none recorded
    answered = sum(len(group["item"]) for group in response["item"] if "item" in group)
    assert answered == 20

    index = resources[f"Observation/{baseline.pk}-haq-di"]
    assert index["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{baseline.pk}-haq"}]
    assert index["valueQuantity"]["value"] == float(HAQ.objects.get(visit=baseline).score)


def test_a_patient_entered_response_has_the_patient_as_source(patient):
    visit = patient.visits.order_by("visit_date")[0]
    response = questionnaire_response(visit.haq, visit, patient, entered_by_patient=True)
    validate(response)
    assert response["source"] == {"reference": f"Patient/{patient.pk}"}
    assert "author" not in response


def test_a_chaq_response_keeps_not_applicable_and_a_draft_is_in_progress(site):
    document = patient_document(
        "MAN-0003", birth_year_month="2012-02", onset_date="2019-06-01", diagnosis_date=None
    )
    visit = document["visits"][0]
    items = copy.deepcopy(visit.pop("haq")["items"])
    visit["chaq"] = {"items": {**items, "socks": 1, "bike": "na"}, "aids": [], "help": ["grip"]}
    stored = store(site, document)
    Visit.objects.filter(patient=stored).update(status=Visit.Status.DRAFT)
    visit = stored.visits.get()
    resources = by_id(patient_bundle(Patient.objects.all(), stored.pk)[1])
    response = resources[f"QuestionnaireResponse/{visit.pk}-haq"]
    validate(response)
    assert response["questionnaire"] == questionnaire_url("chaq")
    assert response["status"] == "in-progress"
    groups = {group["linkId"]: group for group in response["item"]}
    activities = {item["linkId"]: item for item in groups["activities"]["item"]}
    assert activities["bike"]["answer"][0]["valueCoding"]["code"] == "na"
    assert activities["bike"]["text"] == CHAQ_ITEM_LABELS["bike"]
    assert [a["valueCoding"]["code"] for a in groups["help"]["answer"]] == ["grip"]
    index = resources[f"Observation/{visit.pk}-chaq-di"]
    assert index["status"] == "preliminary"


def test_questionnaires_list_every_item_with_the_registry_texts(db):
    haq, chaq = resources_of_type("Questionnaire", Patient.objects.none())
    for questionnaire, labels in ((haq, HAQ_ITEM_LABELS), (chaq, CHAQ_ITEM_LABELS)):
        validate(questionnaire)
        texts = {
            item["linkId"]: item["text"]
            for group in questionnaire["item"]
            for item in group.get("item", [])
        }
        assert texts == labels
    assert haq["url"] == questionnaire_url("haq-di")


def test_the_tis_and_doi_derive_from_the_observations_of_both_visits(bundle, patient):
    baseline, follow_up = patient.visits.order_by("visit_date")
    resources = by_id(bundle)
    scores = {
        r["code"]["coding"][0]["code"]: r
        for r in resources.values()
        if r["id"].startswith("score-")
    }
    assert set(scores) == {"acr-eular-2016", "imacs-doi-2004"}
    tis, doi = scores["acr-eular-2016"], scores["imacs-doi-2004"]
    assert tis["valueQuantity"]["code"] == "{score}"
    assert tis["effectiveDateTime"] == "2020-02-08"
    assert tis["component"][0]["valueDateTime"] == "2020-01-08"  # the reference visit
    assert isinstance(doi["valueBoolean"], bool)
    for score in (tis, doi):
        derived = {ref["reference"] for ref in score["derivedFrom"]}
        assert all(reference in resources for reference in derived)
        for visit in (baseline, follow_up):
            assert f"Observation/{visit.pk}-physician-global" in derived
            assert f"Observation/{visit.pk}-haq-di" in derived
        # The enzyme followed is the most abnormal at baseline (CK 10 × ULN): only it.
        assert f"Observation/{baseline.pk}-ck" in derived
        assert f"Observation/{follow_up.pk}-ck" in derived
        assert f"Observation/{baseline.pk}-aldolase" not in derived
        assert f"Observation/{follow_up.pk}-fvc-percent" not in derived


def test_treatment_episodes_are_medication_statements_with_their_status(patient):
    ongoing = patient.treatments.get()
    statement = medication_statement(ongoing, patient)
    validate(statement)
    assert statement["status"] == "active"
    assert statement["medicationCodeableConcept"]["coding"][0]["code"] == "ivig"
    assert statement["medicationCodeableConcept"]["text"] == "IVIG"
    assert statement["effectivePeriod"] == {"start": "2020-01-10"}
    assert statement["dosage"][0]["text"] == "2 g/kg intravenous every 4 weeks"
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"] == {"value": 2, "unit": "g/kg"}

    stopped = TreatmentFactory(
        patient=patient,
        drug="methotrexate",
        start_date=date(2019, 1, 1),
        stop_date=date(2019, 6, 1),
        stop_reason="other",
        stop_reason_other="Liver enzymes raised",
    )
    statement = medication_statement(stopped, patient)
    validate(statement)
    assert statement["status"] == "stopped"
    assert statement["statusReason"][0]["text"] == "Liver enzymes raised"
    assert statement["statusReason"][0]["coding"][0]["code"] == "other"
    assert statement["effectivePeriod"] == {"start": "2019-01-01", "end": "2019-06-01"}

    completed = TreatmentFactory(
        patient=patient,
        drug="other",
        drug_other="Abatacept",
        dose=None,
        dose_unit="",
        route="",
        start_date=date(2018, 1, 1),
        stop_date=date(2018, 3, 1),
    )
    statement = medication_statement(completed, patient)
    validate(statement)
    assert statement["status"] == "completed"
    assert statement["medicationCodeableConcept"]["text"] == "Abatacept"
    assert "dosage" not in statement


def test_code_systems_define_every_code_the_resources_use(bundle):
    defined = {
        (system["url"], concept["code"])
        for system in resources_of_type("CodeSystem", Patient.objects.none())
        for concept in system["concept"]
    }
    used = set()

    def walk(value):
        if isinstance(value, dict):
            if str(value.get("system", "")).startswith("urn:myositis-registry:codesystem:"):
                used.add((value["system"], value["code"]))
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(bundle)
    walk(list(resources_of_type("Questionnaire", Patient.objects.none())))
    assert used and used <= defined


def test_unknown_aid_categories_stored_around_the_readers_are_left_out(patient):
    visit = patient.visits.order_by("visit_date")[0]
    HAQ.objects.filter(visit=visit).update(aids=["bogus"], help=["grip", "bogus"])
    visit = Visit.objects.select_related("haq").get(pk=visit.pk)
    response = questionnaire_response(visit.haq, visit, patient, entered_by_patient=False)
    validate(response)
    flags = {item["linkId"]: item for item in response["item"] if "answer" in item}
    assert list(flags) == ["help"]
    assert [a["valueCoding"]["code"] for a in flags["help"]["answer"]] == ["grip"]


def test_adverse_events_have_seriousness_severity_outcome_and_causality(bundle, patient):
    resources = by_id(bundle)
    events = {r["event"]["text"]: r for r in resources.values()
              if r["resourceType"] == "AdverseEvent"}  # fmt: skip
    assert set(events) == {"Pneumonia", "Rash"}
    pneumonia, rash = events["Pneumonia"], events["Rash"]
    for resource in (pneumonia, rash):
        validate(resource)
        assert resource["subject"] == {"reference": f"Patient/{patient.pk}"}
        assert resource["actuality"] == "actual"
    assert pneumonia["date"] == "2020-03-01"
    assert pneumonia["event"]["coding"][0]["code"] == "infection"
    seriousness = {c["code"] for c in pneumonia["seriousness"]["coding"]}
    assert seriousness == {"serious", "hospitalisation", "life_threatening"}
    assert rash["seriousness"]["coding"][0]["code"] == "non-serious"
    assert pneumonia["severity"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        "code": "severe", "display": "Severe",
    }  # fmt: skip
    assert pneumonia["outcome"]["coding"][0]["code"] == "resolved"
    assert rash["outcome"]["coding"][0]["code"] == "ongoing"
    episode = patient.treatments.get()
    [suspect] = pneumonia["suspectEntity"]
    assert suspect["instance"] == {"reference": f"MedicationStatement/{episode.pk}"}
    assert f"MedicationStatement/{episode.pk}" in resources
    codes = {c["code"] for c in suspect["causality"][0]["assessment"]["coding"]}
    assert codes == {"Possible", "possible"}
    assert suspect["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "interrupted"
    assert "suspectEntity" not in rash


@pytest.mark.parametrize(
    ("death_date", "precision", "expected"),
    [("2024-03", "month", "2024-03"), ("2024-03-09", "day", "2024-03-09")],
)
def test_a_patient_who_died_has_deceased_date_time(site, death_date, precision, expected):
    document = patient_document("MAN-0002", vital_status={
        "status": "dead", "death_date": death_date, "cause_category": "infection",
    })  # fmt: skip
    patient = store(site, document)
    assert patient.vital_status.death_date_precision == precision
    resource = patient_bundle(Patient.objects.all(), patient.pk)[1]["entry"][0]["resource"]
    validate(resource)
    assert resource["deceasedDateTime"] == expected
