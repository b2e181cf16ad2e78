"""Trial-style endpoints (reports.endpoints): the rule on hand-made records, then on the
cohort of tests/reports/conftest.py, versions, and the API (`/api/v1/endpoints/` and
`?endpoint=` on the outcomes report)."""

from datetime import date, timedelta
from decimal import Decimal
from math import sqrt

import pytest

from registry.audit import Actor
from registry.errors import InputError
from registry.models import AuditEvent, TreatmentEpisode
from reports.endpoints import Parameters, Record, endpoint_lookup, evaluate, respond
from reports.models import EndpointDefinition
from reports.selectors import DOI, TIS, WORSENING
from reports.services import endpoint_define

START = date(2021, 1, 1)


def tis(day: int, score: float | None, category: str = "", *, done: bool = True) -> Record:
    value = None if score is None else Decimal(str(score))
    return Record(TIS, done, START + timedelta(days=day), None, value, category, None)


def worse(day: int, confirmed: bool) -> Record:
    return Record(WORSENING, True, START + timedelta(days=day), None, None, "",
                  confirmed)  # fmt: skip


PRODERM = Parameters("tis", Decimal("20.0"), "", 16, 4, False, True)


def test_responder_at_week_16_within_the_window():
    # Day 112 is week 16; days 84 and 140 are its window's ends.
    assert respond(PRODERM, START, [tis(84, 25)]) is True
    assert respond(PRODERM, START, [tis(140, 20)]) is True
    assert respond(PRODERM, START, [tis(112, 19.5)]) is False


def test_outside_the_window_is_not_evaluable():
    assert respond(PRODERM, START, [tis(83, 60), tis(141, 60)]) is None
    assert respond(PRODERM, START, []) is None


def test_the_nearest_visit_decides_and_the_earlier_of_two_equally_near():
    assert respond(PRODERM, START, [tis(90, 10), tis(110, 30)]) is True
    assert respond(PRODERM, START, [tis(90, 30), tis(110, 10)]) is False
    assert respond(PRODERM, START, [tis(102, 30), tis(122, 10)]) is True


def test_record_not_done_is_a_non_responder():
    assert respond(PRODERM, START, [tis(112, 50, done=False)]) is False


def test_confirmed_deterioration_up_to_the_horizon_makes_a_non_responder():
    assert respond(PRODERM, START, [tis(112, 50), worse(60, True)]) is False
    assert respond(PRODERM, START, [tis(112, 50), worse(60, False)]) is True
    # After the horizon and after the evaluated visit: not counted.
    assert respond(PRODERM, START, [tis(112, 50), worse(130, True)]) is True
    # The evaluated visit after the horizon: up to that visit.
    assert respond(PRODERM, START, [tis(120, 50), worse(120, True)]) is False
    without = Parameters("tis", Decimal("20.0"), "", 16, 4, False, False)
    assert respond(without, START, [tis(112, 50), worse(60, True)]) is True


def test_consecutive_visits_rule():
    rule = Parameters("category", None, "moderate", 16, 4, True, False)
    assert respond(rule, START, [tis(56, 40, "moderate"), tis(112, 45, "moderate")]) is True
    assert respond(rule, START, [tis(56, 40, "minimal"), tis(112, 45, "major")]) is False
    # No visit before the evaluated one.
    assert respond(rule, START, [tis(112, 45, "major")]) is False
    # The visit just before, not any earlier one.
    assert (
        respond(rule, START, [tis(28, 40, "major"), tis(56, 10, "none"), tis(112, 45, "major")])
        is False
    )
    single = Parameters("category", None, "moderate", 16, 4, False, False)
    assert respond(single, START, [tis(112, 45, "major")]) is True


def test_doi_measure():
    rule = Parameters("doi", None, "", 12, 2, False, False)
    met = Record(DOI, True, START + timedelta(days=84), True, None, "", None)
    not_met = Record(DOI, True, START + timedelta(days=84), False, None, "", None)
    assert respond(rule, START, [met]) is True
    assert respond(rule, START, [not_met]) is False
    assert respond(rule, START, [tis(84, 90)]) is None


# ---------------------------------------------------------------------------------------------
# On the cohort (scored by the pipeline)


def _verdicts(parameters: Parameters | EndpointDefinition) -> dict[int, bool | None]:
    return evaluate(parameters, TreatmentEpisode.objects.all())


@pytest.mark.django_db
def test_proderm_is_built_in_and_evaluated_on_the_cohort(cohort):
    proderm = endpoint_lookup("proderm")
    assert (proderm.version, Parameters.of(proderm)) == (1, PRODERM)
    verdicts = _verdicts(proderm)
    # E1: its visits on days 80 and 170, none within days 84-140. E2: day 84, TIS 22.5.
    # E3: no baseline, no record. E4: day 83 only. E5: day 90, TIS 50. E6: day 89, pending.
    assert verdicts.get(cohort["E1"]) is None
    assert verdicts[cohort["E2"]] is True
    assert cohort["E3"] not in verdicts
    assert verdicts.get(cohort["E4"]) is None
    assert verdicts[cohort["E5"]] is True
    assert verdicts[cohort["E6"]] is False


@pytest.mark.django_db
def test_confirmed_deterioration_and_consecutive_visits_on_the_cohort(cohort):
    # E4: week 24 is day 168, its visit on day 174 scores TIS 0; deterioration confirmed then.
    any_score = Parameters("tis", Decimal("0.0"), "", 24, 4, False, False)
    assert _verdicts(any_score)[cohort["E4"]] is True
    deterioration = Parameters("tis", Decimal("0.0"), "", 24, 4, False, True)
    assert _verdicts(deterioration)[cohort["E4"]] is False
    # E1 at week 24 (day 170, moderate) after day 80 (minimal): two consecutive visits.
    # E5 (juvenile) at week 13 (day 90, moderate) has no visit before it.
    consecutive = Parameters("category", None, "minimal", 24, 4, True, False)
    assert _verdicts(consecutive)[cohort["E1"]] is True
    early = Parameters("category", None, "minimal", 13, 2, True, False)
    assert _verdicts(early)[cohort["E5"]] is False
    assert (
        _verdicts(Parameters("category", None, "minimal", 13, 2, False, False))[cohort["E5"]]
        is True
    )


ACTOR_FIELDS = {"measure": "tis", "threshold": 0, "horizon_weeks": 12, "window_weeks": 4}


@pytest.mark.django_db
def test_versions_keep_old_results(cohort, people):
    actor = Actor(user=people["inv_a"], source="api")
    first, created = endpoint_define(actor=actor, data={"name": "early", **ACTOR_FIELDS})
    assert (first.version, created) == (1, True)
    before = _verdicts(first)
    same, created = endpoint_define(actor=actor, data={"name": "early", **ACTOR_FIELDS})
    assert (same.pk, created) == (first.pk, False)
    changed = {**ACTOR_FIELDS, "threshold": 30}
    second, created = endpoint_define(actor=actor, data={"name": "early", **changed})
    assert (second.version, created) == (2, True)
    assert endpoint_lookup("early").pk == second.pk
    assert endpoint_lookup("early@1").pk == first.pk
    assert _verdicts(endpoint_lookup("early@1")) == before
    assert _verdicts(second) != before
    assert EndpointDefinition.objects.filter(name="early").count() == 2
    audited = AuditEvent.objects.filter(object_type="reports.endpointdefinition")
    assert sorted(audited.values_list("object_id", flat=True)) == [first.pk, second.pk]
    with pytest.raises(InputError) as error:
        endpoint_lookup("early@3")
    assert error.value.errors[0][0] == "endpoint"


# ---------------------------------------------------------------------------------------------
# API

ENDPOINTS = "/api/v1/endpoints/"
OUTCOMES = "/api/v1/reports/outcomes-by-treatment/"


@pytest.mark.django_db
def test_list_and_create(client, people):
    client.force_login(people["inv_a"])
    listed = client.get(ENDPOINTS).json()["results"]
    proderm = next(item for item in listed if item["name"] == "proderm")
    assert proderm["version"] == 1 and proderm["created_by"] is None
    assert proderm["parameters"] == {
        "measure": "tis", "threshold": 20.0, "category": None, "horizon_weeks": 16,
        "window_weeks": 4, "consecutive": False, "deterioration": True,
    }  # fmt: skip
    body = {"name": "major-24", "measure": "category", "category": "major",
            "horizon_weeks": 24, "window_weeks": 4, "consecutive": True}  # fmt: skip
    created = client.post(ENDPOINTS, body, content_type="application/json")
    assert created.status_code == 201
    assert (created.json()["version"], created.json()["created_by"]) == (1, "inv-a")
    again = client.post(ENDPOINTS, body, content_type="application/json")
    assert (again.status_code, again.json()["version"]) == (200, 1)
    other = client.post(ENDPOINTS, {**body, "window_weeks": 2}, content_type="application/json")
    assert (other.status_code, other.json()["version"]) == (201, 2)
    names = [(i["name"], i["version"]) for i in client.get(ENDPOINTS).json()["results"]]
    assert ("major-24", 1) in names and ("major-24", 2) in names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"measure": "haq"}, "measure"),
        ({"threshold": None}, "threshold"),
        ({"threshold": 120}, "threshold"),
        ({"category": "minimal"}, "category"),
        ({"horizon_weeks": 0}, "horizon_weeks"),
        ({"horizon_weeks": "x"}, "horizon_weeks"),
        ({"window_weeks": 20}, "window_weeks"),
        ({"consecutive": "yes"}, "consecutive"),
    ],
)
def test_bad_input_names_the_field(client, people, change, field):
    client.force_login(people["dm"])
    body = {"name": "custom", "measure": "tis", "threshold": 20, "horizon_weeks": 16,
            "window_weeks": 4, **change}  # fmt: skip
    response = client.post(ENDPOINTS, body, content_type="application/json")
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not EndpointDefinition.objects.filter(name="custom").exists()


@pytest.mark.django_db
def test_roles_refused(client, people):
    body = {"name": "x", "measure": "doi", "horizon_weeks": 12, "window_weeks": 4}
    assert client.get(ENDPOINTS).status_code == 401
    for who in ("coord_a", "nobody"):
        client.force_login(people[who])
        assert client.get(ENDPOINTS).status_code == 403
        assert client.post(ENDPOINTS, body, content_type="application/json").status_code == 403
    assert not EndpointDefinition.objects.filter(name="x").exists()


def _wilson(count: int, total: int) -> tuple[float, float]:
    """The Wilson score interval written out (Newcombe 1998, method 3), in percent."""
    z = 1.959963984540054
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(100 * (centre - half), 1), round(100 * (centre + half), 1)


@pytest.mark.django_db
def test_endpoint_responders_in_the_outcomes_report(client, people, cohort):
    client.force_login(people["dm"])
    endpoint_define(actor=Actor(user=people["dm"], source="api"),
                    data={"name": "week12", **ACTOR_FIELDS})  # fmt: skip
    body = client.get(OUTCOMES, {"endpoint": "week12"}).json()
    assert body["endpoint"]["name"] == "week12"
    rows = {row["treatment"]: row["endpoint_responders"] for row in body["rows"]}
    # Rituximab: E1 day 80 TIS 22.5 (responds), E6 day 89 pending (does not).
    low, high = _wilson(1, 2)
    assert rows["rituximab"] == {"count": 1, "evaluable": 2, "percent": 50.0, "ci_low": low,
                                 "ci_high": high}  # fmt: skip
    # IVIG: E4 day 83 and E5 day 90 both within weeks 8-16; E3 not evaluable.
    assert rows["ivig"]["count"] == 2 and rows["ivig"]["evaluable"] == 2
    assert "endpoint_responders" not in client.get(OUTCOMES).json()["rows"][0]
    csv = client.get(OUTCOMES, {"endpoint": "week12", "format": "csv"}).content.decode()
    assert "endpoint_responders_pct" in csv.splitlines()[0]


@pytest.mark.django_db
def test_endpoint_responders_suppressed_for_another_sites_investigator(client, people, cohort):
    client.force_login(people["inv_a"])
    rows = client.get(OUTCOMES, {"endpoint": "proderm"}).json()["rows"]
    ivig = next(row for row in rows if row["treatment"] == "ivig")
    assert ivig["suppressed"] is True
    assert ivig["endpoint_responders"] == {"count": None, "evaluable": None, "percent": None,
                                           "ci_low": None, "ci_high": None}  # fmt: skip


@pytest.mark.django_db
def test_unknown_endpoint_is_a_400_naming_it(client, people, cohort):
    client.force_login(people["dm"])
    for value in ("nonexistent", "Bad Name", "proderm@2"):
        response = client.get(OUTCOMES, {"endpoint": value})
        assert response.status_code == 400, value
        assert [e["field"] for e in response.json()["errors"]] == ["endpoint"]


# ---------------------------------------------------------------------------------------------
# Pages

PAGE = "/reports/endpoints/"


@pytest.mark.django_db
def test_page_lists_and_saves(client, people):
    client.force_login(people["inv_b"])
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"proderm" in page.content
    saved = client.post(PAGE, {"name": "doi-12", "measure": "doi", "horizon_weeks": "12",
                               "window_weeks": "2", "consecutive": "on"})  # fmt: skip
    assert saved.status_code == 302
    definition = EndpointDefinition.objects.get(name="doi-12")
    assert (definition.version, definition.consecutive, definition.deterioration) == (
        1,
        True,
        False,
    )
    assert definition.created_by == people["inv_b"]
    bad = client.post(PAGE, {"name": "doi-13", "measure": "doi", "horizon_weeks": "",
                             "window_weeks": "2"})  # fmt: skip
    assert bad.status_code == 400
    assert b"horizon_weeks" in bad.content
    assert not EndpointDefinition.objects.filter(name="doi-13").exists()


@pytest.mark.django_db
def test_page_refused_to_other_roles(client, people):
    client.force_login(people["coord_a"])
    assert client.get(PAGE).status_code == 403
    body = {"name": "x", "measure": "doi", "horizon_weeks": "12", "window_weeks": "2"}
    assert client.post(PAGE, body).status_code == 403
    assert not EndpointDefinition.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_outcomes_page_and_downloads_with_an_endpoint(client, people, cohort):
    client.force_login(people["dm"])
    page = client.get("/reports/", {"endpoint": "proderm"})
    assert page.status_code == 200
    assert "Endpoint proderm v1" in page.content.decode()
    assert client.get("/reports/", {"endpoint": "nothing"}).status_code == 400
    csv = client.get("/reports/outcomes.csv", {"endpoint": "proderm"}).content.decode()
    assert csv.splitlines()[0].endswith("endpoint_responders_ci_high")
    assert client.get("/reports/outcomes.csv", {"endpoint": "nothing"}).status_code == 400


@pytest.mark.django_db
def test_xlsx_and_pdf_show_the_endpoint(people, cohort):
    from io import BytesIO

    from openpyxl import load_workbook

    from reports.disclosure import Disclosure
    from reports.filters import ReportFilters
    from reports.outcomes import outcomes_by_treatment
    from reports.pdf import pdf
    from reports.xlsx import workbook

    report = outcomes_by_treatment(
        ReportFilters(endpoint="proderm"), disclosure=Disclosure.registry_wide()
    )
    book = load_workbook(BytesIO(workbook(report, [], episode_total=0)))
    header = [cell.value for cell in next(book["Summary"].iter_rows(max_row=1))]
    assert header[-5:] == ["endpoint_evaluable", "endpoint_responders",
                           "endpoint_responders_pct", "endpoint_responders_ci_low",
                           "endpoint_responders_ci_high"]  # fmt: skip
    ivig = next(row for row in book["Summary"].iter_rows(values_only=True) if row[2] == "ivig")
    assert ivig[-5:-2] == (1, 1, 100.0)
    assert pdf(report).startswith(b"%PDF")
