"""Benchmark of the interchange (issue 16): ODM and FHIR export, REDCap import, in one run.

1. Seeds a fresh database beside the one --database-url names ("<name>_interop" on the same
   PostgreSQL server, or a temporary SQLite file) with a quarter of --patients patients
   (`seed_demo --no-scoring`; `--score` runs `rescore --all` after it) and times the ODM 1.3.2
   Snapshot export of all of them (benchmarks/interop_odm.py: a fresh process streaming to
   /dev/null, its peak resident memory).
2. Seeds it again, empty, with --patients patients and times the ODM export again, then the FHIR
   NDJSON export of every resource type (benchmarks/interop_fhir.py: the whole cohort and a
   quarter of it, each in a fresh process). Memory goal: peak < 300 MB, flat as the cohort grows
   (the full cohort's peak within 25 % of the quarter's).
3. Times the REDCap import of --redcap-patients synthetic records next to the JSON submission
   writer on the same documents (benchmarks/interop_redcap.py, in a database of its own): goal
   ≥ 50 % of the JSON path's rate.
4. Prints every figure and ratio (and, with --json, them all as one JSON object). The seeded
   database is dropped at the end unless --keep.

Run: ``.venv/bin/python benchmarks/interop.py --database-url
postgres://postgres@127.0.0.1:5432/bench --patients 2000`` (default 100,000 patients, as the
issue asks; small runs work the same way).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

from benchmarks.ingest import drop_database, recreate_database  # noqa: E402
from benchmarks.interop_fhir import MEMORY_GOAL_MB, bench_fhir  # noqa: E402
from benchmarks.interop_odm import bench_odm  # noqa: E402
from benchmarks.interop_redcap import GOAL_RATIO, bench_redcap  # noqa: E402

ROOT = _HERE.parent
FLAT = 1.25  # the full cohort's peak memory at most this times the quarter cohort's


class BenchDatabase:
    """The database the exports read: made empty and seeded on demand, dropped at the end."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.postgres = parts.scheme.startswith("postgres")
        if self.postgres:
            self.name = parts.path.lstrip("/") + "_interop"
            self.server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
            self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", parts.query, ""))
        else:
            self.file = Path(tempfile.mkdtemp(prefix="interop-bench-")) / "db.sqlite3"
            self.url = f"sqlite:///{self.file}"

    def reset(self) -> None:
        if self.postgres:
            recreate_database(self.server, self.name)
        else:
            self.file.unlink(missing_ok=True)

    def drop(self) -> None:
        if self.postgres:
            drop_database(self.server, self.name)
        else:
            self.file.unlink(missing_ok=True)

    def manage(self, *args: str) -> None:
        # No broker: `rescore` scores in the process (seed_demo --no-scoring queues nothing).
        env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
        env.update(DATABASE_URL=self.url, LOG_LEVEL="ERROR")
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    def seed(self, patients: int, sites: int, score: bool) -> None:
        self.reset()
        self.manage("migrate", "--no-input")
        self.manage("seed_demo", "--patients", str(patients), "--sites", str(sites), "--no-scoring")
        if score:
            self.manage("rescore", "--all")


def run(options: argparse.Namespace) -> dict[str, Any]:
    quarter = max(1, options.patients // 4)
    bench = BenchDatabase(options.database_url)
    try:
        bench.seed(quarter, options.sites, options.score)
        odm_quarter = bench_odm(bench.url, quarter)
        bench.seed(options.patients, options.sites, options.score)
        odm_full = bench_odm(bench.url, options.patients)
        fhir = bench_fhir(bench.url, options.patients)
    finally:
        if not options.keep:
            bench.drop()
    redcap = bench_redcap(options.database_url, options.redcap_patients)
    odm_growth = odm_full["peak_rss_mb"] / odm_quarter["peak_rss_mb"]
    fhir_growth = fhir["peak_rss_mb"] / fhir["peak_rss_mb_quarter"]
    return {
        "engine": "postgresql" if bench.postgres else "sqlite",
        "patients": options.patients,
        "quarter": quarter,
        "scored": options.score,
        "odm": {
            "patients_per_s": odm_full["patients_per_second"],
            "seconds": odm_full["seconds"],
            "megabytes": odm_full["megabytes"],
            "peak_rss_mb": odm_full["peak_rss_mb"],
            "quarter_patients_per_s": odm_quarter["patients_per_second"],
            "quarter_peak_rss_mb": odm_quarter["peak_rss_mb"],
            "peak_growth": round(odm_growth, 2),
            "memory_goal_met": odm_full["peak_rss_mb"] < MEMORY_GOAL_MB and odm_growth <= FLAT,
        },
        "fhir": {
            "patients_per_s": fhir["patients_per_s"],
            "resources_per_s": fhir["resources_per_s"],
            "seconds": fhir["seconds"],
            "resources": fhir["resources"],
            "peak_rss_mb": fhir["peak_rss_mb"],
            "quarter_peak_rss_mb": fhir["peak_rss_mb_quarter"],
            "peak_growth": round(fhir_growth, 2),
            "memory_goal_met": fhir["peak_rss_mb"] < MEMORY_GOAL_MB and fhir_growth <= FLAT,
            "by_type": fhir["by_type"],
        },
        "redcap": {
            **{key: redcap[key] for key in ("patients", "visits", "csv_rows")},
            "records_per_s": redcap["redcap_records_per_s"],
            "json_patients_per_s": redcap["json_patients_per_s"],
            "ratio": redcap["ratio"],
            "goal_met": redcap["ratio"] >= GOAL_RATIO,
            "rerun_unchanged_records_per_s": redcap["rerun_unchanged_records_per_s"],
        },
    }


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(result: dict[str, Any]) -> str:
    odm, fhir, redcap = result["odm"], result["fhir"], result["redcap"]
    lines = [
        f"Interchange benchmark on {result['engine']}: {result['patients']:,} patients "
        f"(memory compared with {result['quarter']:,}); scores "
        + ("computed" if result["scored"] else "not computed (seed_demo --no-scoring)"),
        "",
        f"ODM 1.3.2 Snapshot   {odm['patients_per_s']:>9,.1f} patients/s  "
        f"({odm['seconds']} s, {odm['megabytes']} MB; at {result['quarter']:,}: "
        f"{odm['quarter_patients_per_s']:,.1f} patients/s)",
        f"  peak memory        {odm['peak_rss_mb']:>9,.1f} MB  (at {result['quarter']:,}: "
        f"{odm['quarter_peak_rss_mb']} MB, x{odm['peak_growth']}) — goal < {MEMORY_GOAL_MB} MB, "
        f"flat: {_verdict(odm['memory_goal_met'])}",
        f"FHIR NDJSON          {fhir['patients_per_s']:>9,.1f} patients/s  "
        f"({fhir['resources']:,} resources, {fhir['resources_per_s']:,}/s, {fhir['seconds']} s)",
        f"  peak memory        {fhir['peak_rss_mb']:>9,.1f} MB  (at {result['quarter']:,}: "
        f"{fhir['quarter_peak_rss_mb']} MB, x{fhir['peak_growth']}) — goal < {MEMORY_GOAL_MB} "
        f"MB, flat: {_verdict(fhir['memory_goal_met'])}",
    ]
    for name, kind in fhir["by_type"].items():
        lines.append(f"    {name:24} {kind['resources']:>9,} in {kind['seconds']} s")
    lines += [
        f"REDCap import        {redcap['records_per_s']:>9,.1f} records/s  "
        f"({redcap['patients']:,} records, {redcap['csv_rows']:,} rows, {redcap['visits']:,} "
        "visits)",
        f"JSON submission      {redcap['json_patients_per_s']:>9,.1f} patients/s",
        f"  REDCap / JSON      {redcap['ratio']:>9.1%}  — goal ≥ {GOAL_RATIO:.0%}: "
        f"{_verdict(redcap['goal_met'])}",
        f"  re-import (unchanged) {redcap['rerun_unchanged_records_per_s']:,.1f} records/s",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"),
        help="a PostgreSQL server and database name (the benchmark's databases are made "
        "beside it), or a SQLite URL (temporary files)",
    )
    parser.add_argument("--patients", type=int, default=100_000, help="the cohort size")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument(
        "--redcap-patients",
        type=int,
        default=None,
        help="records of the REDCap benchmark (default: --patients, at most 10,000)",
    )
    parser.add_argument("--score", action="store_true", help="score the cohort before exporting")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    options = parser.parse_args()
    if options.patients < 1:
        parser.error("--patients must be at least 1")
    if options.redcap_patients is None:
        options.redcap_patients = min(options.patients, 10_000)
    result = run(options)
    print(report(result))
    if options.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
