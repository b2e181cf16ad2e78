"""Importing an ODM 1.3.2 Snapshot: the submission service's path, safe parsing, XML paths in
errors, and the round trip (an export imported into an empty site reproduces it)."""

import io
import re
from xml.etree import ElementTree

import pytest
from django.core.management import CommandError, call_command

from crf.models import Visit
from crf.outcomes import vital_status_save
from interchange.odm.importing import odm_import
from interchange.odm.xml import ODM_NS, UnsafeXML
from registry.audit import Actor
from registry.models import AuditEvent, Patient, Site
from tests.interchange.test_odm_export import (
    DEAD_IN_MAY,
    client_for,
    cohort,
    export_text,
    user,
    validated,
)

N = f"{{{ODM_NS}}}"
__all__ = ["cohort"]  # the fixture, used by name

SUBJECT = "/ODM/ClinicalData/SubjectData[@SubjectKey='MAN/MAN-0001']"


def moved(text: str, source: str, target: str) -> str:
    """An export of one site, as if it were another's."""
    return text.replace(f'SubjectKey="{source}/', f'SubjectKey="{target}/').replace(
        f'LocationOID="LOC.{source}"', f'LocationOID="LOC.{target}"'
    )


def normalised(text: str) -> list:
    """A file's ClinicalData without the registry's own ids, workflow state and signatures:
    subjects, their events (visits by date) and forms (repeats in order of content), items."""
    root = ElementTree.fromstring(text.encode())
    subjects = []
    for subject in root.iter(f"{N}SubjectData"):
        dates = {}
        for event in subject.iter(f"{N}StudyEventData"):
            for item in event.iter(f"{N}ItemData"):
                if item.get("ItemOID") == "IT.VISIT.VISIT_DATE":
                    dates[event.get("StudyEventRepeatKey")] = item.get("Value")
        # A suspect treatment names its adverse event and treatment by id: compared by content.
        content = {
            (form.get("FormOID"), form.get("FormRepeatKey")): tuple(
                (i.get("ItemOID"), i.get("Value")) for i in form.iter(f"{N}ItemData")
            )
            for form in subject.iter(f"{N}FormData")
        }
        refers = {"IT.AE_RELATION.ADVERSE_EVENT": "FORM.ADVERSE_EVENT",
                  "IT.AE_RELATION.EPISODE": "FORM.TREATMENT"}  # fmt: skip
        events = []
        for event in subject.iter(f"{N}StudyEventData"):
            forms = []
            for form in event.iter(f"{N}FormData"):
                items = []
                for item in form.iter(f"{N}ItemData"):
                    oid, value = item.get("ItemOID"), item.get("Value")
                    if oid in ("IT.VISIT.STATUS", "IT.VISIT.VERIFIED_BY", "IT.VISIT.VERIFIED_AT"):
                        continue  # review state: not part of a submission
                    if oid in ("IT.RESPONSE.REFERENCE_VISIT", "IT.RESPONSE.PREVIOUS_VISIT"):
                        value = dates.get(value)  # a visit id: compared by its date
                    if oid in refers:
                        value = content.get((refers[oid], value))
                    unit = item.find(f"{N}MeasurementUnitRef")
                    items.append((oid, value, item.get("IsNull"), unit is not None and unit.get(
                        "MeasurementUnitOID")))  # fmt: skip
                forms.append((form.get("FormOID"), tuple(items)))
            events.append(
                (event.get("StudyEventOID"), dates.get(event.get("StudyEventRepeatKey")),
                 tuple(sorted(forms)))
            )  # fmt: skip
        subjects.append((subject.get("SubjectKey"), tuple(events)))
    return subjects


def test_round_trip_into_an_empty_site_reproduces_the_export(
    cohort, django_capture_on_commit_callbacks
):
    first = Patient.objects.filter(site__code="MAN").order_by("patient_id").first()
    vital_status_save(actor=Actor(None, "command", "reported"), patient=first, values=DEAD_IN_MAY)
    original = export_text(site="MAN")
    outcome_forms = ("FORM.CLASSIFICATION", "FORM.VITAL_STATUS", "FORM.LUNG", "FORM.HRCT",
                     "FORM.ADVERSE_EVENT", "FORM.AE_RELATION")  # fmt: skip
    assert all(f'FormOID="{oid}"' in original for oid in outcome_forms)
    assert '<ItemData ItemOID="IT.VITAL.DEATH_DATE_PRECISION" Value="month"/>' in original
    Site.objects.create(code="NEW", name="An empty registry", country="GB")
    with django_capture_on_commit_callbacks(execute=True):
        status, answer = odm_import(
            user=None, stream=io.BytesIO(moved(original, "MAN", "NEW").encode()), trusted=True
        )
    assert status == 200, answer["errors"]
    assert not answer["errors"], answer["errors"]
    man = Patient.objects.filter(site__code="MAN")
    assert answer["summary"]["patients"]["created"] == man.count()
    assert (
        answer["summary"]["visits"]["created"]
        == Visit.objects.filter(patient__site__code="MAN").count()
    )
    again = export_text(site="NEW")
    validated(again)
    assert normalised(moved(again, "NEW", "MAN")) == normalised(original)
    # Scores were recomputed, not imported: the same results for the same data.
    assert original.count('FormOID="FORM.RESPONSE"') == again.count('FormOID="FORM.RESPONSE"') > 0
    imported = AuditEvent.objects.filter(site_id=Site.objects.get(code="NEW").pk)
    imported = imported.exclude(source="scoring").exclude(action="export")
    assert set(imported.values_list("source", flat=True)) == {"import"}
    # Importing the same file again changes nothing.
    status, answer = odm_import(
        user=None, stream=io.BytesIO(moved(original, "MAN", "NEW").encode()), trusted=True
    )
    assert answer["summary"]["patients"]["unchanged"] == man.count()


def _file(subject_xml: str, file_type: str = "Snapshot") -> bytes:
    return (
        f'<?xml version="1.0"?><ODM xmlns="{ODM_NS}" FileType="{file_type}" FileOID="F.1" '
        'CreationDateTime="2025-01-01T00:00:00" ODMVersion="1.3.2"><ClinicalData '
        f'StudyOID="ST.MYOSITIS-REGISTRY" MetaDataVersionOID="MDV.1">{subject_xml}'
        "</ClinicalData></ODM>"
    ).encode()


def _subject(
    visit_items: str = '<ItemData ItemOID="IT.VISIT.CMAS" Value="40"/>', key="MAN/MAN-0001"
) -> str:
    return (
        f'<SubjectData SubjectKey="{key}"><SiteRef LocationOID="LOC.MAN"/>'
        '<StudyEventData StudyEventOID="SE.PATIENT"><FormData FormOID="FORM.PATIENT">'
        '<ItemGroupData ItemGroupOID="IG.PATIENT">'
        '<ItemData ItemOID="IT.PATIENT.SEX" Value="female"/>'
        '<ItemData ItemOID="IT.PATIENT.BIRTH_YEAR" Value="1968"/>'
        '<ItemData ItemOID="IT.PATIENT.BIRTH_MONTH" Value="4"/>'
        '<ItemData ItemOID="IT.PATIENT.DIAGNOSIS" Value="dermatomyositis"/>'
        '<ItemData ItemOID="IT.PATIENT.ONSET_DATE" Value="2019-03-01"/>'
        '<ItemData ItemOID="IT.PATIENT.DIAGNOSIS_DATE" IsNull="Yes"/>'
        "</ItemGroupData></FormData></StudyEventData>"
        '<StudyEventData StudyEventOID="SE.BASELINE" StudyEventRepeatKey="1">'
        '<FormData FormOID="FORM.VISIT"><ItemGroupData ItemGroupOID="IG.VISIT">'
        f'<ItemData ItemOID="IT.VISIT.VISIT_DATE" Value="2020-01-08"/>{visit_items}'
        "</ItemGroupData></FormData></StudyEventData></SubjectData>"
    )


@pytest.fixture
def man(db):
    return Site.objects.create(code="MAN", name="Manchester", country="GB")


def post(person, body: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client_for(person).post(
        f"/api/v1/submissions/?{query}", body, content_type="application/xml"
    )


def test_api_imports_an_odm_snapshot_with_source_import(man):
    coordinator = user("coordinator", man)
    response = post(coordinator, _file(_subject()), dry_run="true")
    assert response.status_code == 200, response.json()
    assert response.json()["summary"]["patients"]["created"] == 1 and not Patient.objects.exists()
    response = post(coordinator, _file(_subject()))
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["patients"][0]["subject_key"] == "MAN/MAN-0001"
    assert answer["patients"][0]["status"] == "created"
    patient = Patient.objects.get()
    assert (patient.patient_id, patient.diagnosis_date) == ("MAN-0001", None)
    assert patient.visits.get().cmas == 40
    assert set(AuditEvent.objects.filter(patient_id=patient.pk).exclude(source="scoring")
               .values_list("source", flat=True)) == {"import"}  # fmt: skip


def test_unknown_item_oid_is_400_naming_the_xml_path_and_stores_nothing(man):
    body = _file(_subject('<ItemData ItemOID="IT.VISIT.NONSENSE" Value="1"/>'))
    response = post(user("coordinator", man), body)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == (
        f"{SUBJECT}/StudyEventData[2]/FormData[1]/ItemGroupData[1]"
        "/ItemData[@ItemOID='IT.VISIT.NONSENSE']"
    )
    assert "Unknown ItemOID" in error["message"]
    assert not Patient.objects.exists()


def test_a_bad_value_is_named_by_its_xml_path_and_the_other_subjects_are_stored(man):
    body = _file(
        _subject('<ItemData ItemOID="IT.VISIT.CMAS" Value="99"/>') + _subject(key="MAN/MAN-0002")
    )
    response = post(user("coordinator", man), body)
    assert response.status_code == 200
    answer = response.json()
    assert [p["status"] for p in answer["patients"]] == ["error", "created"]
    fields = {e["field"] for e in answer["errors"]}
    assert fields == {
        f"{SUBJECT}/StudyEventData[2]/FormData[1]/ItemGroupData[1]/ItemData[@ItemOID='IT.VISIT.CMAS']"
    }
    assert list(Patient.objects.values_list("patient_id", flat=True)) == ["MAN-0002"]


def test_another_sites_subjects_are_404_and_a_role_that_may_not_write_403(man):
    other = Site.objects.create(code="STO", name="Stockholm", country="SE")
    assert post(user("coordinator", other), _file(_subject())).status_code == 404
    assert post(user("monitor", man), _file(_subject())).status_code == 403
    assert not Patient.objects.exists()


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    f'<ODM xmlns="{ODM_NS}" FileType="Snapshot" ODMVersion="1.3.2">&lol3;</ODM>'
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE ODM [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    f'<ODM xmlns="{ODM_NS}" FileType="Snapshot" ODMVersion="1.3.2">&x;</ODM>'
)
DTD = (
    '<?xml version="1.0"?><!DOCTYPE ODM SYSTEM "http://example.org/odm.dtd">'
    f'<ODM xmlns="{ODM_NS}"/>'
)


@pytest.mark.parametrize("attack", [BOMB, EXTERNAL, DTD], ids=["billion-laughs", "external", "dtd"])
def test_xml_attacks_are_refused_never_expanded(man, attack, tmp_path):
    response = post(user("coordinator", man), attack.encode())
    assert response.status_code == 400
    assert "refused" in response.json()["detail"]
    with pytest.raises(UnsafeXML):
        odm_import(user=None, stream=io.BytesIO(attack.encode()), trusted=True)
    path = tmp_path / "attack.xml"
    path.write_text(attack)
    with pytest.raises(CommandError) as raised:
        call_command("import_odm", str(path), stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert not Patient.objects.exists()


def test_malformed_xml_is_400_naming_the_problem(man):
    response = post(user("coordinator", man), _file(_subject()).replace(b"</SubjectData>", b""))
    assert response.status_code == 400
    assert re.search(
        r"Malformed XML: mismatched tag: line 1, column \d+", response.json()["detail"]
    )


def test_a_transactional_file_or_another_format_is_refused(man):
    response = post(user("coordinator", man), _file(_subject(), file_type="Transactional"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "/ODM/@FileType"
    response = post(user("coordinator", man), b"<html><body/></html>")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "/ODM"


def test_import_odm_command(man, tmp_path):
    path = tmp_path / "in.xml"
    path.write_bytes(
        _file(_subject() + _subject('<ItemData ItemOID="IT.X" Value="1"/>', key="MAN/MAN-0002"))
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_odm", str(path), "--dry-run", stdout=out)
    assert raised.value.returncode == 1
    assert "MAN/MAN-0001: created" in out.getvalue() and "Unknown ItemOID 'IT.X'" in out.getvalue()
    assert not Patient.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_odm", str(path), "--site", "STO", stdout=io.StringIO())
    assert not Patient.objects.exists()
    path.write_bytes(_file(_subject()))
    out = io.StringIO()
    call_command("import_odm", str(path), stdout=out)
    assert "1 created" in out.getvalue()
    assert Patient.objects.get().patient_id == "MAN-0001"
