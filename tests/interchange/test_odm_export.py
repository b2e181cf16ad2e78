"""The CDISC ODM 1.3.2 export: valid against odmlib's XSD, streamed, scoped, audited."""

import io
import re
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from crf.invitations import pro_invitation_create
from crf.models import Signature, Visit
from crf.outcomes import vital_status_save
from crf.services import query_raise, visit_verify
from interchange.odm.export import odm_export
from interchange.odm.xml import ODM_NS, SchemaError, validate
from interchange.submissions import submission_process
from registry.audit import Actor
from registry.models import AuditEvent, AutoantibodyResult, Membership, Patient, Site
from registry.services import autoantibody_delete, patient_upsert
from tests.factories import UserFactory

TODAY = date(2025, 6, 30)
# A death known to the month: stored as the 15th, exported to FHIR as YYYY-MM.
DEAD_IN_MAY = {
    "status": "dead",
    "death_date": date(2025, 5, 15),
    "death_date_precision": "month",
    "cause_category": "infection",
    "source": "relative",
}
N = f"{{{ODM_NS}}}"


@pytest.fixture
def cohort(db, django_capture_on_commit_callbacks):
    """The demo cohort (two sites, MAN and STO, every demo login), scored."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", patients=10, sites=2, today=TODAY, stdout=io.StringIO())
    return {site.code: site for site in Site.objects.all()}


def user(role: str, site: Site | None) -> object:
    person = UserFactory(username=f"{role}-{site.code if site else 'all'}-odm")
    Membership.objects.get_or_create(user=person, role=role, site=site)
    return person


def export_text(kind: str = "snapshot", site: str | None = None, **options) -> str:
    export = odm_export(user=None, kind=kind, site_code=site, source="command", trusted=True)
    return "".join(export.stream(**options))


def validated(text: str) -> ElementTree.Element:
    validate(io.BytesIO(text.encode("utf-8")))
    return ElementTree.fromstring(text.encode("utf-8"))


def test_the_validator_refuses_a_file_that_is_not_odm():
    with pytest.raises(SchemaError):
        validate(io.BytesIO(f'<ODM xmlns="{ODM_NS}" FileOID="x"/>'.encode()))


def test_snapshot_is_valid_odm_with_metadata_signatures_and_units(cohort):
    root = validated(export_text())
    assert root.get("FileType") == "Snapshot" and root.get("ODMVersion") == "1.3.2"
    assert root.get("Granularity") == "All" and root.get("SourceSystem")
    assert root.get("SourceSystemVersion")
    created = datetime.fromisoformat(root.get("CreationDateTime"))
    assert datetime.fromisoformat(root.get("AsOfDateTime")) <= created
    version = root.find(f"{N}Study/{N}MetaDataVersion")
    events = {e.get("OID"): e for e in version.iter(f"{N}StudyEventDef")}
    assert {oid for oid, e in events.items() if e.get("Repeating") == "Yes"} == {
        "SE.BASELINE", "SE.FOLLOW_UP", "SE.UNSCHEDULED",
    }  # fmt: skip
    items = {item.get("OID"): item for item in version.iter(f"{N}ItemDef")}
    cmas = items["IT.VISIT.CMAS"]
    assert cmas.get("DataType") == "integer"
    checks = {
        (c.get("Comparator"), c.find(f"{N}CheckValue").text) for c in cmas.iter(f"{N}RangeCheck")
    }
    assert checks == {("GE", "0"), ("LE", "52")}
    vas = items["IT.VISIT.PHYSICIAN_GLOBAL"]
    assert vas.find(f"{N}MeasurementUnitRef").get("MeasurementUnitOID") == "MU.CM"
    assert items["IT.RESPONSE.SCORE"].get("Origin") == "Derived"
    assert items["IT.HAQ.DISABILITY_INDEX"].get("Origin") == "Derived"
    methods = {m.get("OID") for m in version.iter(f"{N}MethodDef")}
    assert {"MT.TIS", "MT.DOI", "MT.HAQ_DI", "MT.MMT8_TOTAL"} <= methods
    refs = {r.get("ItemOID"): r.get("MethodOID") for r in version.iter(f"{N}ItemRef")}
    assert refs["IT.RESPONSE.MET"] == "MT.DOI" and refs["IT.VISIT.CMAS"] is None
    code_lists = {c.get("OID") for c in version.iter(f"{N}CodeList")}
    vocabularies = {
        "CL.SEX", "CL.DIAGNOSIS", "CL.ANTIBODY", "CL.DRUG", "CL.DRUG_CLASS", "CL.ROUTE",
        "CL.SEROLOGY_GROUP", "CL.VISIT_KIND", "CL.MMT8_SCALE", "CL.ROLE",
    }  # fmt: skip
    assert vocabularies <= code_lists
    admin = root.find(f"{N}AdminData")
    assert {loc.get("OID") for loc in admin.iter(f"{N}Location")} == {"LOC.MAN", "LOC.STO"}
    assert {s.get("OID") for s in admin.iter(f"{N}SignatureDef")} == {"SD.APPROVAL", "SD.REVIEW"}
    logins = {u.find(f"{N}LoginName").text for u in admin.iter(f"{N}User")}
    assert "inv-man" in logins
    subjects = list(root.iter(f"{N}SubjectData"))
    assert len(subjects) == Patient.objects.count() == 10
    first = Patient.objects.select_related("site").order_by("site__code", "patient_id").first()
    assert subjects[0].get("SubjectKey") == f"{first.site.code}/{first.patient_id}"
    assert subjects[0].find(f"{N}SiteRef").get("LocationOID") == f"LOC.{first.site.code}"
    signed = [e for e in root.iter(f"{N}StudyEventData") if e.find(f"{N}Signature") is not None]
    in_force = Signature.objects.filter(voided_at=None)
    assert {int(e.get("StudyEventRepeatKey")) for e in signed} == set(
        in_force.values_list("visit_id", flat=True)
    )
    assert signed
    keys = {int(e.get("StudyEventRepeatKey")) for e in root.iter(f"{N}StudyEventData")
            if e.get("StudyEventRepeatKey")}  # fmt: skip
    assert keys == set(Visit.objects.values_list("pk", flat=True))
    labs = [i for i in root.iter(f"{N}ItemData") if i.get("ItemOID") == "IT.LAB.VALUE"]
    assert {i.find(f"{N}MeasurementUnitRef").get("MeasurementUnitOID") for i in labs} == {
        "MU.U_L", "MU.UKAT_L",
    }  # fmt: skip
    assert any(i.get("IsNull") == "Yes" for i in root.iter(f"{N}ItemData"))
    forms = {f.get("FormOID") for f in root.iter(f"{N}FormData")}
    assert {
        "FORM.PATIENT",
        "FORM.AUTOANTIBODY",
        "FORM.TREATMENT",
        "FORM.VISIT",
        "FORM.RESPONSE",
    } <= forms


def test_transactional_file_has_every_audit_event_with_its_audit_record(cohort):
    man = cohort["MAN"]
    patient = Patient.objects.filter(site=man).order_by("patient_id").first()
    monitor = user("monitor", man)
    visit = Visit.objects.filter(patient=patient, status="submitted").first()
    if visit is None:  # every visit of the first patient reviewed already: take another's
        visit = Visit.objects.filter(patient__site=man, status="submitted").first()
    visit_verify(actor=Actor(monitor, "web"), visit=visit)
    values = {f: getattr(patient, f) for f in ("patient_id", "sex", "birth_year", "birth_month",
              "diagnosis", "onset_date", "diagnosis_date")}  # fmt: skip
    patient_upsert(
        actor=Actor(user("data_manager", None), "admin", "typo"),
        site=man,
        values={**values, "diagnosis_date": patient.onset_date},
    )
    autoantibody_delete(
        actor=Actor(user("coordinator", man), "web", "entered twice"),
        result=AutoantibodyResult.objects.filter(patient=patient).first(),
    )
    vital_status_save(
        actor=Actor(user("investigator", man), "web", "death reported by a relative"),
        patient=patient,
        values=DEAD_IN_MAY,
    )
    query_raise(actor=Actor(monitor, "web"), visit=visit, field="cmas", text="Please check.")
    pro_invitation_create(
        actor=Actor(user("coordinator", man), "web"),
        instruments=["haq"],
        patient=patient,
        visit_date=date.today().isoformat(),
    )
    document = {"site": "MAN", "patients": [{
        "patient_id": "MAN-API", "sex": "male", "birth_year_month": "1970-01",
        "diagnosis": "polymyositis", "onset_date": "2020-01-01",
        "visits": [{"visit_date": "2021-01-01", "kind": "baseline", "cmas": 40}],
    }]}  # fmt: skip
    status, _ = submission_process(user=user("submitter", man), document=document)
    assert status == 200
    sources = set(AuditEvent.objects.values_list("source", flat=True))
    assert {"command", "scoring", "web", "admin", "api"} <= sources
    text = export_text("transactional", "MAN")
    root = validated(text)
    assert root.get("FileType") == "Transactional" and root.get("Granularity") == "SingleSite"
    records = list(root.iter(f"{N}AuditRecord"))
    assert {r.get("EditPoint") for r in records} == {"DataManagement", "Monitoring", "DBAudit"}
    ids = {int(r.find(f"{N}SourceID").text) for r in records}
    clinical = AuditEvent.objects.filter(site_id=man.pk).exclude(patient_id=None)
    # Every event of the site's patients: data, workflow and derived records alike.
    assert ids == set(clinical.exclude(action="export").values_list("pk", flat=True))
    types = set(clinical.values_list("object_type", flat=True))
    assert {
        "crf.classificationassessment", "crf.vitalstatus", "crf.lungstatus", "crf.adverseevent",
        "crf.adverseeventrelation", "scoring.classificationrecord", "scoring.refractoryrecord",
        "scoring.followup", "scoring.episodesurvival", "scoring.episodeadverseevent",
        "crf.dataquery", "crf.proinvitation",
    } <= types  # fmt: skip
    assert "IT.QUERY.TEXT" in text and "IT.INVITATION.DIGEST" not in text
    updated = {e.get("ItemOID") for e in root.iter(f"{N}ItemData")
               if e.get("TransactionType") == "Update"}  # fmt: skip
    assert {"IT.VITAL.STATUS", "IT.VITAL.DEATH_DATE"} <= updated
    kinds = {i.get("TransactionType") for i in root.iter(f"{N}ItemData")}
    assert kinds == {"Insert", "Update", "Remove"}
    reasons = {r.find(f"{N}ReasonForChange").text for r in records
               if r.find(f"{N}ReasonForChange") is not None}  # fmt: skip
    assert {"typo", "entered twice"} <= reasons
    assert all(r.find(f"{N}LocationRef").get("LocationOID") == "LOC.MAN" for r in records)
    users = {u.get("OID") for u in root.iter(f"{N}User")}
    assert {r.find(f"{N}UserRef").get("UserOID") for r in records} <= users
    assert f"USR.{monitor.pk}" in users and "USR.SYSTEM" in users
    assert 'StudyOID="ST.MYOSITIS-REGISTRY"' in text


def test_export_is_streamed_patient_chunk_by_chunk(cohort, monkeypatch):
    monkeypatch.setattr("interchange.odm.export.CHUNK", 3)
    export = odm_export(user=None, kind="snapshot", source="command", trusted=True)
    done: list[int] = []
    chunks = list(export.stream(done.append))
    assert done == [3, 3, 3, 1]
    # One piece per patient: what is held at once is one patient's text and one chunk's rows.
    subjects = [chunk.count("<SubjectData ") for chunk in chunks]
    assert [n for n in subjects if n] == [1] * 10


# --- the API ---------------------------------------------------------------------------------


def client_for(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_api_export_streams_valid_xml_and_is_audited(cohort):
    manager = user("data_manager", None)
    response = client_for(manager).get("/api/v1/exports/odm/", {"type": "snapshot"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("application/xml")
    assert "attachment" in response["Content-Disposition"]
    validated(b"".join(response.streaming_content).decode("utf-8"))
    event = AuditEvent.objects.get(action="export")
    assert (event.actor_id, event.source, event.object_type) == (
        manager.pk,
        "api",
        "interchange.odm",
    )
    assert '"type": "snapshot"' in event.new_value


def test_api_transactional_export_of_one_site(cohort):
    investigator = user("investigator", cohort["STO"])
    response = client_for(investigator).get(
        "/api/v1/exports/odm/",
        {"type": "transactional", "site": "STO"},
        HTTP_ACCEPT="application/xml",
    )
    assert response.status_code == 200
    root = validated(b"".join(response.streaming_content).decode("utf-8"))
    keys = {s.get("SubjectKey") for s in root.iter(f"{N}SubjectData")}
    assert keys and all(key.startswith("STO/") for key in keys)


def test_an_investigator_exports_only_their_sites(cohort):
    investigator = user("investigator", cohort["MAN"])
    response = client_for(investigator).get("/api/v1/exports/odm/")
    root = ElementTree.fromstring(b"".join(response.streaming_content))
    keys = {s.get("SubjectKey")[:4] for s in root.iter(f"{N}SubjectData")}
    assert keys == {"MAN/"}
    assert {loc.get("OID") for loc in root.iter(f"{N}Location")} == {"LOC.MAN"}


def test_bad_type_is_400_naming_type(cohort):
    response = client_for(user("data_manager", None)).get("/api/v1/exports/odm/", {"type": "csv"})
    assert response.status_code == 400
    assert "type" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_a_site_code_with_a_nul_is_400_naming_site(cohort):
    # PostgreSQL cannot compare text holding a NUL: refused before any query.
    response = client_for(user("data_manager", None)).get("/api/v1/exports/odm/", {"site": "M\x00"})
    assert response.status_code == 400
    assert "site" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_another_sites_export_is_404_and_a_role_that_may_not_export_is_403(cohort):
    outsider = user("coordinator", cohort["STO"])
    response = client_for(outsider).get("/api/v1/exports/odm/", {"site": "MAN"})
    assert response.status_code == 404
    response = client_for(outsider).get("/api/v1/exports/odm/", {"site": "NOPE"})
    assert response.status_code == 404
    assert client_for(outsider).get("/api/v1/exports/odm/", {"site": "STO"}).status_code == 403
    assert client_for(outsider).get("/api/v1/exports/odm/").status_code == 403
    assert APIClient().get("/api/v1/exports/odm/").status_code in (401, 403)
    assert not AuditEvent.objects.filter(action="export").exists()


# --- the page and the command ----------------------------------------------------------------


def test_exports_page_for_data_managers_and_investigators(cohort, client):
    client.force_login(user("data_manager", None))
    page = client.get("/exports/")
    assert page.status_code == 200 and b"ODM" in page.content
    download = client.get("/exports/odm.xml", {"type": "transactional", "site": "MAN"})
    assert download.status_code == 200 and download.streaming
    validated(b"".join(download.streaming_content).decode())
    assert AuditEvent.objects.get(action="export").source == "web"
    assert client.get("/exports/odm.xml", {"type": "nope"}).status_code == 400
    client.force_login(user("coordinator", cohort["MAN"]))
    assert client.get("/exports/").status_code == 403
    assert client.get("/exports/odm.xml", {"site": "STO"}).status_code == 404


def test_export_odm_command_writes_and_validates(cohort, tmp_path):
    out = io.StringIO()
    target = tmp_path / "man.xml"
    call_command("export_odm", "--site", "MAN", "-o", str(target), "--validate", stdout=out)
    assert "valid against the ODM 1.3.2 schema" in out.getvalue()
    assert re.search(r"ODM \[#+\] \d+/\d+ patients", out.getvalue())
    root = ElementTree.parse(target).getroot()
    assert root.get("Granularity") == "SingleSite"
    assert AuditEvent.objects.get(action="export").source == "command"
    call_command("export_odm", "--transactional", "-o", str(tmp_path / "all.xml"), "--validate",
                 stdout=io.StringIO())  # fmt: skip
    assert Path(tmp_path / "all.xml").stat().st_size > target.stat().st_size


def test_text_that_xml_cannot_hold_is_replaced_and_the_file_stays_valid(cohort):
    patient = Patient.objects.filter(site=cohort["MAN"]).first()
    AutoantibodyResult.objects.create(
        patient=patient, antibody="anti-Ku", result="positive", method="elisa",
        intensity="1:\x01<80>&", sample_date=date(2024, 1, 1),
    )  # fmt: skip
    text = export_text(site="MAN")
    validated(text)
    assert "1:\ufffd&lt;80&gt;&amp;" in text
