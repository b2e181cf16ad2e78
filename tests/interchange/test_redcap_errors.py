"""Bad REDCap input: unusable files stop the import (exit 2, nothing stored); a bad value in one
record is reported at its REDCap record, event and field, and only that record is not stored."""

import pytest
from django.core.management import CommandError

from interchange.redcap.dictionary import UnusableInput
from registry.models import Patient
from tests.interchange.test_redcap_import import (
    FLAT,
    MAPPING,
    changed,
    command,
    files,
    flat_rows,
    flat_text,
    run,
    stored,
)

pytestmark = pytest.mark.django_db

BASELINE = "baseline_arm_1"


@pytest.fixture(autouse=True)
def sites():
    from tests.factories import SiteFactory

    return {code: SiteFactory(code=code) for code in ("MAN", "STO")}


def site_of(record: str) -> str:
    dag = next(r["redcap_data_access_group"] for r in flat_rows() if r["record_id"] == record)
    return {"manchester": "MAN", "stockholm": "STO"}[dag]


def only_error(report, record: str):
    """The record's single issue, after checking every other record was stored."""
    summary = report.summary()
    assert summary["error"] == 1 and summary["created"] == 9, report.csv()
    result = next(r for r in report.results if r.record == record)
    assert result.status == "error"
    assert not stored(record, site_of(record))
    assert Patient.objects.count() == 9
    assert len(result.issues) == 1, result.issues
    return result.issues[0]


def test_a_code_outside_the_choice_list():
    issue = only_error(run(changed("103", BASELINE, sex="7")), "103")
    assert (issue.record, issue.event, issue.field) == ("103", BASELINE, "sex")
    assert issue.message == "Code '7' is not one of the field's choices (1, 2, 9)."


def test_a_date_in_another_format_than_the_mapping_says():
    row = next(
        r for r in flat_rows() if r["record_id"] == "104" and r["redcap_event_name"] == BASELINE
    )
    day, month, year = row["visit_date"].split("/")
    issue = only_error(run(changed("104", BASELINE, visit_date=f"{year}-{month}-{day}")), "104")
    assert (issue.event, issue.field) == (BASELINE, "visit_date")
    assert "is not a date as %d/%m/%Y (the mapping's date_format)" in issue.message


def test_an_unknown_event():
    rows = flat_rows()
    row = next(r for r in rows if r["record_id"] == "105" and r["redcap_event_name"] == BASELINE)
    row["redcap_event_name"] = "month_3_arm_1"
    issue = only_error(run(flat_text(rows)), "105")
    assert (issue.event, issue.field) == ("month_3_arm_1", "redcap_event_name")
    assert issue.message.startswith("Unknown event 'month_3_arm_1'")


def test_an_unknown_field():
    rows = flat_rows()
    for row in rows:
        row["hb_level"] = (
            "13.2" if row["record_id"] == "106" and not row["redcap_repeat_instrument"] else ""
        )
    report = run(flat_text(rows))
    assert report.summary() == {"created": 9, "updated": 0, "unchanged": 0, "error": 1}
    result = next(r for r in report.results if r.record == "106")
    assert {(i.field, i.message) for i in result.issues} == {
        ("hb_level", "Unknown field: the data dictionary does not define it.")
    }
    assert not stored("106", site_of("106"))


def test_a_value_the_submission_readers_refuse_is_named_at_its_redcap_field():
    issue = only_error(run(changed("107", BASELINE, md_global="11")), "107")
    assert (issue.record, issue.event, issue.field) == ("107", BASELINE, "md_global")
    assert issue.message == "Must be between 0 and 10 cm."


def test_a_grade_out_of_range_in_a_repeating_event():
    rows = flat_rows()
    row = next(
        r for r in rows if r["record_id"] == "108" and r["redcap_event_name"] == "follow_up_arm_1"
    )
    row["mmt_biceps_l"] = "12"
    issue = only_error(run(flat_text(rows)), "108")
    assert (issue.event, issue.instance, issue.field) == (
        "follow_up_arm_1",
        row["redcap_repeat_instance"],
        "mmt_biceps_l",
    )


def test_a_treatment_error_names_the_repeating_instrument_field():
    rows = flat_rows()
    row = next(
        r for r in rows if r["record_id"] == "109" and r["redcap_repeat_instrument"] == "treatment"
    )
    row["tx_stop"] = "1990-01-01"
    issue = only_error(run(flat_text(rows)), "109")
    assert (issue.event, issue.instance, issue.field) == (
        BASELINE,
        row["redcap_repeat_instance"],
        "tx_stop",
    )
    assert issue.message.startswith("Date cannot be before")


def test_a_checkbox_column_holding_something_else_than_0_or_1():
    rows = flat_rows()
    row = next(r for r in rows if r["record_id"] == "110" and r["haq_aids___1"])
    row["haq_aids___1"] = "yes"
    issue = only_error(run(flat_text(rows)), "110")
    assert (issue.field, issue.message) == (
        "haq_aids___1",
        "A checkbox column holds 0 or 1, not 'yes'.",
    )


def test_a_data_access_group_the_mapping_does_not_know():
    rows = flat_rows()
    for row in rows:
        if row["record_id"] == "101":
            row["redcap_data_access_group"] = "uppsala"
    report = run(flat_text(rows))
    result = next(r for r in report.results if r.record == "101")
    assert [(i.field, i.message) for i in result.issues] == [
        (
            "redcap_data_access_group",
            "The data access group 'uppsala' is not in the mapping's sites.",
        )
    ]
    assert Patient.objects.count() == 9


@pytest.mark.parametrize(
    ("what", "text", "message"),
    [
        ("records", FLAT.replace("\n102,", '\n"102,', 1), "not a well-formed CSV file"),
        ("records", FLAT + "111,baseline_arm_1\n", "row 109 has 2 columns"),
        ("records", "study,visit\n1,2\n", "first column must be the record id"),
        ("dictionary", "name,form\nx,y\n", "must have REDCap's 18 columns"),
        ("mapping", "patient: [unclosed", "not valid YAML"),
        (
            "mapping",
            MAPPING.replace("field: sex\n", "field: gender\n"),
            "'gender' is not in the data dictionary",
        ),
        (
            "mapping",
            MAPPING.replace('\n      "9": "unknown"', ""),
            "values must give every code of sex",
        ),
        (
            "mapping",
            MAPPING.replace("  cmas: {field: cmas}", "  cmass: {field: cmas}"),
            "visit.cmass: the submission document has no such key",
        ),
        ("mapping", MAPPING.replace("STO\n", "XYZ\n", 1), "No site with the code(s) XYZ"),
    ],
)
def test_unusable_input_exits_2_with_a_clear_message_and_stores_nothing(
    tmp_path, what, text, message
):
    with pytest.raises(CommandError) as raised:
        command(*files(tmp_path, **{what: text}))
    assert raised.value.returncode == 2
    assert message in str(raised.value)
    assert Patient.objects.count() == 0


def test_a_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError) as raised:
        command("--dictionary", str(tmp_path / "none.csv"), "--records", "x", "--mapping", "y")
    assert raised.value.returncode == 2
    assert "Cannot read the dictionary" in str(raised.value)


def test_unusable_input_raises_from_the_service_too():
    with pytest.raises(UnusableInput):
        run(mapping="events: {baseline_arm_1: week_one}\n")
    with pytest.raises(UnusableInput):
        run(mapping=MAPPING, records=FLAT.replace("record_id,", "id,", 1))
