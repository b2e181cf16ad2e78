"""The visit form warns on a field as soon as its value is out of the service's range, before
anything is sent; after the error summary's links, the address keeps no "#f-…" fragment once
the field is corrected, nor through the save and its redirect."""

import pytest

from registry.models import Membership
from tests.factories import PatientFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def patient(transactional_db):
    site = SiteFactory(code="MAN", name="Manchester myositis clinic")
    Membership.objects.create(user=UserFactory(username="coord-man"), site=site, role="coordinator")
    return PatientFactory(site=site, patient_id="MAN-0001", birth_year=1968)


def test_out_of_range_warning_and_no_stale_fragment(new_page, patient, shot):
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "coord-man")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.goto(f"/patients/{patient.pk}/visits/new/")
    page.fill("#f-visit-date", "2020-01-08")

    page.fill("#f-physician-global", "12")
    warning = page.locator("#f-physician-global-warning")
    assert warning.is_visible() and warning.inner_text() == "Must be between 0 and 10 cm."
    assert page.get_attribute("#f-physician-global", "aria-invalid") == "true"
    page.fill("#f-glucocorticoid-mg-per-day", "7.125")
    page.locator("#f-cmas").focus()
    assert page.locator("#f-glucocorticoid-mg-per-day-warning").inner_text() == (
        "Must be given in steps of 0.01."
    )
    shot(page, "visit-form-live-warning")
    page.fill("#f-glucocorticoid-mg-per-day", "7.5")
    assert not page.locator("#f-glucocorticoid-mg-per-day-warning").is_visible()

    # Sent anyway: the server says the same; its summary link leaves a fragment.
    page.click("button[value=submit]")
    page.wait_for_selector("#error-summary")
    page.click("#error-summary a[href='#f-physician-global']")
    assert page.evaluate("location.hash") == "#f-physician-global"
    page.fill("#f-physician-global", "6")
    assert not page.locator("#f-physician-global-error").is_visible()
    assert page.evaluate("location.hash") == ""
    page.click("button[value=submit]")
    page.wait_for_url(f"**/patients/{patient.pk}/")
    assert page.evaluate("location.hash") == ""
