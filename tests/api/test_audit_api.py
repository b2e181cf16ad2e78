"""GET /api/v1/audit/: the audit trail for data managers — every filter, paging through it, and
everyone else refused."""

import base64
import csv
import io
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from crf.services import query_raise, visit_verify
from crf.submission import patient_document_save
from registry.audit import Actor
from registry.models import AuditEvent
from scoring.services import score_patients
from tests.api.conftest import World
from tests.conftest import EXAMPLE_PATIENT

URL = "/api/v1/audit/"


@pytest.fixture
def trail(world: World, django_capture_on_commit_callbacks) -> World:
    """Events of every source at both sites, besides the world's "command" ones of storing its
    patients."""
    people = world.people
    visit_verify(actor=Actor(people["monitor"], "web"), visit=world.own_visit)
    follow_up = world.own_patient.visits.get(kind="follow_up")
    # The change is scored when it commits (eagerly on SQLite): the "scoring" events.
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("coordinator").patch(
            f"/api/v1/visits/{follow_up.pk}/",
            {"version": 1, "reason": "transcription error", "instruments": {
                "physician_global": 3.5}},
            format="json",
        )  # fmt: skip
    assert response.status_code == 200, response.content
    # With a real broker (the PostgreSQL run) the request for scoring is queued for a worker
    # this test does not start: score here, as the worker would.
    score_patients(patient_ids=[world.own_patient.pk])
    query_raise(
        actor=Actor(people["data_manager"], "admin"),
        visit=world.other_visit,
        field="labs.ck.value",
        text="=HYPERLINK(1)",
    )
    # An import's events (interchange.redcap): the one writer, with the source "import".
    patient_document_save(
        actor=Actor(people["data_manager"], "import"),
        site=world.own_patient.site,
        data={**EXAMPLE_PATIENT, "patient_id": "MAN-IMPORTED", "visits": []},
    )
    return world


def walk(client: APIClient, **params: object) -> list[dict]:
    """Every event, following `next` to the end; fails on any page that is not 200."""
    response = client.get(URL, params)
    events = []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        events += body["results"]
        if body["next"] is None:
            return events
        response = client.get(body["next"])


def ids(events: list[dict]) -> list[int]:
    return [event["id"] for event in events]


def expected(**filters: object) -> list[int]:
    """The ids the API should answer, read from the table directly (not through the selector)."""
    return list(
        AuditEvent.objects.filter(**filters).order_by("at", "id").values_list("id", flat=True)
    )


def fields_of(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- what a data manager reads -----------------------------------------------------------------


def test_data_manager_reads_every_event_oldest_first(trail):
    events = walk(trail.client("data_manager"))
    assert ids(events) == expected()
    assert len(events) == AuditEvent.objects.count() > 20
    moments = [event["at"] for event in events]
    assert moments == sorted(moments)


def test_events_of_every_source_appear_with_their_site_code_and_actor(trail):
    events = walk(trail.client("data_manager"))
    assert {event["source"] for event in events} == set(AuditEvent.Source.values)
    change = next(e for e in events if e["source"] == "api" and e["field"] == "physician_global")
    follow_up = trail.own_patient.visits.get(kind="follow_up")
    assert change == {
        "id": change["id"],
        "at": change["at"],
        "actor": "coordinator-man",
        "source": "api",
        "action": "update",
        "site": "MAN",
        "patient_id": trail.own_patient.pk,
        "object_type": "crf.visit",
        "object_id": follow_up.pk,
        "field": "physician_global",
        "old_value": "5",
        "new_value": "3.5",
        "reason": "transcription error",
    }
    created = next(e for e in events if e["source"] == "command")
    assert created["actor"] is None and created["action"] == "create"
    assert created["new_value"].startswith("{") and created["old_value"] is None
    admin = next(e for e in events if e["source"] == "admin")
    assert (admin["site"], admin["actor"], admin["object_type"]) == (
        "LDS",
        "datamanager",
        "crf.dataquery",
    )
    # An event without a site (a command's own record, say) answers null, not an error.
    AuditEvent.objects.create(
        source="command", action="update", object_type="registry.site", object_id=trail.own.pk,
        field="name", old_value="a", new_value="b",
    )  # fmt: skip
    events = walk(trail.client("data_manager"), object_type="registry.site")
    assert [(e["site"], e["patient_id"], e["field"]) for e in events] == [(None, None, "name")]


# Each filter as (query parameters, the same filter on the table), given the world.
FILTERS = {
    "site": lambda w: ({"site": "LDS"}, {"site_id": w.other.pk}),
    "site and source": lambda w: (
        {"site": "MAN", "source": "web"},
        {"site_id": w.own.pk, "source": "web"},
    ),
    "patient": lambda w: ({"patient": w.own_patient.pk}, {"patient_id": w.own_patient.pk}),
    "object_type": lambda w: ({"object_type": "crf.visit"}, {"object_type": "crf.visit"}),
    "object": lambda w: (
        {"object_type": "crf.visit", "object_id": w.own_visit.pk},
        {"object_type": "crf.visit", "object_id": w.own_visit.pk},
    ),
    "source scoring": lambda w: ({"source": "scoring"}, {"source": "scoring"}),
    "source command": lambda w: ({"source": "command"}, {"source": "command"}),
    "action": lambda w: ({"action": "update"}, {"action": "update"}),
    "actor": lambda w: ({"actor": "monitor-man"}, {"actor": w.people["monitor"]}),
    "actor and site": lambda w: (
        {"actor": "datamanager", "site": "LDS"},
        {"actor": w.people["data_manager"], "site_id": w.other.pk},
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_answers_exactly_the_matching_events(trail, name):
    client = trail.client("data_manager")  # first: issuing its token is audited too
    params, condition = FILTERS[name](trail)
    wanted = expected(**condition)
    assert wanted, "the fixture should hold events this filter finds"
    assert len(wanted) < AuditEvent.objects.count()
    assert ids(walk(client, **params, page_size=7)) == wanted


def test_filters_combine(trail):
    found = walk(trail.client("data_manager"), site="MAN", action="create", source="command")
    assert ids(found) == expected(site_id=trail.own.pk, action="create", source="command")
    assert walk(trail.client("data_manager"), site="LDS", actor="monitor-man") == []


# --- since and until ---------------------------------------------------------------------------

MOMENTS = [
    datetime(2021, 3, 3, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2021, 3, 4, 0, 0, tzinfo=UTC),
    datetime(2021, 3, 4, 12, 0, tzinfo=UTC),
    datetime(2021, 3, 4, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2021, 3, 5, 0, 0, tzinfo=UTC),
]


@pytest.fixture
def timed(world: World) -> dict[datetime, int]:
    """One event at each of MOMENTS (the trail is append-only: written at the time, not moved)."""
    made = {}
    for moment in MOMENTS:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            event = AuditEvent.objects.create(
                source="web", action="update", object_type="crf.visit", object_id=1,
                field="cmas", old_value="1", new_value="2",
            )  # fmt: skip
        made[moment] = event.pk
    return made


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        # A date is the whole UTC day, at both ends, as the CSV export reads it.
        ({"since": "2021-03-04", "until": "2021-03-04"}, [1, 2, 3]),
        ({"since": "2021-03-04"}, [1, 2, 3, 4]),
        ({"until": "2021-03-03"}, [0]),
        # A date-time is that instant, included at both ends.
        ({"since": "2021-03-04T12:00:00Z"}, [2, 3, 4]),
        ({"until": "2021-03-04T12:00:00Z"}, [0, 1, 2]),
        ({"since": "2021-03-04T12:00:00.000001Z", "until": "2021-03-05T00:00:00Z"}, [3, 4]),
        # With an offset it is converted; without one it is UTC.
        ({"since": "2021-03-04T13:00:00+01:00", "until": "2021-03-04T12:00:00"}, [2]),
        ({"until": "2021-03-04T00:00:00-00:30"}, [0, 1]),
        ({"since": "2021-03-04T12:00:00Z", "until": "2021-03-04"}, [2, 3]),
    ],
)
def test_since_and_until_are_inclusive_and_a_date_is_a_whole_utc_day(world, timed, params, wanted):
    found = ids(walk(world.client("data_manager"), **params))
    assert [pk for pk in found if pk in timed.values()] == [timed[MOMENTS[i]] for i in wanted]


def test_the_csv_export_and_the_api_answer_the_same_events(client, world, timed):
    client.force_login(world.people["data_manager"])
    response = client.get(
        reverse("web:audit-export"), {"site": world.own.pk, "since": "2020-01-01"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    api = walk(world.client("data_manager"), site="MAN", since="2020-01-01")
    assert [int(row[0]) for row in rows] == ids(api) != []
    response = client.get(
        reverse("web:audit-export"), {"since": "2021-03-04", "until": "2021-03-04"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    api = walk(world.client("data_manager"), since="2021-03-04", until="2021-03-04")
    assert [int(row[0]) for row in rows] == ids(api) == [timed[m] for m in MOMENTS[1:4]]


# --- paging ------------------------------------------------------------------------------------


def test_pages_walk_every_event_once_in_order(trail):
    client = trail.client("data_manager")
    first = client.get(URL, {"page_size": 4}).json()
    assert len(first["results"]) == 4 and first["previous"] is None
    found = walk(client, page_size=4)
    assert ids(found) == expected()
    assert len(set(ids(found))) == len(found)


def test_events_sharing_one_instant_page_without_loss_or_repeat(world):
    # A bulk submission stamps all its events with one time (crf/submission): more of them
    # than a page, and more than DRF's cursor offset cap of 1000 would allow.
    moment = datetime(2022, 5, 1, 8, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):  # auto_now_add's clock
        AuditEvent.objects.bulk_create(
            AuditEvent(source="api", action="create", object_type="crf.visit", object_id=n,
                       site_id=world.own.pk)
            for n in range(1, 1202)
        )  # fmt: skip
    assert AuditEvent.objects.filter(at=moment).count() == 1201
    found = walk(world.client("data_manager"), since=moment.isoformat(), page_size=500)
    assert ids(found) == expected(at__gte=moment)
    assert [e["object_id"] for e in found if e["at"].startswith("2022-05-01")] == list(
        range(1, 1202)
    )


def test_previous_leads_back_to_the_page_before(trail):
    client = trail.client("data_manager")
    first = client.get(URL, {"page_size": 5}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    back = client.get(third["previous"]).json()
    assert ids(back["results"]) == ids(second["results"])
    again = client.get(back["previous"]).json()
    assert ids(again["results"]) == ids(first["results"])
    assert again["previous"] is None
    assert ids(client.get(again["next"]).json()["results"]) == ids(second["results"])


def test_the_number_of_queries_does_not_grow_with_the_page(trail):
    client = trail.client("data_manager")
    client.get(URL)  # the token's first use records it: a query the later requests skip
    counts = []
    for size in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        assert {event["site"] for event in response.json()["results"]} - {None}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # The address's failed-token count (in the cache every process shares: a table of the
    # database unless CACHE_URL is set), the token, the role, the page with its actors, the page's
    # site codes; two more to look up a site code and a username given as filters.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"page_size": 1000, "site": "MAN", "actor": "monitor-man"})
    assert response.status_code == 200 and response.json()["results"]
    assert len(queries) <= 7, [query["sql"] for query in queries]


# --- who may read it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["coordinator", "investigator", "monitor", "submitter", "outsider"]
)
def test_everyone_but_data_managers_is_refused(trail, role):
    response = trail.client(role).get(URL)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "The audit trail is for data managers only.",
        "code": "permission_denied",
    }
    # Refused before the filters are read: a role that may not learns nothing from them either.
    assert trail.client(role).get(URL, {"site": "nowhere"}).status_code == 403


def test_without_credentials_it_is_401(trail):
    assert APIClient().get(URL).status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get(URL).status_code == 401
    assert APIClient().get(URL.rstrip("/")).status_code == 401


def test_the_slashless_alias_answers_the_same(trail):
    client = trail.client("data_manager")
    alias = client.get(URL.rstrip("/"), {"source": "web"})
    assert alias.status_code == 200
    assert alias.json() == client.get(URL, {"source": "web"}).json()


# --- bad filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"site": "XXX"}, "site"),
        ({"site": ""}, "site"),
        ({"site": "MAN\x00"}, "site"),
        ({"patient": "MAN-0001"}, "patient"),
        ({"patient": "0"}, "patient"),
        ({"patient": "²"}, "patient"),
        ({"patient": str(2**63)}, "patient"),
        ({"object_type": "Visit"}, "object_type"),
        ({"object_type": "crf.visit; drop"}, "object_type"),
        ({"object_type": "crf.visit", "object_id": "x"}, "object_id"),
        ({"object_id": "3"}, "object_id"),
        ({"source": "email"}, "source"),
        ({"action": "edit"}, "action"),
        ({"actor": "nobody"}, "actor"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2021-02-30"}, "since"),
        # An unencoded + in a query string arrives as a space.
        ({"until": "2021-03-04T10:00:00 01:00"}, "until"),
        ({"since": "2021-03-05", "until": "2021-03-04"}, "until"),
        ({"since": "2021-03-04T10:00:00Z", "until": "2021-03-04T09:59:59Z"}, "until"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "²"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
        # Well-formed but without a time zone, or an id that is not a number.
        ({"cursor": base64.urlsafe_b64encode(b"n|2021-03-04T00:00:00|1").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"n|2021-03-04T00:00:00+00:00|x").decode()}, "cursor"),
    ],
)
def test_a_bad_filter_is_400_naming_it(trail, params, field):
    response = trail.client("data_manager").get(URL, params)
    assert response.status_code == 400, response.content
    assert fields_of(response) == [field]
    assert response.json()["errors"][0]["message"]


def test_every_bad_filter_is_named_at_once(trail):
    response = trail.client("data_manager").get(
        URL, {"site": "XXX", "source": "email", "since": "soon", "actor": "nobody"}
    )
    assert response.status_code == 400
    assert sorted(fields_of(response)) == ["actor", "since", "site", "source"]
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["source"] == "Must be one of web, api, admin, command, scoring, import."
    assert messages["site"] == "No site with this code."


def test_filters_that_are_fine_but_match_nothing_answer_an_empty_page(trail):
    client = trail.client("data_manager")
    for params in (
        {"patient": "999999"},
        {"object_type": "crf.nothing", "object_id": "1"},
        {"since": "9999-12-31"},
        {"until": "0001-01-01"},
    ):
        response = client.get(URL, params)
        assert response.status_code == 200, params
        assert response.json() == {"next": None, "previous": None, "results": []}


def test_digits_int_refuses_are_a_bad_parameter_not_a_server_error(world):
    # str.isdigit accepts "²"; the id and page-size parsers shared with the audit list once
    # passed it to int(), a 500 on every list and detail endpoint.
    client = world.client("coordinator")
    assert fields_of(client.get("/api/v1/visits/", {"patient": "²"})) == ["patient"]
    assert fields_of(client.get("/api/v1/patients/", {"page_size": "²"})) == ["page_size"]
    assert client.get("/api/v1/visits/²/").status_code == 404
    assert client.get("/api/v1/patients/²/").status_code == 404


def test_the_endpoint_is_in_the_openapi_schema_with_its_filters(db):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/audit/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "site", "patient", "object_type", "object_id", "source", "action", "since", "until",
        "actor", "cursor", "page_size",
    }  # fmt: skip
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    assert set(schema["components"]["schemas"]["AuditEvent"]["properties"]) == {
        "id", "at", "actor", "source", "action", "site", "patient_id", "object_type",
        "object_id", "field", "old_value", "new_value", "reason",
    }  # fmt: skip
    assert "/api/v1/audit" not in schema["paths"]  # the slash-less alias is not
