"""Issue 18, the coordinator's and investigator's pages: one table for treatment episodes started
the same day with identical tables, the charts over time and their time axis, the explain view's
words, the HAQ/CHAQ answers on the visit page, the visit form's range attributes and the
printable clinic summary."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from crf import documents
from crf.services import visit_save
from registry.audit import Actor
from registry.models import AutoantibodyResult
from tests.factories import TreatmentFactory
from tests.web.conftest import visit_doc
from tests.web.test_patient_page import follow_up
from web.charts import INNER, LABEL_CHAR, RIGHT, WIDTH, Band, date_ticks, line_chart

pytestmark = pytest.mark.django_db


def save(coordinator, patient, doc, capture):
    with capture(execute=True):
        visit, _ = visit_save(
            actor=Actor(user=coordinator, source="web"), patient=patient, data=doc
        )
    return visit


def page(client, name, pk):
    return client.get(reverse(name, args=[pk])).content.decode()


# --- the time axis --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "shape"),
    [
        (date(2026, 8, 3), date(2026, 8, 30), r"\d{4}-\d\d-\d\d"),  # weeks: days
        (date(2026, 7, 20), date(2026, 9, 1), r"\d{4}-\d\d"),
        (date(2026, 1, 15), date(2026, 9, 2), r"\d{4}-\d\d"),  # months, every other
        (date(2025, 2, 15), date(2026, 6, 20), r"\d{4}( Q\d|-\d\d)"),
        (date(2020, 1, 8), date(2026, 3, 1), r"\d{4}"),  # years
        (date(1990, 1, 1), date(2026, 1, 1), r"\d{4}"),
        (date(2026, 8, 1), date(2026, 8, 31), r"\d{4}-\d\d-\d\d"),  # one month start only
    ],
)
def test_date_ticks_are_unique_inside_the_span_and_few(start, end, shape):
    ticks = date_ticks(start, end)
    labels = [label for _, label in ticks]
    days = [day for day, _ in ticks]
    assert len(set(labels)) == len(labels), labels
    assert days == sorted(days) and len(set(days)) == len(days)
    assert all(start <= day <= end for day in days), (days, start, end)
    assert 2 <= len(ticks) <= 6, labels
    assert all(re.fullmatch(shape, label) for label in labels), labels


def test_date_ticks_of_a_few_months_are_months_each_once():
    # The complaint: "2026-08" five times along an axis of five weeks.
    ticks = date_ticks(date(2026, 7, 2), date(2026, 11, 20))
    assert [label for _, label in ticks] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert all(day.day == 1 for day, _ in ticks)
    assert date_ticks(date(2026, 8, 3), date(2026, 8, 3)) == [(date(2026, 8, 3), "2026-08-03")]


def test_date_ticks_choose_quarters_then_years_as_the_span_grows():
    assert [label for _, label in date_ticks(date(2024, 12, 20), date(2026, 5, 1))] == [
        "2025 Q1",
        "2025 Q2",
        "2025 Q3",
        "2025 Q4",
        "2026 Q1",
        "2026 Q2",
    ]
    assert [label for _, label in date_ticks(date(2019, 5, 1), date(2024, 2, 1))] == [
        "2020",
        "2021",
        "2022",
        "2023",
        "2024",
    ]


def test_the_chart_axis_ends_at_the_data():
    points = [(date(2025, 1, 10), 3.0), (date(2025, 6, 20), 5.0)]
    svg = line_chart(
        chart_id="c",
        title="t",
        points=points,
        bands=[Band(date(2024, 6, 1), None, "IVIG")],
        y_max=10,
        x_start=date(2025, 1, 10),
        x_end=date(2025, 6, 20),
    )
    circles = [float(x) for x in re.findall(r'<circle class="point" cx="([\d.]+)"', svg)]
    assert max(circles) == pytest.approx(WIDTH - RIGHT - INNER)
    tick_labels = re.findall(
        r'<text class="axis" x="[\d.]+" y="\d+" text-anchor="\w+">([^<]+)', svg
    )
    months = [t for t in tick_labels if re.fullmatch(r"\d{4}-\d\d", t)]
    assert months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    # The episode began before the axis: drawn from its left end, marked, with its dates.
    assert "◂ IVIG" in svg and "<title>IVIG 2024-06-01 to now</title>" in svg


def test_overlapping_episodes_are_drawn_in_lanes_of_their_own():
    bands = [
        Band(date(2025, 1, 1), None, "Tacrolimus"),
        Band(date(2025, 1, 1), None, "Cyclophosphamide"),
        Band(date(2025, 3, 1), date(2025, 4, 1), "IVIG"),
    ]
    svg = line_chart(
        chart_id="c",
        title="t",
        points=[(date(2025, 1, 1), 1.0), (date(2025, 12, 1), 2.0)],
        bands=bands,
        y_max=10,
        x_start=date(2025, 1, 1),
        x_end=date(2025, 12, 1),
    )
    lanes = re.findall(r'<rect class="band" x="[\d.]+" y="(\d+)"', svg)
    assert len(lanes) == 3 and len(set(lanes)) == 3
    labels = re.findall(r'class="band-label">([^<]+)<', svg)
    assert labels == ["Tacrolimus", "Cyclophosphamide", "IVIG"]


# --- the patient page -----------------------------------------------------------------------


@pytest.fixture
def same_day(patient, coordinator, django_capture_on_commit_callbacks):
    """IVIG and rituximab from the same day, the baseline two days before, a follow-up."""
    TreatmentFactory(patient=patient, drug="ivig", start_date=date(2020, 1, 10))
    TreatmentFactory(
        patient=patient, drug="rituximab", dose=1000, dose_unit="mg", start_date=date(2020, 1, 10)
    )
    capture = django_capture_on_commit_callbacks
    save(coordinator, patient, visit_doc(), capture)
    return save(coordinator, patient, follow_up(), capture)


def test_episodes_started_the_same_day_share_one_table(as_coordinator, same_day, patient):
    html = page(as_coordinator, "web:patient", patient.pk)
    section = html[html.index("Response per treatment episode") :]
    assert section.count("<h3>") == 1
    assert "IVIG + Rituximab" in section
    assert "from 2020-01-10, ongoing" in section
    assert "one table for 2 episodes" in section
    assert section.count(f'href="/visits/{same_day.pk}/"') == 1


def test_same_day_episodes_with_different_tables_stay_apart(
    as_coordinator, patient, coordinator, django_capture_on_commit_callbacks
):
    # Rituximab stopped before the follow-up: its table has no row, IVIG's has one.
    TreatmentFactory(patient=patient, drug="ivig", start_date=date(2020, 1, 10))
    TreatmentFactory(
        patient=patient,
        drug="rituximab",
        dose=1000,
        dose_unit="mg",
        start_date=date(2020, 1, 10),
        stop_date=date(2020, 2, 1),
        stop_reason="adverse_event",
    )
    capture = django_capture_on_commit_callbacks
    save(coordinator, patient, visit_doc(), capture)
    save(coordinator, patient, follow_up(), capture)
    html = page(as_coordinator, "web:patient", patient.pk)
    section = html[html.index("Response per treatment episode") :]
    assert section.count("<h3>") == 2
    assert "IVIG + Rituximab" not in section


def test_activity_and_glucocorticoid_charts_draw_the_visits(as_coordinator, same_day, patient):
    html = page(as_coordinator, "web:patient", patient.pk)
    for chart_id, described in (
        ("chart-patient-global", "2020-01-08 5 cm, 2020-04-08 3 cm"),
        ("chart-extramuscular", "2020-01-08 4 cm, 2020-04-08 2 cm"),
        ("chart-glucocorticoid", "2020-01-08 60 mg/day, 2020-04-08 60 mg/day"),
    ):
        assert f'<desc id="{chart_id}-desc">{described}</desc>' in html
    # One legend entry per drug, in the colour of its bars.
    assert "IVIG 2020-01-10–ongoing" in html and "Rituximab 2020-01-10–ongoing" in html


def test_chart_time_labels_are_unique_on_the_page(as_coordinator, same_day, patient):
    html = page(as_coordinator, "web:patient", patient.pk)
    svg = html[html.index('<svg class="chart"') :]
    svg = svg[: svg.index("</svg>")]
    labels = re.findall(r'text-anchor="\w+">(\d{4}[^<]*)</text>', svg)
    assert labels == ["2020-02", "2020-03", "2020-04"]


# --- the explain view -----------------------------------------------------------------------


def test_explain_names_the_enzyme_not_measured_and_what_each_percentage_is(
    as_coordinator, patient, coordinator, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    save(coordinator, patient, visit_doc(), capture)
    doc = follow_up()
    del doc["labs"]["ck"]  # CK, the most abnormal at baseline (10 ×ULN), not measured now
    later = save(coordinator, patient, doc, capture)
    html = page(as_coordinator, "web:visit-explain", later.pk)
    row = html[html.index('<th scope="row">Muscle enzyme') :]
    row = row[: row.index("</tr>")]
    assert "CK was the enzyme chosen at the reference visit" in row
    assert "CK was not measured at this visit; no other enzyme is substituted" in row
    assert "the total is a lower bound" in row
    assert "relative: % of the reference value" in html
    assert "absolute: % of the scale's range" in html
    physician = html[html.index("Physician global activity</th>") :]
    physician = physician[: physician.index("</tr>")]
    # 6.0 → 3.0 cm: +50 % of the reference value for the DOI, +30 % of the 10 cm for the TIS.
    assert "+50 %" in physician and "+30 %" in physician
    assert "of the 0–10 cm range" in physician


# --- the visit page -------------------------------------------------------------------------


def test_visit_page_shows_each_haq_answer_as_entered(as_coordinator, baseline):
    html = page(as_coordinator, "web:visit", baseline.pk)
    section = html[html.index('id="haq-answers"') :]
    section = section[: section.index("</section>")]
    assert "HAQ-DI answers" in section
    for item, answer in (
        ("Stand up from a straight chair", "2 – much difficulty"),
        ("Cut your meat", "0 – no difficulty"),
        ("Walk outdoors on flat ground", "1 – some difficulty"),
    ):
        row = section[section.index(item) :]
        assert answer in row[: row.index("</tr>")]
    arising = section[section.index("<caption>Arising") :]
    arising = arising[: arising.index("</table>")]
    assert "score 2" in arising
    aids = arising[arising.index("Aids or devices") :]
    assert "<td>yes</td>" in aids[: aids.index("</tr>")]


# --- the visit form -------------------------------------------------------------------------


def _input(html, name):
    match = re.search(rf'<input type="text" name="{re.escape(name)}"[^>]*>', html)
    assert match, name
    return match.group(0)


def test_visit_form_tells_the_browser_the_services_ranges(as_coordinator, patient):
    html = page(as_coordinator, "web:visit-new", patient.pk)
    physician = _input(html, "physician_global")
    assert 'data-min="0" data-max="10" data-step="0.1" data-unit="cm"' in physician
    assert 'data-min="0" data-max="52" data-step="1"' in _input(html, "cmas")
    assert 'data-max="2000" data-step="0.01"' in _input(html, "glucocorticoid_mg_per_day")
    assert 'data-max="10" data-step="1"' in _input(html, "mmt8.deltoid.right")
    ck = _input(html, "labs.ck.value")
    assert 'data-min="0" data-min-exclusive="true"' in ck and 'data-step="0.001"' in ck
    total = _input(html, "mmt8.total")
    assert 'data-max-unilateral="80"' in total and 'data-max-bilateral="150"' in total
    assert 'id="f-physician-global-warning"' in html
    # The form posts to its own address, never to one carrying a "#f-…" fragment.
    assert f'action="/patients/{patient.pk}/visits/new/"' in html


def test_visit_form_ranges_come_from_the_service_definitions(as_coordinator, patient, monkeypatch):
    monkeypatch.setitem(documents.VAS, "maximum", 12)
    html = page(as_coordinator, "web:visit-new", patient.pk)
    assert 'data-max="12"' in _input(html, "physician_global")


# --- the clinic summary ---------------------------------------------------------------------


def test_clinic_summary_has_scores_treatments_and_antibodies(as_coordinator, same_day, patient):
    AutoantibodyResult.objects.create(
        patient=patient,
        antibody="anti-Jo-1",
        result="positive",
        method="line_blot",
        sample_date=date(2020, 1, 8),
    )
    detail = page(as_coordinator, "web:patient", patient.pk)
    assert f'href="/patients/{patient.pk}/summary/"' in detail
    response = as_coordinator.get(reverse("web:patient-summary", args=[patient.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Patient MAN-0001" in html
    assert "Latest visit: 2020-04-08" in html
    assert "IVIG + Rituximab" in html  # the response per episode, as on the patient page
    assert "Rituximab" in html[html.index('id="treatments-h"') :]
    assert "Jo-1" in html[html.index('id="antibodies-h"') :]
    assert "summary.css" in html and "mainnav" not in html  # print layout, no navigation


def test_clinic_summary_css_prints_on_a4():
    from pathlib import Path

    import web

    css = (Path(web.__file__).parent / "static/web/summary.css").read_text()
    assert "@page { size: A4" in css and "@media print" in css


def test_clinic_summary_refuses_an_outsider(client, outsider, patient, investigator, monitor):
    url = reverse("web:patient-summary", args=[patient.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    for member in (investigator, monitor):
        client.force_login(member)
        assert client.get(url).status_code == 200
    client.force_login(investigator)
    assert client.get(reverse("web:patient-summary", args=[patient.pk + 999])).status_code == 404


def test_clinic_summary_shows_the_latest_visits_only(
    as_coordinator, patient, coordinator, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    save(coordinator, patient, visit_doc(), capture)
    for months in range(1, 9):
        day = date(2020, 1, 8) + timedelta(days=30 * months)
        save(coordinator, patient, follow_up(day.isoformat()), capture)
    html = page(as_coordinator, "web:patient-summary", patient.pk)
    visits = html[html.index('id="visits-h"') :]
    visits = visits[: visits.index("</table>")]
    assert "latest 6; 3 earlier on the patient page" in visits
    assert visits.count('<th scope="row" class="date">') == 6


def test_clinic_summary_of_a_patient_without_visits(as_coordinator, patient):
    html = page(as_coordinator, "web:patient-summary", patient.pk)
    assert "No visits yet." in html
    assert "No treatment episodes recorded." in html
    assert "No autoantibody results recorded." in html


def test_a_chart_of_one_visit_has_one_tick_at_its_date():
    day = date(2025, 3, 4)
    svg = line_chart(
        chart_id="c",
        title="t",
        points=[(day, 2.0)],
        bands=[],
        y_max=10,
        x_start=day,
        x_end=day,
    )
    assert re.findall(r'text-anchor="\w+">(\d{4}-[^<]*)</text>', svg) == ["2025-03-04"]
    assert svg.count('<circle class="point"') == 1


def test_a_band_label_near_the_right_edge_stays_inside_the_chart():
    svg = line_chart(
        chart_id="c",
        title="t",
        points=[(date(2025, 1, 1), 1.0), (date(2025, 12, 1), 2.0)],
        bands=[
            Band(date(2025, 1, 1), None, "IVIG"),
            Band(date(2025, 11, 25), None, "Cyclophosphamide"),
        ],
        y_max=10,
        x_start=date(2025, 1, 1),
        x_end=date(2025, 12, 1),
    )
    found = re.findall(r'<text x="([\d.]+)" y="(\d+)" class="band-label">([^<]+)', svg)
    assert [label for _, _, label in found] == ["IVIG", "Cyclophosphamide"]
    x, _, label = found[1]
    assert float(x) + LABEL_CHAR * len(label) <= WIDTH - RIGHT
    assert found[0][1] != found[1][1]  # the label would cross IVIG's lane: a lane of its own
