"""A hand-built cohort whose every count is known in advance, written through the services
(crf.submission.patient_document_save) and scored by the pipeline on commit, eagerly.

Follow-up visits take one of five profiles against the same baseline (docs/data-dictionary.md's
example visit without HAQ: physician 6, patient 5, extramuscular 4, MMT-8 119/150, CK 2000 U/L with
ULN 200), whose scores were worked out by hand with the calculator (docs/scoring.md §2–§4):

    profile  IMACS DOI  TIS   adult     juvenile  ProDERM worsening
    SAME     not met     0    none      none      no
    MINIMAL  not met    22.5  minimal   none      no
    MODERATE met        50    moderate  moderate  no
    MAJOR    met        70    major     major     no
    WORSE    not met     0    none      none      yes (extramuscular +2.5 cm)

The cohort (sites AAA and BBB):

P1  AAA dermatomyositis, adult, anti-Mi-2. Visits 2020-01-01 (baseline, GC 60), 2020-03-25
    MINIMAL (GC 40), 2020-06-23 MODERATE (GC 20), 2020-12-30 MAJOR (GC 10).
    E1 rituximab from 2020-01-05, ongoing: days 80, 170, 360 → weeks 12, 24, 52 → 22.5, 50, 70;
       DOI first on day 170; confirmed response; GC 60 → 10.
    E2 methotrexate 2020-01-01 to 2020-04-01, overlapping E1 (window to 2020-05-01): one
       follow-up (day 84, MINIMAL): no DOI, censored on day 84; week 12 exactly day 84; GC 60 → 40.
P2  AAA dermatomyositis, adult, seronegative. Visits 2021-01-01 (baseline), 2021-05-01 MODERATE.
    E3 IVIG from 2021-02-15: no visit from 2021-01-16 to its start → no baseline, not evaluable.
P3  BBB polymyositis, adult, anti-synthetase (Jo-1). Visits 2020-06-01 (baseline, GC 30),
    2020-09-01 WORSE (GC 30), 2020-12-01 WORSE (GC 40), 2021-03-01 MODERATE (GC 5).
    E4 IVIG 2020-06-10 to 2020-12-31 (window to 2021-01-30, so 2021-03-01 is outside): no DOI,
       censored on day 174 (2020-12-01); confirmed deterioration; best TIS 0; weeks 12 and 24
       TIS 0, week 52 none; GC 30 → 40.
P4  BBB juvenile dermatomyositis, juvenile (born 2008-05, onset 2019-01), anti-NXP2. Visits
    2020-02-01 (baseline), 2020-05-01 MODERATE, 2020-08-01 MINIMAL (none for a juvenile).
    E5 IVIG from 2020-02-01: DOI on day 90; best 50 moderate; no confirmed response.
P5  AAA immune-mediated necrotising myopathy, adult, anti-HMGCR. Visits 2022-01-01 (baseline,
    GC 20), 2022-04-01 MODERATE (GC 20); its records are then marked pending.
    E6 rituximab from 2022-01-02: evaluable, outcomes unknown (3 pending records), GC change 0.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import TestCase

from config.celery import app as celery_app
from crf.submission import patient_document_save
from registry.audit import Actor
from registry.models import Membership, Site, TreatmentEpisode
from scoring.services import mark_pending
from tests.conftest import EXAMPLE_VISIT
from tests.factories import MembershipFactory, SiteFactory, UserFactory

PROFILES: dict[str, dict[str, Any]] = {
    "BASELINE": {"physician_global": 6.0, "patient_global": 5.0, "extramuscular": 4.0},
    "SAME": {"physician_global": 6.0, "patient_global": 5.0, "extramuscular": 4.0},
    "MINIMAL": {"physician_global": 4.0, "patient_global": 5.0, "extramuscular": 3.4},
    "MODERATE": {
        "physician_global": 3.0,
        "patient_global": 4.0,
        "extramuscular": 2.0,
        "mmt": 9,
        "ck": 500,
    },  # fmt: skip
    "MAJOR": {
        "physician_global": 1.0,
        "patient_global": 1.0,
        "extramuscular": 0.0,
        "mmt": 10,
        "ck": 200,
    },  # fmt: skip
    "WORSE": {"physician_global": 6.0, "patient_global": 5.0, "extramuscular": 6.5},
}


def visit(visit_date: str, profile: str, *, gc: float | None = None) -> dict[str, Any]:
    """A visit document: docs/data-dictionary.md's example without HAQ and aldolase, changed by
    `profile`."""
    values = dict(PROFILES[profile])
    doc = copy.deepcopy(EXAMPLE_VISIT)
    del doc["haq"]
    del doc["labs"]["aldolase"]
    doc["visit_date"] = visit_date
    doc["kind"] = "baseline" if profile == "BASELINE" else "follow_up"
    grade = values.pop("mmt", None)
    if grade is not None:
        for name, value in doc["mmt8"].items():
            if isinstance(value, dict):
                doc["mmt8"][name] = {"right": grade, "left": grade}
    ck = values.pop("ck", None)
    if ck is not None:
        doc["labs"]["ck"]["value"] = ck
    doc.update(values)
    doc["glucocorticoid_mg_per_day"] = gc
    return doc


def treatment(drug: str, start: str, stop: str | None = None) -> dict[str, Any]:
    return {"drug": drug, "dose": None, "dose_unit": "", "route": "iv", "frequency": "",
            "start_date": start, "stop_date": stop, "stop_reason": None}  # fmt: skip


def patient(
    patient_id: str,
    *,
    diagnosis: str,
    antibody: str | None,
    visits: list[dict[str, Any]],
    treatments: list[dict[str, Any]],
    born: str = "1968-04",
    onset: str = "2019-03-01",
) -> dict[str, Any]:
    antibodies = []
    if antibody is not None:
        antibodies.append({"antibody": antibody, "result": "positive", "method": "line_blot",
                           "sample_date": "2019-05-02"})  # fmt: skip
    else:
        antibodies.append({"antibody": "anti-Jo-1", "result": "negative", "method": "line_blot",
                           "sample_date": "2019-05-02"})  # fmt: skip
    return {
        "patient_id": patient_id, "sex": "female", "birth_year_month": born,
        "diagnosis": diagnosis, "onset_date": onset, "diagnosis_date": None,
        "autoantibodies": antibodies, "treatments": treatments, "visits": visits,
    }  # fmt: skip


@pytest.fixture(autouse=True)
def _eager_scoring() -> Any:
    """Scoring runs in-process on commit, also when the suite runs with a real broker."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


ACTOR = Actor(user=None, source="command", reason="test cohort")


def save_document(site: Site, document: dict[str, Any]) -> dict[str, Any]:
    """Store a patient document through the service and run the scoring queued on commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return patient_document_save(actor=ACTOR, site=site, data=document)


@pytest.fixture
def save_patient() -> Callable[..., dict[str, Any]]:
    return save_document


@pytest.fixture
def sites() -> dict[str, Site]:
    return {code: SiteFactory(code=code) for code in ("AAA", "BBB")}


def _build_cohort() -> dict[str, int]:
    aaa, bbb = SiteFactory(code="AAA"), SiteFactory(code="BBB")
    documents = [
        (aaa, patient(
            "P1", diagnosis="dermatomyositis", antibody="anti-Mi-2",
            visits=[visit("2020-01-01", "BASELINE", gc=60), visit("2020-03-25", "MINIMAL", gc=40),
                    visit("2020-06-23", "MODERATE", gc=20), visit("2020-12-30", "MAJOR", gc=10)],
            treatments=[treatment("rituximab", "2020-01-05"),
                        treatment("methotrexate", "2020-01-01", "2020-04-01")],
        )),
        (aaa, patient(
            "P2", diagnosis="dermatomyositis", antibody=None,
            visits=[visit("2021-01-01", "BASELINE"), visit("2021-05-01", "MODERATE")],
            treatments=[treatment("ivig", "2021-02-15")],
        )),
        (bbb, patient(
            "P3", diagnosis="polymyositis", antibody="anti-Jo-1",
            visits=[visit("2020-06-01", "BASELINE", gc=30), visit("2020-09-01", "WORSE", gc=30),
                    visit("2020-12-01", "WORSE", gc=40), visit("2021-03-01", "MODERATE", gc=5)],
            treatments=[treatment("ivig", "2020-06-10", "2020-12-31")],
        )),
        (bbb, patient(
            "P4", diagnosis="juvenile_dermatomyositis", antibody="anti-NXP2",
            born="2008-05", onset="2019-01-15",
            visits=[visit("2020-02-01", "BASELINE"), visit("2020-05-01", "MODERATE"),
                    visit("2020-08-01", "MINIMAL")],
            treatments=[treatment("ivig", "2020-02-01")],
        )),
        (aaa, patient(
            "P5", diagnosis="immune_mediated_necrotising_myopathy", antibody="anti-HMGCR",
            visits=[visit("2022-01-01", "BASELINE", gc=20), visit("2022-04-01", "MODERATE", gc=20)],
            treatments=[treatment("rituximab", "2022-01-02")],
        )),
    ]  # fmt: skip
    ids: dict[str, int] = {}
    for site, document in documents:
        ids[document["patient_id"]] = save_document(site, document)["id"]
    # A change waiting to be scored: P5's records are pending (scoring.services.mark_pending).
    mark_pending(patient_ids=[ids["P5"]])
    by_key = {
        (p, drug): pk
        for p, drug, pk in TreatmentEpisode.objects.values_list("patient__patient_id", "drug", "pk")
    }
    ids.update(
        E1=by_key[("P1", "rituximab")],
        E2=by_key[("P1", "methotrexate")],
        E3=by_key[("P2", "ivig")],
        E4=by_key[("P3", "ivig")],
        E5=by_key[("P4", "ivig")],
        E6=by_key[("P5", "rituximab")],
    )
    return ids


@pytest.fixture(scope="module")
def cohort(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The cohort of the module docstring, built once per test module inside a transaction
    that is rolled back after the module's last test (each test runs in a savepoint of it).
    Returns the patient ids P1–P5 and the episode ids E1–E6."""
    with django_db_blocker.unblock():
        before = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            with transaction.atomic():
                yield _build_cohort()
                transaction.set_rollback(True)
        finally:
            celery_app.conf.task_always_eager = before


def member(site: Site | None, role: str, username: str) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, site=site, role=role)
    return user


@pytest.fixture
def people(sites: dict[str, Site]) -> dict[str, Any]:
    """An investigator of each site, a coordinator of AAA, a data manager, and a user with no
    membership at all."""
    return {
        "inv_a": member(sites["AAA"], Membership.Role.INVESTIGATOR, "inv-a"),
        "inv_b": member(sites["BBB"], Membership.Role.INVESTIGATOR, "inv-b"),
        "coord_a": member(sites["AAA"], Membership.Role.COORDINATOR, "coord-a"),
        "dm": member(None, Membership.Role.DATA_MANAGER, "dm"),
        "nobody": UserFactory(username="nobody"),
    }


@pytest.fixture(scope="module")
def outcome_cohort(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """tests/reports/outcome_cohort.py's cohort (survival and safety), built once per module
    inside a transaction rolled back after the module's last test."""
    from tests.reports.outcome_cohort import build

    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build()
            transaction.set_rollback(True)
