"""The long export: one row per scored visit, reference visit and core set measure, with the
values as scored and every record's provenance (reports.dictionary.LONG_COLUMNS), streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reports.builders import cell, flag
from reports.selectors import DOI, TIS, WORSENING, long_export_links, long_export_records

_MEASURES = ("physician_global", "patient_global", "extramuscular", "haq", "mmt", "enzyme")


def _measure_values(
    measure: str, reference: dict[str, Any], visit: dict[str, Any], doi: dict[str, Any] | None
) -> tuple[str, Any, Any, Any, Any, Any, str]:
    """(instrument, reference value, visit value, scale max, reference ULN, visit ULN, unit)
    of one measure, from the measures a record was computed from."""
    if measure == "mmt":
        instrument = (doi or {}).get("strength_instrument") or "mmt"
        if instrument == "cmas":
            return "cmas", reference.get("cmas"), visit.get("cmas"), 52, None, None, ""
        ref_mmt, visit_mmt = reference.get("mmt") or {}, visit.get("mmt") or {}
        scale = ref_mmt.get("max") or visit_mmt.get("max")
        return "mmt", ref_mmt.get("total"), visit_mmt.get("total"), scale, None, None, ""
    if measure == "enzyme":
        enzyme = (doi or {}).get("enzyme")
        if not enzyme:
            return "", None, None, None, None, None, ""
        ref_lab = (reference.get("enzymes") or {}).get(enzyme) or {}
        visit_lab = (visit.get("enzymes") or {}).get(enzyme) or {}
        unit = ref_lab.get("unit") or visit_lab.get("unit") or ""
        return (
            enzyme,
            ref_lab.get("value"),
            visit_lab.get("value"),
            None,
            ref_lab.get("uln"),
            visit_lab.get("uln"),
            unit,
        )
    return "", reference.get(measure), visit.get(measure), None, None, None, ""


def _comparison_rows(
    first: Any, records: dict[str, Any], episodes: list[tuple[int, str]]
) -> Iterator[list[Any]]:
    """The six measure rows of one comparison (its three records), formatted for CSV (`cell`):
    the cells the six rows share are formatted once."""
    statuses = {record.status for record in records.values()}
    status = "failed" if "failed" in statuses else "pending" if "pending" in statuses else "done"
    done = status == "done"
    results = {
        algorithm: (record.result if done else None) for algorithm, record in records.items()
    }
    doi, tis, worsening = results.get(DOI), results.get(TIS), results.get(WORSENING)
    # The three records hold the same reference and visit measures. A pending record's were
    # read before the change that is waiting to be scored: not shown.
    inputs: dict[str, Any] = {}
    if status != "pending":
        inputs = next((r.measures for r in records.values() if r.measures), None) or {}
    reference = (inputs.get("reference") or {}).get("measures") or {}
    visit = (inputs.get("visit") or {}).get("measures") or {}
    current = (worsening or {}).get("current") or {}
    computed = [r.computed_at for r in records.values() if r.computed_at is not None]
    visit_date, reference_date = first.visit__visit_date, first.reference_visit__visit_date
    common_before = [
        cell(value)
        for value in (
            first.patient__site__code,
            first.patient__patient_id,
            first.patient__diagnosis,
            first.patient__serology_group,
            first.population,
            first.visit_id,
            visit_date,
            first.reference_visit_id,
            reference_date,
            first.reference_kind,
            (visit_date - reference_date).days,
            " ".join(str(episode) for episode, _ in episodes),
            " ".join(drug for _, drug in episodes),
            first.visit__glucocorticoid_mg_per_day,
        )
    ]
    common_after = [
        cell(value)
        for value in (
            None if doi is None or doi.get("met") is None else flag(doi["met"]),
            None if tis is None else tis.get("score"),
            None if tis is None else tis.get("category"),
            None if tis is None or tis.get("complete") is None else flag(tis["complete"]),
            None if current.get("worsened") is None else flag(current["worsened"]),
            None if worsening is None else flag(bool(worsening.get("confirmed"))),
            status,
            " ".join(sorted(records)),
            max(computed) if computed else None,
            " ".join(sorted({r.computed_by for r in records.values() if r.computed_by})),
        )
    ]
    for measure in _MEASURES:
        instrument, ref_value, visit_value, scale, ref_uln, visit_uln, unit = _measure_values(
            measure, reference, visit, doi
        )
        doi_measure = ((doi or {}).get("measures") or {}).get(measure) or {}
        tis_measure = ((tis or {}).get("measures") or {}).get(measure) or {}
        cells = (
            measure,
            instrument,
            ref_value,
            visit_value,
            scale,
            ref_uln,
            visit_uln,
            unit,
            doi_measure.get("percent_change"),
            doi_measure.get("status"),
            tis_measure.get("percent_improvement"),
            tis_measure.get("points"),
            (current.get("percent_worsening") or {}).get(measure),
        )
        yield [*common_before, *[cell(value) for value in cells], *common_after]


def long_rows(user: Any, *, chunk_size: int = 2000) -> Iterator[list[Any]]:
    """The long export of the caller's own sites: one row per scored visit, reference visit
    and core set measure, with the values as scored and every record's provenance.

    Two ordered streams (records, and their episodes) merged on (visit, reference visit): two
    queries whatever the size of the registry, and memory for one comparison at a time.
    """
    links = iter(long_export_links(user).iterator(chunk_size=chunk_size * 2))
    pending_link = next(links, None)
    group_key: tuple[int, int] | None = None
    first: Any = None
    records: dict[str, Any] = {}

    def episodes_for(key: tuple[int, int]) -> list[tuple[int, str]]:
        nonlocal pending_link
        found = []
        while pending_link is not None and (pending_link[0], pending_link[1]) <= key:
            if (pending_link[0], pending_link[1]) == key:
                found.append((pending_link[2], pending_link[3]))
            pending_link = next(links, None)
        return found

    for record in long_export_records(user).iterator(chunk_size=chunk_size):
        key = (record.visit_id, record.reference_visit_id)
        if key != group_key:
            if group_key is not None:
                yield from _comparison_rows(first, records, episodes_for(group_key))
            group_key, first, records = key, record, {}
        records[record.algorithm] = record
    if group_key is not None:
        yield from _comparison_rows(first, records, episodes_for(group_key))
