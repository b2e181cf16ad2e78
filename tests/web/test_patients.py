"""Patient list (search and filters), registering and editing patients, autoantibodies and
treatment episodes through the pages."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from crf.models import DataQuery, Visit
from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from tests.factories import PatientFactory, TreatmentFactory, VisitFactory

pytestmark = pytest.mark.django_db


def listed(response):
    return [row.patient.patient_id for row in response.context["rows"]]


# --- list ---------------------------------------------------------------------------------------


def test_list_searches_by_site_patient_id(as_coordinator, site):
    for pid in ("MAN-0001", "MAN-0002", "MAN-0110"):
        PatientFactory(site=site, patient_id=pid)
    response = as_coordinator.get(reverse("web:patients"), {"q": "01"})
    assert listed(response) == ["MAN-0001", "MAN-0110"]


def test_list_filters_by_diagnosis_and_serology(as_coordinator, site):
    PatientFactory(site=site, patient_id="A", diagnosis="polymyositis", serology_group="mda5")
    PatientFactory(site=site, patient_id="B", diagnosis="polymyositis", serology_group="not_tested")
    PatientFactory(site=site, patient_id="C", diagnosis="dermatomyositis", serology_group="mda5")
    url = reverse("web:patients")
    assert listed(as_coordinator.get(url, {"diagnosis": "polymyositis"})) == ["A", "B"]
    assert listed(as_coordinator.get(url, {"serology": "mda5"})) == ["A", "C"]
    both = as_coordinator.get(url, {"diagnosis": "polymyositis", "serology": "mda5"})
    assert listed(both) == ["A"]


def test_list_filters_by_visit_status_and_open_queries(as_coordinator, site):
    draft = PatientFactory(site=site, patient_id="DRAFT")
    VisitFactory(patient=draft, status=Visit.Status.DRAFT)
    queried = PatientFactory(site=site, patient_id="QUERIED")
    visit = VisitFactory(patient=queried, status=Visit.Status.SUBMITTED)
    DataQuery.objects.create(visit=visit, field="cmas", text="Is this right?")
    PatientFactory(site=site, patient_id="NONE")
    url = reverse("web:patients")
    assert listed(as_coordinator.get(url, {"status": "draft"})) == ["DRAFT"]
    assert listed(as_coordinator.get(url, {"status": "submitted"})) == ["QUERIED"]
    assert listed(as_coordinator.get(url, {"status": "open_queries"})) == ["QUERIED"]


def test_overdue_means_no_visit_in_183_days_or_none_at_all(as_coordinator, site):
    today = date.today()
    recent = PatientFactory(site=site, patient_id="RECENT")
    VisitFactory(patient=recent, visit_date=today - timedelta(days=183))
    late = PatientFactory(site=site, patient_id="LATE")
    VisitFactory(patient=late, visit_date=today - timedelta(days=184))
    VisitFactory(patient=late, visit_date=today - timedelta(days=400))
    PatientFactory(site=site, patient_id="NEVER")
    response = as_coordinator.get(reverse("web:patients"), {"overdue": "1"})
    assert listed(response) == ["LATE", "NEVER"]
    rows = {row.patient.patient_id: row for row in as_coordinator.get("/patients/").context["rows"]}
    assert rows["LATE"].overdue and rows["NEVER"].overdue and not rows["RECENT"].overdue


def test_list_pages_through_many_patients(as_coordinator, site):
    for n in range(55):
        PatientFactory(site=site, patient_id=f"P{n:03d}")
    first = as_coordinator.get(reverse("web:patients"))
    assert len(listed(first)) == 50
    second = as_coordinator.get(reverse("web:patients"), {"page": 2})
    assert listed(second) == [f"P{n:03d}" for n in range(50, 55)]


# --- registering and editing --------------------------------------------------------------------

NEW_PATIENT = {
    "patient_id": "MAN-0042",
    "sex": "female",
    "birth_year_month": "1971-06",
    "diagnosis": "antisynthetase_syndrome",
    "onset_date": "2021-02-01",
    "diagnosis_date": "2021-03-15",
}


def test_coordinator_registers_a_patient(as_coordinator, site, coordinator):
    response = as_coordinator.post(reverse("web:patient-new"), NEW_PATIENT)
    patient = Patient.objects.get(patient_id="MAN-0042")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:patient", args=[patient.pk])
    assert (patient.site, patient.birth_year, patient.birth_month) == (site, 1971, 6)
    event = AuditEvent.objects.get(object_type="registry.patient", action="create")
    assert (event.actor, event.source) == (coordinator, "web")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_year_month", "06/1971", "Must be a year and month as YYYY-MM."),
        ("onset_date", "2021-13-01", "Must be a date as YYYY-MM-DD."),
        ("onset_date", "1960-01-01", "Date cannot be before the month of birth."),
        ("diagnosis", "", "This field is required."),
        ("patient_id", "", "This field is required."),
    ],
)
def test_invalid_patient_shows_the_message_at_the_field(as_coordinator, field, value, message):
    response = as_coordinator.post(reverse("web:patient-new"), {**NEW_PATIENT, field: value})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html and 'aria-invalid="true"' in html
    assert not Patient.objects.exists()


def test_registering_an_existing_id_is_refused_not_merged(as_coordinator, patient):
    response = as_coordinator.post(
        reverse("web:patient-new"), {**NEW_PATIENT, "patient_id": patient.patient_id}
    )
    assert "already registered at MAN" in response.context["form"].errors["patient_id"][0]
    patient.refresh_from_db()
    assert patient.diagnosis == "dermatomyositis"


def test_coordinator_edits_a_patient_with_a_reason(as_coordinator, patient):
    url = reverse("web:patient-edit", args=[patient.pk])
    form = as_coordinator.get(url).context["form"]
    data = {**{k: v for k, v in form.initial.items()}, "diagnosis": "polymyositis"}
    data["reason"] = "diagnosis revised after biopsy"
    response = as_coordinator.post(url, data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.diagnosis == "polymyositis"
    event = AuditEvent.objects.get(object_type="registry.patient", field="diagnosis")
    assert (event.old_value, event.new_value) == ("dermatomyositis", "polymyositis")
    assert event.reason == "diagnosis revised after biopsy"


def test_editing_a_patient_changed_meanwhile_is_a_conflict(as_coordinator, patient):
    url = reverse("web:patient-edit", args=[patient.pk])
    data = dict(as_coordinator.get(url).context["form"].initial, diagnosis="polymyositis")
    Patient.objects.filter(pk=patient.pk).update(sex="male")  # someone else's save
    Patient.objects.filter(pk=patient.pk).update(updated_at=patient.updated_at + timedelta(1))
    response = as_coordinator.post(url, data)
    assert response.status_code == 200
    assert "Someone else changed this patient" in response.content.decode()
    patient.refresh_from_db()
    assert patient.diagnosis == "dermatomyositis"


def test_the_site_patient_id_is_not_changed_by_the_edit_form(as_coordinator, patient):
    url = reverse("web:patient-edit", args=[patient.pk])
    data = dict(as_coordinator.get(url).context["form"].initial, patient_id="HACKED")
    as_coordinator.post(url, data)
    assert Patient.objects.get(pk=patient.pk).patient_id == "MAN-0001"
    assert not Patient.objects.filter(patient_id="HACKED").exists()


# --- autoantibodies and treatments --------------------------------------------------------------


def test_coordinator_adds_an_autoantibody_and_the_serology_follows(as_coordinator, patient):
    response = as_coordinator.post(
        reverse("web:antibody-new", args=[patient.pk]),
        {
            "antibody": "anti-MDA5",
            "result": "positive",
            "method": "line_blot",
            "sample_date": "2019-05-02",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.serology_group == "mda5"
    page = as_coordinator.get(reverse("web:patient", args=[patient.pk])).content.decode()
    assert "anti-MDA5" in page and "Anti-MDA5" in page


def test_invalid_autoantibody_names_the_field(as_coordinator, patient):
    response = as_coordinator.post(
        reverse("web:antibody-new", args=[patient.pk]),
        {"antibody": "anti-XYZ", "result": "positive", "method": "elisa", "sample_date": "x"},
    )
    errors = response.context["form"].errors
    assert "Must be one of" in errors["antibody"][0]
    assert errors["sample_date"] == ["Must be a date as YYYY-MM-DD."]
    assert not AutoantibodyResult.objects.exists()


def test_coordinator_edits_and_deletes_an_autoantibody(as_coordinator, patient):
    result = AutoantibodyResult.objects.create(
        patient=patient, antibody="anti-Jo-1", result="equivocal", method="elisa",
        sample_date=date(2019, 5, 2),
    )  # fmt: skip
    url = reverse("web:antibody-edit", args=[result.pk])
    data = {"result": "positive", "method": "immunoprecipitation", "reason": "confirmed by IP"}
    assert as_coordinator.post(url, data).status_code == 302
    result.refresh_from_db()
    assert (result.result, result.method, result.antibody) == (
        "positive", "immunoprecipitation", "anti-Jo-1",
    )  # fmt: skip
    patient.refresh_from_db()
    assert patient.serology_group == "antisynthetase"
    delete = reverse("web:antibody-delete", args=[result.pk])
    assert as_coordinator.post(delete, {"reason": "wrong patient"}).status_code == 302
    assert not AutoantibodyResult.objects.exists()
    assert AuditEvent.objects.get(action="delete").reason == "wrong patient"


def test_coordinator_adds_edits_and_deletes_a_treatment(as_coordinator, patient):
    new = reverse("web:treatment-new", args=[patient.pk])
    data = {
        "drug": "rituximab",
        "dose": "1000",
        "dose_unit": "mg",
        "route": "iv",
        "frequency": "days 0 and 14",
        "start_date": "2020-02-01",
    }
    assert as_coordinator.post(new, data).status_code == 302
    episode = TreatmentEpisode.objects.get()
    assert (episode.drug, episode.dose) == ("rituximab", 1000)
    edit = reverse("web:treatment-edit", args=[episode.pk])
    data.update(stop_date="2020-09-01", stop_reason="remission", reason="stop recorded")
    assert as_coordinator.post(edit, data).status_code == 302
    episode.refresh_from_db()
    assert episode.stop_date == date(2020, 9, 1)
    delete = reverse("web:treatment-delete", args=[episode.pk])
    assert as_coordinator.post(delete, {"reason": "duplicate"}).status_code == 302
    assert not TreatmentEpisode.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"stop_date": "2020-01-01"}, "stop_date", "Date cannot be before the start date."),
        ({"dose": "lots"}, "dose", "Must be a number."),
        ({"drug": "other"}, "drug_other", "Name the drug when drug is 'other'."),
    ],
)
def test_invalid_treatment_names_the_field(as_coordinator, patient, change, field, message):
    data = {"drug": "ivig", "start_date": "2020-02-01", **change}
    response = as_coordinator.post(reverse("web:treatment-new", args=[patient.pk]), data)
    assert message in response.context["form"].errors[field]
    assert not TreatmentEpisode.objects.exists()


def test_a_second_episode_with_the_same_drug_and_start_is_refused(as_coordinator, patient):
    TreatmentFactory(patient=patient, drug="ivig", start_date=date(2020, 2, 1))
    response = as_coordinator.post(
        reverse("web:treatment-new", args=[patient.pk]),
        {"drug": "ivig", "start_date": "2020-02-01"},
    )
    assert "already recorded" in response.context["form"].errors["start_date"][0]
    assert TreatmentEpisode.objects.count() == 1


def test_filtered_count_is_capped_and_says_so(as_coordinator, site, monkeypatch):
    from web import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for n in range(5):
        PatientFactory(site=site, patient_id=f"P{n}", diagnosis="polymyositis")
    filtered = as_coordinator.get(reverse("web:patients"), {"diagnosis": "polymyositis"})
    assert "3+ patients match." in filtered.content.decode()
    assert listed(filtered) == ["P0", "P1", "P2"]
    everyone = as_coordinator.get(reverse("web:patients"))
    assert "5 patients." in everyone.content.decode()
