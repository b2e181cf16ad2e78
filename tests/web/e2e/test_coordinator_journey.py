"""A coordinator logs in, registers a patient, enters a baseline and a follow-up visit with the
keyboard only, and sees the computed DOI and TIS; an invalid grade shows its message; a
coordinator of another site gets 404 for that patient; the page updates by itself when the worker
finishes a score. Screenshots of each page go to artifacts/screenshots/."""

import copy
import re
from datetime import date

import pytest

from crf.models import Visit
from registry.models import Membership, Patient
from scoring import selectors as scoring_selectors
from scoring.instruments import HAQ_CATEGORIES
from tests.conftest import EXAMPLE_VISIT
from tests.factories import PatientFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GROUPS = (
    "deltoid",
    "biceps",
    "wrist_extensors",
    "gluteus_maximus",
    "gluteus_medius",
    "quadriceps",
    "ankle_dorsiflexors",
)


@pytest.fixture
def people(transactional_db):
    site = SiteFactory(code="MAN", name="Manchester myositis clinic")
    other = SiteFactory(code="LDS", name="Leeds myositis clinic")
    for username, at in (("coord-man", site), ("coord-lds", other)):
        Membership.objects.create(user=UserFactory(username=username), site=at, role="coordinator")
    return site, other


def focused(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? (e.getAttribute('name') || e.id || e.tagName) : ''; }"
    )


def enter(page, steps):
    """Type each value into the focused field and press Tab: the tab order is the test."""
    for expected, keys in steps:
        assert focused(page) == expected, f"expected focus on {expected}, got {focused(page)}"
        if keys == "space":
            page.keyboard.press("Space")
        elif keys:
            page.keyboard.type(keys)
        page.keyboard.press("Tab")


def _text(value) -> str:
    return "" if value is None else str(value)


def visit_steps(doc, *, type_ulns: bool):
    steps = [("visit_date", doc["visit_date"]), ("kind", "")]
    for name in ("physician_global", "patient_global", "extramuscular", "physician_damage"):
        steps.append((name, _text(doc.get(name))))
    mmt = doc["mmt8"]
    steps += [("mmt8.scale", ""), ("mmt8.neck_flexors", str(mmt["neck_flexors"]))]
    for group in GROUPS:
        for side in ("right", "left"):
            steps.append((f"mmt8.{group}.{side}", str(mmt[group][side])))
    steps += [("mmt-total-toggle", ""), ("cmas", "")]
    for enzyme in ("ck", "aldolase", "ldh", "ast", "alt"):
        lab = doc["labs"].get(enzyme)
        steps += [
            (f"labs.{enzyme}.value", _text(lab and lab["value"])),
            (f"labs.{enzyme}.unit", ""),
            (f"labs.{enzyme}.uln", _text(lab and lab["uln"]) if type_ulns else ""),
        ]
    haq = doc["haq"]
    for category, items in HAQ_CATEGORIES.items():
        steps += [(f"haq.items.{item}", str(haq["items"][item])) for item in items]
        steps.append(("haq.aids", "space" if category in haq["aids"] else ""))
        steps.append(("haq.help", "space" if category in haq["help"] else ""))
    steps += [
        ("haq-score-toggle", ""),
        ("fvc_percent", ""),
        ("dlco_percent", ""),
        ("glucocorticoid_mg_per_day", _text(doc.get("glucocorticoid_mg_per_day"))),
        ("action", ""),  # "Save draft"; the next stop is "Submit visit"
    ]
    return steps


def follow_up_doc():
    doc = copy.deepcopy(EXAMPLE_VISIT)
    doc.update(visit_date="2020-04-08", kind="follow_up", physician_global=3.0)
    doc.update(patient_global=3.0, extramuscular=2.0, glucocorticoid_mg_per_day=20)
    for group in GROUPS:
        doc["mmt8"][group] = {"right": 9, "left": 9}
    doc["labs"] = {"ck": {"value": 400, "unit": "U/L", "uln": 200}}
    doc["haq"]["items"].update(stand=1, climb_steps=1, bath=1, reach_object=1, errands=1, chores=1)
    return doc


def test_coordinator_enters_a_patient_and_two_visits_by_keyboard(people, new_page, shot):
    page = new_page()

    # Log in with the keyboard.
    page.goto("/")
    assert page.url.endswith("/accounts/login/?next=/")
    shot(page, "01-login")
    page.focus("#id_username")
    page.keyboard.type("coord-man")
    page.keyboard.press("Tab")
    page.keyboard.type("pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/")
    assert page.locator("h1").inner_text().startswith("Patients")
    shot(page, "02-patient-list-empty")

    # Register a patient.
    page.get_by_role("link", name="Register a patient").click()
    page.focus("#id_patient_id")
    enter(
        page,
        [
            ("patient_id", "MAN-0001"),
            ("sex", "F"),
            ("birth_year_month", "1968-04"),
            ("diagnosis", "Dermatomyositis"),
            ("onset_date", "2019-03-01"),
            ("diagnosis_date", "2019-05-20"),
        ],
    )
    shot(page, "03-patient-form")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    patient = Patient.objects.get(patient_id="MAN-0001")
    assert (patient.sex, patient.diagnosis) == ("female", "dermatomyositis")
    shot(page, "04-patient-page-new")

    # The baseline visit, by keyboard from its first field to the submit button.
    page.get_by_role("link", name="New visit").click()
    page.wait_for_url("**/visits/new/")
    enter(page, visit_steps(EXAMPLE_VISIT, type_ulns=True))
    assert page.locator("#mmt-total").inner_text() == "119 / 150"
    assert page.locator("#haq-total").inner_text() == "1.625 (8 of 8 categories)"
    shot(page, "05-visit-form-baseline")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Submit visit"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    assert page.get_by_text("Visit of 2020-01-08 submitted.").is_visible()

    # The follow-up: kind, scale and ULNs are carried over.
    page.get_by_role("link", name="New visit").click()
    page.wait_for_url("**/visits/new/")
    assert page.locator("#f-labs-ck-uln").input_value() == "200"
    enter(page, visit_steps(follow_up_doc(), type_ulns=False))
    assert page.locator("#mmt-total").inner_text() == "134 / 150"
    assert page.locator("#haq-total").inner_text() == "1.250 (8 of 8 categories)"
    shot(page, "06-visit-form-follow-up")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/patients/\d+/$"))

    # The computed DOI and TIS against the baseline: physician global 6→3 (30 % of the scale,
    # 17.5 points), patient global 5→3 (20 %, 5), extramuscular 4→2 (20 %, 12.5), MMT-8
    # 119→134 of 150 (10 %, 10), HAQ-DI 1.625→1.25 (12.5 %, 5), CK 10→2 ×ULN (80 %, 7.5):
    # TIS 57.5, moderate; five measures improved by ≥ 20 % and none worse: DOI met.
    follow_up = Visit.objects.get(patient=patient, visit_date=date(2020, 4, 8))
    row = page.locator("tr", has=page.locator(f'a[href="/visits/{follow_up.pk}/"]')).first
    assert "57.5" in row.inner_text()
    assert "moderate" in row.inner_text()
    assert "DOI met" in row.inner_text()
    entry = next(
        s
        for s in scoring_selectors.scores_for_visits([follow_up.pk])[follow_up.pk]
        if s.reference_kind == "baseline"
    )
    assert (entry.acr_eular["score"], entry.imacs_doi["met"]) == (57.5, True)
    assert page.locator("svg.chart").count() == 7
    shot(page, "07-patient-page-scored")

    row.get_by_role("link", name=re.compile("Explain")).click()
    page.wait_for_url("**/explain/")
    assert "Muscle strength" in page.locator("table.explain").first.inner_text()
    shot(page, "08-explain")

    page.goto(f"/visits/{follow_up.pk}/")
    shot(page, "09-visit-page")
    page.goto(f"/visits/{follow_up.pk}/history/")
    assert page.locator("table.history tbody tr").count() > 0
    shot(page, "10-visit-history")
    page.goto("/patients/")
    shot(page, "11-patient-list")

    # An invalid grade: the message at the field, the summary announced and focused.
    page.goto(f"/patients/{patient.pk}/visits/new/")
    page.keyboard.type("2020-07-01")
    page.fill("#f-mmt8-deltoid-right", "11")
    page.focus("#f-mmt8-deltoid-right")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    error = page.locator("#f-mmt8-deltoid-right-error")
    assert error.is_visible() and "Must be between 0 and 10." in error.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary").get_attribute("role") == "alert"
    assert page.locator("#f-mmt8-deltoid-right").get_attribute("aria-invalid") == "true"
    shot(page, "12-visit-form-invalid-grade")
    assert not Visit.objects.filter(visit_date=date(2020, 7, 1)).exists()

    # A coordinator of another site cannot learn that the patient exists.
    outsider = new_page()
    outsider.goto("/accounts/login/")
    outsider.fill("#id_username", "coord-lds")
    outsider.fill("#id_password", "pw")
    outsider.keyboard.press("Enter")
    outsider.wait_for_url("**/patients/")
    assert "MAN-0001" not in outsider.locator("main").inner_text()
    response = outsider.goto(f"/patients/{patient.pk}/")
    assert response.status == 404
    assert outsider.goto(f"/visits/{follow_up.pk}/").status == 404
    shot(outsider, "13-other-site-404")


def test_patient_page_updates_without_reload_when_the_worker_finishes(
    people, new_page, shot, monkeypatch
):
    from crf.services import visit_save
    from registry.audit import Actor
    from scoring import tasks

    site, _ = people
    patient = PatientFactory(site=site, patient_id="MAN-0002", birth_year=1968)
    coordinator = Membership.objects.get(role="coordinator", site=site).user
    actor = Actor(user=coordinator, source="web")
    visit_save(actor=actor, patient=patient, data=copy.deepcopy(EXAMPLE_VISIT))
    # From here on the scoring task waits in the "queue" until the test lets the worker run.
    queued = []
    monkeypatch.setattr(tasks.score_patients, "apply_async", lambda **kw: queued.append(kw))
    visit_save(actor=actor, patient=patient, data=follow_up_doc())
    assert queued

    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "coord-man")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/")
    page.goto(f"/patients/{patient.pk}/")
    assert page.get_by_text("computing…").first.is_visible()
    page.evaluate("window.__not_reloaded = true")
    shot(page, "14-patient-page-computing")

    for call in queued:  # the worker picks the task up
        tasks.score_patients.apply(**call)
    page.wait_for_selector("#scores[data-pending='0']", timeout=20_000)
    assert page.evaluate("window.__not_reloaded") is True
    assert "57.5" in page.locator("#visits").inner_text()
    assert page.get_by_text("computing…").count() == 0
    # The announcement is written 50 ms after the swap (so screen readers notice the change).
    page.wait_for_function(
        "document.getElementById('live-status').textContent === 'Scores updated.'",
        timeout=5_000,
    )
    shot(page, "15-patient-page-updated")
