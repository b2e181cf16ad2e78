"""PATCH /api/v1/visits/{id}/: a merge patch of what was read, against the version read."""

import pytest

from crf.models import HAQ, Visit
from crf.services import visit_sign, visit_verify
from registry.audit import Actor
from registry.models import AuditEvent
from tests.api.conftest import patient_document, store, token_client
from tests.factories import MembershipFactory, SiteFactory


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN")


@pytest.fixture
def coordinator(site):
    return token_client(MembershipFactory(site=site, role="coordinator").user)


@pytest.fixture
def visit(site) -> Visit:
    return store(site, patient_document("MAN-0001", visits=2)).visits.get(kind="follow_up")


def patch(client, visit, body, **kwargs):
    return client.patch(f"/api/v1/visits/{visit.pk}/", body, format="json", **kwargs)


def errors_of(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_a_change_against_the_current_version_is_stored_audited_and_returned(coordinator, visit):
    response = patch(coordinator, visit, {
        "version": 1, "reason": "transcription error",
        "instruments": {"physician_global": 3.5, "labs": {"ck": {"value": 1500}}},
    })  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["instruments"]["physician_global"] == 3.5
    assert body["instruments"]["labs"]["ck"] == {"value": 1500, "unit": "U/L", "uln": 200}
    assert body["instruments"]["labs"]["aldolase"]["value"] == 15.2  # merged, not replaced
    visit.refresh_from_db()
    assert (str(visit.physician_global), visit.version) == ("3.5", 2)
    event = AuditEvent.objects.get(object_type="crf.visit", object_id=visit.pk,
                                   field="physician_global")  # fmt: skip
    assert (event.old_value, event.new_value) == ("5", "3.5")
    assert (event.source, event.reason, event.actor_id) == (
        "api",
        "transcription error",
        coordinator.user.pk,
    )


def test_a_stale_version_is_409_and_nothing_is_stored(coordinator, visit):
    assert patch(coordinator, visit, {"version": 1, "reason": "first",
                                      "instruments": {"cmas": 30}}).status_code == 200  # fmt: skip
    response = patch(coordinator, visit, {"version": 1, "reason": "second",
                                          "instruments": {"cmas": 31}})  # fmt: skip
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    visit.refresh_from_db()
    assert (visit.cmas, visit.version) == (30, 2)


def test_null_removes_an_instrument(coordinator, visit):
    response = patch(coordinator, visit, {"version": 1, "reason": "HAQ was not done",
                                          "instruments": {"haq": None}})  # fmt: skip
    assert response.status_code == 200
    assert "haq" not in response.json()["instruments"]
    assert not HAQ.objects.filter(visit=visit).exists()


def test_the_merge_patch_media_type_is_accepted(coordinator, visit):
    import json

    response = coordinator.generic(
        "PATCH", f"/api/v1/visits/{visit.pk}/",
        json.dumps({"version": 1, "reason": "typo", "kind": "unscheduled"}),
        content_type="application/merge-patch+json",
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["kind"] == "unscheduled"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reason": "x", "instruments": {"cmas": 1}}, "version", "required"),
        ({"version": "1", "reason": "x"}, "version", "number"),
        ({"version": 1, "colour": "red"}, "colour", "Unknown field"),
        ({"version": 1, "reason": "x", "instruments": {"colour": "red"}}, "instruments.colour",
         "Unknown field"),
        ({"version": 1, "reason": "x", "instruments": {"mmt8": {"deltoid": {"left": 11}}}},
         "instruments.mmt8.deltoid.left", "between 0 and 10"),
        ({"version": 1, "reason": "x", "instruments": []}, "instruments", "object"),
        ({"version": 1, "reason": "x", "instruments": {"visit_date": "2020-02-09"}},
         "instruments.visit_date", "Unknown field"),
        ({"version": 1, "reason": "x", "visit_date": "2999-01-01"}, "visit_date", "future"),
        ({"version": 1, "reason": "x", "visit_date": "2020-01-08"}, "visit_date", "already"),
        ({"version": 1, "instruments": {"cmas": 1}}, "reason", "reason"),
    ],
)  # fmt: skip
def test_invalid_changes_are_400_with_the_path_in_the_patch(coordinator, visit, body, field,
                                                            message):  # fmt: skip
    response = patch(coordinator, visit, body)
    assert response.status_code == 400, response.content
    errors = errors_of(response)
    assert field in errors, errors
    assert message in errors[field]
    visit.refresh_from_db()
    assert visit.version == 1


def test_a_locked_visit_is_409(site, coordinator, visit):
    monitor = MembershipFactory(site=site, role="monitor").user
    investigator = MembershipFactory(site=site, role="investigator").user
    visit_verify(actor=Actor(monitor, "web"), visit=visit)
    visit_sign(actor=Actor(investigator, "web"), visit=visit, password="pw", meaning="approval")
    visit.refresh_from_db()
    response = patch(coordinator, visit, {"version": visit.version, "reason": "late change",
                                          "instruments": {"cmas": 1}})  # fmt: skip
    assert response.status_code == 409
    assert response.json()["code"] == "locked"


def test_an_unchanged_locked_visit_resubmitted_is_unchanged(site, visit):
    # Re-sending a site's whole export after a visit was signed must not fail the patient.
    monitor = MembershipFactory(site=site, role="monitor").user
    investigator = MembershipFactory(site=site, role="investigator").user
    visit_verify(actor=Actor(monitor, "web"), visit=visit)
    visit_sign(actor=Actor(investigator, "web"), visit=visit, password="pw", meaning="approval")
    submitter = token_client(MembershipFactory(site=site, role="submitter").user)
    document = {"site": "MAN", "patients": [patient_document("MAN-0001", visits=2)]}
    body = submitter.post("/api/v1/submissions/", document, format="json").json()
    assert body["patients"][0]["status"] == "unchanged"
    document["patients"][0]["visits"][1]["cmas"] = 12
    document["patients"][0]["visits"][1]["reason"] = "late"
    body = submitter.post("/api/v1/submissions/", document, format="json").json()
    assert body["patients"][0]["status"] == "error"
    assert "locked" in body["errors"][0]["message"]
