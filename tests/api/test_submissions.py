"""POST /api/v1/submissions/: the submission document of docs/data-dictionary.md, per-patient all
or nothing."""

import copy
import hashlib
import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from crf.models import Visit
from registry.models import AuditEvent, Patient
from registry.tokens import IdempotencyRecord, request_digest
from tests.api.conftest import patient_document, token_client
from tests.factories import MembershipFactory, SiteFactory, UserFactory

URL = "/api/v1/submissions/"


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def submitter(site):
    return token_client(MembershipFactory(site=site, role="submitter").user)


def submit(client: APIClient, document, **extra):
    query = extra.pop("query", "")
    return client.post(URL + query, document, format="json", **extra)


def clinical_events():
    # Issuing the test's token is audited too; these are the events of clinical data.
    return AuditEvent.objects.exclude(object_type="registry.apitoken")


def errors_of(body: dict) -> dict[str, str]:
    return {item["field"]: item["message"] for item in body["errors"]}


def test_creates_patients_and_visits_and_answers_in_order(site, submitter):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=3),
                                            patient_document("MAN-0002", visits=1)]}  # fmt: skip
    response = submit(submitter, document)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [p["patient_id"] for p in body["patients"]] == ["MAN-0001", "MAN-0002"]
    assert [p["status"] for p in body["patients"]] == ["created", "created"]
    first = body["patients"][0]
    assert [v["visit_date"] for v in first["visits"]] == ["2020-01-08", "2020-02-08", "2020-03-08"]
    assert all(v["status"] == "created" for v in first["visits"])
    stored = Patient.objects.get(site=site, patient_id="MAN-0001")
    assert first["id"] == stored.pk
    assert [v["id"] for v in first["visits"]] == list(
        stored.visits.order_by("visit_date").values_list("pk", flat=True)
    )
    assert body["summary"] == {
        "patients": {"created": 2, "updated": 0, "unchanged": 0, "error": 0},
        "visits": {"created": 4, "updated": 0, "unchanged": 0, "error": 0},
    }
    assert body["errors"] == []
    # Written as the API, by the submitter, in the audit trail.
    event = AuditEvent.objects.get(object_type="registry.patient", object_id=stored.pk)
    assert (event.source, event.actor_id) == ("api", submitter.user.pk)


def test_resubmitting_the_same_document_changes_nothing(site, submitter):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=3)]}
    assert submit(submitter, document).status_code == 200
    events = clinical_events().count()
    visits = list(Visit.objects.values_list("pk", "version", "updated_at"))

    response = submit(submitter, copy.deepcopy(document))

    assert response.status_code == 200
    patient = response.json()["patients"][0]
    assert patient["status"] == "unchanged"
    assert [v["status"] for v in patient["visits"]] == ["unchanged"] * 3
    assert Patient.objects.count() == 1
    assert list(Visit.objects.values_list("pk", "version", "updated_at")) == visits
    assert clinical_events().count() == events


def test_a_changed_visit_is_updated_and_the_rest_unchanged(site, submitter):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2)]}
    submit(submitter, document)
    document["patients"][0]["visits"][1]["physician_global"] = 1.5
    document["patients"][0]["visits"][1]["reason"] = "corrected from the source notes"
    response = submit(submitter, document)
    assert response.status_code == 200, response.content
    patient = response.json()["patients"][0]
    assert patient["status"] == "updated"
    assert [v["status"] for v in patient["visits"]] == ["unchanged", "updated"]
    visit = Visit.objects.get(pk=patient["visits"][1]["id"])
    assert (str(visit.physician_global), visit.version) == ("1.5", 2)


def test_each_visit_document_is_read_once(site, submitter, monkeypatch):
    import crf.services
    import crf.submission.reading

    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2),
                                            patient_document("MAN-0002", visits=2)]}  # fmt: skip
    submit(submitter, document)
    paths = []

    def counted(reader):
        def read_visit(errors, path, *args, **kwargs):
            paths.append(path)
            return reader(errors, path, *args, **kwargs)

        return read_visit

    monkeypatch.setattr(crf.submission.reading, "read_visit",
                        counted(crf.submission.reading.read_visit))  # fmt: skip
    monkeypatch.setattr(crf.services, "read_visit", counted(crf.services.read_visit))
    document["patients"][1]["visits"][1].update(physician_global=1.5, reason="source notes")
    bad = patient_document("MAN-0003", visits=2, sex="f")
    document["patients"] += [bad, patient_document("MAN-0004", visits=1)]
    response = submit(submitter, document)
    assert [p["status"] for p in response.json()["patients"]] == [
        "unchanged", "updated", "error", "created"
    ]  # fmt: skip
    assert sorted(paths) == sorted(
        f"patients[{p}].visits[{v}]" for p, visits in enumerate((2, 2, 2, 1))
        for v in range(visits)
    )  # fmt: skip


def test_one_bad_patient_is_reported_and_the_others_are_stored(site, submitter):
    bad = patient_document("MAN-0002", visits=2)
    bad["visits"][1]["mmt8"]["deltoid"] = 7  # a unilateral grade on the bilateral scale
    bad["visits"][1]["labs"]["ck"]["uln"] = 0
    document = {"site": "MAN", "patients": [patient_document("MAN-0001"), bad,
                                            patient_document("MAN-0003")]}  # fmt: skip

    response = submit(submitter, document)

    assert response.status_code == 200
    body = response.json()
    assert [p["status"] for p in body["patients"]] == ["created", "error", "created"]
    failed = body["patients"][1]
    assert failed["id"] is None
    assert set(errors_of(failed)) == {
        "patients[1].visits[1].mmt8.deltoid",
        "patients[1].visits[1].labs.ck.uln",
    }
    # The bad visit carries its own errors; the good visit of the bad patient says why it was
    # not stored either.
    assert [v["status"] for v in failed["visits"]] == ["error", "error"]
    assert failed["visits"][0]["errors"][0]["field"] == "patients[1]"
    assert {e["field"] for e in failed["visits"][1]["errors"]} == set(errors_of(failed))
    assert failed["visits"][1]["scoring"] == {"status": "not_stored", "scores": []}
    assert errors_of(body) == errors_of(failed)
    assert body["summary"]["patients"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 1}
    assert sorted(Patient.objects.values_list("patient_id", flat=True)) == ["MAN-0001", "MAN-0003"]
    assert not AuditEvent.objects.filter(new_value__contains="MAN-0002").exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda p: p["visits"][0].update(physician_global=11), "visits[0].physician_global",
         "between 0 and 10"),
        (lambda p: p["visits"][0].update(physician_global="6"), "visits[0].physician_global",
         "number"),
        (lambda p: p["visits"][0].update(colour="blue"), "visits[0].colour", "Unknown field"),
        (lambda p: p.update(nickname="Jo"), "nickname", "Unknown field"),
        (lambda p: p["visits"][0].update(visit_date="2999-01-01"), "visits[0].visit_date",
         "future"),
        (lambda p: p["visits"][0].update(visit_date="1960-01-01"), "visits[0].visit_date",
         "before"),
        (lambda p: p["visits"][0]["mmt8"].update(scale="unilateral"),
         "visits[0].mmt8.deltoid", "unilateral scale takes one grade"),
        (lambda p: p["visits"][0]["haq"]["items"].update(walk=4), "visits[0].haq.items.walk",
         "between 0 and 3"),
        (lambda p: p.update(sex="f"), "sex", "Must be one of"),
        (lambda p: p["treatments"][0].update(drug="aspirin"), "treatments[0].drug",
         "Must be one of"),
        (lambda p: p["autoantibodies"][0].pop("result"), "autoantibodies[0].result", "required"),
        (lambda p: p.update(treatments={"drug": "ivig"}), "treatments", "list"),
        (lambda p: p.update(visits="2020-01-08"), "visits", "list"),
    ],
)  # fmt: skip
def test_invalid_fields_are_named_by_json_path_and_nothing_is_stored(
    site, submitter, change, field, message
):
    patient = patient_document("MAN-0001")
    change(patient)
    response = submit(submitter, {"site": "MAN", "patients": [patient]})
    # Nothing of the document was stored: 400.
    assert response.status_code == 400, response.content
    errors = errors_of(response.json())
    assert f"patients[0].{field}" in errors, errors
    assert message in errors[f"patients[0].{field}"]
    assert not Patient.objects.exists()
    assert not clinical_events().exists()


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], ""),
        ({"patients": []}, "site"),
        ({"site": "MAN"}, "patients"),
        ({"site": "MAN", "patients": {}}, "patients"),
        ({"site": "MAN", "patients": [], "extra": 1}, "extra"),
        ({"site": 7, "patients": []}, "site"),
    ],
)
def test_an_invalid_envelope_is_400(site, submitter, document, field):
    response = submit(submitter, document)
    assert response.status_code == 400
    assert field in errors_of(response.json())


def test_an_empty_list_of_patients_is_fine(site, submitter):
    response = submit(submitter, {"site": "MAN", "patients": []})
    assert response.status_code == 200
    assert response.json()["patients"] == []


def test_dry_run_validates_and_stores_nothing(site, submitter):
    bad = patient_document("MAN-0002")
    bad["visits"][0]["cmas"] = 60
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=3), bad]}

    response = submit(submitter, document, query="?dry_run=true")

    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True
    assert [p["status"] for p in body["patients"]] == ["created", "error"]
    created = body["patients"][0]
    # Ids of rows that were rolled back are never handed out.
    assert created["id"] is None and all(v["id"] is None for v in created["visits"])
    assert all(v["scoring"]["status"] == "preview" for v in created["visits"])
    assert "patients[1].visits[0].cmas" in errors_of(body)
    assert not Patient.objects.exists()
    assert not Visit.objects.exists()
    assert not clinical_events().exists()


def test_dry_run_previews_the_scores_that_would_be_computed(site, submitter):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2)]}
    body = submit(submitter, document, query="?dry_run=1").json()
    follow_up = body["patients"][0]["visits"][1]
    assert follow_up["scoring"]["status"] == "preview"
    (entry,) = follow_up["scoring"]["scores"]
    assert entry["reference_kind"] == "baseline"
    assert entry["reference_visit"]["date"] == "2020-01-08"
    # Physician global 6 → 5, patient global 5 → 4; everything else unchanged.
    assert entry["acr_eular"]["measures"]["physician_global"]["percent_improvement"] == 10.0
    assert not Visit.objects.exists()


def test_dry_run_of_a_stored_document_reports_unchanged_with_real_ids(site, submitter):
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2)]}
    first = submit(submitter, document).json()
    again = submit(submitter, document, query="?dry_run=true").json()
    assert again["patients"][0]["status"] == "unchanged"
    assert again["patients"][0]["id"] == first["patients"][0]["id"]


def test_dry_run_must_be_a_boolean(site, submitter):
    response = submit(submitter, {"site": "MAN", "patients": []}, query="?dry_run=maybe")
    assert response.status_code == 400
    assert "dry_run" in errors_of(response.json())


@pytest.mark.django_db(transaction=True)
def test_the_answer_has_the_scoring_status_and_scores_once_computed():
    site = SiteFactory(code="MAN")
    client = token_client(MembershipFactory(site=site, role="submitter").user)
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2)]}

    body = submit(client, document).json()

    baseline, follow_up = body["patients"][0]["visits"]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Scored on commit, in-process, before the answer was written.
        assert baseline["scoring"] == {"status": "scored", "scores": []}
        assert follow_up["scoring"]["status"] == "scored"
        (entry,) = follow_up["scoring"]["scores"]
        assert entry["status"] == "done"
        assert entry["imacs_doi"]["algorithm"] == "imacs-doi-2004"
        assert entry["acr_eular"]["algorithm"] == "acr-eular-2016"
    else:
        # Queued for a worker: what is due is listed as pending.
        assert follow_up["scoring"]["status"] in {"pending", "scored"}
        assert follow_up["scoring"]["scores"][0]["reference_visit"]["date"] == "2020-01-08"


class TestIdempotencyKey:
    def test_a_retry_gets_the_first_answer_and_stores_nothing_twice(self, site, submitter):
        document = {"site": "MAN", "patients": [patient_document("MAN-0001")]}
        first = submit(submitter, document, HTTP_IDEMPOTENCY_KEY="batch-17")
        events = clinical_events().count()

        retry = submit(submitter, document, HTTP_IDEMPOTENCY_KEY="batch-17")

        assert retry.status_code == first.status_code == 200
        assert retry.json() == first.json()  # "created", not "unchanged": the first answer
        assert retry["Idempotent-Replayed"] == "true"
        assert clinical_events().count() == events

    def test_the_same_key_with_another_body_is_refused(self, site, submitter):
        document = {"site": "MAN", "patients": [patient_document("MAN-0001")]}
        submit(submitter, document, HTTP_IDEMPOTENCY_KEY="k1")
        other = {"site": "MAN", "patients": [patient_document("MAN-0002")]}
        response = submit(submitter, other, HTTP_IDEMPOTENCY_KEY="k1")
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert not Patient.objects.filter(patient_id="MAN-0002").exists()

    def test_a_dry_run_and_a_real_run_are_different_requests(self, site, submitter):
        document = {"site": "MAN", "patients": [patient_document("MAN-0001")]}
        submit(submitter, document, HTTP_IDEMPOTENCY_KEY="k2", query="?dry_run=true")
        response = submit(submitter, document, HTTP_IDEMPOTENCY_KEY="k2")
        assert response.status_code == 422

    def test_keys_are_per_user(self, site, submitter):
        other = token_client(MembershipFactory(site=site, role="coordinator").user)
        submit(submitter, {"site": "MAN", "patients": [patient_document("MAN-0001")]},
               HTTP_IDEMPOTENCY_KEY="shared")  # fmt: skip
        response = submit(other, {"site": "MAN", "patients": [patient_document("MAN-0002")]},
                          HTTP_IDEMPOTENCY_KEY="shared")  # fmt: skip
        assert response.status_code == 200
        assert response.json()["patients"][0]["status"] == "created"

    def test_a_refused_request_does_not_use_up_the_key(self, site, submitter):
        response = submit(submitter, {"site": "NOPE", "patients": []}, HTTP_IDEMPOTENCY_KEY="k3")
        assert response.status_code == 404
        response = submit(submitter, {"site": "NOPE", "patients": []}, HTTP_IDEMPOTENCY_KEY="k3")
        assert response.status_code == 404

    def test_a_key_still_in_progress_answers_409(self, site, submitter):
        body = json.dumps({"site": "MAN", "patients": []}).encode()
        IdempotencyRecord.objects.create(
            user=submitter.user, key="busy", request_digest=_digest_of(body)
        )
        response = submitter.post(
            URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="busy"
        )
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_in_progress"

    def test_an_invalid_key_is_400(self, site, submitter):
        response = submit(submitter, {"site": "MAN", "patients": []},
                          HTTP_IDEMPOTENCY_KEY="has space")  # fmt: skip
        assert response.status_code == 400
        assert "Idempotency-Key" in errors_of(response.json())


def _digest_of(body: bytes) -> str:
    return request_digest(b"POST", URL.encode(), b"", hashlib.sha256(body).hexdigest().encode())


class TestBadBodies:
    def test_malformed_json_is_400(self, site, submitter):
        response = submitter.post(
            URL, b'{"site": "MAN", "patients": [', content_type="application/json"
        )
        assert response.status_code == 400
        assert "Malformed JSON" in response.json()["detail"]

    def test_not_utf8_is_400(self, site, submitter):
        response = submitter.post(URL, b'{"site": "\xff"}', content_type="application/json")
        assert response.status_code == 400

    def test_deeply_nested_json_is_400(self, site, submitter):
        response = submitter.post(URL, b"[" * 100000 + b"]" * 100000,
                                  content_type="application/json")  # fmt: skip
        assert response.status_code == 400

    def test_not_json_is_415(self, site, submitter):
        response = submitter.post(
            URL, b"site=MAN", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 415
        response = submitter.post(URL, b"<xml/>", content_type="text/xml")
        assert response.status_code == 415

    def test_nan_is_an_error_on_its_field(self, site, submitter):
        body = json.dumps({"site": "MAN", "patients": [patient_document("MAN-0001")]})
        body = body.replace('"physician_global": 6.0', '"physician_global": NaN')
        response = submitter.post(URL, body, content_type="application/json")
        assert response.status_code == 400
        assert "patients[0].visits[0].physician_global" in errors_of(response.json())

    def test_text_a_database_cannot_hold_is_400_with_its_path(self, site, submitter):
        # Found by schemathesis on PostgreSQL: NUL and unpaired surrogates are valid JSON.
        body = json.dumps({"site": "MAN", "patients": [patient_document("MAN-0001")]})
        for bad in ("MAN\\u0000", "MAN\\ud800"):
            response = submitter.post(URL, body.replace("MAN-0001", bad),
                                      content_type="application/json")  # fmt: skip
            assert response.status_code == 400, bad
            assert errors_of(response.json()) == {
                "patients[0].patient_id": "Must be text without NUL characters or unpaired "
                "surrogates."
            }
        response = submitter.post(URL, body.replace("MAN-0001", "MAN-\\ud835\\udd10"),
                                  content_type="application/json")  # fmt: skip
        # A surrogate pair is a character (𝔐; an emoji would be, but an id refuses emoji).
        assert response.status_code == 200
        assert Patient.objects.get().patient_id == "MAN-\U0001d510"

    def test_a_body_over_the_limit_is_413_and_nothing_is_stored(self, site, submitter, settings):
        settings.API_MAX_BODY_BYTES = 2000
        document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=3)]}
        response = submit(submitter, document)
        assert response.status_code == 413
        assert "2000 bytes" in response.json()["detail"]
        assert not Patient.objects.exists()

    def test_the_limit_holds_without_content_length(self, site, submitter, settings):
        # A body that announces less than it sends is cut off by the limit while reading.
        from io import BytesIO

        from api.parsers import RequestTooLarge, read_limited

        settings.API_MAX_BODY_BYTES = 1000
        with pytest.raises(RequestTooLarge):
            read_limited(BytesIO(b"x" * 5000), {"request": None})
        assert read_limited(BytesIO(b"x" * 1000), {"request": None}) == b"x" * 1000

    def test_a_url_without_the_trailing_slash_works(self, site, submitter):
        response = submitter.post(URL.rstrip("/"), {"site": "MAN", "patients": []}, format="json")
        assert response.status_code == 200


def test_a_patient_id_belongs_to_its_site(db):
    # The same site patient id at two sites is two patients; a submitter writes only its own.
    man, lds = SiteFactory(code="MAN"), SiteFactory(code="LDS")
    user = UserFactory()
    MembershipFactory(user=user, site=man, role="submitter")
    client = token_client(user)
    submit(client, {"site": "MAN", "patients": [patient_document("P-1")]})
    response = submit(client, {"site": "LDS", "patients": [patient_document("P-1")]})
    assert response.status_code == 404
    assert list(Patient.objects.values_list("site__code", flat=True)) == ["MAN"]
    assert not lds.patients.exists()
