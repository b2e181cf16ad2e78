"""Issue 18, data queries and history: a coordinator reads field labels and people's names, not
`labs.ck.value` and `answered_by_id 2`; an answered query is not counted "open"; correcting a
query's field returns to the query; history times are the site's, to the second."""

import re
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crf.models import DataQuery
from registry.models import AuditEvent
from tests.web.conftest import form_data, visit_doc
from web.labels import field_label, form_anchor, query_field_choices
from web.visit_form import VisitForm

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def raise_query(client, monitor, visit, field="labs.ck.value", text="CK confirmed?"):
    login(client, monitor)
    client.post(reverse("web:query-new", args=[visit.pk]), {"field": field, "text": text})
    return DataQuery.objects.get(text=text)


# --- labels -----------------------------------------------------------------------------------


def test_field_label_is_the_forms_wording():
    assert field_label("labs.ck.value") == "CK (creatine kinase) value"
    assert field_label("labs.ldh.uln") == "LDH upper limit of normal"
    assert field_label("mmt8.deltoid") == "MMT-8 — Deltoid (middle)"
    assert field_label("mmt8.quadriceps.left") == "MMT-8 — Quadriceps, left"
    assert field_label("physician_global") == "Physician global activity"
    assert field_label("haq.items.dress").startswith("HAQ / CHAQ — Dress yourself")
    # A path nobody has words for reads as it is rather than vanishing.
    assert field_label("someday.new") == "someday.new"


def test_every_query_field_has_words_and_a_target_in_the_visit_form(patient, baseline):
    """The same labels as the visit form's inputs, and each query links to an input that exists
    (web.visit_form names the inputs' ids)."""
    form = VisitForm(patient=patient, visit=baseline)
    ids = {item.id: item.label for item in form.fields.values()}
    for path, label in query_field_choices():
        assert label != path, path
        assert form_anchor(path) in ids, path
    assert ids[form_anchor("labs.ck.value")] == field_label("labs.ck.value")


def test_queries_list_and_query_page_show_the_label_not_the_path(
    client, monitor, coordinator, baseline
):
    query = raise_query(client, monitor, baseline)
    login(client, coordinator)
    listing = client.get(reverse("web:queries")).content.decode()
    assert "CK (creatine kinase) value" in listing
    assert "labs.ck.value" not in listing
    assert reverse("web:query", args=[query.pk]) in listing
    page = client.get(reverse("web:query", args=[query.pk])).content.decode()
    assert "CK (creatine kinase) value" in page and "labs.ck.value" not in page
    # The value the query is about, as it stands (EXAMPLE_VISIT's CK).
    ck = baseline.labs.get(enzyme="ck")
    assert re.search(rf"<strong>{ck.value.normalize():f}\s+U/L</strong>", page)
    visit_page = client.get(reverse("web:visit", args=[baseline.pk])).content.decode()
    assert "CK (creatine kinase) value" in visit_page


def test_query_page_refuses_an_outsider(client, monitor, outsider, baseline):
    query = raise_query(client, monitor, baseline)
    login(client, outsider)
    assert client.get(reverse("web:query", args=[query.pk])).status_code == 404
    assert client.get(reverse("web:visit-history", args=[baseline.pk])).status_code == 404
    assert client.get(reverse("web:query", args=[query.pk + 1000])).status_code == 404


# --- open and answered ------------------------------------------------------------------------


def test_an_answered_query_is_no_longer_counted_open_on_the_visit(
    client, monitor, coordinator, baseline
):
    query = raise_query(client, monitor, baseline)
    login(client, coordinator)
    url = reverse("web:visit", args=[baseline.pk])
    assert "1 open</span>" in client.get(url).content.decode()
    client.post(reverse("web:query-answer", args=[query.pk]), {"answer": "Checked: correct."})
    page = client.get(url).content.decode()
    assert "1 open</span>" not in page
    assert "1 answered</span>" in page
    # The monitor still has to close it before verifying, and is told so.
    login(client, monitor)
    page = client.get(url).content.decode()
    assert "Close the 1 open or answered query before verifying." in page
    assert "Mark verified" not in page


# --- back to the query after correcting its field ---------------------------------------------


def test_correcting_the_field_returns_to_the_query(client, monitor, coordinator, baseline):
    query = raise_query(client, monitor, baseline)
    login(client, coordinator)
    here = reverse("web:query", args=[query.pk])
    page = client.get(here).content.decode()
    link = re.search(r'href="([^"]*/edit/\?next=[^"]*)"', page).group(1).replace("&amp;", "&")
    parts = urlsplit(link)
    assert parts.path == reverse("web:visit-edit", args=[baseline.pk])
    assert parse_qs(parts.query)["next"] == [here]
    assert parts.fragment == "f-labs-ck-value"
    doc = visit_doc()
    doc["labs"]["ck"]["value"] = 2100
    response = client.post(
        f"{parts.path}?{parts.query}", form_data(doc, version=1, reason="lab report re-read")
    )
    assert response.status_code == 302
    assert response["Location"] == here
    assert baseline.labs.get(enzyme="ck").value == 2100


@pytest.mark.parametrize(
    "target", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"]
)
def test_a_foreign_next_is_ignored(as_coordinator, baseline, target):
    doc = visit_doc()
    doc["labs"]["ck"]["value"] = 2200
    url = reverse("web:visit-edit", args=[baseline.pk]) + "?" + f"next={target}"
    response = as_coordinator.post(url, form_data(doc, version=1, reason="re-read"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:patient", args=[baseline.patient_id])


def test_answering_from_the_query_page_returns_there(client, monitor, coordinator, baseline):
    query = raise_query(client, monitor, baseline)
    login(client, coordinator)
    here = reverse("web:query", args=[query.pk])
    response = client.post(
        reverse("web:query-answer", args=[query.pk]), {"answer": "Re-read.", "next": here}
    )
    assert response["Location"] == here
    response = client.post(
        reverse("web:query-answer", args=[query.pk]),
        {"answer": "Again.", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("web:visit", args=[baseline.pk]) + "#queries"


# --- history ----------------------------------------------------------------------------------


def test_history_names_people_and_labels_fields_and_values(client, monitor, coordinator, baseline):
    named(coordinator, "Ana", "Ruiz")
    named(monitor, "Mo", "Nitor")
    query = raise_query(client, monitor, baseline)
    login(client, coordinator)
    client.post(reverse("web:query-answer", args=[query.pk]), {"answer": "Checked."})
    html = client.get(reverse("web:visit-history", args=[baseline.pk])).content.decode()
    assert "answered_by_id" not in html and "labs.ck.value" not in html
    answered_by = next(r for r in html.split("<tr") if ">Answered by<" in r)
    assert "Ana Ruiz" in answered_by
    status = next(r for r in html.split("<tr") if ">Status<" in r)
    assert ">Open</span>" in status and ">Answered</span>" in status
    created = next(r for r in html.split("<tr") if "Create Data query" in r)
    assert "CK (creatine kinase) value" in created and "Mo Nitor" in created
    # A user without a full name is shown by the username.
    named(coordinator, "", "")
    html = client.get(reverse("web:visit-history", args=[baseline.pk])).content.decode()
    assert "coord-man" in next(r for r in html.split("<tr") if ">Answered by<" in r)


def test_history_times_are_the_sites_to_the_second(as_coordinator, site, patient, baseline):
    site.time_zone = "Asia/Tokyo"  # no summer time: always JST, UTC+9
    site.save()
    event = AuditEvent.objects.filter(patient_id=patient.pk).latest("at")
    expected = timezone.localtime(event.at, ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    for url in (
        reverse("web:patient-history", args=[patient.pk]),
        reverse("web:visit-history", args=[baseline.pk]),
    ):
        html = as_coordinator.get(url).content.decode()
        assert f"{expected} JST" in html
        assert "(Asia/Tokyo)" in html


def test_a_site_time_zone_must_be_a_real_one(site):
    site.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError) as caught:
        site.full_clean()
    assert "time_zone" in caught.value.message_dict
    site.time_zone = "Europe/London"
    site.full_clean()
