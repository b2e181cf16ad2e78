"""The REDCap import (interchange.redcap, `import_redcap`), on the example project of
docs/examples/redcap/ and on broken copies of it: each bad input is reported at its REDCap
record, event and field, and nothing of that record is stored."""

import csv
import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crf.models import HAQ, Visit
from interchange.redcap.convert import convert_record
from interchange.redcap.dictionary import UnusableInput, read_dictionary
from interchange.redcap.importing import import_redcap
from interchange.redcap.mapping import load_mapping
from interchange.redcap.records import read_records
from registry.models import AuditEvent, AutoantibodyResult, Patient, TreatmentEpisode
from tests.factories import SiteFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "redcap"
DICTIONARY = (EXAMPLE / "data_dictionary.csv").read_text()
FLAT = (EXAMPLE / "records_flat.csv").read_text()
EAV = (EXAMPLE / "records_eav.csv").read_text()
MAPPING = (EXAMPLE / "mapping.yaml").read_text()
RECORDS = [str(n) for n in range(101, 111)]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sites():
    return {code: SiteFactory(code=code) for code in ("MAN", "STO")}


def flat_rows(text: str = FLAT) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def flat_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def changed(record: str, event: str, **values: str) -> str:
    """The flat export with these values changed in the record's (first) row at `event`."""
    rows = flat_rows()
    row = next(r for r in rows if r["record_id"] == record and r["redcap_event_name"] == event
               and not r["redcap_repeat_instrument"])  # fmt: skip
    row.update(values)
    return flat_text(rows)


def run(records: str = FLAT, mapping: str = MAPPING, **options) -> dict:
    report = import_redcap(dictionary=DICTIONARY, records=records, mapping=mapping, **options)
    return report


def stored(record: str, site: str) -> bool:
    return Patient.objects.filter(site__code=site, patient_id=f"{site}-{record}").exists()


def command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_redcap", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def files(tmp_path: Path, **texts: str) -> list[str]:
    texts = {"dictionary": DICTIONARY, "records": FLAT, "mapping": MAPPING, **texts}
    args = []
    for name, text in texts.items():
        path = tmp_path / name
        path.write_text(text)
        args += [f"--{name}", str(path)]
    return args


# --- the example project ---------------------------------------------------------------------


def test_the_example_project_imports_and_a_rerun_changes_nothing(tmp_path):
    out, err = command(*files(tmp_path))
    lines = list(csv.DictReader(io.StringIO(out)))
    assert [(line["record"], line["status"]) for line in lines] == [(r, "created") for r in RECORDS]
    assert "10 created, 0 updated, 0 unchanged, 0 error" in err
    assert Patient.objects.count() == 10
    dags = {row["record_id"]: row["redcap_data_access_group"] for row in flat_rows()}
    for line in lines:  # the data access group chose the site
        assert line["site"] == {"manchester": "MAN", "stockholm": "STO"}[dags[line["record"]]]
        assert stored(line["record"], line["site"])
    visit_rows = [r for r in flat_rows() if not r["redcap_repeat_instrument"] and r["visit_date"]]
    assert Visit.objects.count() == len(visit_rows)
    sources = set(AuditEvent.objects.exclude(source="scoring").values_list("source", flat=True))
    assert sources == {"import"}
    events = AuditEvent.objects.count()

    out, err = command(*files(tmp_path))
    assert {line["status"] for line in csv.DictReader(io.StringIO(out))} == {"unchanged"}
    assert "0 created, 0 updated, 10 unchanged, 0 error" in err
    assert AuditEvent.objects.count() == events


def test_flat_and_eav_exports_give_the_same_patients():
    dictionary = read_dictionary(DICTIONARY)
    mapping = load_mapping(MAPPING, dictionary)
    flat, eav = read_records(FLAT, dictionary), read_records(EAV, dictionary)
    assert (flat.kind, eav.kind) == ("flat", "eav")
    assert list(flat.rows) == list(eav.rows) == RECORDS
    for record in RECORDS:
        one = convert_record(record, flat.rows[record], dictionary, mapping, True)
        other = convert_record(record, eav.rows[record], dictionary, mapping, True)
        assert one.issues == other.issues == []
        assert one.document == other.document
        assert one.dag == other.dag
    assert run().summary()["created"] == 10
    assert run(EAV).summary() == {"created": 0, "updated": 0, "unchanged": 10, "error": 0}


def test_checkbox_columns_are_the_haq_aids_and_help():
    rows = flat_rows()
    row = next(r for r in rows if r["haq_dress"] and any(r[f"haq_aids___{c}"] == "1"
                                                          for c in "12345678"))  # fmt: skip
    run()
    visit = Visit.objects.get(
        patient__patient_id__endswith=f"-{row['record_id']}",
        visit_date=f"{row['visit_date'][6:]}-{row['visit_date'][3:5]}-{row['visit_date'][:2]}",
    )
    categories = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip",
                  "activities")  # fmt: skip
    haq = HAQ.objects.get(visit=visit)
    for key in ("aids", "help"):
        expected = [c for i, c in enumerate(categories, 1) if row[f"haq_{key}___{i}"] == "1"]
        assert sorted(getattr(haq, key)) == sorted(expected)
    assert haq.dress == int(row["haq_dress"])


def test_repeating_instruments_are_treatments_and_autoantibodies():
    rows = flat_rows()
    run()
    for record in RECORDS:
        mine = [r for r in rows if r["record_id"] == record]
        patient = Patient.objects.get(patient_id__endswith=f"-{record}")
        treatments = [r for r in mine if r["redcap_repeat_instrument"] == "treatment"]
        antibodies = [r for r in mine if r["redcap_repeat_instrument"] == "autoantibody"]
        assert TreatmentEpisode.objects.filter(patient=patient).count() == len(treatments)
        assert AutoantibodyResult.objects.filter(patient=patient).count() == len(antibodies)
        starts = {str(t.start_date) for t in TreatmentEpisode.objects.filter(patient=patient)}
        assert starts == {r["tx_start"] for r in treatments}
    # Follow-up visits come from a repeating event: one visit per instance.
    follow_ups = [r for r in rows if r["redcap_event_name"] == "follow_up_arm_1"]
    assert Visit.objects.filter(kind="follow_up").count() == len(follow_ups)


def test_calculated_fields_are_ignored_and_said_so(tmp_path):
    rows = flat_rows()
    for row in rows:  # whatever REDCap computed, the registry does not read it
        row["mmt8_total"] = "999" if row["mmt8_total"] else ""
        row["haq_di"] = "nonsense" if row["haq_di"] else ""
    report = run(flat_text(rows))
    assert report.summary()["created"] == 10
    assert report.ignored_calc == ["age_onset", "mmt8_total", "haq_di"]
    assert any("calculated fields are never imported" in note for note in report.notes())
    mapping = MAPPING.replace("cmas: {field: cmas}", "cmas: {field: mmt8_total}")
    with pytest.raises(CommandError) as raised:
        command(*files(tmp_path, mapping=mapping))
    assert raised.value.returncode == 2
    assert "mmt8_total is a calculated field" in str(raised.value)
    assert Patient.objects.count() == 10


def test_an_update_in_redcap_updates_the_patient_audited_as_an_import():
    run()
    row = next(r for r in flat_rows() if r["record_id"] == "102" and r["md_global"]
               and r["redcap_event_name"] == "baseline_arm_1")  # fmt: skip
    new = "9.5" if row["md_global"] != "9.5" else "9.0"
    report = run(changed("102", "baseline_arm_1", md_global=new))
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 9, "error": 0}
    event = AuditEvent.objects.get(field="physician_global", action="update")
    assert (event.source, event.new_value) == ("import", new)
    assert event.reason == "Imported from the REDCap project Myositis cohort"


def test_a_dry_run_stores_nothing_and_reports_what_would_happen(tmp_path):
    out, err = command(*files(tmp_path), "--dry-run")
    assert {line["status"] for line in csv.DictReader(io.StringIO(out))} == {"created"}
    assert "dry run: nothing stored" in err
    assert Patient.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_site_option_for_a_project_without_data_access_groups():
    rows = flat_rows()
    for row in rows:
        del row["redcap_data_access_group"]
    text = flat_text(rows)
    report = run(text)
    assert report.summary()["error"] == 10
    issue = report.results[0].issues[0]
    assert issue.field == "redcap_data_access_group"
    assert issue.message == "No data access group, and no site given (--site)."
    assert run(text, site="MAN").summary()["created"] == 10
    assert Patient.objects.filter(site__code="MAN").count() == 10


def test_the_report_is_written_to_a_file_too(tmp_path):
    target = tmp_path / "report.csv"
    command(*files(tmp_path), "--report", str(target))
    assert target.read_text().splitlines()[0] == (
        "record,site,patient_id,status,event,instance,field,message"
    )
    assert len(target.read_text().splitlines()) == 11


# --- adverse events, vital status and lung disease ---------------------------------------------

SAFETY_DICTIONARY = (
    DICTIONARY.splitlines()[0]
    + """
record_id,enrolment,,text,Record ID,,,,,,,,,,,,,
sex,enrolment,,radio,Sex,"1, Female | 2, Male",,,,,,,,,,,,
dob,enrolment,,text,Date of birth,,,date_ymd,,,,,,,,,,
onset_date,enrolment,,text,Onset,,,date_ymd,,,,,,,,,,
vs_status,enrolment,,radio,Vital status,"1, Alive | 2, Dead",,,,,,,,,,,,
vs_death,enrolment,,text,Date of death,,,date_dmy,,,,,,,,,,
ild,enrolment,,yesno,Interstitial lung disease,,,,,,,,,,,,,
ild_rp,enrolment,,yesno,Rapidly progressive,,,,,,,,,,,,,
tx_drug,treatment,,dropdown,Drug,"4, Methotrexate | 11, IVIG",,,,,,,,,,,,
tx_start,treatment,,text,Start date,,,date_ymd,,,,,,,,,,
ae_term,adverse_event,,text,Event,,,,,,,,,,,,,
ae_category,adverse_event,,dropdown,Category,"1, Infection | 2, Hepatotoxicity",,,,,,,,,,,,
ae_onset,adverse_event,,text,Onset,,,date_ymd,,,,,,,,,,
ae_severity,adverse_event,,radio,Severity,"1, Mild | 2, Moderate | 3, Severe",,,,,,,,,,,,
ae_serious,adverse_event,,yesno,Serious,,,,,,,,,,,,,
ae_criteria,adverse_event,,checkbox,Criteria,"1, Hospitalisation | 2, Life-threatening",,,,,,,,,,,,
ae_outcome,adverse_event,,radio,Outcome,"1, Recovered | 2, Fatal",,,,,,,,,,,,
ae_drug,adverse_event,,dropdown,Suspect drug,"4, Methotrexate | 11, IVIG",,,,,,,,,,,,
ae_drug_start,adverse_event,,text,Suspect drug started,,,date_ymd,,,,,,,,,,
ae_related,adverse_event,,radio,Relatedness,"1, Unlikely | 2, Possible | 3, Probable",,,,,,,,,,,,
ae_action,adverse_event,,radio,Action taken,"1, None | 2, Withdrawn",,,,,,,,,,,,
"""
)
SAFETY_MAPPING = """\
patient_id: "{record}"
events: {"": null}
patient:
  sex: {field: sex, values: {"1": female, "2": male}}
  birth_year_month: {field: dob}
  diagnosis: dermatomyositis
  onset_date: {field: onset_date}
vital_status:
  status: {field: vs_status, values: {"1": alive, "2": dead}}
  death_date: {field: vs_death, date_format: "%d/%m/%Y"}
lung:
  ild: {field: ild, values: {"1": "yes", "0": "no"}}
  rapidly_progressive: {field: ild_rp}
repeating:
  treatments:
    instrument: treatment
    fields:
      drug: {field: tx_drug, values: {"4": methotrexate, "11": ivig}}
      start_date: {field: tx_start}
  adverse_events:
    instrument: adverse_event
    fields:
      term: {field: ae_term}
      category: {field: ae_category, values: {"1": infection, "2": hepatotoxicity}}
      onset_date: {field: ae_onset}
      severity: {field: ae_severity, values: {"1": mild, "2": moderate, "3": severe}}
      serious: {field: ae_serious}
      serious_criteria:
        field: ae_criteria
        values: {"1": hospitalisation, "2": life_threatening}
      outcome: {field: ae_outcome, values: {"1": recovered, "2": fatal}}
      related_to:
        drug: {field: ae_drug, values: {"4": methotrexate, "11": ivig}}
        start_date: {field: ae_drug_start}
        relatedness: {field: ae_related, values: {"1": unlikely, "2": possible, "3": probable}}
        action: {field: ae_action, values: {"1": none, "2": withdrawn}}
"""
SAFETY_COLUMNS = (
    "record_id,redcap_repeat_instrument,redcap_repeat_instance,sex,dob,onset_date,vs_status,"
    "vs_death,ild,ild_rp,tx_drug,tx_start,ae_term,ae_category,ae_onset,ae_severity,ae_serious,"
    "ae_criteria___1,ae_criteria___2,ae_outcome,ae_drug,ae_drug_start,ae_related,ae_action"
)
SAFETY_RECORDS = "\n".join([
    SAFETY_COLUMNS,
    "7,,,1,1970-04-02,2019-03-01,2,14/02/2024,1,0,,,,,,,,,,,,,,",
    "7,treatment,1,,,,,,,,4,2019-06-01,,,,,,,,,,,,",
    "7,adverse_event,1,,,,,,,,,,Pneumonia,1,2020-01-05,3,1,1,0,1,4,2019-06-01,2,2",
    "7,adverse_event,2,,,,,,,,,,Raised ALT,2,2020-05-01,1,0,0,0,1,,,,",
]) + "\n"  # fmt: skip


def test_repeating_adverse_events_and_patient_level_vital_status_and_lung():
    dictionary = read_dictionary(SAFETY_DICTIONARY)
    mapping = load_mapping(SAFETY_MAPPING, dictionary)
    records = read_records(SAFETY_RECORDS, dictionary)
    converted = convert_record("7", records.rows["7"], dictionary, mapping, False)
    assert not converted.issues, converted.issues
    document = converted.document
    assert document["vital_status"] == {"status": "dead", "death_date": "2024-02-14"}
    assert document["lung"] == {"ild": "yes", "rapidly_progressive": False}
    pneumonia, alt = document["adverse_events"]
    assert pneumonia == {
        "term": "Pneumonia", "category": "infection", "onset_date": "2020-01-05",
        "severity": "severe", "serious": True, "serious_criteria": ["hospitalisation"],
        "outcome": "recovered", "related_to": [{"drug": "methotrexate",
        "start_date": "2019-06-01", "relatedness": "possible", "action": "withdrawn"}],
    }  # fmt: skip
    assert alt["serious"] is False and "related_to" not in alt
    report = import_redcap(dictionary=SAFETY_DICTIONARY, records=SAFETY_RECORDS,
                           mapping=SAFETY_MAPPING, site="MAN")  # fmt: skip
    assert report.summary()["created"] == 1, report.csv()
    patient = Patient.objects.get(site__code="MAN", patient_id="7")
    assert patient.vital_status.status == "dead" and patient.lung.ild == "yes"
    events = {e.term: e for e in patient.adverse_events.prefetch_related("relations__episode")}
    [relation] = events["Pneumonia"].relations.all()
    assert (relation.episode.drug, relation.relatedness) == ("methotrexate", "possible")
    assert events["Raised ALT"].serious is False
    again = import_redcap(dictionary=SAFETY_DICTIONARY, records=SAFETY_RECORDS,
                          mapping=SAFETY_MAPPING, site="MAN")  # fmt: skip
    assert again.summary()["unchanged"] == 1
    with pytest.raises(UnusableInput, match="repeating.visits: must be treatments"):
        load_mapping(SAFETY_MAPPING.replace("  adverse_events:", "  visits:"), dictionary)
    with pytest.raises(UnusableInput, match="a list .* comes from a checkbox field"):
        load_mapping(SAFETY_MAPPING.replace("field: ae_criteria", "field: ae_term"), dictionary)
