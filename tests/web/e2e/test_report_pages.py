"""The investigator's report pages in a browser at 1360 px (issue 18): the page never scrolls
sideways (wide tables scroll in their own box), the compact multi-selects show what is ticked,
the filter chips remove one value each, and a mistyped date is named. Screenshots of each page
go to artifacts/screenshots/."""

import pytest

from config.celery import app as celery_app
from registry.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.reports.conftest import _build_cohort

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGES = {
    "reports-outcomes": "/reports/",
    "reports-outcomes-stratified": "/reports/?stratify=site&group_by=drug_class",
    "reports-episodes": "/reports/episodes/",
    "reports-survival": "/reports/survival/",
    "reports-safety": "/reports/safety/",
}
WIDEST = """() => {
  const width = window.innerWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
    .map(e => e.tagName + '.' + e.className).slice(0, 5);
}"""


@pytest.fixture
def cohort(transactional_db):
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        ids = _build_cohort()
    finally:
        celery_app.conf.task_always_eager = before
    from registry.models import Site

    user = UserFactory(username="inv-aaa")
    site = Site.objects.get(code="AAA")
    MembershipFactory(user=user, site=site, role=Membership.Role.INVESTIGATOR)
    return ids


def chip_texts(page) -> list[str]:
    return [" ".join(text.split()) for text in page.locator("a.chip").all_inner_texts()]


def login(page):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "inv-aaa")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_no_report_page_is_wider_than_the_window(new_page, shot, cohort):
    page = new_page()
    login(page)
    for name, url in PAGES.items():
        page.goto(url)
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert inner == 1360
        assert scroll <= inner, (name, scroll, page.evaluate(WIDEST))
        shot(page, name)
    # The outcomes table is wider than the window, and scrolls inside its box.
    page.goto("/reports/")
    box = page.evaluate(
        "() => { const w = document.querySelector('.table-wrap');"
        " return [w.scrollWidth, w.clientWidth]; }"
    )
    assert box[0] > box[1]


def test_multi_select_chips_and_dates(new_page, shot, cohort):
    page = new_page()
    login(page)
    page.goto("/reports/")
    drugs = page.locator("details#f-drug")
    assert drugs.locator(".chosen").inner_text() == "All"
    drugs.locator("summary").click()
    drugs.locator("input[value=rituximab]").check()
    drugs.locator("input[value=ivig]").check()
    # The summary follows the ticks (reports.js), in the list's order.
    assert drugs.locator(".chosen").inner_text() == "Rituximab, IVIG"
    shot(page, "reports-filters-open")
    page.fill("#f-start_from", "2020-01-01")
    page.click("button:has-text('Show')")
    page.wait_for_load_state()
    assert chip_texts(page) == [
        "Drug: Rituximab ×", "Drug: IVIG ×", "Started from: 2020-01-01 ×",
    ]  # fmt: skip
    shot(page, "reports-filters-chips")
    page.locator("a.chip", has_text="Rituximab").click()
    page.wait_for_load_state()
    assert chip_texts(page) == [
        "Drug: IVIG ×", "Started from: 2020-01-01 ×",
    ]  # fmt: skip
    assert page.locator("details#f-drug .chosen").inner_text() == "IVIG"
    page.fill("#f-start_from", "01/02/2020")
    page.click("button:has-text('Show')")
    page.wait_for_load_state()
    summary = page.locator(".error-summary").inner_text()
    assert "Started from: Not a date (YYYY-MM-DD): '01/02/2020'." in summary
    assert page.input_value("#f-start_from") == "01/02/2020"
    shot(page, "reports-filters-bad-date")
