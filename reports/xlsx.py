"""The XLSX report: Summary (registry-wide), Episodes (the caller's own sites) and a Data
dictionary sheet, written in openpyxl's write-only mode so that memory does not grow with the
number of episodes."""

from __future__ import annotations

import io
from collections.abc import Iterable
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


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value  # openpyxl would store "=…" as a formula
    return value


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
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(sheet: Any, names: Iterable[str]) -> None:
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary = book.create_sheet("Summary")
    summary.freeze_panes = "E2"
    header(summary, (c.name for c in summary_columns(report)))
    for row in report.rows:
        summary.append([_xlsx_value(v) for v in summary_cells(row)])
    if progress:
        progress(5, "Summary written")

    sheet = book.create_sheet("Episodes")
    sheet.freeze_panes = "D2"
    header(sheet, (c.name for c in EPISODE_COLUMNS))
    step = max(episode_total // 20, 500)
    for index, episode in enumerate(episodes, start=1):
        sheet.append([_xlsx_value(v) for v in episode_cells(episode)])
        if progress and index % step == 0:
            done = 5 + int(85 * min(index / max(episode_total, 1), 1))
            progress(done, f"{index:,} of {episode_total:,} episodes written")

    about = book.create_sheet("Data dictionary")
    header(about, ("name", "description"))
    for name, value in filters_description(report):
        about.append([name, value])
    about.append([])
    for name, value in dictionary.RULES:
        about.append([name, value])
    for title, columns in (
        ("Summary sheet", summary_columns(report)),
        ("Episodes sheet", EPISODE_COLUMNS),
    ):
        about.append([])
        about.append([WriteOnlyCell(about, value=title)])
        for column in columns:
            about.append([column.name, column.description])
    if progress:
        progress(95, "Saving the workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
