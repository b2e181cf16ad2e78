"""The XLSX downloads open readable (issue 18): columns as wide as their content, integers
without decimals, percentages with one decimal and a % sign, measures with one or two decimals,
dates as dates. Read back with openpyxl."""

import io
from datetime import date, datetime

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from reports import xlsx
from reports.disclosure import Disclosure
from reports.filters import ReportFilters
from reports.outcomes import outcomes_by_treatment
from reports.selectors import episodes_matching, outcome_rows

pytestmark = pytest.mark.django_db


def _book(content: bytes):
    return load_workbook(io.BytesIO(content))  # not read-only: widths and formats are read


def _columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def _cell(sheet, row: int, name: str):
    return sheet.cell(row=row, column=_columns(sheet)[name])


def _width(sheet, name: str) -> float:
    return sheet.column_dimensions[get_column_letter(_columns(sheet)[name])].width


def _assert_fitted(sheet):
    """Every column is at least as wide as its header and its longest value (within 60)."""
    for name, column in _columns(sheet).items():
        longest = max(
            len(str(cell.value)) for (cell,) in sheet.iter_rows(min_col=column, max_col=column)
            if cell.value is not None and not isinstance(cell.value, (float, datetime))
        )  # fmt: skip
        width = _width(sheet, name)
        assert min(longest, 58) + 2 <= width <= 60, (sheet.title, name, width)


@pytest.fixture
def outcomes_book(cohort):
    report = outcomes_by_treatment(ReportFilters(), disclosure=Disclosure.registry_wide())
    episodes = outcome_rows(episodes_matching(ReportFilters()), detail=True)
    return _book(xlsx.workbook(report, episodes, episode_total=6))


def test_outcomes_summary_numbers_are_formatted(outcomes_book):
    summary = outcomes_book["Summary"]
    rows = {summary.cell(row=r, column=3).value: r for r in range(2, summary.max_row + 1)}
    ivig = rows["ivig"]
    assert _cell(summary, ivig, "episodes").value == 3
    assert _cell(summary, ivig, "episodes").number_format == "0"
    # 2 of 3 IVIG episodes evaluable: 66.7, shown "66.7 %" (the CSV's number, not 0.667).
    share = _cell(summary, ivig, "evaluable_pct")
    assert (share.value, share.number_format) == (66.7, xlsx.PERCENT_NUMBER)
    assert _cell(summary, ivig, "evaluable_ci_low").number_format == xlsx.PERCENT_NUMBER
    median = _cell(summary, ivig, "tis_median")
    assert (median.value, median.number_format) == (25.0, "0.0#")
    assert summary.freeze_panes == "E2"
    _assert_fitted(summary)
    assert _width(summary, "treatment_label") >= len("Methotrexate") + 2


def test_outcomes_episodes_dates_are_dates(outcomes_book, cohort):
    sheet = outcomes_book["Episodes"]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}
    start = _cell(sheet, rows[cohort["E1"]], "start_date")
    assert start.value == datetime(2020, 1, 5) and start.is_date
    assert start.number_format == xlsx.DATE
    assert _cell(sheet, rows[cohort["E1"]], "stop_date").value is None
    best = _cell(sheet, rows[cohort["E2"]], "best_tis")
    assert (best.value, best.number_format) == (22.5, "0.0#")
    days = _cell(sheet, rows[cohort["E5"]], "days_to_doi")
    assert (days.value, days.number_format) == (90, "0")
    gc = _cell(sheet, rows[cohort["E1"]], "gc_change_mg_per_day")
    assert (gc.value, gc.number_format) == (-50, "0.0#")
    _assert_fitted(sheet)
    assert _width(sheet, "start_date") >= 12  # "2020-01-05" and the margin
    # The dictionary sheet: room for the names, and the descriptions wrap.
    about = outcomes_book["Data dictionary"]
    assert about.column_dimensions["B"].width >= 80
    assert about["B2"].alignment.wrap_text


def test_safety_and_survival_workbooks_are_formatted(client, outcome_cohort, people):
    client.force_login(people["dm"])
    safety = _book(client.get(reverse("reports:safety-download", args=["xlsx"])).content)
    sheet = safety["Safety"]
    assert _cell(sheet, 2, "patients_exposed").number_format == "0"
    assert _cell(sheet, 2, "patient_years").number_format == "0.00"
    assert _cell(sheet, 2, "patients_with_ae_percent").number_format == xlsx.PERCENT_NUMBER
    assert _cell(sheet, 2, "events_per_100py_ci_high").number_format == "0.00"
    _assert_fitted(sheet)
    survival = _book(client.get(reverse("reports:survival-download", args=["xlsx"])).content)
    sheet = survival["Survival"]
    estimates = [_cell(sheet, row, "at_26_weeks_estimate") for row in range(2, sheet.max_row + 1)]
    shown = [cell for cell in estimates if isinstance(cell.value, float)]
    assert shown and all(0 <= c.value <= 1 and c.number_format == "0.0%" for c in shown)
    assert _cell(sheet, 2, "patients").number_format == "0"
    _assert_fitted(sheet)


def test_a_long_sheet_is_fitted_on_its_first_rows_and_streams_the_rest():
    book = Workbook(write_only=True)
    sheet = xlsx.TableSheet(book, "T", ["id", "name", "day", "share_pct"])
    for number in range(xlsx.SAMPLE_ROWS + 50):
        sheet.append([number, "x" * (number % 20), date(2020, 1, 1), 12.34])
    sheet.append([1, "y" * 500, None, None])  # past the sample: not measured, still written
    sheet.close()
    buffer = io.BytesIO()
    book.save(buffer)
    read = _book(buffer.getvalue())["T"]
    assert read.max_row == xlsx.SAMPLE_ROWS + 52
    assert read.column_dimensions["B"].width == 21
    assert read.column_dimensions["A"].width == xlsx.MIN_WIDTH  # "549" and the margin: 5
    assert read["C2"].number_format == xlsx.DATE and read["D2"].number_format == '0.0" %"'
    assert read.cell(row=read.max_row, column=2).value == "y" * 500


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("episodes", 3, "0"),
        ("doi_responders_pct", 80.0, xlsx.PERCENT_NUMBER),
        ("doi_responders_ci_high", 94.3, xlsx.PERCENT_NUMBER),
        ("events_per_100py", 4.2, "0.00"),
        ("at_52_weeks_ci_low", 0.41, "0.0%"),
        ("median_weeks", 30.5, "0.0#"),
        ("start_date", date(2020, 1, 1), "yyyy-mm-dd"),
        ("treatment_label", "IVIG", None),
        ("tis_median", None, None),
        ("anything", "< 5", None),
    ],
)
def test_number_format_by_column_and_value(name, value, expected):
    assert xlsx.number_format(name, value) == expected
