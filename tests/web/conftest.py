"""People and records shared by the web page tests: a site with one person of every role, a
second site with its own coordinator (the outsider), and a patient with a baseline visit."""

import copy

import pytest

from crf.services import visit_save
from registry.audit import Actor
from registry.models import Membership
from tests.conftest import EXAMPLE_VISIT
from tests.factories import PatientFactory, SiteFactory, UserFactory


def member(site, role, username):
    user = UserFactory(username=username)
    if role == "data_manager":
        Membership.objects.create(user=user, role=role)
    else:
        Membership.objects.create(user=user, site=site, role=role)
    return user


@pytest.fixture
def site(db):
    return SiteFactory(code="MAN", name="Manchester myositis clinic")


@pytest.fixture
def other_site(db):
    return SiteFactory(code="LDS", name="Leeds myositis clinic")


@pytest.fixture
def coordinator(site):
    return member(site, "coordinator", "coord-man")


@pytest.fixture
def outsider(other_site):
    return member(other_site, "coordinator", "coord-lds")


@pytest.fixture
def monitor(site):
    return member(site, "monitor", "monitor-man")


@pytest.fixture
def investigator(site):
    return member(site, "investigator", "inv-man")


@pytest.fixture
def data_manager(site):
    return member(None, "data_manager", "datamanager")


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, patient_id="MAN-0001", birth_year=1968)


def visit_doc(**changes):
    doc = copy.deepcopy(EXAMPLE_VISIT)
    doc.update(changes)
    return doc


@pytest.fixture
def baseline(patient, coordinator):
    visit, _ = visit_save(
        actor=Actor(user=coordinator, source="web"), patient=patient, data=visit_doc()
    )
    return visit


@pytest.fixture
def as_coordinator(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.fixture(autouse=True)
def _eager_celery():
    """Scoring runs in-process in these tests, also when the suite runs with a real broker: the
    pages are under test here, not the worker (tests/scoring has the broker tests)."""
    from config.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def form_data(doc, action="submit", **extra):
    """The POST of the visit form that holds this visit document."""
    data = {"visit_date": doc["visit_date"], "kind": doc.get("kind", "follow_up"), "action": action}
    for name in (
        "physician_global",
        "patient_global",
        "extramuscular",
        "physician_damage",
        "cmas",
        "fvc_percent",
        "dlco_percent",
        "glucocorticoid_mg_per_day",
    ):
        if doc.get(name) is not None:
            data[name] = str(doc[name])
    mmt = doc.get("mmt8")
    if mmt:
        data["mmt8.scale"] = mmt["scale"]
        side = mmt.get("side", "right")
        data["mmt8.side"] = side
        for group, grade in mmt.items():
            if group in ("scale", "side"):
                continue
            if group == "total":
                data["mmt8.total"] = str(grade)
            elif isinstance(grade, dict):
                for s, g in grade.items():
                    data[f"mmt8.{group}.{s}"] = str(g)
            elif group == "neck_flexors":
                data["mmt8.neck_flexors"] = str(grade)
            else:
                data[f"mmt8.{group}.{side}"] = str(grade)
    for enzyme, lab in (doc.get("labs") or {}).items():
        data[f"labs.{enzyme}.value"] = str(lab["value"])
        data[f"labs.{enzyme}.unit"] = lab.get("unit", "U/L")
        data[f"labs.{enzyme}.uln"] = str(lab["uln"])
    haq = doc.get("haq") or doc.get("chaq")
    if haq:
        for item, answer in (haq.get("items") or {}).items():
            data[f"haq.items.{item}"] = str(answer)
        data["haq.aids"] = list(haq.get("aids") or [])
        data["haq.help"] = list(haq.get("help") or [])
        if haq.get("score") is not None:
            data["haq.score"] = str(haq["score"])
    data.update(extra)
    return data
