"""The charts of the patient page: each measure over time, with the treatment episodes."""

from datetime import date
from typing import Any

from registry.models import Patient
from scoring.instruments import JUVENILE
from web.charts import Band, line_chart

# ACR/EULAR category thresholds (docs/scoring.md §3), drawn as guides on the TIS chart.
TIS_GUIDES = {
    "adult": [(20, "minimal"), (40, "moderate"), (60, "major")],
    "juvenile": [(30, "minimal"), (45, "moderate"), (70, "major")],
}
# The glucocorticoid chart's axis reaches at least this dose (prednisone-equivalent mg/day), so
# that a low maintenance dose does not fill the chart as if it were high.
GLUCOCORTICOID_AXIS_MIN = 10


def date_range(rows: list) -> tuple[date, date] | None:
    """From the first visit to the last: the axis spans the measured data, no padding (the
    chart keeps a few pixels for the end points). Episodes reaching beyond it are cut at its
    ends; one begun earlier is marked so."""
    dates = [row.visit.visit_date for row in rows]
    if not dates:
        return None
    return min(dates), max(dates)


def episode_legend(episodes: list) -> list[dict[str, Any]]:
    """The charts' legend: one entry per drug in its colour, with its periods; episodes of a
    drug that follow one another without a gap read as one period."""
    legend: dict[str, dict[str, Any]] = {}
    for e in sorted(episodes, key=lambda e: e.start_date):
        entry = legend.setdefault(
            e.drug_label, {"label": e.drug_label, "colour": e.colour, "periods": []}
        )
        periods = entry["periods"]
        if periods and periods[-1][1] is not None and periods[-1][1] >= e.start_date:
            last_stop = periods[-1][1]
            stop = None if e.stop_date is None else max(e.stop_date, last_stop)
            periods[-1] = (periods[-1][0], stop)
        else:
            periods.append((e.start_date, e.stop_date))
    for entry in legend.values():
        entry["text"] = ", ".join(
            f"{start.isoformat()}–{stop.isoformat() if stop else 'ongoing'}"
            for start, stop in entry["periods"]
        )
    return list(legend.values())


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
    span = date_range(rows)
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
