"""The XLSX downloads: the outcomes report (Summary, Episodes, Data dictionary) and the tables of
the survival and safety reports, written in openpyxl's write-only mode so that memory does not
grow with the number of episodes.

Every table sheet is written by `TableSheet`: columns as wide as their content (measured on the
first rows, as a streamed sheet cannot be read twice) and each number in its format — integers
without decimals, percentages with one decimal and a "%" sign, other measures with one or two
decimals, dates as dates — so that a spreadsheet opens readable and sorts and sums correctly.
The values themselves are the CSV's: a percentage stays 80.0 (not 0.8) where the CSV says 80.0.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reports import dictionary
from reports.builders import (
    FORMULA_START,
    Progress,
    episode_cells,
    filters_description,
    summary_cells,
    summary_columns,
)
from reports.dictionary import EPISODE_COLUMNS
from reports.outcomes import OutcomesReport
from reports.selectors import EpisodeOutcome

INTEGER = "0"
DECIMALS = "0.0#"  # one or two decimals: TIS 22.5, prednisone 7.5 or 2.25 mg/day
TWO_DECIMALS = "0.00"
# A percentage written as a number of percent (80.0 for 80 %), as in the CSV and the API.
PERCENT_NUMBER = '0.0" %"'
# A proportion written as a fraction (0.8 for 80 %): the survival estimates.
FRACTION_PERCENT = "0.0%"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"

# Formats of the floating-point columns by their name (the data dictionary's conventions), first
# match wins; other floats get DECIMALS, whole numbers INTEGER.
NAME_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^at_\d+_weeks_(estimate|ci_low|ci_high)$"), FRACTION_PERCENT),
    (re.compile(r"(per_100py|patient_years)"), TWO_DECIMALS),
    (re.compile(r"(_pct|_percent|_ci_low|_ci_high)$"), PERCENT_NUMBER),
)
# Widths in characters: a column is as wide as its longest value or header, within these.
MIN_WIDTH, MAX_WIDTH = 6, 60
SAMPLE_ROWS = 500


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value  # openpyxl would store "=…" as a formula
    return value


def float_format(name: str) -> str:
    for pattern, number_format in NAME_FORMATS:
        if pattern.search(name):
            return number_format
    return DECIMALS


def number_format(name: str, value: Any) -> str | None:
    """The format of a value in column `name`; None for text (and empty cells)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, date):
        return DATE
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, (float, Decimal)):
        return float_format(name)
    return None


def _shown_length(value: Any, number_format: str | None) -> int:
    """About how many characters the cell shows."""
    if value is None:
        return 0
    if number_format in (DATE,):
        return 10
    if number_format == DATETIME:
        return 16
    if number_format in (PERCENT_NUMBER, FRACTION_PERCENT):
        return len(f"{float(value) * (100 if number_format == FRACTION_PERCENT else 1):.1f}") + 2
    if number_format in (DECIMALS, TWO_DECIMALS):
        return len(f"{float(value):.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


class TableSheet:
    """A write-only sheet of a table: a bold header, then rows. The first SAMPLE_ROWS rows are
    held back until the column widths are known (a write-only sheet writes its columns' widths
    before its first row), then everything streams."""

    def __init__(
        self, book: Any, title: str, columns: Sequence[str], *, freeze: str | None = None
    ) -> None:
        self.sheet = book.create_sheet(title)
        if freeze:
            self.sheet.freeze_panes = freeze
        self.columns = list(columns)
        self.widths = [len(name) for name in self.columns]
        self.held: list[list[Any]] | None = []

    def append(self, values: Iterable[Any]) -> None:
        row = [_xlsx_value(value) for value in values]
        if self.held is None:
            self._write(row)
            return
        for index, value in enumerate(row[: len(self.columns)]):
            shown = _shown_length(value, number_format(self.columns[index], value))
            self.widths[index] = max(self.widths[index], shown)
        self.held.append(row)
        if len(self.held) >= SAMPLE_ROWS:
            self._flush()

    def close(self) -> None:
        if self.held is not None:
            self._flush()

    def _flush(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(self.widths, start=1):
            fitted = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
            self.sheet.column_dimensions[get_column_letter(index)].width = fitted
        bold = Font(bold=True)
        header = []
        for name in self.columns:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)
        held, self.held = self.held or [], None
        for row in held:
            self._write(row)

    def _write(self, row: list[Any]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells: list[Any] = []
        for index, value in enumerate(row):
            name = self.columns[index] if index < len(self.columns) else ""
            found = number_format(name, value)
            if found is None:
                cells.append(value)
                continue
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = found
            cells.append(cell)
        self.sheet.append(cells)


def about_sheet(book: Any, title: str) -> Any:
    """A sheet of names and texts (filters, rules, the data dictionary), its columns sized for
    them; long texts wrap in their cell."""
    sheet = book.create_sheet(title)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 100
    return sheet


def about_row(sheet: Any, name: Any, value: Any = None, *, bold: bool = False) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    first = WriteOnlyCell(sheet, value=_xlsx_value(name))
    first.alignment = Alignment(vertical="top")
    if bold:
        first.font = Font(bold=True)
    if value is None:
        sheet.append([first])
        return
    second = WriteOnlyCell(sheet, value=_xlsx_value(value))
    second.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        second.font = Font(bold=True)
    sheet.append([first, second])


def workbook(
    report: OutcomesReport,
    episodes: Iterable[EpisodeOutcome],
    *,
    episode_total: int,
    progress: Progress | None = None,
) -> bytes:
    """The XLSX: Summary (registry-wide), Episodes (the caller's own sites) and a Data
    dictionary sheet. Written row by row in write-only mode: memory does not grow with the
    number of episodes."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = TableSheet(book, "Summary", [c.name for c in summary_columns(report)], freeze="E2")
    for row in report.rows:
        summary.append(summary_cells(row))
    summary.close()
    if progress:
        progress(5, "Summary written")

    sheet = TableSheet(book, "Episodes", [c.name for c in EPISODE_COLUMNS], freeze="D2")
    step = max(episode_total // 20, 500)
    for index, episode in enumerate(episodes, start=1):
        sheet.append(episode_cells(episode))
        if progress and index % step == 0:
            done = 5 + int(85 * min(index / max(episode_total, 1), 1))
            progress(done, f"{index:,} of {episode_total:,} episodes written")
    sheet.close()

    about = about_sheet(book, "Data dictionary")
    about_row(about, "name", "description", bold=True)
    for name, value in filters_description(report):
        about_row(about, name, value)
    about.append([])
    for name, value in dictionary.RULES:
        about_row(about, name, value)
    for title, columns in (
        ("Summary sheet", summary_columns(report)),
        ("Episodes sheet", EPISODE_COLUMNS),
    ):
        about.append([])
        about_row(about, title, bold=True)
        for column in columns:
            about_row(about, column.name, column.description)
    if progress:
        progress(95, "Saving the workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
