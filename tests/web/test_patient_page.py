"""The patient page: visits in time with their scores against the baseline and per treatment
episode, "computing…" until the worker is done (and the JSON the page polls), the explain view
and the charts."""

from datetime import date

import pytest
from django.urls import reverse

from crf.services import visit_save
from registry.audit import Actor
from scoring import selectors as scoring_selectors
from tests.factories import TreatmentFactory
from tests.web.conftest import visit_doc

pytestmark = pytest.mark.django_db


def follow_up(visit_date="2020-04-08"):
    """Better than the example baseline on every measure."""
    doc = visit_doc(
        visit_date=visit_date,
        kind="follow_up",
        physician_global=3.0,
        patient_global=3.0,
        extramuscular=2.0,
    )
    for group, grade in doc["mmt8"].items():
        if isinstance(grade, dict):
            doc["mmt8"][group] = {"right": 9, "left": 9}
    doc["labs"]["ck"]["value"] = 400
    doc["haq"]["items"].update(stand=1, climb_steps=1, bath=1, reach_object=1, errands=1, chores=1)
    return doc


@pytest.fixture
def scored(patient, coordinator, django_capture_on_commit_callbacks):
    """Baseline and follow-up saved and scored (the on-commit scoring run, as in production)."""
    TreatmentFactory(patient=patient, drug="ivig", start_date=date(2020, 1, 10))
    actor = Actor(user=coordinator, source="web")
    with django_capture_on_commit_callbacks(execute=True):
        base, _ = visit_save(actor=actor, patient=patient, data=visit_doc())
    with django_capture_on_commit_callbacks(execute=True):
        later, _ = visit_save(actor=actor, patient=patient, data=follow_up())
    return base, later


def baseline_entry(visit):
    scores = scoring_selectors.scores_for_visits([visit.pk])[visit.pk]
    return next(s for s in scores if s.reference_kind == "baseline")


def test_patient_page_shows_tis_category_and_doi_against_the_baseline(as_coordinator, scored):
    base, later = scored
    entry = baseline_entry(later)
    assert entry.status == "done"
    tis = entry.acr_eular
    response = as_coordinator.get(reverse("web:patient", args=[later.patient_id]))
    html = response.content.decode()
    row = html[html.index(f'href="/visits/{later.pk}/"') :]
    row = row[: row.index("</tr>")]
    assert f"<strong>{tis['score']:.1f}</strong>" in row
    assert tis["category"] in row
    assert ("DOI met" if entry.imacs_doi["met"] else "DOI not met") in row
    assert "baseline (reference)" in html
    assert "computing" not in html
    assert response.context["timeline"]["pending"] == 0


def test_patient_page_shows_the_response_per_treatment_episode(as_coordinator, scored):
    base, later = scored
    html = as_coordinator.get(reverse("web:patient", args=[later.patient_id])).content.decode()
    section = html[html.index("Response per treatment episode") :]
    assert "IVIG" in section
    assert "Against the episode's baseline visit of 2020-01-08." in section
    assert f'href="/visits/{later.pk}/"' in section


def test_page_says_computing_until_the_worker_is_done_and_the_poll_updates(
    as_coordinator, patient, coordinator, django_capture_on_commit_callbacks
):
    actor = Actor(user=coordinator, source="web")
    with django_capture_on_commit_callbacks(execute=True):
        visit_save(actor=actor, patient=patient, data=visit_doc())
    # The follow-up is saved, but the scoring queued after its commit has not run yet.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        later, _ = visit_save(actor=actor, patient=patient, data=follow_up())
    page = as_coordinator.get(reverse("web:patient", args=[patient.pk])).content.decode()
    assert "computing…" in page
    assert 'data-pending="1"' in page
    poll = as_coordinator.get(reverse("web:patient-scores", args=[patient.pk])).json()
    assert poll["pending"] == 1 and "computing…" in poll["html"]
    for callback in queued:  # the worker finishes
        callback()
    poll = as_coordinator.get(reverse("web:patient-scores", args=[patient.pk])).json()
    assert poll["pending"] == 0
    assert "computing…" not in poll["html"]
    assert f"<strong>{baseline_entry(later).acr_eular['score']:.1f}</strong>" in poll["html"]
    assert poll["html"].startswith('<div id="scores" data-pending="0"')


def test_explain_view_shows_each_measure_percent_change_and_points(as_coordinator, scored):
    base, later = scored
    entry = baseline_entry(later)
    response = as_coordinator.get(reverse("web:visit-explain", args=[later.pk]))
    html = response.content.decode()
    assert "Against the patient's baseline visit of 2020-01-08" in html
    measures = entry.acr_eular["measures"]
    physician = measures["physician_global"]
    assert physician["percent_improvement"] == 30.0
    section = html[html.index("Physician global activity</th>") :]
    section = section[: section.index("</tr>")]
    assert "6.0 cm" in section and "3.0 cm" in section
    assert "+30" in section and f"{physician['points']:.1f}" in section
    assert "improved" in section
    assert f"<strong>{entry.acr_eular['score']:.1f}</strong>" in html
    strength = html[html.index("Muscle strength") :]
    assert "119/150" in strength[: strength.index("</tr>")]


def test_charts_are_inline_svg_with_the_treatment_band(as_coordinator, scored):
    base, later = scored
    html = as_coordinator.get(reverse("web:patient", args=[later.patient_id])).content.decode()
    assert html.count('<svg class="chart"') == 7
    for title in (
        "MMT-8 total over time",
        "CK as multiples",
        "Disability index",
        "total improve",
        "Patient global disease activity",
        "Extramuscular global activity",
        "Glucocorticoid dose in prednisone-equivalent",
    ):
        assert title in html
    assert '<rect class="band"' in html and "<title>IVIG 2020-01-10 to now</title>" in html
    assert "2020-04-08: 134" in html  # the follow-up's MMT-8 point, described for screen readers
    assert "http://" not in html.split("<svg", 1)[1].replace("http://www.w3.org", "")


def test_visit_page_shows_totals_and_scores(as_coordinator, scored):
    base, later = scored
    html = as_coordinator.get(reverse("web:visit", args=[later.pk])).content.decode()
    assert "134/150" in html
    assert "Against the baseline of 2020-01-08" in html
    assert "How these were computed" in html
