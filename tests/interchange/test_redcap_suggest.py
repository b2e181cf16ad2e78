"""`import_redcap mapping-suggest`, and a project unlike the example: classic (no events), no
data access groups, an antibody panel as a checkbox."""

import csv
import io

import pytest

from interchange.redcap.convert import convert_record
from interchange.redcap.dictionary import COLUMNS, read_dictionary
from interchange.redcap.importing import import_redcap
from interchange.redcap.mapping import Leaf, load_mapping
from interchange.redcap.records import read_records
from registry.models import AutoantibodyResult, Patient
from tests.factories import SiteFactory
from tests.interchange.test_redcap_import import (
    DICTIONARY,
    EXAMPLE,
    FLAT,
    MAPPING,
    RECORDS,
    command,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sites():
    return {code: SiteFactory(code=code) for code in ("MAN", "STO")}


def test_mapping_suggest_drafts_a_usable_mapping_for_the_example(tmp_path):
    (tmp_path / "dd.csv").write_text(DICTIONARY)
    draft, _ = command("mapping-suggest", "--dictionary", str(tmp_path / "dd.csv"))
    dictionary = read_dictionary(DICTIONARY)
    mapping = load_mapping(draft, dictionary)  # loads: every field it names is the project's
    assert "# Calculated fields, never imported" in draft and "mmt8_total" in draft
    assert "mmt8_total" not in mapping.fields() and "haq_di" not in mapping.fields()
    assert mapping.events == {} and mapping.sites == {}  # not in a data dictionary
    assert mapping.visit["mmt8"]["deltoid"]["left"] == Leaf("number", "mmt_deltoid_l")
    assert mapping.patient["sex"].values == {"1": "female", "2": "male", "9": "unknown"}
    assert mapping.visit["haq"]["aids"].values["2"] == "arising"
    assert mapping.visit["visit_date"].date_format == "%d/%m/%Y"  # validated date_dmy
    assert set(mapping.repeating) == {"treatment", "autoantibody"}


def test_with_the_records_the_draft_imports_the_example_as_its_hand_written_mapping(tmp_path):
    (tmp_path / "dd.csv").write_text(DICTIONARY)
    (tmp_path / "records.csv").write_text(FLAT)
    draft, _ = command(
        "mapping-suggest", "--dictionary", str(tmp_path / "dd.csv"),
        "--records", str(tmp_path / "records.csv"),
    )  # fmt: skip
    dictionary = read_dictionary(DICTIONARY)
    drafted, written = load_mapping(draft, dictionary), load_mapping(MAPPING, dictionary)
    assert drafted.sites == {"manchester": "MAN", "stockholm": "STO"}
    assert drafted.events == {"baseline_arm_1": "baseline", "follow_up_arm_1": "follow_up",
                              "unscheduled_arm_1": "unscheduled"}  # fmt: skip
    records = read_records(FLAT, dictionary)
    for record in RECORDS:
        one = convert_record(record, records.rows[record], dictionary, drafted, True).document
        other = convert_record(record, records.rows[record], dictionary, written, True).document
        assert one is not None and other is not None
        assert {**one, "reason": ""} == {**other, "reason": ""}
    report = import_redcap(dictionary=DICTIONARY, records=FLAT, mapping=draft)
    assert report.summary()["created"] == 10


def _dictionary_row(name, form, kind, label, choices="", validation=""):
    row = dict.fromkeys(COLUMNS, "")
    row.update({COLUMNS[0]: name, COLUMNS[1]: form, COLUMNS[3]: kind, COLUMNS[4]: label,
                COLUMNS[5]: choices, COLUMNS[7]: validation})  # fmt: skip
    return row


def _csv(rows, columns=None):
    out = io.StringIO()
    writer = csv.DictWriter(out, columns or list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


PANEL_DICTIONARY = _csv(
    [
        _dictionary_row("study_id", "baseline", "text", "Study ID"),
        _dictionary_row("gender", "baseline", "radio", "Gender", "F, Female | M, Male"),
        _dictionary_row("birth", "baseline", "text", "Month of birth", "", "date_my"),
        _dictionary_row("dx", "baseline", "dropdown", "Diagnosis", "1, Dermatomyositis | 2, IBM"),
        _dictionary_row("onset", "baseline", "text", "Onset", "", "date_mdy"),
        _dictionary_row("ck", "baseline", "text", "CK (ukat/L)", "", "number"),
        _dictionary_row("visit", "baseline", "text", "Visit date", "", "date_mdy"),
        _dictionary_row(
            "panel",
            "baseline",
            "checkbox",
            "Positive in the line blot",
            "1, Jo-1 | 2, MDA5 | 3, Mi-2 | 99, Other",
        ),  # fmt: skip
        _dictionary_row("panel_date", "baseline", "text", "Line blot date", "", "date_mdy"),
    ],
    COLUMNS,
)
PANEL_MAPPING = """
record_id: study_id
patient_id: "LB-{record}"
date_format: "%m/%d/%Y"
patient:
  sex: {field: gender, values: {F: female, M: male}}
  birth_year_month: {field: birth, date_format: "%m-%Y"}
  diagnosis: {field: dx, values: {1: dermatomyositis, 2: inclusion_body_myositis}}
  onset_date: {field: onset}
visit:
  visit_date: {field: visit}
  labs:
    ck: {value: {field: ck, factor: 60}, uln: 200, unit: U/L}
antibody_panels:
  - field: panel
    values: {1: anti-Jo-1, 2: anti-MDA5, 3: anti-Mi-2, 99: null}
    sample_date: {field: panel_date}
    method: line_blot
    unchecked: negative
"""
PANEL_RECORDS = """study_id,gender,birth,dx,onset,ck,visit,panel___1,panel___2,panel___3,\
panel___99,panel_date
1,F,04-1968,1,03/01/2019,5.5,01/08/2020,0,1,0,1,02/01/2020
2,M,11-1950,2,07/15/2018,,02/01/2021,0,0,0,0,
3,M,11-1950,2,07/15/2018,,02/01/2021,0,1,0,0,
"""


def test_a_classic_project_with_an_antibody_panel_checkbox_and_no_dags():
    report = import_redcap(dictionary=PANEL_DICTIONARY, records=PANEL_RECORDS,
                           mapping=PANEL_MAPPING, site="MAN")  # fmt: skip
    assert report.summary() == {"created": 2, "updated": 0, "unchanged": 0, "error": 1}
    # Record 1: MDA5 positive; Jo-1 and Mi-2 negative (unchecked: negative); "Other" left out.
    patient = Patient.objects.get(patient_id="LB-1", site__code="MAN")
    results = {(a.antibody, a.result, str(a.sample_date), a.method)
               for a in AutoantibodyResult.objects.filter(patient=patient)}  # fmt: skip
    assert results == {
        ("anti-Jo-1", "negative", "2020-02-01", "line_blot"),
        ("anti-MDA5", "positive", "2020-02-01", "line_blot"),
        ("anti-Mi-2", "negative", "2020-02-01", "line_blot"),
    }
    visit = patient.visits.get()
    assert (str(visit.visit_date), visit.kind) == ("2020-01-08", "baseline")
    lab = visit.labs.get()
    assert (lab.enzyme, lab.value, lab.uln) == ("ck", 330, 200)  # 5.5 × the mapping's factor 60
    assert (patient.birth_year, patient.birth_month, str(patient.onset_date)) == (
        1968,
        4,
        "2019-03-01",
    )
    # Record 2: no box checked and no date: no panel. Record 3: a panel without its date.
    assert not Patient.objects.get(patient_id="LB-2").autoantibodies.exists()
    error = next(r for r in report.results if r.record == "3")
    assert [(i.event, i.field, i.message) for i in error.issues] == [
        ("", "panel_date", "The date of the panel is required when panel is given.")
    ]
    assert not Patient.objects.filter(patient_id="LB-3").exists()


def test_the_example_files_are_the_ones_the_readme_names():
    readme = (EXAMPLE / "README.md").read_text()
    for name in ("data_dictionary.csv", "records_flat.csv", "records_eav.csv", "mapping.yaml"):
        assert (EXAMPLE / name).exists() and name in readme
