"""The demo cohort's classification assessments: consistent with each diagnosis, valid, and
drawn from their own random stream."""

from collections import Counter
from datetime import date

import pytest

from crf.classification import read_classification
from crf.demo.cohort import CohortGenerator
from crf.demo.sites import demo_sites
from registry.documents import Errors
from scoring.instruments import age_in_years, classify

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def patients():
    return list(CohortGenerator(seed=11, sites=demo_sites(4), today=TODAY).patients(500))


def case(document):
    year, month = map(int, document["birth_year_month"].split("-"))
    onset = date.fromisoformat(document["onset_date"])
    classification = document["classification"]
    items = dict(classification["items"])
    # What the registry derives for L1 and L2 (scoring.classifying), by hand.
    results = {a["result"] for a in document["autoantibodies"] if a["antibody"] == "anti-Jo-1"}
    if "positive" in results or "negative" in results:
        items["anti_jo1"] = "positive" in results
    visits = sorted(document["visits"], key=lambda visit: visit["visit_date"])
    labs = (visits[0].get("labs") or {}) if visits else {}
    measured = [labs[e] for e in ("ck", "ldh", "ast", "alt") if labs.get(e)]
    if measured:
        items["enzymes_raised"] = any(lab["value"] > lab["uln"] for lab in measured)
    return {
        "age_at_onset": age_in_years(year, month, onset),
        **{key: value for key, value in classification.items() if key != "assessed_on"},
        "items": items,
    }


def test_every_patient_has_a_valid_assessment(patients):
    for patient in patients:
        errors = Errors()
        document = patient.document
        assert read_classification(errors, "classification", document["classification"]) is not None
        assert errors.items == []
        assert document["classification"]["assessed_on"] <= TODAY.isoformat()


def test_dermatomyositis_has_skin_signs_and_weakness_where_expected(patients):
    skin = ("heliotrope", "gottron_papules", "gottron_sign")
    by_dx: dict[str, list] = {}
    for patient in patients:
        by_dx.setdefault(patient.document["diagnosis"], []).append(
            patient.document["classification"]
        )
    for dx in ("dermatomyositis", "juvenile_dermatomyositis"):
        assert by_dx[dx]
        for assessment in by_dx[dx]:
            assert any(assessment["items"].get(key) is True for key in skin), assessment
    for dx in ("polymyositis", "immune_mediated_necrotising_myopathy"):
        assert all(not any(a["items"].get(key) for key in skin) for a in by_dx.get(dx, []))
        proximal = [a["items"].get("weakness_proximal_lower") for a in by_dx.get(dx, [])]
        assert sum(1 for value in proximal if value) > len(proximal) / 2
    ibm = by_dx["inclusion_body_myositis"]
    assert any(a["muscle_biopsy"] and a["items"].get("rimmed_vacuoles") for a in ibm)
    dm_biopsies = [a for a in by_dx["dermatomyositis"] if a["muscle_biopsy"]]
    assert dm_biopsies and any(a["items"].get("perifascicular_atrophy") for a in dm_biopsies)
    assert 0 < len(dm_biopsies) < len(by_dx["dermatomyositis"])
    # L1 and L2 are left to the registry's derivation.
    assert all(
        p.document["classification"]["items"].get(key) is None
        for p in patients
        for key in ("anti_jo1", "enzymes_raised")
    )


def test_the_categories_include_cases_and_non_cases(patients):
    results = classify([case(p.document) for p in patients])
    categories = Counter(result["category"] for result in results)
    assert categories["not_iim"] + categories["possible"] > 0
    assert categories["probable"] + categories["definite"] > len(patients) / 2
    subgroups = Counter(result["subgroup"] for result in results)
    assert subgroups["dm"] > 0 and subgroups["ibm"] > 0


def test_the_rest_of_the_patient_does_not_depend_on_the_classification(patients):
    again = list(CohortGenerator(seed=11, sites=demo_sites(4), today=TODAY).patients(20))
    assert [p.document for p in again] == [p.document for p in patients[:20]]
