"""The charts of the patient page: each measure over time, with the treatment episodes."""

from datetime import date
from typing import Any

from registry.models import Patient
from scoring.instruments import JUVENILE
from web.charts import Band, line_chart

# ACR/EULAR category thresholds (SCORING.md §3), drawn as guides on the TIS chart.
TIS_GUIDES = {
    "adult": [(20, "minimal"), (40, "moderate"), (60, "major")],
    "juvenile": [(30, "minimal"), (45, "moderate"), (70, "major")],
}
# The glucocorticoid chart's axis reaches at least this dose (prednisone-equivalent mg/day), so
# that a low maintenance dose does not fill the chart as if it were high.
GLUCOCORTICOID_AXIS_MIN = 10


def date_range(rows: list, episodes: list) -> tuple[date, date] | None:
    """From the first to the last date drawn: visits, and the episodes' starts and stops. No
    padding: the axis ends at the data (the chart keeps a few pixels for the end points)."""
    dates = [row.visit.visit_date for row in rows]
    if not dates:
        return None
    dates += [e.start_date for e in episodes] + [e.stop_date for e in episodes if e.stop_date]
    return min(dates), max(dates)


def _points(rows: list, value) -> list[tuple[date, float]]:
    out = []
    for row in rows:
        v = value(row)
        if v is not None:
            out.append((row.visit.visit_date, float(v)))
    return out


def patient_charts(
    patient: Patient, timeline: dict[str, Any], episodes: list
) -> list[dict[str, Any]]:
    rows = timeline["rows"]
    span = date_range(rows, episodes)
    if span is None:
        return []
    x_start, x_end = span
    bands = [
        Band(e.start_date, e.stop_date, e.drug_label, getattr(e, "colour", "")) for e in episodes
    ]
    common = {"bands": bands, "x_start": x_start, "x_end": x_end}
    scales = [row.mmt_max for row in rows if row.mmt_total is not None]
    scale = scales[-1] if scales else 150
    mmt_points = [
        (row.visit.visit_date, float(row.mmt_total))
        for row in rows
        if row.mmt_total is not None and row.mmt_max == scale
    ]
    population = patient.population
    omitted = len(scales) - len(mmt_points)

    def chart(key, caption, title, points, note="", **kwargs) -> dict[str, Any]:
        svg = line_chart(chart_id=f"chart-{key}", title=title, points=points, **common, **kwargs)
        return {"key": key, "title": caption, "note": note, "svg": svg}

    return [
        chart(
            "mmt",
            f"MMT-8 total (0–{scale})",
            f"MMT-8 total over time, 0 to {scale}",
            mmt_points,
            note=f"{omitted} visit(s) on the other MMT scale are not drawn." if omitted else "",
            y_max=scale,
        ),
        chart(
            "ck",
            "CK × upper limit of normal",
            "CK as multiples of the upper limit of normal over time",
            _points(rows, lambda r: r.ck_x_uln),
            y_max=2,
            unit=" ×ULN",
            guides=[(1, "ULN")],
        ),
        chart(
            "haq",
            "HAQ-DI" if population != JUVENILE else "CHAQ-DI",
            "Disability index (0 to 3) over time",
            _points(rows, lambda r: r.haq),
            y_max=3,
        ),
        chart(
            "tis",
            "Total improvement score vs baseline",
            "ACR/EULAR total improvement score against the baseline visit over time",
            _points(
                rows,
                lambda r: r.baseline_score.tis_score if r.baseline_score is not None else None,
            ),
            y_max=100,
            guides=TIS_GUIDES[population],
        ),
        chart(
            "patient-global",
            "Patient global activity (0–10 cm)",
            "Patient global disease activity, 10 cm visual analogue scale, over time",
            _points(rows, lambda r: r.visit.patient_global),
            y_max=10,
            unit=" cm",
        ),
        chart(
            "extramuscular",
            "Extramuscular global activity (0–10 cm)",
            "Extramuscular global activity, MDAAT 10 cm visual analogue scale, over time",
            _points(rows, lambda r: r.visit.extramuscular),
            y_max=10,
            unit=" cm",
        ),
        chart(
            "glucocorticoid",
            "Glucocorticoid dose (prednisone equivalent, mg/day)",
            "Glucocorticoid dose in prednisone-equivalent mg per day over time",
            _points(rows, lambda r: r.visit.glucocorticoid_mg_per_day),
            y_max=GLUCOCORTICOID_AXIS_MIN,
            unit=" mg/day",
        ),
    ]
