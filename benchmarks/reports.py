"""Benchmark of the investigator reports (issue 7) on 100,000 patients in PostgreSQL.

In a database of its own (created, migrated and filled on the first run, then reused):

1. seeds the cohort with `seed_demo --patients N --no-scoring` and scores it with the real
   pipeline (`rescore --all`, in-process): response records as the registry really holds them,
   not generated ones;
2. times the outcomes report by drug — `reports.outcomes.outcomes_by_treatment`, the code behind
   the page, the CSV and the API: the ORM query streamed once and folded in Python into counts,
   Wilson intervals, medians with IQR and Kaplan–Meier medians;
3. times a hand-written SQL statement that computes the same result entirely in the database
   (CTEs, window functions, percentile_cont, a Kaplan–Meier product in SQL) over the same
   tables, checks that both give the same numbers, and prints the ratio (goal: within 2×);
4. times the survival and safety reports (issue 14) each next to a hand-written SQL statement
   computing the same counts over the same tables (benchmarks/outcome_reports.py, which first
   adds outcome data to a cohort that has none);
5. runs the full long CSV export (`/reports/long.csv` for the data manager: every visit,
   reference visit and core set measure of the registry) in a fresh process and prints its peak
   memory (goal: under 300 MB), rows and time.

Both timings are the best of `--repeat` runs after one warm-up run, so that both read from the
same warm cache. Run: ``.venv/bin/python benchmarks/reports.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "benchmarks":
    sys.path[0] = str(ROOT)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/registry_bench_reports"
GOAL_RATIO = 2.0
GOAL_MEMORY_MB = 300

# The same result as reports.outcomes.outcomes_by_treatment(ReportFilters()) — one row per drug —
# written by hand for PostgreSQL. Definitions as in reports/selectors.py and reports/outcomes.py.
HAND_WRITTEN_SQL = """
WITH links AS (
    SELECT re.episode_id, r.algorithm, r.status, r.met, r.score, r.category, r.confirmed,
           v.visit_date - e.start_date AS day
    FROM scoring_responseepisode re
    JOIN scoring_responserecord r ON r.id = re.record_id
    JOIN crf_visit v ON v.id = r.visit_id
    JOIN crf_visit rv ON rv.id = r.reference_visit_id
    JOIN registry_treatmentepisode e ON e.id = re.episode_id
    -- Only links that hold for the episode as it is now (reports.expressions.measures_episode):
    -- against its baseline (the latest visit from 30 days before the start up to the start), at
    -- a visit inside its window.
    WHERE rv.visit_date BETWEEN e.start_date - 30 AND e.start_date
      AND NOT EXISTS (SELECT 1 FROM crf_visit later
                      WHERE later.patient_id = e.patient_id
                        AND later.visit_date > rv.visit_date
                        AND later.visit_date <= e.start_date)
      AND v.visit_date > e.start_date
      AND (e.stop_date IS NULL OR v.visit_date <= e.stop_date + 30)
),
per_link AS (
    SELECT episode_id,
           count(*) FILTER (WHERE algorithm = 'imacs-doi-2004' AND status = 'done') AS scored,
           count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           coalesce(bool_or(met) FILTER (WHERE algorithm = 'imacs-doi-2004' AND status = 'done'),
                    false) AS doi_met,
           min(day) FILTER (WHERE algorithm = 'imacs-doi-2004' AND status = 'done' AND met)
               AS first_doi_day,
           max(day) FILTER (WHERE algorithm = 'imacs-doi-2004' AND status = 'done')
               AS last_scored_day,
           max(score) FILTER (WHERE algorithm = 'acr-eular-2016' AND status = 'done')
               AS best_score,
           max(CASE category WHEN 'none' THEN 0 WHEN 'minimal' THEN 1 WHEN 'moderate' THEN 2
                             WHEN 'major' THEN 3 END)
               FILTER (WHERE algorithm = 'acr-eular-2016' AND status = 'done') AS best_rank,
           coalesce(bool_or(confirmed) FILTER (WHERE algorithm = 'proderm-worsening-2022'
                                                AND status = 'done'), false)
               AS confirmed_deterioration
    FROM links
    GROUP BY episode_id
),
tis_pairs AS (
    SELECT episode_id,
           (status = 'done' AND category IN ('minimal', 'moderate', 'major'))::int AS ok,
           lag((status = 'done' AND category IN ('minimal', 'moderate', 'major'))::int, 1, 0)
               OVER (PARTITION BY episode_id ORDER BY day) AS previous_ok
    FROM links
    WHERE algorithm = 'acr-eular-2016'
),
confirmed_response AS (
    SELECT DISTINCT episode_id FROM tis_pairs WHERE ok = 1 AND previous_ok = 1
),
weeks AS (
    SELECT DISTINCT ON (l.episode_id, w.week)
           l.episode_id, w.week,
           CASE WHEN l.status = 'done' THEN l.score END AS score,
           CASE WHEN l.status = 'done' THEN nullif(l.category, '') END AS category
    FROM links l
    CROSS JOIN (VALUES (12), (24), (52)) AS w (week)
    WHERE l.algorithm = 'acr-eular-2016' AND abs(l.day - w.week * 7) <= 28
    ORDER BY l.episode_id, w.week, abs(l.day - w.week * 7), l.day
),
episodes AS (
    SELECT e.id, e.drug,
           b.visit_date IS NOT NULL AS has_baseline,
           b.visit_date IS NOT NULL AND last.visit_date IS NOT NULL AS evaluable,
           last.gc - b.gc AS gc_change,
           coalesce(p.scored, 0) AS scored, coalesce(p.pending, 0) AS pending,
           coalesce(p.failed, 0) AS failed, coalesce(p.doi_met, false) AS doi_met,
           p.first_doi_day, p.last_scored_day, p.best_score, p.best_rank,
           coalesce(p.confirmed_deterioration, false) AS confirmed_deterioration,
           c.episode_id IS NOT NULL AS confirmed_response
    FROM registry_treatmentepisode e
    LEFT JOIN LATERAL (
        SELECT v.visit_date, v.glucocorticoid_mg_per_day AS gc FROM crf_visit v
        WHERE v.patient_id = e.patient_id
          AND v.visit_date BETWEEN e.start_date - 30 AND e.start_date
        ORDER BY v.visit_date DESC LIMIT 1
    ) b ON true
    LEFT JOIN LATERAL (
        SELECT v.visit_date, v.glucocorticoid_mg_per_day AS gc FROM crf_visit v
        WHERE v.patient_id = e.patient_id AND v.visit_date > e.start_date
          AND (e.stop_date IS NULL OR v.visit_date <= e.stop_date + 30)
        ORDER BY v.visit_date DESC LIMIT 1
    ) last ON true
    LEFT JOIN per_link p ON p.episode_id = e.id
    LEFT JOIN confirmed_response c ON c.episode_id = e.id
),
week_summary AS (
    SELECT e.drug, w.week,
           count(w.score) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY w.score) AS median,
           count(*) FILTER (WHERE w.category = 'none') AS none,
           count(*) FILTER (WHERE w.category = 'minimal') AS minimal,
           count(*) FILTER (WHERE w.category = 'moderate') AS moderate,
           count(*) FILTER (WHERE w.category = 'major') AS major
    FROM episodes e JOIN weeks w ON w.episode_id = e.id
    WHERE e.evaluable
    GROUP BY e.drug, w.week
),
km_observations AS (
    SELECT drug,
           CASE WHEN doi_met THEN first_doi_day ELSE last_scored_day END AS t,
           doi_met AS event
    FROM episodes
    WHERE evaluable AND last_scored_day IS NOT NULL
),
km_times AS (
    SELECT drug, t, count(*) FILTER (WHERE event) AS events, count(*) AS leaving
    FROM km_observations GROUP BY drug, t
),
km_at_risk AS (
    SELECT drug, t, events,
           sum(leaving) OVER (PARTITION BY drug ORDER BY t DESC) AS at_risk
    FROM km_times
),
km_curve AS (
    -- S(t) = product of (1 - events / at risk): a sum of logarithms, and 0 once everyone left
    -- at risk has had the event.
    SELECT drug, t, events,
           CASE WHEN bool_or(events = at_risk) OVER w THEN 0.0
                ELSE exp(sum(ln(nullif(1 - events::float8 / at_risk, 0))) OVER w) END AS survival
    FROM km_at_risk
    WINDOW w AS (PARTITION BY drug ORDER BY t)
),
km_median AS (
    SELECT drug, min(t) AS median_days FROM km_curve
    WHERE events > 0 AND survival <= 0.5 + 1e-12
    GROUP BY drug
)
SELECT e.drug,
       count(*) AS episodes,
       count(*) FILTER (WHERE has_baseline) AS with_baseline,
       count(*) FILTER (WHERE evaluable) AS evaluable,
       count(*) FILTER (WHERE evaluable AND doi_met) AS doi_responders,
       count(*) FILTER (WHERE evaluable AND confirmed_response) AS confirmed_responders,
       count(*) FILTER (WHERE evaluable AND confirmed_deterioration) AS confirmed_deteriorations,
       count(*) FILTER (WHERE evaluable AND best_rank = 0) AS best_none,
       count(*) FILTER (WHERE evaluable AND best_rank = 1) AS best_minimal,
       count(*) FILTER (WHERE evaluable AND best_rank = 2) AS best_moderate,
       count(*) FILTER (WHERE evaluable AND best_rank = 3) AS best_major,
       count(*) FILTER (WHERE evaluable AND best_rank IS NULL) AS best_not_computed,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY best_score) FILTER (WHERE evaluable)
           AS tis_q1,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY best_score) FILTER (WHERE evaluable)
           AS median_tis,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY best_score) FILTER (WHERE evaluable)
           AS tis_q3,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY gc_change) FILTER (WHERE evaluable)
           AS gc_change_median,
       sum(pending) AS pending_records,
       sum(failed) AS failed_records,
       (SELECT m.median_days FROM km_median m WHERE m.drug = e.drug) AS km_median_days,
       (SELECT json_object_agg(w.week, json_build_array(w.n, w.median, w.none, w.minimal,
                                                        w.moderate, w.major))
        FROM week_summary w WHERE w.drug = e.drug) AS weeks
FROM episodes e
GROUP BY e.drug
ORDER BY e.drug
"""


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def ensure_database(url: str) -> bool:
    """Create the benchmark's database if missing; True when it was created."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_url(url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def manage(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    print("$", " ".join(args), flush=True)
    subprocess.run(command, env=env, check=True, cwd=ROOT)


def prepare(env: dict[str, str], patients: int, sites: int, seed: int) -> None:
    """Migrate; seed and score the cohort unless the database holds it already."""
    manage(env, "migrate", "-v", "0")
    check = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from registry.models import Patient; from scoring.models import ResponseRecord; "
         "print(Patient.objects.count(), ResponseRecord.objects.exists())"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)},
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    count, scored = check.stdout.split()
    with analysed(env["DATABASE_URL"]):
        if int(count) == 0:
            manage(env, "seed_demo", "--patients", str(patients), "--sites", str(sites),
                   "--seed", str(seed), "--no-scoring")  # fmt: skip
            scored = "False"
        if scored != "True":
            started = time.perf_counter()
            manage(env, "rescore", "--all")
            print(f"scored in {time.perf_counter() - started:,.0f} s", flush=True)


@contextmanager
def analysed(url: str, every: float = 120.0) -> Iterator[None]:
    """While the body runs, ANALYZE the database every `every` seconds if the server's
    autovacuum is off (as on some CI machines). Without statistics on tables growing by
    millions of rows, PostgreSQL keeps planning sequential scans for the pipeline's per-batch
    lookups and scoring slows down batch after batch; a production server's autovacuum keeps
    them current."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SHOW autovacuum").fetchone()[0] == "on":
            yield
            return
    stop = threading.Event()

    def loop() -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            while not stop.wait(every):
                connection.execute("ANALYZE")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _best(function: Any, repeat: int) -> tuple[float, Any]:
    function()  # warm-up: both sides then read from the same warm cache
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _same(report: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Differences between the report and the hand-written SQL's rows (empty: the same)."""
    differences = []
    by_drug = {row["drug"]: row for row in rows}
    if set(by_drug) != {row.treatment for row in report.rows}:
        return [f"drugs differ: {sorted(by_drug)}"]

    def close(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return abs(float(a) - float(b)) < 1e-6

    for row in report.rows:
        sql = by_drug[row.treatment]
        ours = {
            "episodes": row.episodes,
            "with_baseline": row.with_baseline.count,
            "evaluable": row.evaluable.count,
            "doi_responders": row.doi_responders.count,
            "confirmed_responders": row.confirmed_responders.count,
            "confirmed_deteriorations": row.confirmed_deteriorations.count,
            **{f"best_{k}": v.count for k, v in row.best_category.items()},
            "tis_q1": row.tis.q1,
            "median_tis": row.tis.median,
            "tis_q3": row.tis.q3,
            "gc_change_median": row.glucocorticoid_change.median,
            "pending_records": row.pending_records,
            "failed_records": row.failed_records,
            "km_median_days": row.time_to_doi.median,
        }
        for key, value in ours.items():
            if not close(value, sql[key]):
                differences.append(f"{row.treatment} {key}: report {value}, SQL {sql[key]}")
        weeks = sql["weeks"] or {}
        for week, outcome in row.weeks.items():
            n, median, *counts = weeks.get(str(week), [0, None, 0, 0, 0, 0])
            mine = [outcome.tis.n, outcome.tis.median, *outcome.categories.values()]
            if not all(close(a, b) for a, b in zip(mine, [n, median, *counts], strict=True)):
                differences.append(f"{row.treatment} week {week}: report {mine}, SQL {weeks}")
    return differences


LONG_EXPORT_CHILD = """
import json, resource, sys, time
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
settings.ALLOWED_HOSTS = ["testserver"]
user = get_user_model().objects.get(username="datamanager")
client = Client()
client.force_login(user)
def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
before = rss_kb()
started = time.perf_counter()
response = client.get("/reports/long.csv")
size = lines = 0
for chunk in response.streaming_content:
    size += len(chunk)
    lines += chunk.count(b"\\n")
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": response.status_code, "rows": lines - 1, "bytes": size,
                  "seconds": elapsed, "rss_before_kb": before, "peak_kb": peak}))
"""


def long_export(env: dict[str, str]) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, "-c", LONG_EXPORT_CHILD],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)},
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL URL (own DB)")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-export", action="store_true", help="Skip the long export.")
    parser.add_argument(
        "--skip-outcomes", action="store_true", help="Skip the survival and safety reports."
    )
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database}
    env.pop("CELERY_BROKER_URL", None)  # scoring in-process, no broker needed
    ensure_database(args.database)
    prepare(env, args.patients, args.sites, args.seed)

    os.environ["DATABASE_URL"] = args.database
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from crf.models import Visit
    from registry.models import Patient, TreatmentEpisode
    from reports.disclosure import Disclosure
    from reports.filters import ReportFilters
    from reports.outcomes import outcomes_by_treatment
    from scoring.models import ResponseEpisode, ResponseRecord

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"registry: {Patient.objects.count():,} patients, {Visit.objects.count():,} visits, "
        f"{TreatmentEpisode.objects.count():,} treatment episodes, "
        f"{ResponseRecord.objects.count():,} response records, "
        f"{ResponseEpisode.objects.count():,} record–episode links",
        flush=True,
    )

    def hand_written() -> list[dict[str, Any]]:
        with connection.cursor() as cursor:
            cursor.execute(HAND_WRITTEN_SQL)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # A data manager's view: every row shown, as the hand-written SQL computes them.
    everything = Disclosure.registry_wide()
    report_time, report = _best(
        lambda: outcomes_by_treatment(ReportFilters(), disclosure=everything), args.repeat
    )
    sql_time, rows = _best(hand_written, args.repeat)
    differences = _same(report, rows)
    ratio = report_time / sql_time
    print(f"outcomes report (ORM query + Python statistics): {report_time:7.2f} s")
    print(f"hand-written SQL aggregate, same result:         {sql_time:7.2f} s")
    print(
        f"ratio report / SQL: {ratio:.2f} (goal <= {GOAL_RATIO:g}) — "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT met'}"
    )
    print(
        "results identical: "
        + ("yes" if not differences else "NO\n  " + "\n  ".join(differences[:20]))
    )
    if not args.skip_outcomes:
        from benchmarks.outcome_reports import run

        run(_best, args.repeat, args.seed, GOAL_RATIO)
    if not args.skip_export:
        export = long_export(env)
        peak_mb = export["peak_kb"] / 1024
        print(
            f"long CSV export: {export['rows']:,} rows, {export['bytes'] / 2**20:,.0f} MiB in "
            f"{export['seconds']:,.1f} s ({export['rows'] / export['seconds']:,.0f} rows/s); "
            f"peak memory {peak_mb:,.0f} MB (the process held {export['rss_before_kb'] / 1024:,.0f}"
            f" MB when the export started; goal < {GOAL_MEMORY_MB} MB) — "
            f"{'met' if peak_mb < GOAL_MEMORY_MB else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
