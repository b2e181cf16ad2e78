"""The one-page visit form: every instrument, server validation at each field with a summary,
draft and submit, reasons for amendments, version conflicts, locked visits."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crf.models import HAQ, MMT8, Visit
from registry.models import AuditEvent
from tests.factories import PatientFactory
from tests.web.conftest import form_data, visit_doc

pytestmark = pytest.mark.django_db


def new_url(patient):
    return reverse("web:visit-new", args=[patient.pk])


def edit_url(visit):
    return reverse("web:visit-edit", args=[visit.pk])


def test_new_visit_with_every_instrument_is_stored_and_audited(as_coordinator, patient):
    data = form_data(visit_doc(cmas=48, fvc_percent=82.5, dlco_percent=61, physician_damage=1.2))
    response = as_coordinator.post(new_url(patient), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:patient", args=[patient.pk])
    visit = Visit.objects.get(patient=patient)
    assert (visit.status, visit.kind, visit.physician_global) == ("submitted", "baseline", 6)
    assert (visit.cmas, visit.fvc_percent, visit.dlco_percent) == (48, Decimal("82.5"), 61)
    assert visit.mmt8.total == 119
    assert visit.haq.score == Decimal("1.625")
    assert visit.haq.aids == ["arising", "walking"]
    assert {lab.enzyme: lab.uln for lab in visit.labs.all()} == {
        "ck": 200,
        "aldolase": Decimal("7.6"),
    }
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"web"}


def test_save_as_draft_then_submit(as_coordinator, patient):
    as_coordinator.post(new_url(patient), form_data(visit_doc(), action="draft"))
    visit = Visit.objects.get()
    assert visit.status == Visit.Status.DRAFT
    page = as_coordinator.get(edit_url(visit)).content.decode()
    assert "Save draft" in page and "Reason for change" not in page
    data = form_data(visit_doc(), action="submit", version=visit.version)
    assert as_coordinator.post(edit_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SUBMITTED


def test_invalid_grade_shows_its_message_at_the_field_and_in_the_summary(as_coordinator, patient):
    doc = visit_doc()
    doc["mmt8"]["deltoid"]["right"] = 11
    response = as_coordinator.post(new_url(patient), form_data(doc))
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(
        r'id="f-mmt8-deltoid-right" value="11"[^>]*aria-describedby="f-mmt8-deltoid-right-error"'
        r'[^>]*aria-invalid="true"',
        html,
    )
    assert re.search(r'id="f-mmt8-deltoid-right-error">.*Must be between 0 and 10\.', html)
    summary = html[html.index('id="error-summary"') :]
    assert 'role="alert"' in html
    assert (
        'href="#f-mmt8-deltoid-right">MMT-8 — Deltoid (middle), right: Must be between' in summary
    )
    assert not Visit.objects.exists()


def test_every_bad_field_is_named_at_once(as_coordinator, patient):
    doc = visit_doc(physician_global=10.5, patient_global=7.25)
    doc["haq"]["items"]["walk"] = 4
    data = form_data(doc, extramuscular="a lot", **{"labs.ck.uln": ""})
    response = as_coordinator.post(new_url(patient), data)
    form = response.context["form"]
    assert form["physician_global"].errors == ["Must be between 0 and 10 cm."]
    assert form["patient_global"].errors == ["Must be given in steps of 0.1."]
    assert form["extramuscular"].errors == ["Must be a number."]
    assert form["haq.items.walk"].errors == ["Must be between 0 and 3."]
    assert form["labs.ck.uln"].errors == ["This field is required."]
    assert len(form.summary) == 5
    # What was typed is kept, so the person corrects rather than retypes.
    assert 'value="a lot"' in response.content.decode()
    assert not Visit.objects.exists()


def test_decimal_comma_is_read_as_a_decimal_point(as_coordinator, patient):
    as_coordinator.post(new_url(patient), form_data(visit_doc(), physician_global="6,5"))
    assert Visit.objects.get().physician_global == Decimal("6.5")


def test_unilateral_scale_stores_the_side_tested(as_coordinator, patient):
    doc = visit_doc()
    doc["mmt8"] = {"scale": "unilateral", "side": "left", "neck_flexors": 8}
    for group in ("deltoid", "biceps", "wrist_extensors", "gluteus_maximus"):
        doc["mmt8"][group] = 9
    for group in ("gluteus_medius", "quadriceps", "ankle_dorsiflexors"):
        doc["mmt8"][group] = 7
    assert as_coordinator.post(new_url(patient), form_data(doc)).status_code == 302
    mmt = MMT8.objects.get()
    assert (mmt.scale, mmt.side, mmt.deltoid_left, mmt.deltoid_right) == (
        "unilateral", "left", 9, None,
    )  # fmt: skip
    assert mmt.total == 8 + 4 * 9 + 3 * 7


def test_unilateral_grade_in_the_untested_side_is_an_error(as_coordinator, patient):
    doc = visit_doc()
    doc["mmt8"] = {"scale": "unilateral", "side": "right", "neck_flexors": 8, "deltoid": 9}
    data = form_data(doc, **{"mmt8.biceps.left": "7"})
    response = as_coordinator.post(new_url(patient), data)
    assert response.status_code == 400
    errors = response.context["form"]["mmt8.biceps.left"].errors
    assert errors == [
        "The unilateral scale grades the right side only: clear this grade or choose the "
        "bilateral scale."
    ]
    assert not Visit.objects.exists()


def test_lab_row_with_only_the_carried_over_uln_is_not_stored(as_coordinator, patient):
    data = form_data(visit_doc(), **{"labs.ldh.uln": "250", "labs.ldh.unit": "U/L"})
    as_coordinator.post(new_url(patient), data)
    assert sorted(Visit.objects.get().labs.values_list("enzyme", flat=True)) == ["aldolase", "ck"]


def test_new_form_carries_over_scale_units_and_ulns_and_defaults_the_kind(
    as_coordinator, patient, baseline
):
    form = as_coordinator.get(new_url(patient)).context["form"]
    assert form["kind"].value == "follow_up"
    assert form["labs.ck.uln"].value == "200"
    assert form["labs.aldolase.uln"].value == "7.6"
    assert form["labs.ck.value"].value == ""
    other = PatientFactory(site=patient.site, patient_id="MAN-0002")
    assert as_coordinator.get(new_url(other)).context["form"]["kind"].value == "baseline"


def test_juvenile_patient_gets_the_chaq_with_not_applicable(as_coordinator, site):
    child = PatientFactory(site=site, birth_year=2012, onset_date="2019-03-01")
    page = as_coordinator.get(new_url(child)).content.decode()
    assert "Childhood Health Assessment Questionnaire (CHAQ)" in page
    assert 'name="haq.items.socks"' in page and "n/a – not applicable" in page
    doc = visit_doc(visit_date="2020-01-08")
    haq = doc.pop("haq")
    haq["items"].update(socks="na", nails=3, play=1)
    doc["chaq"] = haq
    assert as_coordinator.post(new_url(child), form_data(doc)).status_code == 302
    chaq = HAQ.objects.get()
    assert (chaq.instrument, chaq.not_applicable, chaq.nails) == ("chaq", ["socks"], 3)


def test_adult_form_has_the_twenty_haq_items(as_coordinator, patient):
    html = as_coordinator.get(new_url(patient)).content.decode()
    assert len(re.findall(r'name="haq\.items\.', html)) == 20
    assert 'name="haq.items.socks"' not in html


def test_tab_order_follows_the_paper_form(as_coordinator, patient):
    """No positive tabindex anywhere; the inputs come in the order of the paper form."""
    html = as_coordinator.get(new_url(patient)).content.decode()
    assert not re.search(r'tabindex="[1-9]', html)
    names = re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', html)
    names = [n for n in names if n not in ("csrfmiddlewaretoken", "next", "site")]
    order = [
        "visit_date", "kind", "physician_global", "patient_global", "extramuscular",
        "physician_damage", "mmt8.scale", "mmt8.scale", "mmt8.side", "mmt8.side",
        "mmt8.neck_flexors", "mmt8.deltoid.right", "mmt8.deltoid.left", "mmt8.biceps.right",
    ]  # fmt: skip
    assert names[: len(order)] == order
    assert names.index("mmt8.ankle_dorsiflexors.left") < names.index("cmas")
    assert names.index("cmas") < names.index("labs.ck.value") < names.index("labs.ck.unit")
    assert names.index("labs.ck.uln") < names.index("labs.aldolase.value")
    assert names.index("labs.alt.uln") < names.index("haq.items.dress")
    assert names.index("haq.items.shampoo") < names.index("haq.aids") < names.index("haq.help")
    assert names.index("haq.items.chores") < names.index("fvc_percent")
    assert names.index("dlco_percent") < names.index("glucocorticoid_mg_per_day")


def test_every_input_has_a_label(as_coordinator, patient, baseline):
    for url in (new_url(patient), edit_url(baseline)):
        html = as_coordinator.get(url).content.decode()
        form = html[html.index('id="visit-form"') :]
        ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|radio|checkbox)")'
                         r'[^>]* id="([^"]+)"', form)  # fmt: skip
        assert ids
        for element_id in ids:
            assert f'for="{element_id}"' in form, element_id


def test_edit_form_shows_the_stored_values(as_coordinator, baseline):
    form = as_coordinator.get(edit_url(baseline)).context["form"]
    assert form["visit_date"].value == "2020-01-08"
    assert form["mmt8.deltoid.right"].value == "7"
    assert form["labs.aldolase.value"].value == "15.2"
    assert form["haq.items.climb_steps"].value == "2"
    assert form.checked["haq.aids"] == {"arising", "walking"}
    html = as_coordinator.get(edit_url(baseline)).content.decode()
    assert 'name="haq.aids" value="arising" data-role="haq-aid" checked' in html


def test_amending_submitted_data_asks_for_a_reason(as_coordinator, baseline):
    doc = visit_doc()
    doc["mmt8"]["deltoid"]["left"] = 9
    response = as_coordinator.post(edit_url(baseline), form_data(doc, version=1))
    assert response.status_code == 400
    assert response.context["form"]["reason"].errors == [
        "Give a reason for changing submitted data."
    ]
    assert MMT8.objects.get().deltoid_left == 8
    data = form_data(doc, version=1, reason="transcription error")
    assert as_coordinator.post(edit_url(baseline), data).status_code == 302
    event = AuditEvent.objects.get(object_type="crf.mmt8", action="update")
    assert (event.old_value, event.new_value, event.reason) == ("8", "9", "transcription error")
    baseline.refresh_from_db()
    assert baseline.version == 2


def test_concurrent_edit_gets_a_conflict_not_an_overwrite(as_coordinator, baseline, coordinator):
    from crf.services import visit_save
    from registry.audit import Actor

    # Someone else saves a change after this person opened the form at version 1.
    other = visit_doc(physician_global=5.0, reason="entered the wrong value")
    visit_save(
        actor=Actor(coordinator, "web"), patient=baseline.patient, data=other, visit=baseline
    )
    mine = form_data(visit_doc(physician_global=7.0), version=1, reason="my correction")
    response = as_coordinator.post(edit_url(baseline), mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: someone else changed this visit" in html
    assert "now version 2, you edited version 1" in html
    assert 'value="7.0"' in html  # their entries are kept to re-apply
    baseline.refresh_from_db()
    assert (baseline.physician_global, baseline.version) == (5, 2)


def test_locked_visit_cannot_be_edited(as_coordinator, baseline):
    Visit.objects.filter(pk=baseline.pk).update(status=Visit.Status.LOCKED)
    response = as_coordinator.get(edit_url(baseline), follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:visit", args=[baseline.pk])
    assert "signed and locked" in response.content.decode()
    data = form_data(visit_doc(physician_global=1.0), version=1, reason="x")
    as_coordinator.post(edit_url(baseline), data)
    assert Visit.objects.get(pk=baseline.pk).physician_global == 6


def test_a_second_baseline_is_refused_at_the_kind(as_coordinator, patient, baseline):
    doc = visit_doc(visit_date="2020-06-01", kind="baseline")
    response = as_coordinator.post(new_url(patient), form_data(doc))
    assert "already has a baseline visit" in response.context["form"]["kind"].errors[0]
    assert Visit.objects.count() == 1


def test_legacy_totals_are_accepted_and_shown_again(as_coordinator, patient):
    doc = visit_doc()
    doc["mmt8"] = {"scale": "bilateral", "total": 118}
    doc["haq"] = {"score": 1.25}
    assert as_coordinator.post(new_url(patient), form_data(doc)).status_code == 302
    visit = Visit.objects.get()
    assert (visit.mmt8.legacy_total, visit.haq.legacy_score) == (118, Decimal("1.25"))
    form = as_coordinator.get(edit_url(visit)).context["form"]
    assert (form["mmt8.total"].value, form["haq.score"].value) == ("118", "1.25")


def test_saving_without_changes_says_so(as_coordinator, baseline):
    response = as_coordinator.post(
        edit_url(baseline), form_data(visit_doc(), version=1), follow=True
    )
    assert "unchanged" in response.content.decode()
    assert Visit.objects.get().version == 1


def test_coordinator_deletes_a_submitted_visit_with_a_reason(as_coordinator, baseline):
    url = reverse("web:visit-delete", args=[baseline.pk])
    response = as_coordinator.post(url, {"reason": ""})
    assert "Give a reason" in response.content.decode()
    assert Visit.objects.exists()
    assert as_coordinator.post(url, {"reason": "entered on the wrong patient"}).status_code == 302
    assert not Visit.objects.exists()
    assert AuditEvent.objects.get(object_type="crf.visit", action="delete").reason == (
        "entered on the wrong patient"
    )


@pytest.mark.parametrize("name", ["physician_global", "cmas", "labs.ck.value", "mmt8.total",
                                  "haq.items.walk", "haq.score", "mmt8.deltoid.right"])  # fmt: skip
@pytest.mark.parametrize("typed", ["9" * 5000, "9" * 5000 + ",5", "-" + "1" * 4400])
def test_a_number_of_thousands_of_digits_is_an_error_at_its_field(
    as_coordinator, patient, name, typed
):
    response = as_coordinator.post(new_url(patient), form_data(visit_doc(), **{name: typed}))
    assert response.status_code == 400
    assert response.context["form"][name].errors
    assert not Visit.objects.exists()


def test_aids_without_any_item_answered_are_refused(as_coordinator, patient):
    doc = visit_doc()
    doc["haq"] = {"items": {}, "aids": ["arising"]}
    response = as_coordinator.post(new_url(patient), form_data(doc))
    assert response.status_code == 400
    assert response.context["form"]["haq.score"].errors == [
        "Answer at least one item, or give the score."
    ]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("typed", ["2021-W01-1", "20210104", "2021-01-04 "])
def test_a_visit_date_is_yyyy_mm_dd_only(as_coordinator, patient, typed):
    response = as_coordinator.post(new_url(patient), form_data(visit_doc(), visit_date=typed))
    if typed.strip() == "2021-01-04":  # the form strips what is typed around the date
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert response.context["form"]["visit_date"].errors == ["Must be a date as YYYY-MM-DD."]
    assert not Visit.objects.exists()
