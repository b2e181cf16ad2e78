"""The work lists of the top bar (issue 18): what each role has waiting, counted in the top bar
and listed one click away; another site's records stay invisible; the counts cost a fixed number
of queries."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crf.models import DataQuery, ProInvitation, VitalStatus
from registry.models import Membership
from tests.factories import PatientFactory, VisitFactory
from tests.web.conftest import member
from web import worklists

pytestmark = pytest.mark.django_db

TODAY = date.today()


def invitation(patient, n, **changes):
    values = {
        "patient": patient,
        "visit_date": TODAY,
        "instruments": ["haq"],
        "digest": f"{n:064x}",
        "expires_at": timezone.now() + timedelta(days=7),
    }
    values.update(changes)
    return ProInvitation.objects.create(**values)


def build(site, prefix, n=0):
    """One site's worth of work: 2 patients due (one never seen, one last seen 200 days ago),
    1 dead patient (never due), 1 draft, 2 submitted visits (one with an open query, one with an
    answered one), 1 verified visit, 1 locked one, 1 pending invitation (and an expired and a
    revoked one, which are not pending)."""
    never = PatientFactory(site=site, patient_id=f"{prefix}-NEVER")
    old = PatientFactory(site=site, patient_id=f"{prefix}-OLD")
    VisitFactory(patient=old, visit_date=TODAY - timedelta(days=200), status="locked")
    dead = PatientFactory(site=site, patient_id=f"{prefix}-DEAD")
    died = TODAY - timedelta(days=30)
    VitalStatus.objects.create(
        patient=dead, status="dead", death_date=died, death_date_precision="day"
    )
    recent = PatientFactory(site=site, patient_id=f"{prefix}-RECENT")

    def ago(days):
        return TODAY - timedelta(days=days)

    VisitFactory(patient=recent, visit_date=ago(40), status="locked")
    draft = VisitFactory(patient=recent, visit_date=ago(30), status="draft")
    queried = VisitFactory(patient=recent, visit_date=ago(20), status="submitted")
    DataQuery.objects.create(visit=queried, field="cmas", text="CMAS above 52?")
    answered = VisitFactory(patient=recent, visit_date=ago(15))
    DataQuery.objects.create(
        visit=answered, field="cmas", text="?", status="answered", answer="Checked."
    )
    verified = VisitFactory(patient=recent, visit_date=ago(10), status="verified")
    invitation(never, n + 1)
    invitation(never, n + 2, expires_at=timezone.now() - timedelta(days=1))
    invitation(never, n + 3, revoked_at=timezone.now())
    return {"never": never, "old": old, "draft": draft, "queried": queried, "verified": verified}


@pytest.fixture
def work(site, other_site):
    return {"here": build(site, "MAN"), "there": build(other_site, "LDS", n=10)}


def counts(client):
    """The top bar's work lists as {label: count}, read from the page."""
    html = client.get(reverse("web:patients")).content.decode()
    nav = re.search(r'<nav class="worknav".*?</nav>', html, re.S)
    if nav is None:
        return {}
    found = re.findall(
        r'<a href="/work/(\w+)/"[^>]*>[^<]*<span class="work-count[^"]*">(\d+\+?)<', nav.group(0)
    )
    return {slug: count for slug, count in found}


def test_each_role_sees_its_lists_counted_at_its_site(
    client, work, coordinator, monitor, investigator
):
    client.force_login(coordinator)
    assert counts(client) == {"due": "2", "drafts": "1", "queries": "1", "invitations": "1"}
    client.force_login(monitor)
    assert counts(client) == {"verify": "2"}
    client.force_login(investigator)
    assert counts(client) == {"sign": "1"}


def test_a_person_with_several_roles_sees_each_list(client, work, site, coordinator):
    Membership.objects.create(user=coordinator, site=site, role="investigator")
    client.force_login(coordinator)
    assert counts(client) == {
        "due": "2", "drafts": "1", "queries": "1", "invitations": "1", "sign": "1",
    }  # fmt: skip


def test_the_data_manager_counts_every_site_until_one_is_chosen(client, work, data_manager, site):
    client.force_login(data_manager)
    # Data managers verify and answer queries (registry.access), everywhere.
    assert counts(client) == {"queries": "2", "verify": "4"}
    client.post(reverse("web:site-switch"), {"site": site.pk, "next": "/patients/"})
    assert counts(client) == {"queries": "1", "verify": "2"}


def test_the_site_switch_narrows_a_person_of_two_sites(client, work, site, other_site):
    both = member(site, "coordinator", "coord-both")
    Membership.objects.create(user=both, site=other_site, role="monitor")
    client.force_login(both)
    assert counts(client) == {
        "due": "2", "drafts": "1", "queries": "1", "invitations": "1", "verify": "2",
    }  # fmt: skip
    client.post(reverse("web:site-switch"), {"site": other_site.pk, "next": "/patients/"})
    # At Leeds this person monitors: the coordinator's lists are there, with nothing in them.
    assert counts(client) == {
        "due": "0", "drafts": "0", "queries": "0", "invitations": "0", "verify": "2",
    }  # fmt: skip
    page = client.get(reverse("web:worklist", args=["due"]))
    assert page.status_code == 200
    assert "does not give this list" in page.content.decode()


def test_the_lists_show_and_link_the_records(client, work, coordinator, monitor, investigator):
    here = work["here"]
    client.force_login(coordinator)
    due = client.get(reverse("web:worklist", args=["due"])).content.decode()
    # Never seen first, then by the last visit; the dead and the recently seen are not due.
    assert due.index("MAN-NEVER") < due.index("MAN-OLD")
    assert "MAN-DEAD" not in due and "MAN-RECENT" not in due
    assert reverse("web:patient", args=[here["never"].pk]) in due
    assert reverse("web:visit-new", args=[here["old"].pk]) in due
    old_visit = TODAY - timedelta(days=200)
    assert (old_visit + timedelta(days=183)).isoformat() in due

    drafts = client.get(reverse("web:worklist", args=["drafts"])).content.decode()
    assert reverse("web:visit-edit", args=[here["draft"].pk]) in drafts

    queries = client.get(reverse("web:worklist", args=["queries"])).content.decode()
    assert "CMAS above 52?" in queries and "Checked." not in queries
    assert reverse("web:visit", args=[here["queried"].pk]) in queries

    invitations = client.get(reverse("web:worklist", args=["invitations"])).content.decode()
    pending = ProInvitation.objects.get(digest=f"{1:064x}")
    assert reverse("web:invitation", args=[pending.pk]) in invitations
    assert len(re.findall(r'href="/invitations/\d+/"', invitations)) == 1

    client.force_login(monitor)
    verify = client.get(reverse("web:worklist", args=["verify"])).content.decode()
    assert reverse("web:visit", args=[here["queried"].pk]) in verify
    assert 'class="badge badge-warn"' in verify  # the visit's open query, to close first

    client.force_login(investigator)
    sign = client.get(reverse("web:worklist", args=["sign"])).content.decode()
    assert reverse("web:visit-sign", args=[here["verified"].pk]) in sign


def test_an_outsider_sees_nothing_of_another_site(client, work, outsider):
    client.force_login(outsider)
    assert counts(client) == {"due": "2", "drafts": "1", "queries": "1", "invitations": "1"}
    here = work["here"]
    for slug in ("due", "drafts", "queries", "invitations"):
        html = client.get(reverse("web:worklist", args=[slug])).content.decode()
        assert "MAN-" not in html, slug
        assert "LDS-" in html, slug
    drafts = client.get(reverse("web:worklist", args=["drafts"])).content.decode()
    assert reverse("web:visit", args=[here["draft"].pk]) not in drafts


def test_a_list_the_roles_do_not_give_is_refused(client, work, monitor):
    client.force_login(monitor)
    for slug in ("due", "drafts", "queries", "invitations", "sign"):
        response = client.get(reverse("web:worklist", args=[slug]))
        assert response.status_code == 403, slug
        assert "MAN-" not in response.content.decode()
    assert client.get(reverse("web:worklist", args=["nonsense"])).status_code == 404


def test_anonymous_people_are_sent_to_log_in(client, work):
    response = client.get(reverse("web:worklist", args=["due"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_due_rule_is_the_patient_list_overdue_rule(client, work, coordinator):
    """Same cutoff: a patient last seen exactly at the cutoff is not due, one day before is."""
    site = work["here"]["never"].site
    edge = PatientFactory(site=site, patient_id="MAN-EDGE")
    VisitFactory(patient=edge, visit_date=TODAY - timedelta(days=183))
    past = PatientFactory(site=site, patient_id="MAN-PAST")
    VisitFactory(patient=past, visit_date=TODAY - timedelta(days=184))
    due = {p.patient_id for p in worklists.due_patients({site.pk})}
    assert due == {"MAN-NEVER", "MAN-OLD", "MAN-PAST"}
    client.force_login(coordinator)
    listed = client.get(reverse("web:patients"), {"overdue": "1"}).content.decode()
    assert "MAN-PAST" in listed and "MAN-EDGE" not in listed


def test_the_top_bar_counts_cost_a_fixed_number_of_queries(client, site, coordinator, monitor):
    """One query for all the lists of the person, whatever the number of lists and records."""
    client.force_login(coordinator)
    url = reverse("web:invitations")

    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    build(site, "A")
    small = measure()
    for index in range(3):
        build(site, f"B{index}", n=100 * (index + 1))
    assert measure() == small
    # The monitor's one list costs the same query as the coordinator's four.
    client.force_login(monitor)
    assert measure() == small
    # Without the top bar (the admin's pages, the login page) nothing is counted.
    client.logout()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("web:login"))
    assert not any("worklist_" in q["sql"] for q in queries)


def test_the_api_docs_and_admin_links(client, site, coordinator, data_manager):
    client.force_login(coordinator)
    html = client.get(reverse("web:patients")).content.decode()
    assert 'href="/api/docs/"' in html and 'href="/admin/"' not in html
    data_manager.is_staff = True
    data_manager.save()
    client.force_login(data_manager)
    html = client.get(reverse("web:patients")).content.decode()
    assert 'href="/api/docs/"' in html and 'href="/admin/"' in html


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age" in response["Cache-Control"]
    assert client.post("/favicon.ico").status_code == 405


@pytest.mark.parametrize("slug", ["due", "drafts", "queries", "invitations", "verify", "sign"])
def test_a_list_page_costs_the_same_with_more_rows(client, site, data_manager, slug):
    """Each page is a count and one query for its rows (patients, sites, people joined)."""
    for role in ("coordinator", "investigator"):
        Membership.objects.create(user=data_manager, site=site, role=role)
    client.force_login(data_manager)
    url = reverse("web:worklist", args=[slug])

    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    build(site, "A")
    small = measure()
    for index in range(3):
        build(site, f"B{index}", n=100 * (index + 1))
    assert measure() == small
