"""A coordinator invites a patient to answer the HAQ and the patient global for a draft visit;
the patient answers on a phone (keyboard and slider), saves, resumes, submits; the visit is
scored; the link answers 410 afterwards. Screenshots go to artifacts/screenshots/."""

import copy
import time
from datetime import date

import pytest

from crf.models import HAQ, ProInvitation, Visit
from crf.services import visit_save
from registry.audit import Actor
from registry.models import AuditEvent, Membership
from scoring import selectors as scoring_selectors
from tests.conftest import EXAMPLE_VISIT
from tests.factories import PatientFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def clinic(transactional_db):
    site = SiteFactory(code="MAN", name="Manchester myositis clinic")
    user = UserFactory(username="coord-man")
    Membership.objects.create(user=user, site=site, role="coordinator")
    patient = PatientFactory(site=site, patient_id="MAN-0042")
    actor = Actor(user=user, source="web")
    baseline = copy.deepcopy(EXAMPLE_VISIT)
    visit_save(actor=actor, patient=patient, data=baseline)
    follow_up = copy.deepcopy(EXAMPLE_VISIT)
    follow_up.update(visit_date=date.today().isoformat(), kind="follow_up")
    follow_up.pop("haq", None)
    follow_up.pop("patient_global", None)
    draft, _ = visit_save(actor=actor, patient=patient, data=follow_up, status="draft")
    return site, patient, draft


def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_a_patient_answers_on_a_phone(browser, live_server, new_page, shot, clinic):
    site, patient, draft = clinic
    # The coordinator creates the invitation from the patient's page.
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "coord-man")
    page.fill("#id_password", "pw")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/")
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="New invitation").click()
    page.select_option("#id_visit", str(draft.pk))
    shot(page, "pro-01-new-invitation")
    page.get_by_role("button", name="Create the link").click()
    link = page.locator("#pro-link").get_attribute("href")
    assert "/p/" in link and patient.patient_id not in link
    assert page.locator(".qr svg").count() == 1
    shot(page, "pro-02-invitation-link-qr")
    page.goto("/invitations/")
    assert page.locator("table.data tbody tr").count() == 1
    shot(page, "pro-03-pending-list")

    # The patient opens the link on a phone: no account, only the visit's date and the site.
    context, mobile = phone(browser, live_server)
    try:
        answer = mobile.goto(link)
        assert answer.status == 200
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "Manchester myositis clinic" in mobile.locator(".lead").inner_text()
        assert patient.patient_id not in mobile.content()
        shot(mobile, "pro-04-phone-questionnaire")
        # Answer the first questions, save, and come back on the same device.
        mobile.get_by_role("radio", name="Some difficulty").first.check()
        mobile.locator("#q-patient-global-slider").fill("6.3")
        assert mobile.locator("#q-patient-global-output").inner_text() == "6.3"
        assert mobile.locator("#q-patient-global-number").input_value() == "6.3"
        mobile.get_by_role("button", name="Save and finish later").click()
        assert "saved on this device" in mobile.locator(".notice").inner_text()
        mobile.goto(link)
        assert mobile.locator("#q-patient-global-number").input_value() == "6.3"
        # Every item with the keyboard: focus the first radio of each question, Space picks it.
        for question in mobile.locator("fieldset.question[id^='q-haq-items']").all():
            question.locator("input[type=radio]").nth(1).check()
        mobile.get_by_role("checkbox", name="Walking").first.check()
        number = mobile.locator("#q-patient-global-number")
        number.fill("")
        number.focus()
        mobile.keyboard.type("3.5")
        assert mobile.locator("#q-patient-global-output").inner_text() == "3.5"
        shot(mobile, "pro-05-phone-answered")
        mobile.get_by_role("button", name="Send my answers").click()
        mobile.wait_for_selector("text=Thank you")
        shot(mobile, "pro-06-phone-thank-you")
        # The link is used up.
        assert mobile.goto(link).status == 410
        shot(mobile, "pro-07-phone-gone")
    finally:
        context.close()

    # The answers are on the draft visit, marked as the patient's, and the visit is scored.
    draft.refresh_from_db()
    assert draft.status == Visit.Status.DRAFT and float(draft.patient_global) == 3.5
    haq = HAQ.objects.get(visit=draft)
    assert haq.walk == 1 and "walking" in haq.aids
    assert ProInvitation.objects.get().state == "submitted"
    assert AuditEvent.objects.filter(source="patient", object_type="crf.haq").exists()
    deadline = time.monotonic() + 20
    while True:
        entries = scoring_selectors.scores_for_visits([draft.pk]).get(draft.pk, [])
        if entries and all(e.status != "pending" for e in entries):
            break
        assert time.monotonic() < deadline, entries
        time.sleep(0.3)
    page.goto(f"/visits/{draft.pk}/")
    assert page.locator(".badge", has_text="patient-entered").count() >= 2
    shot(page, "pro-08-visit-patient-entered")
