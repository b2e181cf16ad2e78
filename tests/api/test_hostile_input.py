"""Hostile input (issue 13): every bad value of every reader is a 400 naming the field, never a
500, and nothing of it is stored — wrong types, numbers too long for int(), NaN and Infinity,
bodies that are not UTF-8, keys given twice, dates that are not YYYY-MM-DD, invisible ids, and
the same record twice in one document."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from crf.models import HAQ, Visit
from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from scoring.instruments.calculator import EXAMPLE_CASE, MAX_DIGITS
from tests.api.conftest import patient_document, store, token_client
from tests.factories import MembershipFactory, SiteFactory

SUBMISSIONS = "/api/v1/submissions/"
CALCULATOR = "/api/v1/calculator/"
HUGE = "9" * 5000  # more digits than int() converts (sys.get_int_max_str_digits(): 4300)
PLACEHOLDER = "__hostile__"

# JSON text put in place of a value: a number too long for int(), the non-JSON constants, a
# float beyond a double, and containers where anything else is expected.
HOSTILE = {
    "huge integer": HUGE,
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e999": "1e999",
    "list": "[[1], {}]",
    "object": '{"a": {"b": 1}}',
}


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def coordinator(site):
    return token_client(MembershipFactory(site=site, role="coordinator").user)


def post_raw(client, url: str, body: str | bytes, content_type: str = "application/json"):
    data = body.encode() if isinstance(body, str) else body
    return client.generic("POST", url, data, content_type=content_type)


def fields(response) -> dict[str, str]:
    return {item["field"]: item["message"] for item in response.json()["errors"]}


def paths(value: Any, path: str = "") -> Iterator[str]:
    """The JSON path of every value in a document, containers included."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            yield where
            yield from paths(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            yield where
            yield from paths(item, where)


def replaced(document: Any, path: str, literal: str) -> str:
    """The document as JSON text with the value at `path` replaced by the JSON text `literal`."""
    document = copy.deepcopy(document)
    parent, key = _locate(document, path)
    parent[key] = PLACEHOLDER
    return json.dumps(document).replace(json.dumps(PLACEHOLDER), literal)


def _locate(document: Any, path: str) -> tuple[Any, Any]:
    tokens: list[Any] = []
    for part in path.split("."):
        name, *indexes = part.split("[")
        if name:
            tokens.append(name)
        tokens += [int(index.rstrip("]")) for index in indexes]
    node = document
    for token in tokens[:-1]:
        node = node[token]
    return node, tokens[-1]


def named(response, path: str) -> bool:
    """An error at the path, or inside it (a container), or at its parent (a key the parent's
    reader does not take in that shape)."""
    parent = path.rsplit(".", 1)[0].rsplit("[", 1)[0]
    return any(
        field == path or field.startswith((path + ".", path + "[")) or field == parent
        for field in fields(response)
    )


# --- every value of the submission document -----------------------------------------------------


def full_patient() -> dict:
    document = patient_document("MAN-0001", visits=1)
    visit = document["visits"][0]
    visit["haq"]["help"] = ["grip"]
    visit.update(cmas=40, fvc_percent=80, dlco_percent=70, physician_damage=1.0)
    return document


PATIENT_PATHS = list(paths(full_patient()))


@pytest.mark.parametrize("path", PATIENT_PATHS)
@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_every_submission_value_meets_every_hostile_value_with_a_400(
    site, coordinator, path, hostile
):
    document = {"site": "MAN", "patients": [full_patient()]}
    body = replaced(document, f"patients[0].{path}", HOSTILE[hostile])
    response = post_raw(coordinator, SUBMISSIONS, body)
    assert response.status_code == 400, response.content[:500]
    assert named(response, f"patients[0].{path}"), (path, fields(response))
    assert not Patient.objects.exists()


@pytest.mark.parametrize("path", list(paths(EXAMPLE_CASE)))
@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_every_calculator_value_meets_every_hostile_value_with_a_400(coordinator, path, hostile):
    response = post_raw(coordinator, CALCULATOR, replaced(EXAMPLE_CASE, path, HOSTILE[hostile]))
    assert response.status_code == 400, response.content[:500]
    assert named(response, path), (path, fields(response))


@pytest.mark.parametrize(
    "number", ["1e-999999999", "1e999999999", "0." + "0" * 500 + "1", "1" * 4000]
)
def test_calculator_refuses_numbers_too_long_to_compute_exactly(coordinator, number):
    case = copy.deepcopy(EXAMPLE_CASE)
    body = replaced(case, "baseline.enzymes.ck.value", number)
    response = post_raw(coordinator, CALCULATOR, body)
    assert response.status_code == 400
    assert fields(response) == {
        "baseline.enzymes.ck.value": f"must be a number of at most {MAX_DIGITS} digits"
    }


@pytest.fixture
def stored_visit(site) -> Visit:
    return store(site, patient_document("MAN-0001", visits=2)).visits.get(kind="follow_up")


PATCH_DOCUMENT = {
    "version": 1,
    "reason": "correction",
    "visit_date": "2020-02-08",
    "kind": "follow_up",
    "instruments": {
        key: value for key, value in full_patient()["visits"][0].items()
        if key not in ("visit_date", "kind")
    },
}  # fmt: skip


@pytest.mark.parametrize("path", list(paths(PATCH_DOCUMENT)))
@pytest.mark.parametrize("hostile", ["huge integer", "NaN", "list", "object"])
def test_every_patch_value_meets_every_hostile_value_with_a_400(
    coordinator, stored_visit, path, hostile
):
    body = replaced(PATCH_DOCUMENT, path, HOSTILE[hostile]).encode()
    response = coordinator.generic(
        "PATCH", f"/api/v1/visits/{stored_visit.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:500]
    assert named(response, path), (path, fields(response))
    stored_visit.refresh_from_db()
    assert stored_visit.version == 1


def test_a_deeply_nested_patch_is_a_400(coordinator, stored_visit):
    deep = '{"a": ' * 900 + "1" + "}" * 900
    body = '{"version": 1, "instruments": {"mmt8": {"deltoid": ' + deep + "}}}"
    response = coordinator.generic(
        "PATCH",
        f"/api/v1/visits/{stored_visit.pk}/",
        body.encode(),
        content_type="application/json",
    )
    assert response.status_code == 400


# --- the body itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "latin-1"])
def test_a_body_that_is_not_utf8_is_refused_and_nothing_stored(site, coordinator, encoding):
    document = {"site": "MAN", "patients": [patient_document("MÜN-0001")]}
    response = post_raw(
        coordinator, SUBMISSIONS, json.dumps(document, ensure_ascii=False).encode(encoding)
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    assert not Patient.objects.exists()


def test_a_key_given_twice_is_refused_naming_its_path(site, coordinator):
    text = json.dumps({"site": "MAN", "patients": [patient_document("MAN-0001")]})
    text = text.replace('"sex": "female"', '"sex": "female", "sex": "male"', 1)
    text = text.replace('"physician_global": 6.0', '"physician_global": 6.0, "physician_global": 2')
    response = post_raw(coordinator, SUBMISSIONS, text)
    assert response.status_code == 400
    assert set(fields(response)) == {"patients[0].sex", "patients[0].visits[0].physician_global"}
    assert not Patient.objects.exists()


def test_a_key_given_twice_at_the_top_is_refused(site, coordinator):
    text = '{"site": "LDS", "site": "MAN", "patients": []}'
    response = post_raw(coordinator, SUBMISSIONS, text)
    assert response.status_code == 400
    assert list(fields(response)) == ["site"]


def test_calculator_refuses_a_key_given_twice(coordinator):
    text = json.dumps(EXAMPLE_CASE).replace('"haq": 1.5', '"haq": 1.5, "haq": 0')
    response = post_raw(coordinator, CALCULATOR, text)
    assert response.status_code == 400
    assert list(fields(response)) == ["baseline.haq"]


# --- dates, months, identifiers -----------------------------------------------------------------

DATE_PATHS = [
    "onset_date",
    "diagnosis_date",
    "autoantibodies[0].sample_date",
    "treatments[0].start_date",
    "visits[0].visit_date",
]
NOT_DATES = ["2021-W01-1", "2021W011", "20210104", "2021-01-04T00:00", "２０２１-01-04",
             "2021-01-04\n", "2021-1-4"]  # fmt: skip


@pytest.mark.parametrize("path", DATE_PATHS)
@pytest.mark.parametrize("value", NOT_DATES)
def test_dates_are_yyyy_mm_dd_only(site, coordinator, path, value):
    document = patient_document("MAN-0001")
    document["treatments"][0]["stop_date"] = None
    parent, key = _locate(document, path)
    parent[key] = value
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert fields(response)[f"patients[0].{path}"] == "Must be a date as YYYY-MM-DD."
    assert not Patient.objects.exists()


@pytest.mark.parametrize("value", ["1968- 4", "1968-4 ", " 1968-4", "１９６８-04", "1968-０4",
                                   "1_68-04", "+968-04", "1968-04\n"])  # fmt: skip
def test_birth_year_month_is_yyyy_mm_in_ascii_digits(site, coordinator, value):
    document = patient_document("MAN-0001", birth_year_month=value)
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert (
        fields(response)["patients[0].birth_year_month"] == "Must be a year and month as YYYY-MM."
    )
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "patient_id",
    ["MAN\u200b0001", "MAN-0001\u202e", "\u202eMAN-0001", "MAN-\U0001f600", "MAN\u00a00001",
     "MAN-0001\u2764\ufe0f", "MAN\x070001", "MAN-\u2066001\u2069", "MAN\ufeff0001",
     "MAN-\U000e0041"],
)  # fmt: skip
def test_patient_ids_are_printable_and_visible(site, coordinator, patient_id):
    document = patient_document(patient_id)
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert "patients[0].patient_id" in fields(response)
    assert not Patient.objects.exists()


@pytest.mark.parametrize("patient_id", ["MÜN-0001", "Łódź 12", "患者-0001", "MAN/0001 (b)"])
def test_visible_ids_in_any_script_are_taken(site, coordinator, patient_id):
    document = patient_document(patient_id)
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 200, response.content
    assert Patient.objects.get().patient_id == patient_id


def test_free_text_refuses_bidirectional_overrides_and_control_characters(site, coordinator):
    document = patient_document("MAN-0001")
    document["autoantibodies"][0]["intensity"] = "1:320 \u202e08"
    document["treatments"][0]["frequency"] = "weekly\x1b[31m"
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert {
        "patients[0].autoantibodies[0].intensity",
        "patients[0].treatments[0].frequency",
    } <= set(fields(response))
    assert not Patient.objects.exists()


# --- HAQ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "haq",
    [{"items": []}, {"items": {}}, {}, {"aids": ["arising"]}, {"items": {"walk": None}},
     {"items": {"walk": 1, "dress": 2}, "aids": [["arising"]]},
     {"items": {"walk": 1}, "help": [{"arising": True}]}],
)  # fmt: skip
def test_a_haq_without_items_or_with_bad_aids_is_refused(site, coordinator, haq):
    document = patient_document("MAN-0001")
    document["visits"][0]["haq"] = haq
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert any(f.startswith("patients[0].visits[0].haq.") for f in fields(response))
    assert not HAQ.objects.exists() and not Patient.objects.exists()


def test_an_empty_haq_items_list_names_haq_items(site, coordinator):
    document = patient_document("MAN-0001")
    document["visits"][0]["haq"] = {"items": []}
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert fields(response) == {"patients[0].visits[0].haq.items": "Must be a JSON object."}
    document["visits"][0]["haq"] = {"items": {}, "aids": ["arising"]}
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert fields(response) == {
        "patients[0].visits[0].haq.items": "Answer at least one item, or give the score."
    }


def test_a_partly_answered_haq_and_a_legacy_score_are_still_taken(site, coordinator):
    document = patient_document("MAN-0001", visits=2)
    document["visits"][0]["haq"] = {"items": {"walk": 2}, "aids": ["walking"]}
    document["visits"][1]["haq"] = {"score": 1.25}
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 200, response.content
    assert HAQ.objects.count() == 2


# --- the same record twice in one document ------------------------------------------------------


def test_the_same_patient_twice_is_an_error_naming_both_and_nothing_is_stored(site, coordinator):
    first = patient_document("MAN-0001", visits=1)
    second = patient_document("MAN-0001", visits=2, sex="male")
    other = patient_document("MAN-0002")
    document = {"site": "MAN", "patients": [first, other, second]}
    response = coordinator.post(SUBMISSIONS, document, format="json")
    assert response.status_code == 400
    message = fields(response)["patients[2].patient_id"]
    assert "patients[0]" in message
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exclude(object_type="registry.apitoken").exists()


def test_the_same_patient_id_with_surrounding_spaces_is_the_same_patient(site, coordinator):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001"),
                                            patient_document(" MAN-0001 ")]}  # fmt: skip
    response = coordinator.post(SUBMISSIONS, document, format="json")
    assert response.status_code == 400
    assert "patients[1].patient_id" in fields(response)


def test_the_same_antibody_or_treatment_twice_is_an_error_naming_both(site, coordinator):
    document = patient_document("MAN-0001")
    antibody = dict(document["autoantibodies"][0])
    document["autoantibodies"].append({**antibody, "result": "negative"})
    treatment = dict(document["treatments"][0])
    document["treatments"].append({**treatment, "dose": 1})
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    errors = fields(response)
    assert "patients[0].autoantibodies[0]" in errors["patients[0].autoantibodies[1]"]
    assert "patients[0].treatments[0]" in errors["patients[0].treatments[1]"]
    assert not AutoantibodyResult.objects.exists() and not TreatmentEpisode.objects.exists()


def test_the_same_antibody_twice_for_a_stored_patient_is_refused(site, coordinator):
    patient = store(site, patient_document("MAN-0001"))
    document = patient_document("MAN-0001")
    antibody = dict(document["autoantibodies"][0])
    document["autoantibodies"].append({**antibody, "result": "negative"})
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert "patients[0].autoantibodies[1]" in fields(response)
    assert list(patient.autoantibodies.values_list("result", flat=True)) == ["positive"]


def test_the_same_visit_date_twice_is_refused(site, coordinator):
    document = patient_document("MAN-0001", visits=2)
    document["visits"][1]["visit_date"] = document["visits"][0]["visit_date"]
    response = coordinator.post(SUBMISSIONS, {"site": "MAN", "patients": [document]}, format="json")
    assert response.status_code == 400
    assert "patients[0].visits[1].visit_date" in fields(response)
    assert not Visit.objects.exists()


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, status",
    [
        (f"/api/v1/patients/?page_size={HUGE}", 400),
        (f"/api/v1/visits/?patient={HUGE}", 400),
        (f"/api/v1/patients/{HUGE}/", 404),
        (f"/api/v1/visits/{HUGE}/", 404),
        ("/api/v1/patients/?updated_since=2021-W01-1", 400),
        ("/api/v1/visits/?updated_since=20210104", 400),
        ("/api/v1/visits/?updated_since=2021-W01-1T10:00", 400),
        ("/api/v1/visits/?updated_since=2021-01-04T10", 400),
    ],
)
def test_query_parameters_meet_hostile_values_with_a_4xx(site, coordinator, url, status):
    response = coordinator.get(url)
    assert response.status_code == status


@pytest.mark.parametrize(
    "value",
    ["2021-01-04", "2021-01-04T10:00", "2021-01-04T10:00:00Z", "2021-01-04T10:00:00.5+01:00"],
)
def test_updated_since_takes_dates_and_date_times(site, coordinator, value):
    response = coordinator.get("/api/v1/visits/", {"updated_since": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["2021-W01-1", "20210104", "2021-01-04T10"])
def test_audit_filters_take_only_iso_dates_and_date_times(db, value):
    from registry.models import Membership
    from tests.factories import UserFactory

    manager = MembershipFactory(
        user=UserFactory(), site=None, role=Membership.Role.DATA_MANAGER
    ).user
    response = token_client(manager).get("/api/v1/audit/", {"since": value})
    assert response.status_code == 400
    assert "since" in fields(response)
